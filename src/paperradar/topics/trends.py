"""Papers per topic per month, and which topics are rising. Pure.

A topic rises when its share of the library's papers in the last `window` months is higher than
its share before. For a topic with `recent` papers in the window and `before` papers earlier,
given the library's totals W (window) and H (before), the expected recent count is
`before * W / H` and growth is `(recent + 1) / (expected + 1)`. The significance guard is the
conditional test for two Poisson rates: given n = recent + before, recent ~ Binomial(n, W/(W+H))
when nothing changed; z = (recent - n p) / sqrt(n p (1-p)). Only topics with z >= `min_z` and at
least `min_recent` recent papers are ranked, so a topic going from 1 to 3 papers cannot top the list.
A last month with less than half the papers of the months before it is taken as still filling
and left out of the window.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

WINDOW = 3
MIN_Z = 3.0
MIN_RECENT = 10


@dataclass
class Series:
    months: list[str]  # YYYY-MM, every month from the first to the last, gaps filled
    topics: list[int]
    counts: np.ndarray  # topics x months


@dataclass
class Rise:
    topic: int
    recent: int
    before: int
    expected: float
    growth: float
    z: float


def monthly_series(rows: list[tuple[int, str, int]]) -> Series:
    """(topic, month, count) rows as a dense topics x months table."""
    if not rows:
        return Series([], [], np.zeros((0, 0), dtype=np.int64))
    months = month_range(min(r[1] for r in rows), max(r[1] for r in rows))
    topics = sorted({r[0] for r in rows})
    ti = {t: i for i, t in enumerate(topics)}
    mi = {m: i for i, m in enumerate(months)}
    counts = np.zeros((len(topics), len(months)), dtype=np.int64)
    for t, m, n in rows:
        counts[ti[t], mi[m]] += n
    return Series(months, topics, counts)


def month_range(first: str, last: str) -> list[str]:
    y, m = int(first[:4]), int(first[5:7])
    out = []
    while f"{y:04d}-{m:02d}" <= last:
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def complete_months(series: Series) -> int:
    """How many months count: all but a last one that is still filling."""
    totals = series.counts.sum(axis=0)
    n = len(totals)
    if n >= 4 and totals[-1] < 0.5 * float(np.median(totals[-4:-1])):
        return n - 1
    return n


def rising(
    series: Series, window: int = WINDOW, min_z: float = MIN_Z, min_recent: int = MIN_RECENT
) -> tuple[list[Rise], dict[str, str | None]]:
    """Topics growing faster than the library, most growth first, and the months compared."""
    n = complete_months(series)
    if n <= window:
        return [], {"window_from": None, "window_to": None, "before_from": None}
    counts = series.counts[:, :n]
    recent = counts[:, n - window :].sum(axis=1)
    before = counts[:, : n - window].sum(axis=1)
    w_total, h_total = float(recent.sum()), float(before.sum())
    p = w_total / max(w_total + h_total, 1.0)
    out = []
    for i, t in enumerate(series.topics):
        r, b = int(recent[i]), int(before[i])
        total = r + b
        expected = b * w_total / max(h_total, 1.0)
        z = (r - total * p) / math.sqrt(max(total * p * (1 - p), 1e-9))
        if z >= min_z and r >= min_recent:
            out.append(Rise(t, r, b, round(expected, 1), round((r + 1) / (expected + 1), 2), round(z, 1)))
    out.sort(key=lambda x: (-x.growth, -x.z))
    months = series.months
    return out, {"window_from": months[n - window], "window_to": months[n - 1], "before_from": months[0]}


@dataclass
class Move:
    """A topic's change of share, with its uncertainty: `growth` is the ratio of its share in the
    window to its share before, `low`-`high` a 90% interval on that ratio."""

    topic: int
    recent: int
    before: int
    growth: float
    low: float
    high: float
    z: float


def movers(series: Series, window: int = WINDOW, limit: int = 8, min_papers: int = 10) -> list[Move]:
    """The topics whose share moved most (up or down), by |z|, each with a 90% interval on its
    growth: what to look at when no topic passes the significance guard of `rising`.

    The interval is the usual one for a ratio of two Poisson rates, on the log scale with half a
    paper added to each count: log(growth) +- 1.645 * sqrt(1/(recent+.5) + 1/(before+.5))."""
    n = complete_months(series)
    if n <= window:
        return []
    counts = series.counts[:, :n]
    recent, before = counts[:, n - window :].sum(axis=1), counts[:, : n - window].sum(axis=1)
    w_total, h_total = max(float(recent.sum()), 1.0), max(float(before.sum()), 1.0)
    p = w_total / (w_total + h_total)
    out = []
    for i, t in enumerate(series.topics):
        r, b = int(recent[i]), int(before[i])
        if r + b < min_papers:
            continue
        ratio = ((r + 0.5) / w_total) / ((b + 0.5) / h_total)
        half = 1.645 * math.sqrt(1 / (r + 0.5) + 1 / (b + 0.5))
        z = (r - (r + b) * p) / math.sqrt(max((r + b) * p * (1 - p), 1e-9))
        low, high = ratio / math.exp(half), ratio * math.exp(half)
        out.append(Move(t, r, b, round(ratio, 2), round(low, 2), round(high, 2), round(z, 1)))
    out.sort(key=lambda m: -abs(m.z))
    return out[:limit]
