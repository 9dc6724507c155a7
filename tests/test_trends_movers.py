"""When no topic rises significantly, Trends still has something to act on: the largest movers,
up or down, each with a 90% interval on its growth (topics/trends.py), on the page and its twin."""

from __future__ import annotations

from paperradar.topics import trends


def _series(rows_per_month):  # type: ignore[no-untyped-def]
    months = [f"2025-{m:02d}" for m in range(1, 13)]
    return trends.monthly_series(
        [(t, m, f(i)) for i, m in enumerate(months) for t, f in rows_per_month.items()]
    )


def test_without_a_significant_rise_the_largest_movers_come_with_intervals():
    series = _series({1: lambda i: 100, 2: lambda i: 10 if i < 9 else 12, 3: lambda i: 30 if i < 9 else 22})
    assert trends.rising(series)[0] == []  # nothing passes the guard
    moves = trends.movers(series)
    assert [m.topic for m in moves][:2] == [3, 2]  # by |z|: the fall is the clearer signal
    fall, rise = moves[0], moves[1]
    assert fall.growth < 1 < rise.growth
    assert fall.low < fall.growth < fall.high and rise.low < 1 < rise.high  # the rise could be noise
    assert fall.recent == 66 and fall.before == 270


def test_tiny_topics_are_not_movers_and_short_series_have_none():
    series = _series({1: lambda i: 100, 2: lambda i: 0 if i < 11 else 3})
    assert [m.topic for m in trends.movers(series)] == [1]
    assert trends.movers(trends.monthly_series([(1, "2025-01", 5), (1, "2025-02", 6)])) == []
