"""Facet-aware similarity: how close two papers are in their background, their method or their
results (the facets of CSFCube), scored sentence by sentence.

An abstract is split into sentences (`highlights.sentences`), and each sentence gets a weight per
facet from the key-sentence model of `highlights.py` (its "idea" score speaks for the method, its
"result" score for the results; background is what is neither, early in the abstract). Both papers
are weighted so: the query paper's facet sentences are matched to the candidate's facet sentences
by optimal transport (entropic, Sinkhorn; the weights are the masses, the cost 1 - cosine), as
Aspire's otAspire did for CSFCube, here with untrained sentence vectors. The score is the cosine
the plan carries. `similar.similar_to` fuses it with the whole-paper evidence. Pure functions over
numpy arrays and an embedder passed in; embedding is the only work done.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Sequence
from functools import lru_cache

import numpy as np

from .embed import Embedder
from .highlights import features, kind_weights, sentences

FACETS = ("background", "method", "result")
CACHE = 50_000  # sentence vectors kept per process


def facet_weights(sents: Sequence[str]) -> dict[str, np.ndarray]:
    """Per facet, a weight for each sentence of one abstract (summing to 1)."""
    n = len(sents)
    if n == 0:
        return {f: np.zeros(0) for f in FACETS}
    feats = features(list(sents))
    model = kind_weights()
    idea = _sigmoid(np.array([sum(model["idea"].get(k, 0.0) * v for k, v in f.items()) for f in feats]))
    result = _sigmoid(np.array([sum(model["result"].get(k, 0.0) * v for k, v in f.items()) for f in feats]))
    early = 1.0 - np.arange(n) / max(n - 1, 1)  # background comes first
    raw = {
        "method": idea,
        "result": result,
        "background": (1.0 - np.maximum(idea, result)) * (0.5 + early),
    }
    return {f: w / w.sum() if w.sum() > 0 else np.full(n, 1.0 / n) for f, w in raw.items()}


@lru_cache(maxsize=20_000)
def abstract_sentences(abstract: str) -> tuple[str, ...]:
    """`highlights.sentences(abstract)`, remembered (splitting is a slow regular expression)."""
    return tuple(sentences(abstract))


@lru_cache(maxsize=20_000)
def abstract_facet_weights(abstract: str) -> dict[str, np.ndarray]:
    """`facet_weights` of an abstract's sentences, remembered per abstract (arrays read-only)."""
    out = facet_weights(abstract_sentences(abstract))
    for w in out.values():
        w.setflags(write=False)
    return out


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return np.asarray(1.0 / (1.0 + np.exp(-x)))


class SentenceVectors:
    """Sentence vectors of abstracts from one embedder, remembered (by text) for later queries."""

    def __init__(self, embedder: Embedder):
        self.embedder = embedder
        self._cache: OrderedDict[bytes, np.ndarray] = OrderedDict()

    def of(self, abstracts: Sequence[str]) -> list[np.ndarray]:
        """For each abstract, its sentences' unit vectors (one row per sentence; none if empty)."""
        split = [abstract_sentences(a) for a in abstracts]
        todo = sorted({s for ss in split for s in ss if _key(s) not in self._cache})
        if todo:
            for s, v in zip(todo, self.embedder.embed_batch(todo), strict=True):
                self._cache[_key(s)] = v
            while len(self._cache) > CACHE:
                self._cache.popitem(last=False)
        empty = np.zeros((0, self.embedder.dim), dtype=np.float32)
        return [np.stack([self._cache[_key(s)] for s in ss]) if ss else empty for ss in split]


def _key(sentence: str) -> bytes:
    return hashlib.blake2b(sentence.encode(), digest_size=12).digest()


OT_EPSILON = 0.05  # entropic regularisation of the transport (on cosine costs in [0, 2])
OT_ITERATIONS = 100


def facet_scores(
    query: np.ndarray,
    weights: np.ndarray,
    candidates: Sequence[np.ndarray],
    candidate_weights: Sequence[np.ndarray] | None = None,
) -> np.ndarray:
    """For each candidate, the cosine carried by the optimal transport of the query's sentences
    (masses `weights`) onto the candidate's sentences (masses `candidate_weights`, uniform when
    not given); 0 for a candidate without sentences."""
    out = np.zeros(len(candidates), dtype=np.float64)
    have = [i for i, rows in enumerate(candidates) if len(rows)]
    if len(query) == 0 or not have:
        return out
    # all candidates at once: each padded to the longest, the padding without mass (so it takes
    # no part in the plan; the same sums as transported_cosine candidate by candidate)
    width = max(len(candidates[i]) for i in have)
    rows = np.zeros((len(have), width, query.shape[1]), dtype=np.float64)
    mass = np.zeros((len(have), width), dtype=np.float64)
    for j, i in enumerate(have):
        n = len(candidates[i])
        rows[j, :n] = candidates[i]
        b = np.full(n, 1.0 / n) if candidate_weights is None else candidate_weights[i]
        mass[j, :n] = np.asarray(b, dtype=np.float64) + 1e-12
    sims = np.einsum("qd,cmd->cqm", query.astype(np.float64), rows)
    kernel = np.exp(-(1.0 - sims) / OT_EPSILON)
    a = np.asarray(weights, dtype=np.float64)[None, :] + 1e-12
    v = (mass > 0).astype(np.float64)
    for _ in range(OT_ITERATIONS):
        u = a / (np.einsum("cqm,cm->cq", kernel, v) + 1e-300)
        v = mass / (np.einsum("cqm,cq->cm", kernel, u) + 1e-300)
    out[have] = np.einsum("cq,cqm,cm->c", u, kernel * sims, v)
    return out


def transported_cosine(query: np.ndarray, a: np.ndarray, rows: np.ndarray, b: np.ndarray) -> float:
    """Sinkhorn's entropic transport between two weighted sets of unit vectors; sum of plan x cosine."""
    sims = (query @ rows.T).astype(np.float64)
    kernel = np.exp(-(1.0 - sims) / OT_EPSILON)
    u, v = np.ones(len(query)), np.ones(len(rows))
    a, b = np.asarray(a, dtype=np.float64) + 1e-12, np.asarray(b, dtype=np.float64) + 1e-12
    for _ in range(OT_ITERATIONS):
        u = a / (kernel @ v + 1e-300)
        v = b / (kernel.T @ u + 1e-300)
    return float((u[:, None] * kernel * v[None, :] * sims).sum())
