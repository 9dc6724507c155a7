"""A profile's interests: its papers clustered into a few groups, each named by its keyphrases;
candidates assigned to the interest they are closest to; and result lists spread across
interests so that one busy interest does not crowd out the others. Pure; no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from sklearn.cluster import KMeans
from sklearn.metrics import silhouette_score
from sklearn.preprocessing import normalize

MAX_INTERESTS = 5
MIN_PAPERS_PER_INTEREST = 3
MIN_SILHOUETTE = 0.06  # below this, a split is noise: keep one interest
# words that say nothing about a topic; a keyphrase made only of these is never an interest's name
FILLER = frozenset(
    [
        "address",
        "addresses",
        "challenge",
        "challenges",
        "case",
        "cases",
        "propose",
        "proposed",
        "proposes",
        "present",
        "presents",
        "show",
        "shows",
        "demonstrate",
        "demonstrates",
        "result",
        "results",
        "performance",
        "approach",
        "approaches",
        "method",
        "methods",
        "existing",
        "novel",
        "work",
        "works",
        "paper",
        "papers",
        "framework",
        "frameworks",
        "based",
        "study",
        "studies",
        "new",
        "problem",
        "problems",
        "task",
        "tasks",
        "significantly",
        "significant",
        "state",
        "art",
        "achieve",
        "achieves",
        "effective",
        "effectiveness",
        "efficient",
        "improve",
        "improves",
        "improved",
        "improvement",
        "experiments",
        "experimental",
        "extensive",
        "outperforms",
        "various",
        "different",
        "theoretical",
        "high",
        "low",
        "large",
        "small",
        "key",
        "recent",
        "recently",
        "remains",
        "important",
        "use",
        "using",
        "used",
    ]
)


@dataclass
class Cluster:
    members: list[int]  # row indices of the profile papers
    terms: list[str]  # keyphrases, most telling first

    @property
    def name(self) -> str:
        return ", ".join(self.terms[:3]) or "general"


def cluster_rows(x: np.ndarray | sparse.csr_matrix, max_k: int = MAX_INTERESTS) -> np.ndarray:
    """A label per row: k-means on unit rows, k chosen by silhouette (1 when no split is clear)."""
    n = x.shape[0]
    top = min(max_k, n // MIN_PAPERS_PER_INTEREST)
    labels = np.zeros(n, dtype=int)
    best = MIN_SILHOUETTE
    for k in range(2, top + 1):
        km = KMeans(n_clusters=k, n_init=4, random_state=0).fit(x)
        if min(np.bincount(km.labels_)) < 2:
            continue
        s = silhouette_score(x, km.labels_, metric="cosine")
        if s > best:
            best, labels = s, km.labels_
    return labels


def keyphrases(
    lexical: sparse.csr_matrix, members: Sequence[int], names: np.ndarray, k: int = 5
) -> list[str]:
    """The terms that set these rows apart: their mean TF-IDF minus the other rows' mean; a word
    already inside a chosen phrase is skipped."""
    rows = lexical[list(members)]
    score = np.asarray(rows.mean(axis=0)).ravel()
    rest = [i for i in range(lexical.shape[0]) if i not in set(members)]
    if rest:
        score = score - 0.5 * np.asarray(lexical[rest].mean(axis=0)).ravel()
    chosen: list[str] = []
    for i in np.argsort(-score):
        if score[i] <= 0 or len(chosen) >= k:
            break
        term = str(names[i])
        if all(w in FILLER for w in term.split()) or any(
            term in c.split() or c in term.split() for c in chosen
        ):
            continue
        chosen.append(term)
    return chosen


def build_clusters(
    space: np.ndarray | sparse.csr_matrix, lexical: sparse.csr_matrix, names: np.ndarray
) -> list[Cluster]:
    """Interests of a profile from its papers' rows: `space` to cluster in (dense vectors, or the
    sparse lexical rows), `lexical` to name them."""
    if space.shape[0] == 0:
        return []
    labels = cluster_rows(normalize(space))
    clusters = [
        Cluster([int(i) for i in np.flatnonzero(labels == c)], []) for c in range(int(labels.max()) + 1)
    ]
    clusters.sort(key=lambda c: -len(c.members))
    for c in clusters:
        c.terms = keyphrases(lexical, c.members, names)
    return clusters


def assign(rows: np.ndarray, centroids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each row: the index of the nearest centroid (cosine) and that cosine."""
    if centroids.shape[0] == 0:
        return np.zeros(rows.shape[0], dtype=int), np.zeros(rows.shape[0])
    sims = normalize(rows) @ normalize(centroids).T
    return sims.argmax(axis=1), sims.max(axis=1)


def spread(scores: Sequence[float], groups: Sequence[int], limit: int, pool_factor: int = 2) -> list[int]:
    """Indices of up to `limit` items, best first, taken round-robin across groups from the best
    `pool_factor * limit` items, so that every interest with good candidates gets a share."""
    order = sorted(range(len(scores)), key=lambda i: -scores[i])
    pool = order[: max(limit * pool_factor, limit)]
    queues: dict[int, list[int]] = {}
    for i in pool:
        queues.setdefault(groups[i], []).append(i)
    picked: list[int] = []
    while len(picked) < limit and any(queues.values()):
        round_ = [q.pop(0) for q in queues.values() if q]
        round_.sort(key=lambda i: -scores[i])
        picked.extend(round_[: limit - len(picked)])
    return picked
