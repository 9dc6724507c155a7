"""Keyword ranking with the Tantivy side index (search_index.py): storage/fts.py's grammar as Tantivy
queries, one page best first with the total, and the papers changed since the build merged in.

What it answers, and how it maps fts.py's grammar:
- a word: its FTS5 token in any of title, abstract, authors; a hyphenated word ("kv-cache") or a
  quoted phrase: its tokens at consecutive positions within one column, as FTS5 does (two common
  tokens: the one token of the `pairs` field that is the pair, with the phrase's score; a longer
  phrase with pairs of common tokens: positions read only in the papers holding all of them);
- a prefix (`learn*`): any token starting with the prefix's stem; a phrase ending in a prefix uses
  Tantivy's phrase-prefix query, which tries the 50 first completions (FTS5 tries them all);
- terms joined by AND, or by OR for the relaxed any-word retry; excluded terms (`-word`);
- filters --since, --until (the date as a number), --category (`cs` is any cs.*), --has-code.
  --author and --source are answered by FTS5 (`ranked` returns None), as is a term none of whose
  tokens this module can find, or a library with more than `MAX_STALE` papers changed since the build.

Ranking: Tantivy's BM25 (k1 1.2, b 0.75) over one field holding the title four times, the abstract
and the authors (search_index.py). So, as in FTS5's bm25 with fts.py's weights (4, 1, 1), a title
word counts four times inside one saturation over the whole paper and a word's rarity is counted
over whole papers. What differs: the paper's length counts its title four times (FTS5 counts it
once), Tantivy's idf is ln(1 + (N - n + 0.5) / (n + 0.5)) where FTS5's is ln((N - n + 0.5) / (n + 0.5)),
Tantivy stores lengths above 40 tokens rounded, and a prefix term scores a constant 1 (automaton
queries have no term statistics). docs/benchmarks.md measures the overlap@10 with FTS5.

Papers changed or imported since the build are left out of Tantivy's answer; those matching the
query (found by FTS5 among just those pks) are scored here with the same BM25 over their current
text and the build's statistics, and merged in. Removed papers are left out. Does I/O (Tantivy's
files, SQL on the library's connection).
"""

from __future__ import annotations

import itertools
import math
import sqlite3
from collections.abc import Sequence
from typing import Any

import tantivy

from . import fts, search_index
from .base import Library
from .fts import Filters, Joiner, Term
from .search_index import FIELD, STEMS, SideIndex

K1, B = 1.2, 0.75  # Tantivy's BM25 constants
Page = tuple[list[tuple[int, float]], int]


def ranked(
    lib: Library,
    terms: Sequence[Term],
    excluded: Sequence[Term],
    joiner: Joiner,
    f: Filters,
    limit: int,
    offset: int,
    count: bool = True,
) -> Page | None:
    """One page of the ranking, best first, as (pk, score) with higher better, and how many papers
    match in all (0 unless `count`); None when the side index is missing or cannot answer."""
    if not search_index.ENABLED or f.author or f.source or not terms:
        return None
    side = search_index.load(lib)
    if side is None:
        return None
    stale = search_index.stale_pks(lib, side)
    query = _query(side, terms, excluded, joiner, f, stale[0] if stale else frozenset())
    if stale is None or query is None:
        return None
    fresh = _changed(lib, side, terms, excluded, joiner, f, stale[1]) if stale[1] else []
    start = 0 if fresh else offset
    found = side.searcher.search(query, limit=max(1, offset + limit - start), count=count, offset=start)
    hits = found.hits[: offset + limit - start]
    pks = side.searcher.fast_field_values("pk", [a for _, a in hits]) if hits else []
    page = [(int(pk or 0), float(score)) for pk, (score, _) in zip(pks, hits, strict=True)]
    if fresh:
        page = sorted(page + fresh, key=lambda ps: -ps[1])[offset : offset + limit]
    total: int = getattr(found, "count", None) or 0  # (the type stubs of tantivy 0.27 lack `count`)
    return page, (total + len(fresh)) if count else 0


# ---------------------------------------------------------------- the grammar as Tantivy queries

Occur = tantivy.Occur


def _query(
    side: SideIndex,
    terms: Sequence[Term],
    excluded: Sequence[Term],
    joiner: Joiner,
    f: Filters,
    stale: frozenset[int],
) -> tantivy.Query | None:
    schema = side.index.schema
    maybe = [_term(side, t) for t in terms]
    maybe_not = [_term(side, t) for t in excluded]
    wanted = [q for q in maybe if q is not None]
    unwanted = [q for q in maybe_not if q is not None]
    if len(wanted) < len(maybe) or len(unwanted) < len(maybe_not):
        return None
    how = Occur.Must if joiner == "AND" else Occur.Should
    clauses = [(Occur.Must, tantivy.Query.boolean_query([(how, q) for q in wanted]))]
    clauses += [(Occur.MustNot, q) for q in unwanted]
    if stale:
        clauses.append((Occur.MustNot, tantivy.Query.term_set_query(schema, "pk", sorted(stale))))
    clauses += [(Occur.Must, tantivy.Query.const_score_query(q, 0.0)) for q in _filters(schema, f)]
    return tantivy.Query.boolean_query(clauses)


def _term(side: SideIndex, term: Term) -> tantivy.Query | None:
    """One term (a word, a phrase, a prefix) as a Tantivy query; None when it has no token."""
    schema = side.index.schema
    tokens: list[str | tuple[int, str]] = list(STEMS.tokens(term.text))
    if not tokens:
        return None
    if len(tokens) == 1 and term.prefix:
        return tantivy.Query.regex_query(schema, FIELD, _regex(str(tokens[0])) + ".*")
    if len(tokens) == 1:
        return tantivy.Query.term_query(schema, FIELD, tokens[0])
    if term.prefix:
        phrase = tantivy.Query.phrase_prefix_query(schema, FIELD, tokens)
    else:
        phrase = tantivy.Query.phrase_query(schema, FIELD, tokens)
    whole = tokens[:-1] if term.prefix else tokens  # (a prefix's last token is no whole token)
    pairs = [f"{a}_{b}" for a, b in itertools.pairwise(whole) if a in side.common and b in side.common]
    if not pairs:
        return phrase
    if len(tokens) == 2 and not term.prefix:
        # The pair is the phrase: the papers that hold it, its frequency, FIELD's lengths. Its BM25
        # boosted by the ratio of the idfs is the phrase's score, from one list with block-max
        # top-k and a count from the list's length, where the phrase reads every match's positions.
        papers = side.searcher.num_docs
        pair_idf = _tantivy_idf(side.searcher.doc_freq(search_index.PAIRS, pairs[0]), papers)
        phrase_idf = sum(_tantivy_idf(side.searcher.doc_freq(FIELD, str(t)), papers) for t in tokens)
        return tantivy.Query.boost_query(_pair(schema, pairs[0]), phrase_idf / pair_idf)
    # Only papers holding every pair of common tokens can hold the phrase: Tantivy reads the
    # phrase's positions in those only (the pairs score 0: the phrase's score is unchanged).
    clauses = [
        (Occur.Must, tantivy.Query.const_score_query(_pair(schema, p), 0.0)) for p in sorted(set(pairs))
    ]
    return tantivy.Query.boolean_query([(Occur.Must, phrase), *clauses])


def _pair(schema: tantivy.Schema, pair: str) -> tantivy.Query:
    return tantivy.Query.term_query(schema, search_index.PAIRS, pair)


def _regex(token: str) -> str:
    return "".join(c if c.isalnum() else "\\" + c for c in token)


def _filters(schema: tantivy.Schema, f: Filters) -> list[tantivy.Query]:
    out = []
    low = search_index.date_number(f.since) if f.since else None
    high = _end_of(f.until) if f.until else None
    if low is not None or high is not None:
        out.append(tantivy.Query.range_query(schema, "date", tantivy.FieldType.Integer, low, high))
    if f.categories:
        values = [c.lower() if "." in c else "~" + c.lower() for c in f.categories]
        values += [c.lower() for c in f.categories if "." not in c]  # `cs` itself
        out.append(tantivy.Query.term_set_query(schema, "category", values))
    if f.has_code:
        out.append(tantivy.Query.term_query(schema, "has_code", 1))
    return out


def _end_of(until: str) -> int:
    """The last date number `until` includes ("2024" -> 20249999, "2024-10" -> 20241099)."""
    n = search_index.date_number(until) or 0
    return n + (9999 if len(until) == 4 else 99 if len(until) == 7 else 0)


# ---------------------------------------------------------------- papers changed since the build


def _changed(
    lib: Library,
    side: SideIndex,
    terms: Sequence[Term],
    excluded: Sequence[Term],
    joiner: Joiner,
    f: Filters,
    pks: Sequence[int],
) -> list[tuple[int, float]]:
    """The papers changed since the build that match (FTS5 decides), scored like Tantivy would."""
    conn = search_index.sqlite_conn(lib)
    assert conn is not None
    rows = _matching(conn, fts.match_expression(terms, excluded, joiner), f, pks)
    return [(pk, _score(side, terms, columns)) for pk, columns in rows]


def _matching(
    conn: sqlite3.Connection, match: str, f: Filters, pks: Sequence[int]
) -> list[tuple[int, tuple[str, str, str]]]:
    where, params = fts.filter_sql(f)
    out = []
    for i in range(0, len(pks), 500):
        chunk = pks[i : i + 500]
        sql = (
            "SELECT p.pk, p.title, p.abstract, p.authors FROM papers_fts JOIN papers p ON p.pk = papers_fts.rowid"
            f" WHERE papers_fts MATCH ? AND papers_fts.rowid IN ({','.join('?' * len(chunk))})"
            + "".join(" AND " + w for w in where)
        )
        out += [
            (int(r[0]), (r[1] or "", r[2] or "", r[3] or ""))
            for r in conn.execute(sql, [match, *chunk, *params])
        ]
    return out


def _score(side: SideIndex, terms: Sequence[Term], columns: tuple[str, str, str]) -> float:
    """A paper's BM25 for these terms as Tantivy computes it, from its current text."""
    papers = max(1, side.meta["papers"])
    tokens = search_index.composed(*(" ".join(STEMS.tokens(c)) for c in columns)).split()
    norm = K1 * (1 - B + B * len(tokens) / max(1.0, side.meta["tokens"] / papers))
    total = 0.0
    for term in terms:
        wanted = STEMS.tokens(term.text)
        found = _occurrences(tokens, wanted, term.prefix)
        if found and term.prefix:
            total += 1.0  # automaton queries score a constant
        elif found:
            idf = sum(_idf(side, w, papers) for w in wanted)
            total += idf * found * (K1 + 1) / (found + norm)
    return total


def _occurrences(tokens: list[str], wanted: list[str], prefix: bool) -> int:
    n = len(wanted)
    if not n:
        return 0
    head, last = wanted[:-1], wanted[-1]
    hits = 0
    for i in range(len(tokens) - n + 1):
        end = tokens[i + n - 1]
        if tokens[i : i + n - 1] == head and (end.startswith(last) if prefix else end == last):
            hits += 1
    return hits


def _idf(side: SideIndex, token: str, papers: int) -> float:
    return _tantivy_idf(side.searcher.doc_freq(FIELD, token), papers)


def _tantivy_idf(df: int, papers: int) -> float:
    return math.log(1 + (papers - df + 0.5) / (df + 0.5))


def explain(lib: Library) -> dict[str, Any]:
    """What the side index holds (for `paperradar index` and the benchmarks)."""
    side = search_index.load(lib)
    return {} if side is None else {"papers": side.meta["papers"], "segments": side.searcher.num_segments}
