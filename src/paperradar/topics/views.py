"""Reading topics: the list, one topic in detail, trends and rising topics, the map's points.

The one implementation behind the CLI, the web pages and their JSON twins. Each call first gives
papers embedded since the last build their topic (`refresh_topics`). Does I/O (the library).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import InvalidInput, NotFound
from ..storage import topics as db
from ..storage.base import Library
from . import trends as tr
from .build import refresh_topics


@dataclass
class Topic:
    id: int
    level: int  # 1 broad, 2 fine
    label: str
    terms: list[str]
    size: int
    parent: int | None
    x: float
    y: float


def topic_json(t: Topic) -> dict[str, Any]:
    return {
        "id": t.id,
        "label": t.label,
        "size": t.size,
        "parent": t.parent,
        "level": _level(t),
        "terms": t.terms,
    }


def _level(t: Topic) -> str:
    return "broad" if t.level == 1 else "fine"


def list_topics(lib: Library, level: str | None = None) -> list[Topic]:
    """Topics biggest first: broad, fine, or both (broad ones first). Empty before a build."""
    refresh_topics(lib)
    return _list(lib, level)


def _list(lib: Library, level: str | None = None) -> list[Topic]:
    """`list_topics` without first assigning new papers (done once per call of a public function)."""
    if level not in (None, "broad", "fine"):
        raise InvalidInput(f"level must be broad or fine, not {level!r}")
    found = [_topic(r) for r in db.topics(lib)]
    if level:
        found = [t for t in found if _level(t) == level]
    return found


def _topic(r: db.TopicRow) -> Topic:
    return Topic(r.id, r.level, r.label, r.terms, r.size, r.parent, r.x or 0.0, r.y or 0.0)


def last_build_json(lib: Library) -> dict[str, Any] | None:
    """The latest build's report (`built_at`, `model_id`, `model`, `papers`, `fine_topics`...),
    None before the first build."""
    build = db.last_build(lib)
    return None if build is None else build.as_json()


def get_topic(lib: Library, ref: str | int) -> Topic:
    """A topic by id, or the biggest fine (else broad) topic whose label contains `ref` (any case)."""
    found = list_topics(lib)  # the one refresh of show_topic and the pages that find a topic
    if not found:
        raise NotFound("no topics yet: run `paperradar topics build`")
    text = str(ref).strip()
    if text.isdigit():
        for t in found:
            if t.id == int(text):
                return t
        raise NotFound(f"no topic with id {text}")
    hits = sorted((t for t in found if text.lower() in t.label.lower()), key=lambda t: (-t.level, -t.size))
    if not hits:
        raise NotFound(f"no topic whose label contains {text!r}")
    return hits[0]


def fine_ids(lib: Library, topic: Topic) -> list[int]:
    """The fine topics a topic stands for: itself, or a broad topic's children."""
    if topic.level == 2:
        return [topic.id]
    return [t.id for t in _list(lib, "fine") if t.parent == topic.id]


def show_topic(lib: Library, ref: str | int, limit: int = 10) -> dict[str, Any]:
    """One topic: its label and terms, parent or children, central and newest papers, monthly counts."""
    topic = get_topic(lib, ref)
    everything = {t.id: t for t in _list(lib)}
    ids = fine_ids(lib, topic)
    series = tr.monthly_series([r for r in db.monthly_counts(lib) if r[0] in set(ids)])
    central = db.topic_papers(lib, ids, limit, "central")
    recent = db.topic_papers(lib, ids, limit, "recent")
    parent = everything.get(topic.parent) if topic.parent else None
    children = [everything[i] for i in ids if i != topic.id]
    return {
        **topic_json(topic),
        "parent_label": parent.label if parent else None,
        "children": [topic_json(c) for c in sorted(children, key=lambda c: -c.size)],
        "central": _papers(lib, central),
        "recent": _papers(lib, recent),
        "months": series.months,
        "counts": series.counts.sum(axis=0).tolist() if len(series.topics) else [],
    }


def _papers(lib: Library, pks: list[int]) -> list[dict[str, Any]]:
    titles = db.paper_titles(lib, pks)
    months = db.paper_months(lib, pks)
    return [
        {"id": titles[pk][0], "title": titles[pk][1], "month": months.get(pk)} for pk in pks if pk in titles
    ]


def trends_report(
    lib: Library,
    window: int = tr.WINDOW,
    min_z: float = tr.MIN_Z,
    min_recent: int = tr.MIN_RECENT,
    limit: int = 10,
    level: str = "fine",
) -> dict[str, Any]:
    """Monthly papers per topic and the fastest-rising topics (see trends.py for the test)."""
    if window < 1:
        raise InvalidInput("--window must be at least 1 month")
    topics = {t.id: t for t in list_topics(lib, level)}
    if not topics:
        raise NotFound("no topics yet: run `paperradar topics build`")
    rows = db.monthly_counts(lib)
    if level == "broad":
        parent = {t.id: t.parent for t in _list(lib, "fine") if t.parent is not None}
        rows = [(parent[t], m, n) for t, m, n in rows if t in parent]
    series = tr.monthly_series(rows)
    rises, span = tr.rising(series, window, min_z, min_recent)
    return {
        **span,
        "months": series.months,
        "complete_months": tr.complete_months(series) if series.months else 0,
        "rising": [{**topic_json(topics[r.topic]), **_rise_json(r)} for r in rises[:limit]],
        "topics": [
            {"id": t, "label": topics[t].label, "counts": series.counts[i].tolist()}
            for i, t in enumerate(series.topics)
        ],
    }


def _rise_json(r: tr.Rise) -> dict[str, Any]:
    return {"recent": r.recent, "before": r.before, "expected": r.expected, "growth": r.growth, "z": r.z}


def profile_trends(lib: Library, profile: str, window: int = tr.WINDOW, limit: int = 5) -> dict[str, Any]:
    """What is new in a profile's topics: the fine topics of its papers, most of them first, each
    with its papers in the trend window, its growth, and the newest papers not in the profile."""
    from ..profiles import get_profile

    prof = get_profile(lib, profile)
    report = trends_report(lib, window=window, min_z=float("-inf"), min_recent=0, limit=10_000)
    mine = db.topics_of(lib, list(prof.paper_pks))
    counts: dict[int, int] = {}
    for t in mine.values():
        counts[t] = counts.get(t, 0) + 1
    stats = {r["id"]: r for r in report["rising"]}
    topics = {t.id: t for t in _list(lib, "fine")}
    since = report["window_from"]
    out = []
    for tid, n in sorted(counts.items(), key=lambda kv: -kv[1])[:limit]:
        own = set(prof.paper_pks)
        fresh = [p for p in db.topic_papers(lib, [tid], 5 + len(own), "recent", since) if p not in own]
        count = db.count_topic_papers(lib, [tid], since, list(own)) if since else 0
        out.append(
            {
                **topic_json(topics[tid]),
                "profile_papers": n,
                **{k: stats.get(tid, {}).get(k) for k in _STATS},
                "new_papers": _papers(lib, fresh[:5]),
                "new_count": count,
            }  # fmt: skip
        )
    return {"profile": prof.name, "window_from": since, "window_to": report["window_to"], "topics": out}


_STATS = ("recent", "before", "expected", "growth", "z")


def map_points(
    lib: Library, limit: int | None = 20_000, highlight: list[int] | None = None
) -> dict[str, Any]:
    """Topics and papers as map points (x, y in about [-1.5, 1.5]). With `limit`, an even sample
    of papers (every paper in `highlight` always included, flagged)."""
    topics = list_topics(lib)
    a = db.assignments(lib)
    keep = np.arange(len(a.pk))
    if limit is not None and len(keep) > limit:
        keep = np.random.default_rng(0).choice(len(keep), limit, replace=False)
    marked = set(highlight or ())
    if marked:
        extra = np.flatnonzero(np.isin(a.pk, list(marked)))
        keep = np.union1d(keep, extra)
    keep = np.sort(keep)
    titles = db.paper_titles(lib, a.pk[keep].tolist())
    points = [
        {
            "id": titles[pk][0],
            "title": titles[pk][1],
            "x": round(float(x), 4),
            "y": round(float(y), 4),
            "topic": int(t),
            "hit": pk in marked,
        }  # fmt: skip
        for pk, t, x, y in zip(a.pk[keep].tolist(), a.topic[keep], a.x[keep], a.y[keep], strict=True)
    ]
    return {
        "topics": [{**topic_json(t), "x": round(t.x, 4), "y": round(t.y, 4)} for t in topics],
        "points": points,
        "total": len(a.pk),
    }
