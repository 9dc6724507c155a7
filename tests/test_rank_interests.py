"""Clustering a profile's papers into interests (rank/interests.py): the short cut that clusters
wide rows (papers x the words they use) in the coordinates of their own span must split them exactly
as clustering the rows themselves does. Pure (no I/O)."""

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


def test_wide_rows_split_the_same_in_their_span_and_fast(monkeypatch):
    x, truth = planted(n_per=20, groups=3, dims=3000)
    fast = interests.cluster_rows(x)
    monkeypatch.setattr(interests, "span_coordinates", lambda a: a)  # cluster the rows themselves
    slow = interests.cluster_rows(x)
    assert np.array_equal(fast, slow)
    assert len(set(fast)) == 3  # the three planted interests are found
    assert all(len(set(fast[truth == g])) == 1 for g in range(3))


def test_span_coordinates_keep_every_distance():
    x, _ = planted(n_per=10, groups=2, dims=500, seed=1)
    y = interests.span_coordinates(x)
    assert y.shape[1] <= x.shape[0]
    assert np.allclose(x @ x.T, y @ y.T, atol=1e-8)


def test_sparse_word_rows_split_as_the_dense_ones():
    from scipy import sparse

    x, truth = planted(n_per=20, groups=3, dims=3000, seed=2)
    dense = interests.cluster_rows(x)
    assert np.array_equal(interests.cluster_rows(sparse.csr_matrix(x)), dense)
    assert all(len(set(dense[truth == g])) == 1 for g in range(3))
