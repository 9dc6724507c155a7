"""Keyword search over the FTS5 index `papers_fts`: the query grammar, SQL building, and thin runners.

The grammar turns any user text into a valid FTS5 expression (`parse_query`, `match_expression`):
bare words are ANDed terms, `"quoted phrases"` are phrases, a trailing `*` makes a prefix term and a
leading `-` excludes a term. Every term is emitted as an FTS5 string, so `AND`, `OR`, `NOT`, `NEAR`,
`title:`, `^`, parentheses and stray quotes are plain words, never syntax.

Builders (`ranked_sql`, `count_sql`, `browse_sql`, `marks_sql`) are pure and return `(sql, params)`;
the `run_*` functions execute them on a `sqlite3.Connection` (the only I/O in this module).
"""

from __future__ import annotations

import re
import sqlite3
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from ..errors import InvalidInput
from ..normalize import valid_iso_date

# bm25 column weights (title, abstract, authors): a word in the title counts four times.
W_TITLE = 4.0
W_ABSTRACT = 1.0
W_AUTHORS = 1.0

MAX_QUERY_CHARS = 1000  # longer input is cut here (FTS5 has limits on expression size)
MAX_TERMS = 32  # terms beyond this are dropped (and the result says so)
SNIPPET_TOKENS = 24
MARK_OPEN, MARK_CLOSE = "\ue000", "\ue001"  # private-use characters: cannot be confused with text
ELLIPSIS = "…"

Joiner = Literal["AND", "OR"]


# ---------------------------------------------------------------- the query grammar (pure)


@dataclass(frozen=True)
class Term:
    """One search term: `text` as the user wrote it (a word or a phrase), maybe a prefix."""

    text: str
    phrase: bool = False
    prefix: bool = False

    def fts(self) -> str:
        """This term as an FTS5 string: inert whatever it contains."""
        return '"' + self.text.replace('"', '""') + '"' + ("*" if self.prefix else "")

    def __str__(self) -> str:
        shown = f'"{self.text}"' if self.phrase else self.text
        return shown + ("*" if self.prefix else "")


@dataclass(frozen=True)
class Query:
    """A parsed query: terms that must match, terms that must not, and what was cut off."""

    terms: tuple[Term, ...] = ()
    excluded: tuple[Term, ...] = ()
    dropped: int = 0  # terms beyond MAX_TERMS (or past MAX_QUERY_CHARS)

    @property
    def empty(self) -> bool:
        return not self.terms and not self.excluded

    def text(self) -> str:
        """The positive terms as plain text (what a dense embedder would read)."""
        return " ".join(t.text for t in self.terms)


_TOKEN = re.compile(r'(-?)"([^"]*)("?)(\*?)|(\S+)')


def parse_query(text: str) -> Query:
    """Parse user text by the grammar above. Never fails; text with no letters or digits gives an
    empty query."""
    text = _clean(text)
    cut = len(text) > MAX_QUERY_CHARS
    terms: list[Term] = []
    excluded: list[Term] = []
    for m in _TOKEN.finditer(text[:MAX_QUERY_CHARS]):
        if m.group(5) is not None:  # a bare word
            word = m.group(5)
            negate = word.startswith("-") and len(word) > 1
            word = word[1:] if negate else word
            prefix = word.endswith("*")
            term = Term(word.rstrip("*"), phrase=False, prefix=prefix)
        else:  # a quoted phrase (an unclosed quote runs to the end of the text)
            negate = bool(m.group(1))
            term = Term(m.group(2), phrase=True, prefix=bool(m.group(4)))
        if not _has_token(term.text):
            continue
        target = excluded if negate else terms
        if term not in target:
            target.append(term)
    dropped = max(0, len(terms) - MAX_TERMS) + max(0, len(excluded) - MAX_TERMS) + int(cut)
    return Query(tuple(terms[:MAX_TERMS]), tuple(excluded[:MAX_TERMS]), dropped)


def _clean(text: str) -> str:
    """Drop what SQLite cannot take: lone surrogates (from undecodable argv bytes), NUL and the
    snippet markers."""
    text = text.encode("utf-8", "ignore").decode("utf-8")
    return text.translate({0: " ", ord(MARK_OPEN): " ", ord(MARK_CLOSE): " "})


def _has_token(text: str) -> bool:
    """Whether the FTS5 unicode61 tokenizer finds a word in `text` (letters, digits, private use).
    A term without one would be an empty phrase, which FTS5 treats inconsistently."""
    return any(c.isalnum() or unicodedata.category(c) == "Co" for c in text)


# Left out of the any-term fallback, where they would match nearly every paper.
_STOP = "a an and are as at be by for from has have how in into is it its of on or our that the their this to"
STOPWORDS = frozenset((_STOP + " using via we what when which with without").split(" "))


def relaxed_terms(terms: Sequence[Term]) -> list[Term]:
    """The terms of an any-term (OR) search: words joined by punctuation split apart ("kv-cache"
    gives kv, cache), stopwords dropped unless nothing else is left. Phrases stay whole."""
    words: list[Term] = []
    for t in terms:
        parts = [w for w in re.findall(r"\w+", t.text) if _has_token(w)] if not t.phrase else []
        if not parts:
            words.append(t)
            continue
        words += [Term(w, prefix=t.prefix and i == len(parts) - 1) for i, w in enumerate(parts)]
    kept = [t for t in words if t.phrase or t.prefix or t.text.casefold() not in STOPWORDS]
    return list(dict.fromkeys(kept or words))


def match_expression(terms: Sequence[Term], excluded: Sequence[Term] = (), joiner: Joiner = "AND") -> str:
    """The FTS5 MATCH expression: `(a AND b) NOT (c OR d)`. `terms` must not be empty."""
    if not terms:
        raise InvalidInput("a search needs at least one word")
    expr = "(" + f" {joiner} ".join(t.fts() for t in terms) + ")"
    if excluded:
        expr += " NOT (" + " OR ".join(t.fts() for t in excluded) + ")"
    return expr


def author_expression(name: str) -> str:
    """A MATCH expression for papers with this author: the name's words in order in the authors
    column, the last one as a prefix ("tian" finds "Yuandong Tian"; case and accents ignored)."""
    name = _clean(name).replace('"', " ").strip()
    if not _has_token(name):
        raise InvalidInput(f"author filter {name!r} has no letters or digits")
    return 'authors : "' + name + '"*'


# ---------------------------------------------------------------- filters (pure)

_ISO_PREFIX = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")


@dataclass(frozen=True)
class Filters:
    """What a search is narrowed to. Dates are ISO and may be partial (`2024`, `2024-10`);
    `until` includes its whole period (`until="2024"` keeps December 31st)."""

    since: str | None = None
    until: str | None = None
    categories: tuple[str, ...] = ()  # any of these; `cs` means every cs.* category
    author: str | None = None
    has_code: bool = False
    source: str | None = None  # an importer name, e.g. arxiv_snapshot

    def __post_init__(self) -> None:
        for name in ("since", "until"):
            value = getattr(self, name)
            if value is not None and not (_ISO_PREFIX.match(value) and valid_iso_date(value)):
                raise InvalidInput(f"--{name} wants a date like 2024, 2024-10 or 2024-10-13, not {value!r}")

    @property
    def active(self) -> bool:
        return bool(
            self.since or self.until or self.categories or self.author or self.has_code or self.source
        )


def filter_sql(f: Filters) -> tuple[list[str], list[Any]]:
    """WHERE clauses over `papers p` (ANDed by the caller) and their parameters."""
    where: list[str] = []
    params: list[Any] = []
    if f.since:
        where.append("p.date >= ?")
        params.append(f.since)
    if f.until:  # "2024" must keep "2024-12-31": compare against the end of the period
        where.append("p.date < ?")
        params.append(f.until + "\uffff")
    if f.categories:
        tests = []
        for c in f.categories:
            c = c.lower()
            if "." in c:
                tests.append("c.category = ?")
                params.append(c)
            else:  # `cs` means cs itself and every cs.* (an index range, not a scan)
                tests.append("(c.category = ? OR (c.category >= ? AND c.category < ?))")
                params += [c, c + ".", c + "/"]
        where.append(
            "EXISTS (SELECT 1 FROM paper_categories c WHERE c.paper_pk = p.pk AND ("
            + " OR ".join(tests)
            + "))"
        )
    if f.has_code:
        where.append("json_extract(p.data, '$.has_code') = 1")
    if f.source:
        where.append("EXISTS (SELECT 1 FROM records r WHERE r.paper_pk = p.pk AND r.importer = ?)")
        params.append(f.source)
    if f.author:
        where.append("p.pk IN (SELECT rowid FROM papers_fts WHERE papers_fts MATCH ?)")
        params.append(author_expression(f.author))
    return where, params


# ---------------------------------------------------------------- SQL builders (pure)


_MARKS = "highlight(papers_fts, 0, ?, ?), snippet(papers_fts, 1, ?, ?, ?, ?), highlight(papers_fts, 2, ?, ?)"


def ranked_sql(match: str, f: Filters, limit: int, offset: int) -> tuple[str, list[Any]]:
    """One page of matching papers, best first: (pk, bm25) rows; bm25 is lower for better matches.
    (Measured at 118k papers: ordering by the bm25() column is ~1.5 ms faster at the median than
    FTS5's own `rank MATCH 'bm25(...)' ORDER BY rank`.)"""
    where, params = filter_sql(f)
    join = " JOIN papers p ON p.pk = papers_fts.rowid" if where else ""
    sql = (
        f"SELECT papers_fts.rowid, bm25(papers_fts, {W_TITLE}, {W_ABSTRACT}, {W_AUTHORS}) AS score"
        f" FROM papers_fts{join} WHERE papers_fts MATCH ?"
        + "".join(" AND " + w for w in where)
        + " ORDER BY score LIMIT ? OFFSET ?"
    )
    return sql, [match, *params, limit, offset]


def count_sql(match: str, f: Filters) -> tuple[str, list[Any]]:
    where, params = filter_sql(f)
    join = " JOIN papers p ON p.pk = papers_fts.rowid" if where else ""
    sql = (
        "SELECT count(*) FROM papers_fts"
        + join
        + " WHERE papers_fts MATCH ?"
        + "".join(" AND " + w for w in where)
    )
    return sql, [match, *params]


def browse_sql(f: Filters, excluded: str | None, limit: int, offset: int) -> tuple[str, list[Any]]:
    """No terms to look for: the newest papers passing the filters (and not matching `excluded`),
    as (pk, NULL) rows."""
    where, params = filter_sql(f)
    if excluded:
        where.append("p.pk NOT IN (SELECT rowid FROM papers_fts WHERE papers_fts MATCH ?)")
        params.append(excluded)
    cond = (" WHERE " + " AND ".join(where)) if where else ""
    sql = f"SELECT p.pk, NULL FROM papers p{cond} ORDER BY p.date DESC NULLS LAST, p.pk DESC LIMIT ? OFFSET ?"
    return sql, [*params, limit, offset]


def browse_count_sql(f: Filters, excluded: str | None) -> tuple[str, list[Any]]:
    sql, params = browse_sql(f, excluded, -1, 0)
    head, _, _ = sql.partition(" ORDER BY ")
    return head.replace("SELECT p.pk, NULL", "SELECT count(*)", 1), params[:-2]


def allowed_sql(f: Filters, pks: Sequence[int]) -> tuple[str, list[Any]]:
    """Which of these papers pass the filters (for rankings made outside FTS5, e.g. by embeddings)."""
    where, params = filter_sql(f)
    cond = "".join(" AND " + w for w in where)
    return f"SELECT p.pk FROM papers p WHERE p.pk IN ({','.join('?' * len(pks))}){cond}", [*pks, *params]


def marks_sql(match: str, pks: Sequence[int]) -> tuple[str, list[Any]]:
    """For some papers: the title and authors with every match marked (MARK_OPEN/MARK_CLOSE), and
    the abstract fragment with the most matches, marked. One row per pk that matches.

    FTS5 looks each pk up in the doclists (`rowid IN`), never passing over every match: for the 20
    papers of a page 1.0-2.5 ms at 118k and 1.4-3.1 ms at 3M, where one pass over the matches
    (`+rowid IN`, as before 2026-12-02) took 6-12 ms and 150-400 ms for common words (0.8 ms and
    5 ms for rare ones)."""
    marks = [MARK_OPEN, MARK_CLOSE, MARK_OPEN, MARK_CLOSE, ELLIPSIS, SNIPPET_TOKENS, MARK_OPEN, MARK_CLOSE]
    sql = (
        f"SELECT rowid, {_MARKS} FROM papers_fts WHERE papers_fts MATCH ?"
        f" AND rowid IN ({','.join('?' * len(pks))})"
    )
    return sql, [*marks, match, *pks]


def which_sql(term: Term, pks: Sequence[int]) -> tuple[str, list[Any]]:
    """Which of these papers contain one term (looked up by pk, as in `marks_sql`)."""
    sql = f"SELECT rowid FROM papers_fts WHERE papers_fts MATCH ? AND rowid IN ({','.join('?' * len(pks))})"
    return sql, [term.fts(), *pks]


# ---------------------------------------------------------------- runners (I/O)
#
# Each runner takes a connection; a PostgreSQL library's connection (postgres.Connection) carries
# its library, whose text_* methods answer instead (the expression parsed back by `parse_match`).

_MATCH_TERM = re.compile(r'"((?:[^"]|"")*)"(\*?)')


def parse_match(match: str) -> tuple[list[Term], list[Term], Joiner]:
    """A `match_expression` back into (terms, excluded, joiner) (pure)."""
    head, _, tail = match.partition(") NOT (")
    joiner: Joiner = "OR" if '" OR "' in head or '* OR "' in head else "AND"

    def terms(text: str) -> list[Term]:
        return [
            Term(m.group(1).replace('""', '"'), " " in m.group(1), bool(m.group(2)))
            for m in _MATCH_TERM.finditer(text)
        ]

    return terms(head), terms(tail), joiner


def _pg(conn: Any) -> Any:
    return getattr(conn, "library", None)


Marks = tuple[str, str, str]  # marked title, abstract fragment, authors


def run_ranked(
    conn: sqlite3.Connection, match: str, f: Filters, limit: int, offset: int
) -> list[tuple[int, float]]:
    if (lib := _pg(conn)) is not None:
        return [(pk, -score) for pk, score in lib.text_ranked(*parse_match(match), f, limit, offset)]
    sql, params = ranked_sql(match, f, limit, offset)
    return [(int(r[0]), float(r[1])) for r in conn.execute(sql, params)]


def run_allowed(conn: sqlite3.Connection, f: Filters, pks: Sequence[int]) -> set[int]:
    if (lib := _pg(conn)) is not None:
        return set(lib.text_allowed(f, pks))
    out: set[int] = set()
    for i in range(0, len(pks), 500):
        sql, params = allowed_sql(f, pks[i : i + 500])
        out.update(int(r[0]) for r in conn.execute(sql, params))
    return out


def run_count(conn: sqlite3.Connection, match: str, f: Filters) -> int:
    if (lib := _pg(conn)) is not None:
        return int(lib.text_count(*parse_match(match), f))
    sql, params = count_sql(match, f)
    return int(conn.execute(sql, params).fetchone()[0])


def run_browse(
    conn: sqlite3.Connection, f: Filters, excluded: str | None, limit: int, offset: int
) -> tuple[list[int], int]:
    if (lib := _pg(conn)) is not None:
        found: tuple[list[int], int] = lib.text_browse(
            f, parse_match(excluded)[0] if excluded else [], limit, offset
        )
        return found
    sql, params = browse_sql(f, excluded, limit, offset)
    pks = [int(r[0]) for r in conn.execute(sql, params)]
    sql, params = browse_count_sql(f, excluded)
    return pks, int(conn.execute(sql, params).fetchone()[0])


def run_marks(conn: sqlite3.Connection, match: str, pks: Sequence[int]) -> dict[int, Marks]:
    if not pks:
        return {}
    if (lib := _pg(conn)) is not None:
        return dict(lib.text_marks(*parse_match(match), pks))
    sql, params = marks_sql(match, pks)
    return {int(r[0]): (r[1] or "", r[2] or "", r[3] or "") for r in conn.execute(sql, params)}


def run_which(conn: sqlite3.Connection, terms: Sequence[Term], pks: Sequence[int]) -> dict[int, list[Term]]:
    """pk -> the terms it contains (one small indexed query per term)."""
    if (lib := _pg(conn)) is not None:
        return dict(lib.text_which(terms, pks))
    out: dict[int, list[Term]] = {pk: [] for pk in pks}
    for term in terms if pks else ():
        sql, params = which_sql(term, pks)
        for r in conn.execute(sql, params):
            out[int(r[0])].append(term)
    return out
