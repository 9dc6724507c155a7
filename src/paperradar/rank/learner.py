"""The per-profile learner: lexical evidence (a linear SVM on library-wide TF-IDF rows, as
arxiv-sanity-lite trains one) and dense evidence (nearness to the profile's own papers, kept
apart by interest and scored by the best interest), each put on the scale of the library by a
fixed reference sample, then added.

- Lexical: LinearSVC, class weights balanced, positives = the profile's papers and likes
  (newer ones weigh more), negatives = a fixed sample of library papers chosen by a hash of
  their ids plus the explicit negatives (dislike, not interested), which weigh more.
- Dense: for each interest, the mean cosine to its `knn` nearest papers (newer ones weigh
  more); the best interest wins (a max, never a profile-wide mean). A paper close to an
  explicitly rejected one loses `reject_weight` x that cosine, and an interest whose papers
  were rejected n times loses `interest_penalty` x n / (n + 2) z ("less of this topic").
- Scale: each evidence is z-scored against the same reference papers of the library, so the
  final score reads "standard deviations above a random paper", and `percentile` says how
  much of the library ranks below. Pure: numpy/scipy/scikit-learn, no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, TypeAlias

import numpy as np
from scipy import sparse
from sklearn.preprocessing import normalize
from sklearn.svm import LinearSVC

Rows: TypeAlias = np.ndarray | sparse.csr_matrix  # dense rows, or TF-IDF rows when there are none


@dataclass(frozen=True)
class LearnerConfig:
    """Settings chosen on the development authors of bench/eval_holdout.py (docs/evaluation.md)."""

    C: float = 0.1  # the lexical SVM's regularisation
    negatives: int = 20_000  # library papers sampled (by id hash) as the SVM's negatives
    reject_weight_svm: float = 5.0  # one explicit negative in the SVM, relative to one sampled negative
    dense_weight: float = 0.25  # weight of the dense z-score beside the lexical one (dev round 10)
    knn: int = 2  # an interest's nearness: mean cosine to its knn nearest papers (dev authors: 2)
    reject_weight: float = 1.0  # dense penalty per unit of cosine to the nearest rejected paper
    interest_penalty: float = 2.0  # z taken off an interest's papers as its rejections mount (n / (n + 2))
    half_life_days: float = 365.0  # a profile paper this much older than the newest weighs half
    reference: int = 2000  # library papers the scores are scaled against
    # lexical models per interest (arxiv-sanity-lite's one SVM per tag): "" none, "max" the best
    # interest's z-score, "max-with-global" the best of those and the profile-wide SVM's
    interest_svm: str = ""
    centroid_weight: float = 0.0  # weight of a third evidence: TF-IDF cosine to the positives' mean row
    # weight of a third evidence: per interest, the mean TF-IDF cosine to its knn nearest papers
    # (the dense evidence's rule on the lexical rows), the best interest's
    lexical_knn_weight: float = 0.0
    # weight of a third evidence, BM25-like "the profile's words": each word weighs the (recency-
    # weighted) number of profile papers using it; a paper scores its TF-IDF row against that
    words_weight: float = 0.0
    # 0: the evidences' z-scores are added; > 0: reciprocal-rank fusion, each evidence's rank in
    # the library read from its z (the normal upper tail), score = sum of weight / (rrf + tail)
    rrf: float = 0.0
    # pseudo-relevance feedback over the pool being ranked (transductive): the pool's prf_top best
    # candidates by the other evidences are taken as weak positives, and a fourth evidence, each
    # candidate's cosine to their mean row (dense and/or TF-IDF), is added at these weights
    prf_top: int = 0
    prf_dense_weight: float = 0.0
    prf_lexical_weight: float = 0.0


@dataclass
class Evidence:
    """Per candidate: the final score, its parts and the interest that scored best."""

    score: np.ndarray
    lexical: np.ndarray
    dense: np.ndarray
    interest: np.ndarray  # index into the model's interests (-1 without dense rows)
    nearness: np.ndarray  # the best interest's cosine (0 without dense rows)


@dataclass
class Model:
    """A fitted profile model: everything needed to score rows, nothing about the library."""

    coef: np.ndarray  # lexical SVM weights
    intercept: float
    interests: list[Rows]  # per interest: its papers' dense rows (unit)
    interest_weights: list[np.ndarray]  # per interest: each paper's recency weight
    rejected: Rows | None  # dense rows of explicit negatives
    cfg: LearnerConfig
    penalty: np.ndarray = field(default_factory=lambda: np.zeros(0))  # per interest, from its rejections
    lex_scale: tuple[float, float] = (0.0, 1.0)  # mean, std on the reference papers
    dense_scale: tuple[float, float] = (0.0, 1.0)
    reference: np.ndarray = field(default_factory=lambda: np.zeros(0))  # sorted reference scores
    # per interest (cfg.interest_svm): SVM weights, intercept and scale on the reference papers
    interest_lex: list[tuple[np.ndarray, float, tuple[float, float]]] = field(default_factory=list)
    centroid: np.ndarray | None = None  # the positives' mean TF-IDF row (unit), with cfg.centroid_weight
    centroid_scale: tuple[float, float] = (0.0, 1.0)
    # with cfg.lexical_knn_weight: per interest, its papers' TF-IDF rows and recency weights
    lex_interests: list[tuple[sparse.csr_matrix, np.ndarray]] = field(default_factory=list)
    lex_knn_scale: tuple[float, float] = (0.0, 1.0)
    words: np.ndarray | None = None  # with cfg.words_weight: each word's weight in the profile
    words_scale: tuple[float, float] = (0.0, 1.0)
    # with cfg.prf_top: the reference papers' rows, to put the pool's feedback term on their scale
    ref_rows: tuple[sparse.csr_matrix, Rows | None] | None = None

    def lexical(self, x: sparse.csr_matrix) -> np.ndarray:
        return np.asarray(x @ self.coef).ravel() + self.intercept

    def lexical_z(self, x: sparse.csr_matrix) -> np.ndarray:
        """The lexical evidence on the library's scale: the profile-wide SVM's z-score, or with
        per-interest models the best interest's (and the profile-wide one's, per cfg)."""
        z = _z(self.lexical(x), self.lex_scale)
        if not self.interest_lex:
            return z
        per = np.column_stack([_z(np.asarray(x @ c).ravel() + b, sc) for c, b, sc in self.interest_lex])
        best = per.max(axis=1)
        return np.maximum(best, z) if self.cfg.interest_svm == "max-with-global" else best

    def dense(self, d: Rows | None, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Dense score, best interest and its cosine for each of the n rows."""
        if d is None or not self.interests:
            return np.zeros(n), np.full(n, -1), np.zeros(n)
        pairs = zip(self.interests, self.interest_weights, strict=True)
        per = np.column_stack([_near(d, m, w, self.cfg.knn) for m, w in pairs])
        best = per.argmax(axis=1)
        near = per[np.arange(n), best]
        out = near.copy()
        if self.rejected is not None and self.rejected.shape[0]:
            out -= self.cfg.reject_weight * np.maximum(_dot(d, self.rejected).max(axis=1), 0.0)
        return out, best, near

    def evidence(self, x: sparse.csr_matrix, d: Rows | None) -> Evidence:
        lex = self.lexical_z(x)
        dense_raw, best, near = self.dense(d, x.shape[0])
        dense = _z(dense_raw, self.dense_scale) if self.interests else np.zeros_like(lex)
        parts = [(1.0, lex), (self.cfg.dense_weight, dense), *self.extra(x)]
        penalty = np.zeros(len(lex))
        if len(self.penalty) and len(best):
            penalty = self.penalty[np.maximum(best, 0)] * (best >= 0)
        if self.cfg.rrf > 0:
            score = sum(w / (self.cfg.rrf + _upper_tail(z - penalty)) for w, z in parts if w)
        else:
            score = sum(w * z for w, z in parts if w) - penalty
        return Evidence(np.asarray(score, dtype=float), lex, dense, best, near)

    def rank_pool(self, x: sparse.csr_matrix, d: Rows | None) -> Evidence:
        """The evidence for a pool of candidates ranked together: `evidence`, plus with
        cfg.prf_top the pseudo-relevance feedback term (`feedback`)."""
        ev = self.evidence(x, d)
        ev.score = ev.score + self.feedback(ev.score, x, d)
        return ev

    def feedback(self, score: np.ndarray, x: sparse.csr_matrix, d: Rows | None) -> np.ndarray:
        """Pseudo-relevance feedback: each candidate's cosine to the mean row of the pool's
        cfg.prf_top best by `score`, z-scored on the reference papers, weighted; 0 when off."""
        cfg = self.cfg
        weights = (cfg.prf_dense_weight if d is not None else 0.0, cfg.prf_lexical_weight)
        out = np.zeros(len(score))
        if cfg.prf_top <= 0 or not any(weights) or self.ref_rows is None or len(score) < 2:
            return out
        top = np.argsort(-score, kind="stable")[: min(cfg.prf_top, len(score) - 1)]
        ref_lex, ref_dense = self.ref_rows
        terms = [(weights[1], x, ref_lex)]
        if d is not None and ref_dense is not None:
            terms.append((weights[0], d, ref_dense))
        for w, rows, ref in terms:
            if w:
                mean = _mean_row(rows[top])
                near = _dot(rows, mean[None, :]).ravel()
                out += w * _z(near, _scale(_dot(ref, mean[None, :]).ravel()))
        return out

    def extra(self, x: sparse.csr_matrix) -> list[tuple[float, np.ndarray]]:
        """The third evidences that are fitted and weighed, as (weight, z-score) pairs."""
        cfg, out = self.cfg, []
        if self.centroid is not None and cfg.centroid_weight:
            out.append((cfg.centroid_weight, _z(np.asarray(x @ self.centroid).ravel(), self.centroid_scale)))
        if self.lex_interests and cfg.lexical_knn_weight:
            out.append((cfg.lexical_knn_weight, _z(self.lexical_knn(x), self.lex_knn_scale)))
        if self.words is not None and cfg.words_weight:
            out.append((cfg.words_weight, _z(np.asarray(x @ self.words).ravel(), self.words_scale)))
        return out

    def lexical_knn(self, x: sparse.csr_matrix) -> np.ndarray:
        """Per interest, the mean TF-IDF cosine to its knn nearest papers; the best interest's."""
        per = [_near(x, m, w, self.cfg.knn) for m, w in self.lex_interests]
        return np.max(np.column_stack(per), axis=1)

    def percentile(self, scores: np.ndarray) -> np.ndarray:
        """The share of the library (its reference papers) scoring below each score, in [0, 1).
        Beyond the best reference paper a normal tail continues it, so the best candidates
        still differ ("top 0.1%" vs "top 0.01%") instead of all reading 1."""
        ref = self.reference
        if not len(ref):
            return np.full(len(scores), 0.5)
        emp = np.searchsorted(ref, scores, side="right") / (len(ref) + 1)
        mu, sd = float(ref.mean()), float(max(ref.std(), 1e-6))
        top = ref[-1]
        tail_at_top = max(_upper_tail((top - mu) / sd), 1e-300)
        above = scores > top
        tail = _upper_tail((scores[above] - mu) / sd) / tail_at_top
        emp[above] = 1.0 - (1.0 - len(ref) / (len(ref) + 1)) * tail
        return emp


def _upper_tail(z: np.ndarray | float) -> np.ndarray:
    """P(Z > z) for a standard normal Z."""
    from scipy.special import ndtr

    return np.asarray(ndtr(-np.asarray(z, dtype=float)))


def _dot(a: Rows, b: Rows) -> np.ndarray:
    """a @ b.T as a dense array, for dense or sparse rows."""
    out: Any = a @ b.T
    return np.asarray(out.toarray() if sparse.issparse(out) else out)


def _near(d: Rows, members: Rows, weights: np.ndarray, k: int) -> np.ndarray:
    if not members.shape[0]:  # an interest none of whose papers is a positive now (a like undone)
        return np.full(d.shape[0], -np.inf)
    sims = _dot(d, members) * weights[None, :]
    k = min(k, sims.shape[1])
    if k == 1:
        return sims.max(axis=1)
    return np.sort(sims, axis=1)[:, -k:].mean(axis=1)


def _mean_row(rows: Rows) -> np.ndarray:
    """The unit-length mean of some rows, as a dense vector."""
    mean = np.asarray(rows.mean(axis=0), dtype=np.float64).ravel()
    return mean / max(float(np.linalg.norm(mean)), 1e-12)


def _z(values: np.ndarray, scale: tuple[float, float]) -> np.ndarray:
    return (values - scale[0]) / scale[1]


def _scale(values: np.ndarray) -> tuple[float, float]:
    return float(values.mean()), float(max(values.std(), 1e-6))


def recency_weights(ages_days: Sequence[float], half_life: float) -> np.ndarray:
    """1 for the newest paper, halving every `half_life` days older (unknown age: 1)."""
    ages = np.asarray(ages_days, dtype=float)
    if half_life <= 0 or not len(ages):
        return np.ones(len(ages))
    return np.power(0.5, np.clip(ages, 0, None) / half_life)


@dataclass
class TrainingSet:
    """Rows for one profile, already taken from the library's features."""

    pos_lex: sparse.csr_matrix
    pos_weights: np.ndarray  # recency weights of the positives
    neg_lex: sparse.csr_matrix  # sampled library negatives
    rej_lex: sparse.csr_matrix  # explicit negatives
    ref_lex: sparse.csr_matrix  # reference papers (for the scales)
    pos_dense: Rows | None = None  # TF-IDF rows stand in when the library has no embeddings
    pos_groups: np.ndarray | None = None  # each positive's interest (index)
    rej_dense: Rows | None = None
    ref_dense: Rows | None = None


def fit(data: TrainingSet, cfg: LearnerConfig = LearnerConfig()) -> Model:
    coef, intercept = _fit_svm(data, cfg)
    interests, weights = _interests(data)
    rejected = data.rej_dense if data.rej_dense is not None and data.rej_dense.shape[0] else None
    model = Model(coef, intercept, interests, weights, rejected, cfg)
    if rejected is not None and interests and cfg.interest_penalty:
        hits = np.bincount(model.dense(rejected, rejected.shape[0])[1], minlength=len(interests))
        model.penalty = cfg.interest_penalty * hits / (hits + 2.0)
    model.lex_scale = _scale(model.lexical(data.ref_lex)) if data.ref_lex.shape[0] else (0.0, 1.0)
    if cfg.interest_svm:
        model.interest_lex = _interest_svms(data, cfg)
    if data.pos_lex.shape[0] and data.ref_lex.shape[0]:
        _fit_extra(model, data)
    if interests and data.ref_dense is not None and data.ref_dense.shape[0]:
        model.dense_scale = _scale(model.dense(data.ref_dense, data.ref_dense.shape[0])[0])
    if data.ref_lex.shape[0]:
        model.reference = np.sort(model.evidence(data.ref_lex, data.ref_dense).score)
        if cfg.prf_top > 0:
            model.ref_rows = (data.ref_lex, data.ref_dense)
    return model


def _fit_extra(model: Model, data: TrainingSet) -> None:
    """The third evidences cfg switches on, each with its scale on the reference papers."""
    cfg, ref = model.cfg, data.ref_lex
    if cfg.centroid_weight:
        mean = np.asarray(data.pos_lex.T @ data.pos_weights).ravel()
        model.centroid = (mean / max(float(np.linalg.norm(mean)), 1e-12)).astype(np.float32)
        model.centroid_scale = _scale(np.asarray(ref @ model.centroid).ravel())
    if cfg.lexical_knn_weight:
        n = data.pos_lex.shape[0]
        groups = data.pos_groups if data.pos_groups is not None else np.zeros(n, dtype=int)
        for g in np.unique(groups):
            take = np.flatnonzero(groups == g)
            model.lex_interests.append((data.pos_lex[take], data.pos_weights[take]))
        model.lex_knn_scale = _scale(model.lexical_knn(ref))
    if cfg.words_weight:
        used = (data.pos_lex > 0).astype(np.float32)
        model.words = np.asarray(used.T @ data.pos_weights).ravel().astype(np.float32)
        model.words_scale = _scale(np.asarray(ref @ model.words).ravel())


def _fit_svm(data: TrainingSet, cfg: LearnerConfig) -> tuple[np.ndarray, float]:
    return _svm(data.pos_lex, data.pos_weights, data.neg_lex, data.rej_lex, cfg)


def _interest_svms(
    data: TrainingSet, cfg: LearnerConfig
) -> list[tuple[np.ndarray, float, tuple[float, float]]]:
    """One lexical SVM per interest (its papers against the same negatives), when there are 2+."""
    groups = data.pos_groups
    if groups is None or len(np.unique(groups)) < 2 or not data.ref_lex.shape[0]:
        return []
    out = []
    for g in np.unique(groups):
        take = np.flatnonzero(groups == g)
        coef, b = _svm(data.pos_lex[take], data.pos_weights[take], data.neg_lex, data.rej_lex, cfg)
        out.append((coef, b, _scale(np.asarray(data.ref_lex @ coef).ravel() + b)))
    return out


def _svm(
    pos: sparse.csr_matrix,
    weights: np.ndarray,
    neg: sparse.csr_matrix,
    rej: sparse.csr_matrix,
    cfg: LearnerConfig,
) -> tuple[np.ndarray, float]:
    n_pos, n_neg, n_rej = pos.shape[0], neg.shape[0], rej.shape[0]
    width = pos.shape[1]
    if n_pos == 0 or width == 0 or n_neg + n_rej == 0:
        centroid = np.asarray(pos.mean(axis=0)).ravel() if n_pos else np.zeros(width)
        return centroid.astype(np.float32), 0.0
    x = sparse.vstack([pos, neg, rej], format="csr")
    y = np.r_[np.ones(n_pos), np.zeros(n_neg + n_rej)]
    # balanced classes: the positives together weigh as much as the negatives together
    pos_w = weights / weights.sum() * (n_neg + n_rej * cfg.reject_weight_svm)
    w = np.r_[pos_w, np.ones(n_neg), np.full(n_rej, cfg.reject_weight_svm)]
    clf = LinearSVC(C=cfg.C, tol=1e-4, max_iter=5000, random_state=0, dual=True)  # 10x faster here
    clf.fit(x, y, sample_weight=w / w.mean())
    return clf.coef_.ravel().astype(np.float32), float(clf.intercept_[0])


def _interests(data: TrainingSet) -> tuple[list[Rows], list[np.ndarray]]:
    if data.pos_dense is None or not data.pos_dense.shape[0]:
        return [], []
    n = data.pos_dense.shape[0]
    groups = data.pos_groups if data.pos_groups is not None else np.zeros(n, dtype=int)
    ok = _dot(data.pos_dense, data.pos_dense).diagonal() > 0
    if not ok.any():
        return [], []
    out, weights = [], []
    for g in range(int(groups.max()) + 1):  # an empty group stays, so indices match the names
        take = (groups == g) & ok
        out.append(data.pos_dense[take])
        weights.append(data.pos_weights[take])
    return out, weights


def driving_terms(model: Model, row: sparse.csr_matrix, names: np.ndarray, k: int = 5) -> list[str]:
    """The words of one paper that raised its lexical score most (weight x value)."""
    row = row.tocsr()
    idx = row.indices
    if not len(idx):
        return []
    contrib = model.coef[idx] * row.data
    order = np.argsort(-contrib, kind="stable")
    return [str(names[idx[i]]) for i in order[:k] if contrib[i] > 0]


def nearest(row: np.ndarray, refs: np.ndarray, k: int = 2) -> list[tuple[int, float]]:
    """The k reference rows most cosine-similar to one row, as (reference index, cosine)."""
    if refs.shape[0] == 0:
        return []
    sims = normalize(refs) @ row
    order = np.argsort(-sims, kind="stable")[:k]
    return [(int(i), float(sims[i])) for i in order]
