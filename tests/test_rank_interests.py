"""Clustering a profile's papers into interests (rank/interests.py): a profile without vectors is
clustered on its sparse word rows (fast), which must split it exactly as the dense rows would.
Pure (no I/O)."""

from __future__ import annotations

import numpy as np

from paperradar.rank import interests


def planted(n_per: int, groups: int, dims: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Sparse-ish non-negative rows (like TF-IDF) drawn around `groups` topics of their own words."""
    rng = np.random.default_rng(seed)
    topics = rng.random((groups, dims)) * (rng.random((groups, dims)) < 0.02)
    truth = np.repeat(np.arange(groups), n_per)
    noise = rng.random((len(truth), dims)) * (rng.random((len(truth), dims)) < 0.01)
    return interests.normalize(topics[truth] * 3 + noise), truth


def test_sparse_word_rows_split_as_the_dense_ones():
    from scipy import sparse

    x, truth = planted(n_per=20, groups=3, dims=3000, seed=2)
    dense = interests.cluster_rows(x)
    assert np.array_equal(interests.cluster_rows(sparse.csr_matrix(x)), dense)
    assert all(len(set(dense[truth == g])) == 1 for g in range(3))
