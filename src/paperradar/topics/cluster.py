"""Two-level clustering of paper vectors, and keeping topic ids stable across rebuilds. Pure (numpy).

Fine topics: spherical k-means (k-means++ seeds, fixed seed) on the L2-normalised vectors, so
clusters are cones of similar direction. Broad topics (`broad_by_papers`): a second, coarse
spherical k-means of the papers, each fine topic put under the group most of its papers fall in.
Ids: a rebuild's clusters are matched to the previous topics by member overlap (Jaccard) with the
Hungarian method; a match above `MIN_JACCARD` keeps the old id, the rest get new ids.
"""

from __future__ import annotations

import math

import numpy as np

MIN_JACCARD = 0.2
SEED = 0
SEED_SAMPLE = 4000


def default_sizes(n: int) -> tuple[int, int]:
    """(fine, broad) topic counts for n papers: ~0.6 sqrt(n) fine (at most 200), ~1.5 sqrt(fine) broad."""
    fine = max(2, min(200, round(0.6 * math.sqrt(n)), n))
    broad = max(1, min(fine, round(1.5 * math.sqrt(fine))))
    return fine, broad


def fine_clusters(vectors: np.ndarray, k: int, iterations: int = 25) -> tuple[np.ndarray, np.ndarray]:
    """(labels, centroids): spherical k-means (k-means++ seeds from a sample, then Lloyd steps on all
    vectors with re-normalised centroids). Empty clusters are dropped, so there may be fewer than k."""
    from scipy import sparse
    from sklearn.cluster import kmeans_plusplus

    n = len(vectors)
    k = max(1, min(k, n))
    rng = np.random.default_rng(SEED)
    sample = vectors[rng.choice(n, min(n, max(SEED_SAMPLE, 3 * k)), replace=False)]
    centroids, _ = kmeans_plusplus(sample, k, random_state=SEED)
    labels = np.full(n, -1, dtype=np.int64)
    for _ in range(iterations):
        new, _ = assign(vectors, centroids)
        if np.array_equal(new, labels):
            break
        labels = new
        onehot = sparse.csr_matrix((np.ones(n, dtype=np.float32), (labels, np.arange(n))), shape=(k, n))
        sums = np.asarray(onehot @ vectors)
        empty = np.asarray(~sums.any(axis=1)).reshape(-1, 1)
        centroids = np.where(empty, centroids, normalize(sums)).astype(np.float32)
    return _drop_small(vectors, labels, centroids, max(2, n // (20 * k)))


def _drop_small(
    vectors: np.ndarray, labels: np.ndarray, centroids: np.ndarray, min_size: int
) -> tuple[np.ndarray, np.ndarray]:
    """Clusters under `min_size` (outliers, near-duplicates) are dissolved into their nearest neighbours."""
    sizes = np.bincount(labels, minlength=len(centroids))
    used = np.flatnonzero(sizes >= min_size)
    if len(used) == 0:
        used = np.array([int(sizes.argmax())])
    kept = centroids[used]
    small = ~np.isin(labels, used)
    remap = np.full(len(centroids), -1, dtype=np.int64)
    remap[used] = np.arange(len(used))
    out = remap[labels]
    if small.any():
        out[small], _ = assign(vectors[small], kept)
    return out, kept


def broad_by_papers(rows: np.ndarray, fine_of: np.ndarray, n_fine: int, k: int) -> np.ndarray:
    """The broad topic of each of `n_fine` fine topics: spherical k-means of the papers' `rows` into
    `k` groups, each fine topic under the group most of its papers fell in. Groups no fine topic
    chose are dropped and the rest numbered from 0, so there may be fewer than k. (Ward on the fine
    centroids, `broad_clusters`, mixed fields more often and moved with the fine topics' seed:
    bench/topics_dev.py, docs/evaluation.md.)"""
    if k <= 1 or n_fine <= 1:
        return np.zeros(n_fine, dtype=np.int64)
    if k >= n_fine:
        return np.arange(n_fine, dtype=np.int64)
    groups, _ = fine_clusters(rows, k)
    counts = np.zeros((n_fine, int(groups.max()) + 1), dtype=np.int64)
    np.add.at(counts, (fine_of, groups), 1)
    _, broad_of = np.unique(counts.argmax(axis=1), return_inverse=True)
    return broad_of.astype(np.int64)


def broad_clusters(centroids: np.ndarray, k: int) -> np.ndarray:
    """The broad cluster of each fine centroid by Ward agglomeration of the centroids (the broad
    level until 2026-12-03; bench/topics_dev.py still compares against it)."""
    n = len(centroids)
    if k <= 1 or n <= 1:
        return np.zeros(n, dtype=np.int64)
    if k >= n:
        return np.arange(n, dtype=np.int64)
    from sklearn.cluster import AgglomerativeClustering

    return AgglomerativeClustering(n_clusters=k, linkage="ward").fit_predict(centroids).astype(np.int64)


def normalize(m: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(m, axis=1, keepdims=True)
    return m / np.maximum(norms, 1e-12)


def assign(vectors: np.ndarray, centroids: np.ndarray, batch: int = 8192) -> tuple[np.ndarray, np.ndarray]:
    """(nearest centroid index, cosine to it) for each vector."""
    labels = np.empty(len(vectors), dtype=np.int64)
    scores = np.empty(len(vectors), dtype=np.float32)
    for i in range(0, len(vectors), batch):
        sims = vectors[i : i + batch] @ centroids.T
        labels[i : i + batch] = sims.argmax(axis=1)
        scores[i : i + batch] = sims[np.arange(len(sims)), labels[i : i + batch]]
    return labels, scores


def match_ids(
    old: dict[int, set[int]], new: list[set[int]], next_id: int, min_jaccard: float = MIN_JACCARD
) -> tuple[list[int], int]:
    """Ids for the `new` member sets: the id of the old topic they best overlap (one-to-one,
    maximising total Jaccard), or a fresh id from `next_id` on. Returns (ids, next free id)."""
    old_ids = list(old)
    jac = jaccard_matrix([old[i] for i in old_ids], new) if old_ids and new else np.zeros((0, len(new)))
    return ids_by_overlap(old_ids, jac, next_id, min_jaccard)


def ids_by_overlap(
    old_ids: list[int], jac: np.ndarray, next_id: int, min_jaccard: float = MIN_JACCARD
) -> tuple[list[int], int]:
    """`match_ids` given the Jaccard matrix (old topics x new clusters) instead of the member sets."""
    ids = [-1] * jac.shape[1]
    if jac.size:
        from scipy.optimize import linear_sum_assignment

        rows, cols = linear_sum_assignment(-jac)
        for r, c in zip(rows, cols, strict=True):
            if jac[r, c] >= min_jaccard:
                ids[c] = old_ids[r]
    for j in range(len(ids)):
        if ids[j] < 0:
            ids[j] = next_id
            next_id += 1
    return ids, next_id


def label_jaccard(
    old_pks: np.ndarray, old_labels: np.ndarray, new_pks: np.ndarray, new_labels: np.ndarray, k: int
) -> tuple[list[int], np.ndarray]:
    """(old labels, Jaccard overlap of each old label's papers with each new cluster 0..k-1), from
    two labellings given as arrays (pks unique in each): a contingency count, so millions of papers
    cost a few arrays rather than sets of Python ints."""
    old_ids, old_of = np.unique(old_labels, return_inverse=True)
    _, ia, ib = np.intersect1d(old_pks, new_pks, assume_unique=True, return_indices=True)
    cells = np.bincount(old_of[ia] * k + new_labels[ib], minlength=len(old_ids) * k)
    inter = cells.reshape(len(old_ids), k).astype(np.float64)
    sizes = (
        np.bincount(old_of, minlength=len(old_ids))[:, None] + np.bincount(new_labels, minlength=k)[None, :]
    )
    union = sizes - inter
    return old_ids.tolist(), np.where(union > 0, inter / np.maximum(union, 1), 0.0)


def jaccard_matrix(a: list[set[int]], b: list[set[int]]) -> np.ndarray:
    """Jaccard overlap of every set in `a` with every set in `b` (via a sparse incidence product)."""
    from scipy.sparse import csr_matrix

    universe = {x: i for i, x in enumerate(set().union(*a, *b))}

    def incidence(sets: list[set[int]]) -> csr_matrix:
        rows = np.repeat(np.arange(len(sets)), [len(s) for s in sets])
        cols = np.fromiter((universe[x] for s in sets for x in s), dtype=np.int64, count=len(rows))
        return csr_matrix(
            (np.ones(len(rows), dtype=np.float32), (rows, cols)), shape=(len(sets), len(universe))
        )

    inter = (incidence(a) @ incidence(b).T).toarray()
    sa = np.array([len(s) for s in a], dtype=np.float32)[:, None]
    sb = np.array([len(s) for s in b], dtype=np.float32)[None, :]
    union = sa + sb - inter
    return np.where(union > 0, inter / np.maximum(union, 1), 0.0)
