"""The space topics are clustered in: each paper's embedding joined with a lexical view of its words.
Pure (numpy, scikit-learn).

An embedding alone groups papers partly by how they are written (the static fast tier averages word
vectors, so abstracts full of numbers drift together); words alone miss paraphrase. A paper's
lexical view is its TF-IDF row over single words (`lexical_rows`) reduced by a truncated SVD (latent
semantic analysis) to `LSA_DIMS` dimensions and L2-normalised. The joint row is the unit embedding
scaled by sqrt(weight) next to the unit LSA row scaled by sqrt(1 - weight): a unit vector whose dot
products are `weight * embedding cosine + (1 - weight) * lexical cosine`, so spherical k-means runs
on it unchanged. The settings (weight 0.8, 128 dimensions, these words; 0.3 for the broad level's
clustering of the papers) were chosen on a dev half of the 118k arXiv corpus (bench/topics_dev.py,
docs/evaluation.md).
"""

from __future__ import annotations

import numpy as np
from scipy import sparse

from ..stopwords import ENGLISH

LSA_DIMS = 128
EMBED_WEIGHT = 0.8
BROAD_EMBED_WEIGHT = 0.3  # the broad level's k-means of the papers leans on the words (topics/cluster.py)
FIT_ROWS = 40_000  # the SVD is fitted on at most this many rows (a fixed sample), then applied to all
SEED = 0


def lsa_rows(lexical: sparse.csr_matrix, dims: int = LSA_DIMS, seed: int = SEED) -> np.ndarray | None:
    """Unit rows of a truncated SVD of the TF-IDF rows, or None when there are too few terms or
    papers for one. Deterministic: a fixed fitting sample and a seeded randomized SVD."""
    from sklearn.decomposition import TruncatedSVD

    n, terms = lexical.shape
    dims = min(dims, terms - 1, n - 1)
    if dims < 2:
        return None
    rng = np.random.default_rng(seed)
    fit_on = lexical if n <= FIT_ROWS else lexical[np.sort(rng.choice(n, FIT_ROWS, replace=False))]
    svd = TruncatedSVD(n_components=dims, algorithm="randomized", n_iter=5, random_state=seed)
    svd.fit(fit_on)
    return unit_rows(np.asarray(svd.transform(lexical), dtype=np.float32))


def lexical_rows(texts: list[str], dims: int = LSA_DIMS, seed: int = SEED) -> np.ndarray | None:
    """Unit LSA rows of the papers' TF-IDF: single words (English stop words out) used by at least
    5 papers and at most half of them, sublinear tf. None when the texts have too few words.
    (rank/features.py's rows leave out words used by more than 10% of papers, and with them the
    words that tell fields apart, such as "image" or "language": they cluster worse.)"""
    from sklearn.feature_extraction.text import TfidfVectorizer

    n = len(texts)
    vec = TfidfVectorizer(
        stop_words=sorted(ENGLISH),
        min_df=5 if n >= 5000 else (2 if n >= 50 else 1),
        max_df=0.5 if n >= 50 else 1.0,
        sublinear_tf=True,
        dtype=np.float32,
    )
    try:
        x = vec.fit_transform(texts)
    except ValueError:  # no word left
        return None
    return lsa_rows(x.tocsr(), dims, seed)


def joint_rows(
    vectors: np.ndarray, lexical_rows: np.ndarray | None, weight: float = EMBED_WEIGHT
) -> np.ndarray:
    """The rows clustering runs on: the unit embedding and the unit lexical row, weighted (module
    docstring). Without a lexical view, the unit embeddings themselves."""
    dense = unit_rows(np.asarray(vectors, dtype=np.float32))
    if lexical_rows is None or weight >= 1.0:
        return dense
    if len(lexical_rows) != len(dense):
        raise ValueError(f"{len(lexical_rows)} lexical rows for {len(dense)} vectors")
    parts = [np.sqrt(weight) * dense, np.sqrt(1.0 - weight) * unit_rows(lexical_rows)]
    return unit_rows(np.hstack(parts).astype(np.float32))


def member_centroids(vectors: np.ndarray, labels: np.ndarray, k: int) -> np.ndarray:
    """Unit mean of each cluster's vectors (k x dim): a topic's centroid in the embedding space,
    where later papers are assigned and the map is laid out."""
    onehot = sparse.csr_matrix(
        (np.ones(len(labels), dtype=np.float32), (labels, np.arange(len(labels)))), shape=(k, len(labels))
    )
    return unit_rows(np.asarray(onehot @ vectors, dtype=np.float32))


def unit_rows(m: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(m, axis=1, keepdims=True)
    return (m / np.maximum(norms, 1e-12)).astype(np.float32)
