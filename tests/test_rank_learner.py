"""The per-profile learner's scoring over plain arrays: interests kept apart (an interest left
without positives keeps the others' names in place) and the per-interest lexical models."""

from __future__ import annotations

import numpy as np
from scipy import sparse

from paperradar.rank import learner


def test_an_interest_left_without_positives_keeps_the_other_interests_names_in_place():
    rows = np.eye(3, dtype=np.float32)
    data = learner.TrainingSet(
        pos_lex=sparse.csr_matrix(rows[[0, 2]]),
        pos_weights=np.ones(2),
        neg_lex=sparse.csr_matrix(rows[[1]]),
        rej_lex=sparse.csr_matrix((0, 3), dtype=np.float32),
        ref_lex=sparse.csr_matrix(rows),
        pos_dense=rows[[0, 2]],
        pos_groups=np.array([0, 2]),  # interest 1's papers are no longer positives
        ref_dense=rows,
    )
    model = learner.fit(data)
    ev = model.evidence(sparse.csr_matrix(rows[[2, 0]]), rows[[2, 0]])
    assert ev.interest.tolist() == [2, 0]


def test_per_interest_lexical_models_lift_a_small_interests_papers():
    """The per-interest SVMs (a setting tried on dev authors, off by default): a paper on the
    profile's small interest scores higher lexically than under the one profile-wide SVM."""
    rng = np.random.default_rng(0)
    big, small, other = (rng.random((n, 30)) * (rng.random((n, 30)) < 0.3) for n in (12, 3, 200))
    big[:, :10] += 1.0  # the big interest's words
    small[:, 10:20] += 1.0  # the small one's
    rows = [sparse.csr_matrix(m.astype(np.float32)) for m in (big, small, other)]
    data = learner.TrainingSet(
        pos_lex=sparse.vstack(rows[:2], format="csr"),
        pos_weights=np.ones(15),
        neg_lex=rows[2][:150],
        rej_lex=sparse.csr_matrix((0, 30), dtype=np.float32),
        ref_lex=rows[2][150:],
        pos_groups=np.r_[np.zeros(12, dtype=int), np.ones(3, dtype=int)],
    )
    probe = np.zeros((1, 30), dtype=np.float32)
    probe[0, 10:20] = 1.0
    one = learner.fit(data).lexical_z(sparse.csr_matrix(probe))
    per = learner.fit(data, learner.LearnerConfig(interest_svm="max")).lexical_z(sparse.csr_matrix(probe))
    assert per[0] > one[0]


def test_the_centroid_evidence_adds_the_cosine_to_the_profiles_mean_row():
    """`centroid_weight` (a setting tried on dev authors, off by default): a paper that reads like
    the profile's average paper gains; one that reads like none of it does not."""
    rng = np.random.default_rng(1)
    pos = rng.random((6, 20)) * (rng.random((6, 20)) < 0.4)
    pos[:, :5] += 1.0
    neg = rng.random((120, 20)) * (rng.random((120, 20)) < 0.4)
    data = learner.TrainingSet(
        pos_lex=sparse.csr_matrix(pos.astype(np.float32)),
        pos_weights=np.ones(6),
        neg_lex=sparse.csr_matrix(neg[:80].astype(np.float32)),
        rej_lex=sparse.csr_matrix((0, 20), dtype=np.float32),
        ref_lex=sparse.csr_matrix(neg[80:].astype(np.float32)),
    )
    probes = sparse.csr_matrix(np.vstack([pos.mean(axis=0), np.r_[np.zeros(19), 1.0]]).astype(np.float32))
    plain = learner.fit(data).evidence(probes, None).score
    more = learner.fit(data, learner.LearnerConfig(centroid_weight=1.0)).evidence(probes, None).score
    assert more[0] - plain[0] > more[1] - plain[1]


def _two_topics(seed: int) -> tuple[learner.TrainingSet, np.ndarray]:
    """A profile of 8 papers on words 0-4 and 2 on words 5-9, library papers on all 20 words."""
    rng = np.random.default_rng(seed)
    pos = rng.random((10, 20)) * (rng.random((10, 20)) < 0.3)
    pos[:8, :5] += 1.0
    pos[8:, 5:10] += 1.0
    neg = rng.random((160, 20)) * (rng.random((160, 20)) < 0.3)
    data = learner.TrainingSet(
        pos_lex=sparse.csr_matrix(pos.astype(np.float32)),
        pos_weights=np.ones(10),
        neg_lex=sparse.csr_matrix(neg[:100].astype(np.float32)),
        rej_lex=sparse.csr_matrix((0, 20), dtype=np.float32),
        ref_lex=sparse.csr_matrix(neg[100:].astype(np.float32)),
        pos_groups=np.r_[np.zeros(8, dtype=int), np.ones(2, dtype=int)],
    )
    return data, pos


def test_the_lexical_nearest_paper_evidence_lifts_a_paper_like_one_of_the_small_interests():
    """`lexical_knn_weight` (tried on dev authors, off by default): a paper that reads like the
    small interest's papers gains more than one of words the profile never uses."""
    data, pos = _two_topics(2)
    probes = sparse.csr_matrix(np.vstack([pos[8:].mean(axis=0), np.r_[np.zeros(19), 1.0]]).astype(np.float32))
    plain = learner.fit(data).evidence(probes, None).score
    cfg = learner.LearnerConfig(lexical_knn_weight=1.0)
    more = learner.fit(data, cfg).evidence(probes, None).score
    assert more[0] - plain[0] > 1.0 > more[1] - plain[1]


def test_the_profile_words_evidence_weighs_a_word_by_the_profile_papers_using_it():
    """`words_weight` (tried on dev authors, off by default): a word used by 8 profile papers
    counts more than one used by 2, so a paper of the first kind gains more."""
    data, _ = _two_topics(3)
    probes = np.zeros((2, 20), dtype=np.float32)
    probes[0, 0], probes[1, 5] = 1.0, 1.0
    model = learner.fit(data, learner.LearnerConfig(words_weight=1.0))
    words = model.extra(sparse.csr_matrix(probes))[0][1]
    assert words[0] > words[1]


def test_reciprocal_rank_fusion_puts_what_one_evidence_is_sure_of_above_what_both_half_like():
    """`rrf` (tried on dev authors, off by default): adding z-scores prefers a paper both
    evidences put 2.5 deviations up (5 in all) to one the lexical evidence puts 4 up and the
    dense one nowhere; reciprocal-rank fusion, where a rank of 30 in 1M weighs far more than
    one of 6,000, turns the order round. Deterministic: the model is given, not fitted."""
    x = sparse.csr_matrix(np.array([[4.0, 0.0], [2.5, 0.0]], dtype=np.float32))
    d = np.array([[1.0, 0.0], [0.6, 0.8]], dtype=np.float32)  # cosines 0 and 0.8 to the interest

    def model(cfg: learner.LearnerConfig) -> learner.Model:
        m = learner.Model(
            np.array([1.0, 0.0], dtype=np.float32),
            0.0,
            [np.array([[0.0, 1.0]], dtype=np.float32)],
            [np.ones(1)],
            None,
            cfg,
        )
        m.dense_scale = (0.0, 0.32)
        return m

    added = model(learner.LearnerConfig(knn=1, dense_weight=1.0)).evidence(x, d).score  # equal weights
    fused = model(learner.LearnerConfig(knn=1, dense_weight=1.0, rrf=0.002)).evidence(x, d).score
    assert added[1] > added[0]
    assert fused[0] > fused[1]
