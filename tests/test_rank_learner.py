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
