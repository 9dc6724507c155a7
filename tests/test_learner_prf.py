"""Pseudo-relevance feedback over the pool being ranked (`LearnerConfig.prf_top`, a setting tried
on dev authors): the pool's best candidates pull up the papers that read like them."""

from __future__ import annotations

import numpy as np
from scipy import sparse

from paperradar.rank import learner


def _library(seed: int) -> tuple[learner.TrainingSet, sparse.csr_matrix, np.ndarray]:
    """A profile on words 0-4; a pool whose best papers join words 0-4 with a new topic, words
    10-14 (the author's later direction); then one paper on the new topic alone (row -2) and one
    on an unrelated topic, words 15-19 (row -1), neither sharing a word with the profile."""
    rng = np.random.default_rng(seed)

    def noise(n: int) -> np.ndarray:
        return rng.random((n, 20)) * (rng.random((n, 20)) < 0.2) * 0.3

    pos = noise(8)
    pos[:, :5] += 1.0
    lib = noise(300)
    best = noise(6)
    best[:, :5] += 1.0
    best[:, 10:15] += 1.0
    new, unrelated = np.zeros((1, 20)), np.zeros((1, 20))
    new[0, 10:15] = 1.0
    unrelated[0, 15:20] = 1.0
    pool = np.vstack([noise(100), best, new, unrelated])
    rows = [sparse.csr_matrix(_unit(m).astype(np.float32)) for m in (pos, lib, pool)]
    data = learner.TrainingSet(
        pos_lex=rows[0],
        pos_weights=np.ones(8),
        neg_lex=rows[1][:200],
        rej_lex=sparse.csr_matrix((0, 20), dtype=np.float32),
        ref_lex=rows[1][200:],
        pos_dense=rows[0].toarray(),
        ref_dense=rows[1][200:].toarray(),
    )
    return data, rows[2], rows[2].toarray()


def _unit(m: np.ndarray) -> np.ndarray:
    return m / np.maximum(np.linalg.norm(m, axis=1, keepdims=True), 1e-12)


def test_feedback_lifts_the_paper_that_reads_like_the_pools_best_above_an_unrelated_one():
    data, x, d = _library(0)
    plain = learner.fit(data).rank_pool(x, d).score
    cfg = learner.LearnerConfig(prf_top=6, prf_dense_weight=1.0, prf_lexical_weight=1.0)
    fed = learner.fit(data, cfg).rank_pool(x, d).score
    # without feedback the two share no word with the profile and score about alike
    assert abs(plain[-2] - plain[-1]) < 0.5
    assert fed[-2] - fed[-1] > 1.0
    # it moves up the ranking of the pool, past papers it was below
    assert (fed > fed[-2]).sum() < (plain > plain[-2]).sum()


def test_each_kind_of_rows_alone_lifts_it_too():
    data, x, d = _library(1)
    plain = learner.fit(data).rank_pool(x, d).score
    for weights in ({"prf_dense_weight": 1.0}, {"prf_lexical_weight": 1.0}):
        fed = learner.fit(data, learner.LearnerConfig(prf_top=6, **weights)).rank_pool(x, d).score
        assert fed[-2] - fed[-1] > plain[-2] - plain[-1] + 1.0, weights


def test_without_feedback_the_pools_scores_are_the_candidates_own():
    data, x, d = _library(2)
    model = learner.fit(data)
    assert np.array_equal(model.rank_pool(x, d).score, model.evidence(x, d).score)
    cfg = learner.LearnerConfig(prf_top=6, prf_dense_weight=1.0)
    fed = learner.fit(data, cfg)
    # the same pool gives the same scores on every call (no randomness, no state kept)
    assert np.array_equal(fed.rank_pool(x, d).score, fed.rank_pool(x, d).score)
    assert not np.array_equal(fed.rank_pool(x, d).score, fed.evidence(x, d).score)
