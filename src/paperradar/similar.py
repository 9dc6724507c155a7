"""Papers similar to a paper: lexical (BM25 over the full-text index) and dense (embeddings)
evidence, fused, each result with the reasons it was found.

The same function ranks the whole library ("similar papers" in the CLI and web) and a given pool
(the CSFCube evaluation re-ranks each query's judged pool with it). Does I/O through the library.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from .errors import InvalidInput
from .facets import FACETS, SentenceVectors, facet_scores, facet_weights
from .highlights import sentences
from .index import SearchIndex
from .stopwords import STOP_WORDS
from .storage.base import Library

RRF_K = 60  # reciprocal rank fusion constant (Cormack et al. 2009)
MAX_TERMS = 64  # the query paper's words used for BM25
DENSE_WEIGHT = 1.0  # weight of the dense ranking in fusion (the lexical one has weight 1)
FACET_WEIGHT = 1.0  # weight of the facet ranking against the whole-paper one (chosen on CSFCube dev folds)
FACET_WORDS = {"background": "background", "method": "method", "result": "results"}

_STOP = STOP_WORDS  # scikit-learn's English list plus the domain list (stopwords.py)
_WORD = re.compile(r"[A-Za-z][A-Za-z0-9-]{2,}")


def query_terms(title: str | None, abstract: str | None, limit: int = MAX_TERMS) -> list[str]:
    """The words of a paper to search with: title words first, then the abstract's, no stop words."""
    out: dict[str, None] = {}
    for text in (title or "", abstract or ""):
        for w in _WORD.findall(text):
            lw = w.lower()
            if lw not in _STOP and len(out) < limit:
                out.setdefault(lw)
    return list(out)


@dataclass
class Similar:
    pk: int
    score: float
    lexical_rank: int | None = None
    dense_rank: int | None = None
    cosine: float | None = None
    reasons: list[str] = field(default_factory=list)


def rrf(rankings: Iterable[tuple[list[int], float]], k: int = RRF_K) -> dict[int, float]:
    """Reciprocal rank fusion of ranked lists, each with a weight: sum of w / (k + rank)."""
    scores: dict[int, float] = {}
    for ranking, weight in rankings:
        for rank, pk in enumerate(ranking, start=1):
            scores[pk] = scores.get(pk, 0.0) + weight / (k + rank)
    return scores


def similar_to(
    lib: Library,
    pk: int,
    *,
    limit: int = 10,
    among: list[int] | None = None,
    index: SearchIndex | None = None,
    mode: str = "hybrid",
    dense_weight: float = DENSE_WEIGHT,
    facet: str | None = None,
    sentence_vectors: SentenceVectors | None = None,
    facet_weight: float = FACET_WEIGHT,
) -> list[Similar]:
    """The papers most like paper `pk` (never itself), best first.

    mode: "lexical" (BM25 of its words), "dense" (embedding cosine; needs `index`), or "hybrid"
    (both, fused by reciprocal rank; falls back to lexical when there is no index).
    facet: "background", "method" or "result": the candidates are re-ranked by how well their
    sentences match the query paper's sentences of that facet (facets.py), fused by reciprocal rank
    (weight `facet_weight`) with the ranking above. Sentences are embedded by `sentence_vectors`
    (default: the fast tier, remembered per process).
    """
    if facet is not None and facet not in FACETS:
        raise InvalidInput(f"facet must be one of {', '.join(FACETS)}, not {facet!r}")
    pool = None if among is None else [p for p in among if p != pk]
    depth = max(limit * 5, 100) if pool is None else len(pool)
    row = lib.paper_row(pk)
    lexical: list[tuple[int, float]] = []
    dense: list[tuple[int, float]] = []
    if mode in ("lexical", "hybrid"):
        lexical = lib.bm25_scores(query_terms(row.title, row.abstract), pool, depth, exclude=pk)
    if mode in ("dense", "hybrid") and index is not None:
        dense = _dense(index, pk, pool, depth)
    if mode == "lexical" or not dense:
        fused = {p: s for p, s in lexical}
    elif mode == "dense":
        fused = {p: s for p, s in dense}
    else:
        fused = rrf([([p for p, _ in lexical], 1.0), ([p for p, _ in dense], dense_weight)])
    lex_rank = {p: i for i, (p, _) in enumerate(lexical, start=1)}
    dense_rank = {p: i for i, (p, _) in enumerate(dense, start=1)}
    cos = dict(dense)
    matched: dict[int, float] = {}
    if facet is not None:
        fused, matched = _by_facet(lib, row.abstract, fused, facet, sentence_vectors, facet_weight)
    best = sorted(fused.items(), key=lambda kv: -kv[1])[:limit]
    return [
        Similar(
            p,
            s,
            lex_rank.get(p),
            dense_rank.get(p),
            cos.get(p),
            _reasons(lex_rank.get(p), cos.get(p), facet, matched.get(p)),
        )
        for p, s in best
    ]


def _by_facet(
    lib: Library,
    abstract: str | None,
    fused: dict[int, float],
    facet: str,
    vectors: SentenceVectors | None,
    weight: float,
) -> tuple[dict[int, float], dict[int, float]]:
    """The candidates re-ranked by facet: (fused scores, each candidate's facet match)."""
    vectors = vectors or _default_sentence_vectors()
    if vectors is None or not fused:
        return fused, {}
    order = [p for p, _ in sorted(fused.items(), key=lambda kv: -kv[1])]
    texts = {p: a for p, _, a in lib.paper_texts_of(order)}
    query, *rows = vectors.of([abstract or ""] + [texts.get(p) or "" for p in order])
    weights = facet_weights(sentences(abstract or ""))[facet]
    scores = facet_scores(query, weights, rows)
    by_facet = [order[i] for i in np.argsort(-scores, kind="stable")]
    return rrf([(order, 1.0), (by_facet, weight)]), {p: float(x) for p, x in zip(order, scores, strict=True)}


_SENTENCES: dict[str, SentenceVectors] = {}


def _default_sentence_vectors() -> SentenceVectors | None:
    """Sentence vectors from the fast tier (thousands of sentences a second), one cache per process."""
    from .embed import load_embedder
    from .errors import BackendUnavailable

    try:
        embedder = load_embedder("fast")
    except BackendUnavailable:
        return None
    return _SENTENCES.setdefault(embedder.model_id, SentenceVectors(embedder))


def _dense(index: SearchIndex, pk: int, pool: list[int] | None, depth: int) -> list[tuple[int, float]]:
    query = index.vector_of(pk)
    if query is None:
        return []
    if pool is None:
        return index.search(query, depth, exclude={pk})
    rows = [(p, index.vector_of(p)) for p in pool]
    have = [(p, v) for p, v in rows if v is not None]
    if not have:
        return []
    scores = np.stack([v for _, v in have]) @ query
    weight_of = getattr(index, "weight_of", None)
    if weight_of is not None:  # a mixed-tier index: fast vectors' cosines scaled like its search does
        scores = scores * np.array([weight_of(p) for p, _ in have], dtype=np.float32)
    order = np.argsort(-scores)
    return [(have[i][0], float(scores[i])) for i in order]


def _reasons(
    lex_rank: int | None, cosine: float | None, facet: str | None = None, matched: float | None = None
) -> list[str]:
    out = []
    if facet is not None and matched is not None:
        out.append(f"close in its {FACET_WORDS[facet]} (sentence match {matched:.2f})")
    if cosine is not None:
        out.append(f"close in meaning (cosine {cosine:.2f})")
    if lex_rank is not None and lex_rank <= 20:
        out.append(f"shares distinctive words (keyword rank {lex_rank})")
    return out
