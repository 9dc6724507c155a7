"""SQL for where each sync or fetch source stopped (the `sync_state` table): its cursor, when it
last went well and its last error. `paperradar sync`, `fetch` and `sync --status` read and move
these (sync.py, remote.py); a cursor moves only after a page was imported.

Each write is its own transaction. Does I/O (the database).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from typing import Any

from .base import Library
from .common import dumps


@dataclass(frozen=True)
class Cursor:
    """Where a sync or fetch source stopped; each kind of source sets its own fields (None: unset).
    Stored as JSON with only the fields set (`from_` as "from")."""

    window: tuple[str, str] | None = None  # arXiv API: the days being fetched (ISO dates)
    start: int | None = None  # arXiv API, `fetch`: the next page's offset
    until: str | None = None  # arXiv API: the last day fully fetched
    done: str | None = None  # Hugging Face daily: the last finished day
    version: int | None = None  # Zotero: the library version last seen
    from_: str | None = None  # arXiv OAI-PMH: harvest records changed from this day
    token: str | None = None  # arXiv OAI-PMH: the resumption token of a harvest in progress
    query: str | None = None  # `fetch --query`: the search it pages through
    adopted_from: str | None = None  # `fetch`: the old shared state file it came from

    def as_json(self) -> dict[str, Any]:
        out = {f.name.rstrip("_"): getattr(self, f.name) for f in fields(self)}
        if self.window is not None:
            out["window"] = list(self.window)
        return {k: v for k, v in out.items() if v is not None}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Cursor:
        known = {f.name.rstrip("_"): f.name for f in fields(cls)}
        values = {known[k]: v for k, v in data.items() if k in known}
        if values.get("window") is not None:
            first, last = values["window"]
            values["window"] = (str(first), str(last))
        return cls(**values)


@dataclass(frozen=True)
class SyncState:
    """Where a sync source stopped (`paperradar sync --status`); `cursor` is the source's own JSON."""

    source: str
    cursor: Cursor
    last_ok: str | None
    last_error: str | None
    updated_at: str

    def as_json(self) -> dict[str, Any]:
        return asdict(self) | {"cursor": self.cursor.as_json()}


def get_cursor(lib: Library, source: str) -> Cursor:
    """Where `source` stopped (an empty Cursor: never synced)."""
    row = lib.conn.execute("SELECT cursor FROM sync_state WHERE source = ?", (source,)).fetchone()
    return Cursor.from_json(json.loads(row[0])) if row else Cursor()


def save_cursor(lib: Library, source: str, cursor: Cursor, now: str, error: str | None) -> None:
    """Remember where `source` stopped (its own transaction). `error` None means the run went well."""
    with lib.transaction():
        lib.conn.execute(
            """INSERT INTO sync_state (source, cursor, last_ok, last_error, updated_at)
               VALUES (:s, :c, CASE WHEN :e IS NULL THEN :now END, :e, :now)
               ON CONFLICT (source) DO UPDATE SET cursor = :c, last_error = :e, updated_at = :now,
                   last_ok = CASE WHEN :e IS NULL THEN :now ELSE sync_state.last_ok END""",
            {"s": source, "c": dumps(cursor.as_json()), "e": error, "now": now},
        )


def sync_states(lib: Library) -> list[SyncState]:
    q = "SELECT source, cursor, last_ok, last_error, updated_at FROM sync_state ORDER BY source"
    return [
        SyncState(
            r["source"],
            Cursor.from_json(json.loads(r["cursor"])),
            r["last_ok"],
            r["last_error"],
            r["updated_at"],
        )
        for r in lib.conn.execute(q)
    ]
