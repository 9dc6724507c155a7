"""Papers similar to a paper: lexical (BM25 over the full-text index) and dense (embeddings)
evidence, fused, each result with the reasons it was found.

The same function ranks the whole library ("similar papers" in the CLI and web) and a given pool
(the CSFCube evaluation re-ranks each query's judged pool with it). Does I/O through the library.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from .errors import InvalidInput
from .facets import FACETS, SentenceVectors, abstract_facet_weights, abstract_sentences, facet_scores
from .index import SearchIndex
from .stopwords import STOP_WORDS
from .storage.base import Library

RRF_K = 60  # reciprocal rank fusion constant (Cormack et al. 2009)
MAX_TERMS = 64  # the query paper's words used for BM25
DENSE_WEIGHT = 1.0  # weight of the dense ranking in fusion (the lexical one has weight 1)
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


@dataclass(frozen=True)
class FacetFusion:
    """How a facet query weighs its evidence: z-scores over the candidates, summed with these
    weights; the whole-paper cosine has weight 1. `lexical`: BM25 of the whole paper's words;
    `sentences`: the facet sentences matched by transport (facets.py); `words`: BM25 of the
    words of the query's facet sentences; `neighbours`: a candidate's whole-paper cosine to the
    best few candidates of the ranking made of the other evidence (`near_best`)."""

    lexical: float = 0.5
    sentences: float = 1.0
    words: float = 0.25
    neighbours: float = 0.0


# Chosen on the two CSFCube dev folds together (the best sum of their dev NDCG@20): see
# docs/evaluation.md, "Facet-aware similar papers (issue 12)".
FACET_FUSION = FacetFusion(lexical=0.5, sentences=0.5, words=0.0, neighbours=1.0)
NEIGHBOURS = 3  # how many of the best candidates vouch for the others (FacetFusion.neighbours)


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
    facet_fusion: FacetFusion = FACET_FUSION,
) -> list[Similar]:
    """The papers most like paper `pk` (never itself), best first.

    mode: "lexical" (BM25 of its words), "dense" (embedding cosine; needs `index`), or "hybrid"
    (both, fused by reciprocal rank; falls back to lexical when there is no index).
    facet: "background", "method" or "result": the candidates found above are re-ranked by a
    weighted sum of z-scores (`facet_fusion`): the whole paper's cosine and BM25, how well their
    sentences of that facet match the query paper's (optimal transport, facets.py) and BM25 of
    the words of the query's facet sentences; then, with an `index`, each candidate's cosine to
    the best few of that ranking is added (`near_best`). Sentences are embedded by `sentence_vectors`
    (default: the quality tier, else the fast tier; remembered per process).
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
    near: dict[int, float] = {}
    if facet is not None:
        evidence = (dict(lexical), cos, row.abstract)
        fused, matched = _by_facet(lib, pk, evidence, fused, facet, sentence_vectors, facet_fusion)
        if facet_fusion.neighbours and index is not None and matched:
            fused, near = _vouched(index, fused, facet_fusion.neighbours)
    best = sorted(fused.items(), key=lambda kv: -kv[1])[:limit]
    return [
        Similar(
            p,
            s,
            lex_rank.get(p),
            dense_rank.get(p),
            cos.get(p),
            _reasons(lex_rank.get(p), cos.get(p), facet, matched.get(p), near.get(p)),
        )
        for p, s in best
    ]


def _vouched(
    index: SearchIndex, fused: dict[int, float], weight: float
) -> tuple[dict[int, float], dict[int, float]]:
    """`fused` plus `weight` x the z-score of each candidate's cosine to the best few (`near_best`):
    (the new scores, that cosine of each candidate)."""
    order = list(fused)
    near = near_best(index, order, np.array([fused[p] for p in order]))
    return (
        {p: fused[p] + weight * float(z) for p, z in zip(order, _z(near), strict=True)},
        {p: float(c) for p, c in zip(order, near, strict=True)},
    )


def _by_facet(
    lib: Library,
    pk: int,
    evidence: tuple[dict[int, float], dict[int, float], str | None],
    fused: dict[int, float],
    facet: str,
    vectors: SentenceVectors | None,
    fusion: FacetFusion,
) -> tuple[dict[int, float], dict[int, float]]:
    """The candidates re-ranked by facet: (fused scores, each candidate's facet match).
    `evidence`: the whole paper's BM25 and cosine of each candidate, and the query's abstract."""
    bm25, cosine, abstract = evidence
    query_sents = abstract_sentences(abstract or "")
    if not query_sents or not fused:  # nothing to match: no abstract, or no candidates
        return fused, {}
    vectors = vectors or default_sentence_vectors()
    if vectors is None:  # no embedder built
        return fused, {}
    order = [p for p, _ in sorted(fused.items(), key=lambda kv: -kv[1])]
    texts = {p: a or "" for p, _, a in lib.paper_texts_of(order)}
    weights = abstract_facet_weights(abstract or "")[facet]
    query, *rows = vectors.of([abstract or ""] + [texts.get(p, "") for p in order])
    cand_weights = [abstract_facet_weights(texts.get(p, ""))[facet] for p in order]
    matched = facet_scores(query, weights, rows, cand_weights)
    top = [s for s, w in zip(query_sents, weights, strict=True) if w >= 0.5 * weights.max()]
    words = dict(lib.bm25_scores(query_terms(None, " ".join(top)), order, len(order), exclude=pk))
    floor = min(cosine.values(), default=0.0)  # a candidate found by its words alone: the least cosine
    total = (
        fusion.lexical * _z([bm25.get(p, 0.0) for p in order])
        + (_z([cosine.get(p, floor) for p in order]) if cosine else 0.0)
        + fusion.sentences * _z(matched)
        + fusion.words * _z([words.get(p, 0.0) for p in order])
    )
    return (
        {p: float(x) for p, x in zip(order, total, strict=True)},
        {p: float(x) for p, x in zip(order, matched, strict=True)},
    )


def near_best(
    index: SearchIndex, order: Sequence[int], scores: np.ndarray, k: int = NEIGHBOURS
) -> np.ndarray:
    """For each candidate in `order`, its mean whole-paper cosine to the k candidates with the best
    `scores`, itself left out (pseudo-relevance feedback: the papers found first vouch for those
    like them); a candidate without a vector counts as cosine 0."""
    vectors = [index.vector_of(p) for p in order]
    dim = next((len(v) for v in vectors if v is not None), 0)
    out = np.zeros(len(order), dtype=np.float64)
    if not dim:
        return out
    matrix = np.stack([np.zeros(dim, np.float32) if v is None else v for v in vectors]).astype(np.float64)
    best = np.argsort(-scores, kind="stable")[: k + 1]
    sims = matrix @ matrix[best].T
    for i in range(len(order)):
        cols = [j for j, b in enumerate(best) if b != i][:k]
        out[i] = sims[i, cols].mean() if cols else 0.0
    return out


def _z(xs: Sequence[float] | np.ndarray) -> np.ndarray:
    """Standard scores (all 0 when the values are all equal)."""
    x = np.asarray(xs, dtype=np.float64)
    sd = x.std()
    return (x - x.mean()) / sd if sd > 0 else np.zeros_like(x)


_SENTENCES: dict[str, SentenceVectors] = {}


def default_sentence_vectors() -> SentenceVectors | None:
    """Sentence vectors from the quality tier (MiniLM; on CSFCube its sentences beat the fast
    tier's, which lowered every facet), else the fast tier; one cache per process."""
    from .embed import load_embedder
    from .errors import BackendUnavailable

    for tier in ("quality", "fast"):
        try:
            embedder = load_embedder(tier)
        except BackendUnavailable:
            continue
        return _SENTENCES.setdefault(embedder.model_id, SentenceVectors(embedder))
    return None


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
    lex_rank: int | None,
    cosine: float | None,
    facet: str | None = None,
    matched: float | None = None,
    near: float | None = None,
) -> list[str]:
    out = []
    if facet is not None and matched is not None:
        out.append(f"close in its {FACET_WORDS[facet]} (sentence match {matched:.2f})")
    if near is not None:
        out.append(f"like the best matches (cosine {near:.2f} to the top {NEIGHBOURS})")
    if cosine is not None:
        out.append(f"close in meaning (cosine {cosine:.2f})")
    if lex_rank is not None and lex_rank <= 20:
        out.append(f"shares distinctive words (keyword rank {lex_rank})")
    return out
