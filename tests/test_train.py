"""The fast tier's training recipe (embed/train.py): SIF weighting of the token rows, pure functions
over real arrays. The teacher-driven training itself is tested in test_embed.py."""

from __future__ import annotations

import numpy as np
import pytest

from paperradar.embed.train import SIF_A, sif_weights, token_shares, weight_rows

THE, OF, RARE1, RARE2 = 0, 1, 2, 3


def test_sif_weights_favour_rare_tokens_and_keep_unseen_ones_whole():
    counts = np.array([700.0, 299.0, 1.0, 0.0])
    weights = sif_weights(counts, a=1e-3)
    assert weights == pytest.approx([1e-3 / (1e-3 + 0.7), 1e-3 / (1e-3 + 0.299), 1e-3 / (1e-3 + 0.001), 1.0])
    assert weights[0] < weights[1] < weights[2] < weights[3] == 1.0


def test_no_counts_leave_the_table_as_it_was():
    table = np.random.default_rng(0).normal(size=(6, 4)).astype(np.float32)
    assert np.array_equal(weight_rows(table, np.zeros(6)), table)  # an untrained tier is unchanged
    assert weight_rows(table, np.zeros(6)).dtype == np.float32


def test_a_shared_rare_word_counts_more_than_shared_function_words():
    """Unweighted, two texts that share only 'the' look alike and two that share a rare term do not;
    with the rows weighted the order flips, as a reader would rank them."""
    table = np.eye(5, dtype=np.float32)  # one direction per token
    counts = np.array([30_000.0, 30_000.0, 1.0, 1.0, 0.0])
    texts = [[THE, THE, THE, RARE1], [THE, THE, THE, RARE2], [OF, OF, OF, RARE1]]
    shares = token_shares(texts, 5)

    def cosines(t: np.ndarray) -> tuple[float, float]:
        v = np.asarray(shares @ t)
        v /= np.linalg.norm(v, axis=1, keepdims=True)
        return float(v[0] @ v[1]), float(v[0] @ v[2])

    only_the, rare = cosines(table)
    assert only_the > 0.85 and rare < 0.15
    only_the, rare = cosines(weight_rows(table, counts))
    assert rare > 0.95 and only_the < 0.05
    assert SIF_A == 3e-3  # chosen on held-out arXiv papers (docs/evaluation.md, "The trained fast tier")
