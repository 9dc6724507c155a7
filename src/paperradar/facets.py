"""Facet-aware similarity: how close two papers are in their background, their method or their
results (the facets of CSFCube), scored sentence by sentence.

A query paper's abstract is split into sentences (`highlights.sentences`), and each sentence gets a
weight per facet from the key-sentence model of `highlights.py` (its "idea" score speaks for the
method, its "result" score for the results; background is what is neither, early in the abstract).
A candidate's facet score is the weighted mean, over the query's sentences, of each sentence's best
cosine to any of the candidate's sentences (multi-vector "max-sim" matching, as in the Aspire models
that came with CSFCube). `similar.similar_to` fuses it with the whole-paper score. Pure functions
over numpy arrays and an embedder passed in; embedding is the only work done.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Sequence

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


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return np.asarray(1.0 / (1.0 + np.exp(-x)))


class SentenceVectors:
    """Sentence vectors of abstracts from one embedder, remembered (by text) for later queries."""

    def __init__(self, embedder: Embedder):
        self.embedder = embedder
        self._cache: OrderedDict[bytes, np.ndarray] = OrderedDict()

    def of(self, abstracts: Sequence[str]) -> list[np.ndarray]:
        """For each abstract, its sentences' unit vectors (one row per sentence; none if empty)."""
        split = [sentences(a) for a in abstracts]
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


def facet_scores(query: np.ndarray, weights: np.ndarray, candidates: Sequence[np.ndarray]) -> np.ndarray:
    """For each candidate, the weighted mean over the query's sentences of the best cosine to one
    of the candidate's sentences (0 for a candidate without sentences)."""
    out = np.zeros(len(candidates), dtype=np.float64)
    if len(query) == 0:
        return out
    for i, rows in enumerate(candidates):
        if len(rows):
            out[i] = float(weights @ (query @ rows.T).max(axis=1))
    return out
