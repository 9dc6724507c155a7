"""Cold start: which papers to ask a researcher to rate, so that each answer teaches the most.

With a model: among the plausible candidates (the best-scored share), the ones the lexical
model is least sure about (decision value nearest its boundary), spread out by farthest-point
selection on their rows so that no two ask the same question. Without one (an empty profile):
papers spread over the candidates' space, the one nearest each of k centres. Pure; no I/O.
"""

from __future__ import annotations

import numpy as np
from sklearn.cluster import KMeans
from sklearn.preprocessing import normalize

PLAUSIBLE = 300  # best-scored candidates considered
UNCERTAIN = 60  # of those, the least certain ones the diverse picks are made from


def uncertain_and_diverse(rows: np.ndarray, score: np.ndarray, margin: np.ndarray, n: int) -> list[int]:
    """Indices of n candidates: plausible (top PLAUSIBLE by score), uncertain (smallest |margin|),
    diverse (farthest-point on unit rows, starting from the most uncertain)."""
    if len(score) <= n:
        return list(np.argsort(-score, kind="stable"))
    plausible = np.argsort(-score, kind="stable")[:PLAUSIBLE]
    pool = plausible[np.argsort(np.abs(margin[plausible]), kind="stable")[: max(UNCERTAIN, n)]]
    return [int(pool[i]) for i in farthest_points(normalize(rows[pool]), n)]


def farthest_points(x: np.ndarray, n: int) -> list[int]:
    """Greedy max-min selection: start at row 0, then always the row least similar to those chosen."""
    if len(x) == 0:
        return []
    chosen = [0]
    closest = x @ x[0]
    while len(chosen) < min(n, len(x)):
        closest[chosen] = np.inf
        nxt = int(np.argmin(closest))
        chosen.append(nxt)
        closest = np.maximum(closest, x @ x[nxt])
    return chosen


def spread_out(rows: np.ndarray, n: int) -> list[int]:
    """n rows covering the space: k-means (fixed seed), the row nearest each centre."""
    if len(rows) <= n:
        return list(range(len(rows)))
    x = normalize(rows)
    km = KMeans(n_clusters=n, n_init=2, random_state=0).fit(x)
    out: list[int] = []
    for c in range(n):
        members = np.flatnonzero(km.labels_ == c)
        if len(members):
            best = members[np.argmax(x[members] @ km.cluster_centers_[c])]
            out.append(int(best))
    return out
