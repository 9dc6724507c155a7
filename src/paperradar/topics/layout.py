"""The 2-D map: topics laid out by t-SNE of their centroids, papers placed around them. Pure (numpy).

Why not UMAP over all papers: measured in docs/benchmarks.md (too slow for a 5-minute build of
118k papers on 2 cores, and a new paper would move the map). Instead:
1. the fine-topic centroids (at most a few hundred) get 2-D positions by t-SNE (cosine), so
   related topics sit together;
2. a paper sits at the similarity-weighted mean of its 3 nearest topics' positions (a paper
   between two topics lands between them), plus an offset along its own topic's two main
   directions of variation (each topic's cloud shows its inner structure), scaled to a share
   of the distance to the nearest other topic.
Placing a paper needs only the stored centroids, positions and axes, so imported papers are
placed without moving anyone else.
"""

from __future__ import annotations

import numpy as np

NEAREST = 3
TEMPERATURE = (
    0.005  # softmax over cosine: 0.005 apart is a factor e (measured: 10-NN kept 0.133 vs 0.086 at 0.03)
)
SPREAD = 0.35  # a cloud's radius as a share of the distance to the nearest other topic


def topic_positions(centroids: np.ndarray) -> np.ndarray:
    """2-D positions of topic centroids, scaled into [-1, 1]."""
    k = len(centroids)
    if k == 1:
        return np.zeros((1, 2), dtype=np.float32)
    if k < 6:
        pos = _pca2(centroids)
    else:
        from sklearn.manifold import TSNE

        tsne = TSNE(
            n_components=2,
            perplexity=max(2.0, min(30.0, (k - 1) / 3)),
            metric="cosine",
            init="pca",
            max_iter=500,
            random_state=0,
        )
        pos = tsne.fit_transform(centroids.astype(np.float64))
    pos = pos - pos.mean(axis=0)
    return (pos / max(float(np.abs(pos).max()), 1e-9)).astype(np.float32)


def _pca2(m: np.ndarray) -> np.ndarray:
    centred = m - m.mean(axis=0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    out = centred @ vt[:2].T
    return np.pad(out, ((0, 0), (0, 2 - out.shape[1])))


def topic_axes(vectors: np.ndarray, labels: np.ndarray, centroids: np.ndarray) -> np.ndarray:
    """Per topic, its 2 main directions of variation, scaled so 2.5 standard deviations reach 1
    (shape k x 2 x dim)."""
    from threadpoolctl import threadpool_limits

    k, dim = centroids.shape
    axes = np.zeros((k, 2, dim), dtype=np.float32)
    order = np.argsort(labels, kind="stable")
    bounds = np.searchsorted(labels[order], np.arange(k + 1))
    with threadpool_limits(1):  # many small eigenproblems: threads only fight each other (measured 15x)
        for c in range(k):
            members = vectors[order[bounds[c] : bounds[c + 1]]]
            if len(members) < 3:
                continue
            resid = members - centroids[c]
            values, vecs = np.linalg.eigh(resid.T @ resid / len(members))
            std = np.sqrt(np.maximum(values[::-1][:2], 0))
            axes[c] = vecs[:, ::-1][:, :2].T / np.maximum(2.5 * std, 1e-6)[:, None]
    return axes


def place(
    vectors: np.ndarray, centroids: np.ndarray, positions: np.ndarray, axes: np.ndarray, batch: int = 8192
) -> np.ndarray:
    """Map positions (n x 2) of papers given the stored topic geometry."""
    radius = SPREAD * _nearest_distance(positions)
    out = np.empty((len(vectors), 2), dtype=np.float32)
    for i in range(0, len(vectors), batch):
        v = vectors[i : i + batch]
        sims = v @ centroids.T
        out[i : i + batch] = _mix(sims, positions) + _offset(v, sims.argmax(axis=1), centroids, axes, radius)
    return out


def _mix(sims: np.ndarray, positions: np.ndarray) -> np.ndarray:
    m = min(NEAREST, sims.shape[1])
    top = np.argpartition(-sims, m - 1, axis=1)[:, :m]
    s = np.take_along_axis(sims, top, axis=1)
    w = np.exp((s - s.max(axis=1, keepdims=True)) / TEMPERATURE)
    w /= w.sum(axis=1, keepdims=True)
    return np.einsum("nm,nmd->nd", w, positions[top])


def _offset(
    v: np.ndarray, own: np.ndarray, centroids: np.ndarray, axes: np.ndarray, radius: np.ndarray
) -> np.ndarray:
    resid = v - centroids[own]
    local = np.einsum("nd,nkd->nk", resid, axes[own])
    norm = np.linalg.norm(local, axis=1, keepdims=True)
    local = local * (np.tanh(norm) / np.maximum(norm, 1e-9))  # squash: a cloud never leaves its radius
    return local * radius[own][:, None]


def _nearest_distance(positions: np.ndarray) -> np.ndarray:
    if len(positions) < 2:
        return np.full(len(positions), 0.5, dtype=np.float32)
    d = np.linalg.norm(positions[:, None, :] - positions[None, :, :], axis=2)
    np.fill_diagonal(d, np.inf)
    return d.min(axis=1).astype(np.float32)
