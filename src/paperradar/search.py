"""Search the library: the one `search()` that the CLI, the web pages and digests all call.

Searching only: the query grammar (storage/fts.py's `parse_query`), then ranking. `mode="keyword"`
ranks with FTS5 BM25 (title weighted above abstract and authors); `semantic` ranks by the index's
vectors and `hybrid` fuses both by reciprocal rank. The dense modes raise `BackendUnavailable`
until `paperradar index` has built vectors. What a hit looks like (snippets as highlighted
segments, reasons, the JSON shape) is hits.py's job. Does I/O through the `Library` it is given
(storage/fts.py holds the SQL).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from .errors import BackendUnavailable, InvalidInput
from .hits import Hit, first_words, marked, match_reasons, plain_title, segments, shown_segments
from .index import best_index
from .papers import load_papers
from .progress import Progress
from .similar import rrf
from .storage import fts, search_engine, search_index
from .storage.base import Library
from .storage.fts import Filters, Joiner, Query, Term, parse_query

__all__ = ["MODES", "Filters", "Hit", "SearchResult", "search"]  # Hit: what SearchResult holds (hits.py)

MODES = ("keyword", "semantic", "hybrid")
MAX_LIMIT = 1000


@dataclass
class SearchResult:
    hits: list[Hit]
    total: int  # papers matching in all, across every page
    took_ms: float = 0.0
    relaxed: bool = False  # no paper had every term, so these match any of them
    notes: list[str] = field(default_factory=list)  # what the user should know about the query


Searcher = Callable[[Library, Query, Filters, int, int], SearchResult]
Words = tuple[list[Term], list[Term], Joiner]  # terms, excluded terms, how terms join


def search(
    lib: Library,
    query: str,
    *,
    mode: str = "keyword",
    limit: int = 20,
    offset: int = 0,
    filters: Filters | None = None,
) -> SearchResult:
    """Papers matching `query` (see storage/fts.py for the grammar), best first, `limit` from `offset`.
    An empty query lists the newest papers that pass the filters."""
    if mode not in MODES:
        raise InvalidInput(f"unknown search mode {mode!r}; choose from {', '.join(MODES)}")
    if not 0 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"--limit must be between 0 and {MAX_LIMIT}, not {limit}")
    if offset < 0:
        raise InvalidInput(f"--offset cannot be negative ({offset})")
    started = time.perf_counter()
    searcher = _SEARCHERS.get(mode) or _not_built(mode)
    q = parse_query(query)
    result = searcher(lib, q, filters or Filters(), limit, offset)
    if q.empty and query.strip():
        result.notes.insert(0, "the query has no letters or digits to search for; showing the newest papers")
    result.took_ms = (time.perf_counter() - started) * 1000
    return result


def _not_built(mode: str) -> Searcher:
    # The seam for dense search: semantic and hybrid register in _SEARCHERS once embeddings exist.
    raise InvalidInput(f"{mode} search needs embeddings, which are not built yet: run paperradar index")


# ---------------------------------------------------------------- keyword search


def keyword_search(lib: Library, q: Query, f: Filters, limit: int, offset: int) -> SearchResult:
    notes = [f"the query was too long: only its first {fts.MAX_TERMS} terms were used"] if q.dropped else []
    if not q.terms:
        return _browse(lib, q, f, limit, offset, notes)
    words: Words = (list(q.terms), list(q.excluded), "AND")
    ranked, total = _ranked(lib, words, f, limit, offset)
    relaxed = False
    wanted = list(q.terms)
    if total == 0 and fts.relaxed_terms(q.terms) != wanted:  # e.g. a long natural-language query:
        wanted = fts.relaxed_terms(q.terms)  # accept papers with any of its words
        words = (wanted, list(q.excluded), "OR")
        ranked, total = _ranked(lib, words, f, limit, offset)
        relaxed = total > 0
        if relaxed:
            notes.append("no paper matches every term; showing papers that match any of them")
    pks = [pk for pk, _ in ranked]
    marks = lib.text_marks(*words, pks) if pks else {}
    which = lib.text_which(wanted, pks) if relaxed else {}
    hits, papers = [], load_papers(lib, pks)
    for pk, score in ranked:
        if (paper := papers.get(pk)) is None:  # merged away since it was ranked
            continue
        marked_title, marked_abstract, marked_authors = marks.get(pk, ("", "", ""))
        title, abstract = shown_segments(marked_title), shown_segments(marked_abstract)
        authors = segments(marked_authors)
        reasons = match_reasons(title, abstract, authors)
        if relaxed:
            found = which.get(pk, [])
            reasons.insert(0, f"matches {len(found)} of {len(wanted)} terms: {', '.join(map(str, found))}")
        snippet = abstract if marked(abstract) or not marked(title) else title
        hits.append(
            Hit(paper, score, snippet or first_words(paper), reasons, title or plain_title(paper.title))
        )
    return SearchResult(hits, total, relaxed=relaxed, notes=notes)


def _ranked(
    lib: Library, words: Words, f: Filters, limit: int, offset: int
) -> tuple[list[tuple[int, float]], int]:
    """One page, best first: (pk, score), higher is better; and how many match in all."""
    found = search_engine.ranked(lib, *words, f, limit, offset)
    if found is not None:  # the Tantivy side index of a big library (storage/search_index.py)
        return found
    ranked = _lexical(lib, words, f, limit, offset) if limit else []
    if 0 < len(ranked) < limit or (not ranked and offset == 0 and limit):
        return ranked, offset + len(ranked)  # the last page: no need to count
    return ranked, lib.text_count(*words, f)


def _lexical(lib: Library, words: Words, f: Filters, limit: int, offset: int) -> list[tuple[int, float]]:
    """One page of the BM25 ranking: from a big library's Tantivy side index when it answers
    (storage/search_engine.py), else by FTS5 over every match."""
    engine = search_engine.ranked(lib, *words, f, limit, offset, count=False)
    return engine[0] if engine is not None else lib.text_ranked(*words, f, limit, offset)


def refresh_keyword_lists(lib: Library, progress: Progress | None = None) -> dict[str, object]:
    """Build the Tantivy side index keyword search ranks from, for a SQLite library of
    `search_index.MIN_PAPERS` or more, when missing or too stale (`paperradar index` calls it)."""
    return search_index.sync(lib, progress)


def _browse(lib: Library, q: Query, f: Filters, limit: int, offset: int, notes: list[str]) -> SearchResult:
    pks, total = lib.text_browse(f, list(q.excluded), limit, offset)
    why = "no search words: newest papers first" + (" (passing the filters)" if f.active else "")
    hits, papers = [], load_papers(lib, pks)
    for pk in pks:
        if (paper := papers.get(pk)) is None:
            continue
        hits.append(Hit(paper, 0.0, first_words(paper), [why], plain_title(paper.title)))
    return SearchResult(hits, total, notes=notes)


# ---------------------------------------------------------------- semantic and hybrid search

DENSE_DEPTH = 200  # dense candidates considered per search (before filters and fusion)


def _dense(lib: Library, q: Query, f: Filters, depth: int) -> list[tuple[int, float]]:
    """The papers nearest the query's meaning that pass the filters: [(pk, cosine)], best first."""
    found = best_index(lib)
    if found is None:
        raise BackendUnavailable(
            "semantic search needs embeddings, which are not built yet: run `paperradar index`"
        )
    index, embedder = found
    vector = np.asarray(embedder.embed_batch([q.text()]), dtype=np.float32)[0]
    ranked = index.search(vector, depth * (4 if f.active else 1))
    if f.active:
        allowed = lib.text_allowed(f, [pk for pk, _ in ranked])
        ranked = [(pk, s) for pk, s in ranked if pk in allowed]
    return ranked[:depth]


def semantic_search(lib: Library, q: Query, f: Filters, limit: int, offset: int) -> SearchResult:
    if not q.terms:
        return _browse(lib, q, f, limit, offset, [])
    ranked = _dense(lib, q, f, max(DENSE_DEPTH, offset + limit))
    page = ranked[offset : offset + limit]
    words: Words = (fts.relaxed_terms(q.terms) or list(q.terms), list(q.excluded), "OR")
    return SearchResult(_fused_hits(lib, words, page, {}, dict(ranked)), len(ranked))


def hybrid_search(lib: Library, q: Query, f: Filters, limit: int, offset: int) -> SearchResult:
    """Keyword (BM25) and semantic rankings fused by reciprocal rank: exact terms and meaning both count."""
    if not q.terms:
        return _browse(lib, q, f, limit, offset, [])
    depth = max(DENSE_DEPTH, offset + limit)
    words: Words = (list(q.terms), list(q.excluded), "AND")
    lexical = _lexical(lib, words, f, depth, 0)
    if not lexical:  # no paper has every term: let any of them count
        words = (fts.relaxed_terms(q.terms) or list(q.terms), list(q.excluded), "OR")
        engine = search_engine.ranked(lib, *words, f, depth, 0, count=False)
        lexical = engine[0] if engine is not None else lib.text_ranked(*words, f, depth, 0)
    dense = _dense(lib, q, f, depth)
    fused = rrf([([pk for pk, _ in lexical], 1.0), ([pk for pk, _ in dense], 1.0)])
    order = sorted(fused.items(), key=lambda kv: -kv[1])
    keyword_rank = {pk: i for i, (pk, _) in enumerate(lexical, start=1)}
    return SearchResult(
        _fused_hits(lib, words, order[offset : offset + limit], keyword_rank, dict(dense)), len(order)
    )


def _fused_hits(
    lib: Library,
    words: Words,
    page: list[tuple[int, float]],
    keyword_rank: dict[int, int],
    cosine: dict[int, float],
) -> list[Hit]:
    marks = lib.text_marks(*words, [pk for pk, _ in page]) if page else {}
    hits, papers = [], load_papers(lib, [pk for pk, _ in page])
    for pk, score in page:
        if (paper := papers.get(pk)) is None:
            continue
        title, abstract, _ = (shown_segments(m) for m in marks.get(pk, ("", "", "")))
        reasons = []
        if pk in cosine:
            reasons.append(f"close in meaning (cosine {cosine[pk]:.2f})")
        if pk in keyword_rank:
            reasons.append(f"matches the words (keyword rank {keyword_rank[pk]})")
        snippet = abstract if marked(abstract) else first_words(paper)
        hits.append(Hit(paper, score, snippet, reasons, title or plain_title(paper.title)))
    return hits


_SEARCHERS: dict[str, Searcher] = {
    "keyword": keyword_search,
    "semantic": semantic_search,
    "hybrid": hybrid_search,
}
