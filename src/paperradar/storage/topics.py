"""SQL for topics: the topic table, each paper's topic and map position, builds, monthly counts.

Functions take the `Library`; writes expect the caller's `lib.transaction()`. Does I/O.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from .base import Library
from .common import _chunks, _marks

STORE_CACHE_KIB = 131_072  # SQLite page cache while a build stores its assignments (128 MB)
TOPIC_COLUMNS = "id, level, parent, label, terms, size, centroid, x, y, axes"


@dataclass(frozen=True, slots=True)
class TopicRow:
    """One row of the topics table: a broad (level 1) or fine (level 2) topic."""

    id: int
    level: int  # 1 broad, 2 fine
    parent: int | None  # a fine topic's broad topic
    label: str
    terms: list[str]
    size: int  # papers
    centroid: np.ndarray | None  # a fine topic's centre in embedding space
    x: float | None  # map position
    y: float | None
    axes: np.ndarray | None  # a fine topic's two layout axes, shape (2, dim)


@dataclass(frozen=True, slots=True)
class Assignments:
    """Every assigned paper as parallel arrays, in pk order: its fine topic, score and map position."""

    pk: np.ndarray
    topic: np.ndarray
    score: np.ndarray
    x: np.ndarray
    y: np.ndarray


@dataclass(frozen=True, slots=True)
class TopicBuild:
    """One row of topic_builds: when topics were built, on which model, and the build's report."""

    built_at: str
    model_id: str
    info: dict[str, Any]  # the build report's JSON (topics/build.py's BuildReport.as_json)

    def as_json(self) -> dict[str, Any]:
        return {"built_at": self.built_at, "model_id": self.model_id, **self.info}


def topics(lib: Library) -> list[TopicRow]:
    """Every topic (broad and fine), biggest first, with centroids and axes as numpy arrays."""
    q = f"SELECT {TOPIC_COLUMNS} FROM topics ORDER BY level, size DESC, id"
    return [_topic(r) for r in lib.conn.execute(q)]


def _topic(r: Any) -> TopicRow:
    return TopicRow(
        id=r["id"],
        level=r["level"],
        parent=r["parent"],
        label=r["label"],
        terms=json.loads(r["terms"]),
        size=r["size"],
        centroid=None if r["centroid"] is None else np.frombuffer(r["centroid"], dtype=np.float32),
        x=r["x"],
        y=r["y"],
        axes=None if r["axes"] is None else np.frombuffer(r["axes"], dtype=np.float32).reshape(2, -1),
    )


def replace_topics(lib: Library, rows: list[TopicRow]) -> None:
    """Replace all topics and assignments (inside the caller's transaction)."""
    lib.conn.execute("DELETE FROM paper_topics")
    lib.conn.execute("DELETE FROM topics")
    lib.conn.executemany(
        f"INSERT INTO topics ({TOPIC_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (
                t.id,
                t.level,
                t.parent,
                t.label,
                json.dumps(t.terms),
                t.size,
                _blob(t.centroid),
                t.x,
                t.y,
                _blob(t.axes),
            )  # fmt: skip
            for t in rows
        ],
    )


def _blob(a: np.ndarray | None) -> bytes | None:
    return None if a is None else np.ascontiguousarray(a, dtype=np.float32).tobytes()


def put_assignments(lib: Library, rows: Iterable[tuple[int, int, float, float, float]]) -> None:
    """(paper pk, fine topic id, score, x, y) rows, replacing a paper's earlier row."""
    lib.conn.executemany(
        "INSERT OR REPLACE INTO paper_topics (paper_pk, topic, score, x, y) VALUES (?, ?, ?, ?, ?)",
        rows,
    )


def add_assignments(lib: Library, rows: Iterable[tuple[int, int, float, float, float]]) -> None:
    """`put_assignments` for papers that have no row (a build, after `replace_topics` emptied the
    table): a plain INSERT, and on SQLite a `STORE_CACHE_KIB` page cache meanwhile. Measured on 3M
    rows (rolled back): INSERT OR REPLACE keeps a statement journal of about two pages a row (the
    3M build wrote 139 GB to a temp file, 592 s); a plain INSERT with the default 2 MB cache spills
    the topic index's ~200 hot leaf pages (18.5 GB written, 140 s); with 128 MB, 0.04 GB and 41 s."""
    sql = "INSERT INTO paper_topics (paper_pk, topic, score, x, y) VALUES (?, ?, ?, ?, ?)"
    if not isinstance(lib.conn, sqlite3.Connection):
        lib.conn.executemany(sql, rows)
        return
    (old_cache,) = lib.conn.execute("PRAGMA cache_size").fetchone()
    lib.conn.execute(f"PRAGMA cache_size=-{STORE_CACHE_KIB}")
    try:
        lib.conn.executemany(sql, rows)
    finally:
        lib.conn.execute(f"PRAGMA cache_size={int(old_cache)}")


def add_to_sizes(lib: Library, added: dict[int, int]) -> None:
    """Grow fine topics and their broad parents by the papers just assigned to them."""
    for tid, n in added.items():
        lib.conn.execute("UPDATE topics SET size = size + ? WHERE id = ?", (n, tid))
        lib.conn.execute(
            "UPDATE topics SET size = size + ? WHERE id = (SELECT parent FROM topics WHERE id = ?)", (n, tid)
        )


def assignments(lib: Library) -> Assignments:
    """Every assigned paper as arrays: pk, topic, score, x, y (in pk order)."""
    rows = lib.conn.execute(
        "SELECT paper_pk, topic, score, x, y FROM paper_topics ORDER BY paper_pk"
    ).fetchall()
    cols = list(zip(*rows, strict=True)) if rows else [(), (), (), (), ()]
    return Assignments(
        pk=np.asarray(cols[0], dtype=np.int64),
        topic=np.asarray(cols[1], dtype=np.int64),
        score=np.asarray(cols[2], dtype=np.float32),
        x=np.asarray(cols[3], dtype=np.float32),
        y=np.asarray(cols[4], dtype=np.float32),
    )


def topics_of(lib: Library, pks: list[int]) -> dict[int, int]:
    """The fine topic of each of these papers that has one."""
    out: dict[int, int] = {}
    for chunk in _chunks(pks, 500):
        q = f"SELECT paper_pk, topic FROM paper_topics WHERE paper_pk IN ({_marks(chunk)})"
        out.update((r[0], r[1]) for r in lib.conn.execute(q, chunk))
    return out


def unassigned_vectors(lib: Library, model_id: str) -> Iterator[tuple[int, bytes]]:
    """(pk, vector) of papers embedded by `model_id` that have no topic yet."""
    q = (
        "SELECT e.paper_pk, e.vector FROM embeddings e LEFT JOIN paper_topics t ON t.paper_pk = e.paper_pk"
        " WHERE e.model_id = ? AND t.paper_pk IS NULL ORDER BY e.paper_pk"
    )
    yield from lib.conn.execute(q, (model_id,))


def count_unassigned(lib: Library, model_id: str) -> int:
    q = (
        "SELECT count(*) FROM embeddings e WHERE e.model_id = ?"
        " AND NOT EXISTS (SELECT 1 FROM paper_topics t WHERE t.paper_pk = e.paper_pk)"
    )
    return int(lib.conn.execute(q, (model_id,)).fetchone()[0])


def monthly_counts(lib: Library) -> list[tuple[int, str, int]]:
    """(fine topic, YYYY-MM, papers) for every assigned paper whose date has a month."""
    q = (
        "SELECT t.topic, substr(p.date, 1, 7) AS month, count(*) FROM paper_topics t"
        " JOIN papers p ON p.pk = t.paper_pk WHERE length(p.date) >= 7 GROUP BY 1, 2"
    )
    return [(r[0], r[1], r[2]) for r in lib.conn.execute(q)]


def topic_papers(
    lib: Library, topic_ids: list[int], limit: int, order: str = "central", since: str | None = None
) -> list[int]:
    """Papers of these fine topics: the most central first, or the newest first."""
    orders = {"central": "t.score DESC", "recent": "p.date DESC NULLS LAST, t.score DESC"}
    where = f"t.topic IN ({_marks(topic_ids)})"
    params: list[Any] = list(topic_ids)
    if since:
        where += " AND p.date >= ?"
        params.append(since)
    q = (
        f"SELECT t.paper_pk FROM paper_topics t JOIN papers p ON p.pk = t.paper_pk WHERE {where}"
        f" ORDER BY {orders[order]} LIMIT ?"
    )
    return [r[0] for r in lib.conn.execute(q, [*params, limit])]


def count_topic_papers(lib: Library, topic_ids: list[int], since: str, exclude: list[int]) -> int:
    """Papers of these fine topics dated `since` or later, not counting `exclude`."""
    q = (
        f"SELECT count(*) FROM paper_topics t JOIN papers p ON p.pk = t.paper_pk"
        f" WHERE t.topic IN ({_marks(topic_ids)}) AND p.date >= ? AND t.paper_pk NOT IN ({_marks(exclude)})"
    )
    return int(lib.conn.execute(q, [*topic_ids, since, *exclude]).fetchone()[0])


def paper_months(lib: Library, pks: list[int]) -> dict[int, str]:
    """YYYY-MM of each of these papers that has a dated month."""
    out: dict[int, str] = {}
    for chunk in _chunks(pks, 500):
        q = f"SELECT pk, substr(date, 1, 7) FROM papers WHERE pk IN ({_marks(chunk)}) AND length(date) >= 7"
        out.update((r[0], r[1]) for r in lib.conn.execute(q, chunk))
    return out


def paper_titles(lib: Library, pks: list[int]) -> dict[int, tuple[str, str | None]]:
    """(id, title) of each of these papers."""
    out: dict[int, tuple[str, str | None]] = {}
    for chunk in _chunks(pks, 500):
        q = f"SELECT pk, id, title FROM papers WHERE pk IN ({_marks(chunk)})"
        out.update((r[0], (r[1], r[2])) for r in lib.conn.execute(q, chunk))
    return out


def primary_categories(lib: Library) -> dict[int, str]:
    """Each paper's first listed category (arXiv's primary), for evaluation."""
    q = "SELECT pk, json_extract(data, '$.categories[0]') FROM papers"
    return {r[0]: r[1] for r in lib.conn.execute(q) if r[1]}


def log_build(lib: Library, built_at: str, model_id: str, info: dict[str, Any]) -> None:
    lib.conn.execute(
        "INSERT INTO topic_builds (built_at, model_id, info) VALUES (?, ?, ?)",
        (built_at, model_id, json.dumps(info)),
    )


def last_build(lib: Library) -> TopicBuild | None:
    """The latest topics build (None before the first)."""
    r = lib.conn.execute(
        "SELECT built_at, model_id, info FROM topic_builds ORDER BY pk DESC LIMIT 1"
    ).fetchone()
    return None if r is None else TopicBuild(r[0], r[1], json.loads(r[2]))
