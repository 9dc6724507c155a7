"""The per-profile learner: lexical (TF-IDF) and dense (embedding) features side by side, and a
logistic regression trained on the profile's papers (positives), its explicit negatives
(dislike, not interested) and random library papers (negatives), each group with its own weight.

This follows Scholar Inbox's recipe (per-user logistic regression; positives, explicit and
random negatives weighted apart) and its finding that TF-IDF and dense features each win in
different settings, so both are used. Pure: numpy/scipy/scikit-learn, no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeAlias

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import normalize

Matrix: TypeAlias = sparse.csr_matrix


@dataclass(frozen=True)
class LearnerConfig:
    """Weights, measured on the evaluations in docs/evaluation.md."""

    lexical_weight: float = 1.0  # scale of the (L2-normalised) TF-IDF block
    dense_weight: float = 1.0  # scale of the (L2-normalised) embedding block
    negative_weight: float = 2.0  # one explicit negative, relative to one positive
    random_weight: float = 1.0  # all random negatives together, relative to all positives
    C: float = 0.1  # inverse regularisation strength (strong: few positives)
    knn_weight: float = 4.0  # weight of the mean cosine to the nearest positives, added to the LR's output
    knn: int = 3  # how many nearest positives that mean is over
    max_features: int = 10_000


def fit_vectorizer(texts: list[str], cfg: LearnerConfig = LearnerConfig()) -> TfidfVectorizer:
    """TF-IDF over words and word pairs, sublinear tf, English stop words removed."""
    vec = TfidfVectorizer(
        ngram_range=(1, 2),
        max_features=cfg.max_features,
        min_df=2 if len(texts) >= 50 else 1,
        max_df=0.5 if len(texts) >= 50 else 1.0,
        sublinear_tf=True,
        stop_words="english",
        token_pattern=r"(?u)\b[A-Za-z][A-Za-z0-9-]+\b",
        dtype=np.float32,
    )
    vec.fit(texts)
    return vec


def features(lexical: Matrix, dense: np.ndarray | None, cfg: LearnerConfig = LearnerConfig()) -> Matrix:
    """One row per paper: [lexical_weight * tfidf, dense_weight * embedding] (each block L2-normalised)."""
    blocks = [normalize(lexical) * cfg.lexical_weight]
    if dense is not None and cfg.dense_weight:
        blocks.append(sparse.csr_matrix(normalize(dense) * cfg.dense_weight))
    return sparse.hstack(blocks, format="csr")


@dataclass
class Model:
    """Logistic regression output plus `knn_weight` times the mean cosine to the `knn` nearest
    positives. With a profile's few positives, nearness to one's own papers adds what the
    linear model misses (reviewer-expertise loss 0.239 for the regression alone, 0.219 for the
    cosine alone, 0.215 for both; docs/evaluation.md)."""

    coef: np.ndarray  # one weight per feature
    intercept: float
    positives: Matrix  # the positive rows, L2-normalised
    knn_weight: float = 0.0
    knn: int = 3

    def decision(self, x: Matrix) -> np.ndarray:
        out = np.asarray(x @ self.coef).ravel() + self.intercept
        if self.knn_weight and self.positives.shape[0]:
            sims = np.asarray((normalize(x) @ self.positives.T).todense())
            k = min(self.knn, sims.shape[1])
            out = out + self.knn_weight * np.sort(sims, axis=1)[:, -k:].mean(axis=1)
        return out


def fit(positives: Matrix, negatives: Matrix | None, randoms: Matrix | None, cfg: LearnerConfig) -> Model:
    """A logistic regression separating positives from both kinds of negatives, with sample weights:
    each positive 1, each explicit negative `negative_weight`, the random ones `random_weight`
    times the positives' total, shared out equally."""
    n_pos = positives.shape[0]
    centroid = np.asarray(positives.mean(axis=0)).ravel()
    near = sparse.csr_matrix(normalize(positives))
    parts, labels, weights = [positives], [np.ones(n_pos)], [np.ones(n_pos)]
    if negatives is not None and negatives.shape[0]:
        parts.append(negatives)
        labels.append(np.zeros(negatives.shape[0]))
        weights.append(np.full(negatives.shape[0], cfg.negative_weight))
    if randoms is not None and randoms.shape[0]:
        parts.append(randoms)
        labels.append(np.zeros(randoms.shape[0]))
        weights.append(np.full(randoms.shape[0], cfg.random_weight * n_pos / randoms.shape[0]))
    if len(parts) == 1 or n_pos == 0:
        return Model(centroid, 0.0, near)  # nothing to contrast with: similarity to the centroid
    x = sparse.vstack(parts, format="csr")
    y = np.concatenate(labels)
    w = np.concatenate(weights)
    clf = LogisticRegression(C=cfg.C, max_iter=1000, solver="liblinear")
    clf.fit(x, y, sample_weight=w / w.mean())
    return Model(
        clf.coef_.ravel().astype(np.float32), float(clf.intercept_[0]), near, cfg.knn_weight, cfg.knn
    )


def probability(decision: np.ndarray) -> np.ndarray:
    """Decision values as scores in (0, 1), higher is better."""
    return 1.0 / (1.0 + np.exp(-np.clip(decision, -30, 30)))


def driving_terms(model: Model, row: Matrix, names: np.ndarray, k: int = 5) -> list[str]:
    """The words of one paper that raised its score most (weight x value, lexical block only)."""
    row = row.tocsr()
    idx = row.indices[row.indices < len(names)]
    if not len(idx):
        return []
    contrib = model.coef[idx] * row[0, idx].toarray().ravel()
    order = np.argsort(-contrib)
    return [str(names[idx[i]]) for i in order[:k] if contrib[i] > 0]


def nearest(rows: Matrix, refs: Matrix, k: int = 2) -> list[list[tuple[int, float]]]:
    """For each row: the k most cosine-similar reference rows, as (reference index, cosine)."""
    if refs.shape[0] == 0:
        return [[] for _ in range(rows.shape[0])]
    sims = (normalize(rows) @ normalize(refs).T).toarray()
    out = []
    for s in sims:
        order = np.argsort(-s)[:k]
        out.append([(int(i), float(s[i])) for i in order])
    return out
