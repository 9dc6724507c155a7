"""The jobs table (migration 9): background work of the web server, its state and progress.

Does I/O (the database), through the library's connection.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from .base import Library

LIVE = ("queued", "running")
JOB_COLUMNS = "id, kind, state, done, message, result, created_at, updated_at"


@dataclass(frozen=True, slots=True)
class Job:
    """One row of the jobs table: a background job's state and progress."""

    id: int
    kind: str
    state: str  # queued, running, done, failed, interrupted
    done: int  # items done so far
    message: str
    result: dict[str, Any] | None  # the work's result, when done
    created_at: str
    updated_at: str

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def add_job(lib: Library, kind: str, message: str = "") -> int:
    with lib.transaction():
        cur = lib.conn.execute(
            "INSERT INTO jobs (kind, state, message, created_at, updated_at) VALUES (?, 'queued', ?, ?, ?)",
            (kind, message, _now(), _now()),
        )
    return int(cur.lastrowid or 0)


def update_job(
    lib: Library,
    job_id: int,
    state: str,
    done: int | None = None,
    message: str | None = None,
    result: dict[str, Any] | None = None,
) -> None:
    with lib.transaction():
        lib.conn.execute(
            "UPDATE jobs SET state = ?, done = COALESCE(?, done), message = COALESCE(?, message),"
            " result = COALESCE(?, result), updated_at = ? WHERE id = ?",
            (state, done, message, None if result is None else json.dumps(result), _now(), job_id),
        )


def get_job(lib: Library, job_id: int) -> Job | None:
    row = lib.conn.execute(f"SELECT {JOB_COLUMNS} FROM jobs WHERE id = ?", (job_id,)).fetchone()
    return None if row is None else _job(row)


def recent_jobs(lib: Library, limit: int = 20) -> list[Job]:
    rows = lib.conn.execute(f"SELECT {JOB_COLUMNS} FROM jobs ORDER BY id DESC LIMIT ?", (limit,)).fetchall()
    return [_job(r) for r in rows]


def interrupt_live_jobs(lib: Library, message: str) -> int:
    """Mark jobs left queued or running by a server that stopped as interrupted; how many."""
    with lib.transaction():
        cur = lib.conn.execute(
            "UPDATE jobs SET state = 'interrupted', message = ?, updated_at = ? WHERE state IN (?, ?)",
            (message, _now(), *LIVE),
        )
    return cur.rowcount


def _job(row: Any) -> Job:
    return Job(
        id=int(row["id"]),
        kind=row["kind"],
        state=row["state"],
        done=int(row["done"]),
        message=row["message"],
        result=json.loads(row["result"]) if row["result"] else None,
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )
