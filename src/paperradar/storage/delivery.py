"""SQL for delivery: where each sync source stopped, digests (pending and sent) with their papers,
papers that lack fields enrichment can fill, and the channels each digest reached.

Functions take the library; writes run inside the caller's `lib.transaction()` unless noted.
Does I/O (the database).
"""

from __future__ import annotations

import json
from typing import Any

from .base import Library
from .common import _chunks, _marks, dumps

# ---------------------------------------------------------------- sync cursors


def get_cursor(lib: Library, source: str) -> dict[str, Any]:
    row = lib.conn.execute("SELECT cursor FROM sync_state WHERE source = ?", (source,)).fetchone()
    return dict(json.loads(row[0])) if row else {}


def save_cursor(lib: Library, source: str, cursor: dict[str, Any], now: str, error: str | None) -> None:
    """Remember where `source` stopped (its own transaction). `error` None means the run went well."""
    with lib.transaction():
        lib.conn.execute(
            """INSERT INTO sync_state (source, cursor, last_ok, last_error, updated_at)
               VALUES (:s, :c, CASE WHEN :e IS NULL THEN :now END, :e, :now)
               ON CONFLICT (source) DO UPDATE SET cursor = :c, last_error = :e, updated_at = :now,
                   last_ok = CASE WHEN :e IS NULL THEN :now ELSE sync_state.last_ok END""",
            {"s": source, "c": dumps(cursor), "e": error, "now": now},
        )


def sync_states(lib: Library) -> list[dict[str, Any]]:
    q = "SELECT source, cursor, last_ok, last_error, updated_at FROM sync_state ORDER BY source"
    return [dict(r) | {"cursor": json.loads(r["cursor"])} for r in lib.conn.execute(q)]


# ---------------------------------------------------------------- enrichment


def papers_missing_fields(lib: Library) -> list[dict[str, Any]]:
    """Papers without a title, abstract, authors (or only some), dates or categories: pk, id, ids, missing."""
    q = """
        SELECT pk, id, json_extract(data, '$.ids') AS ids,
               title IS NULL AS title,
               abstract IS NULL AS abstract,
               (json_extract(data, '$.authors') IS NULL
                OR json_extract(data, '$.authors_complete') = 0) AS authors,
               json_extract(data, '$.dates') IS NULL AS dates,
               json_extract(data, '$.categories') IS NULL AS categories
        FROM papers
        WHERE title IS NULL OR abstract IS NULL OR json_extract(data, '$.authors') IS NULL
           OR json_extract(data, '$.authors_complete') = 0
           OR json_extract(data, '$.dates') IS NULL OR json_extract(data, '$.categories') IS NULL
        ORDER BY pk
    """
    fields = ("title", "abstract", "authors", "dates", "categories")
    return [
        {
            "pk": r["pk"],
            "id": r["id"],
            "ids": json.loads(r["ids"] or "[]"),
            "missing": [f for f in fields if r[f]],
        }
        for r in lib.conn.execute(q)
    ]


# ---------------------------------------------------------------- digests


def papers_added_since(lib: Library, since: str | None = None, after_pk: int | None = None) -> list[int]:
    """pks of papers added to the library at or after `since` (ISO time) and after the paper
    `after_pk` (pks only grow, so that is exact where times have whole seconds); neither: all."""
    q = "SELECT pk FROM papers WHERE created_at >= ? AND pk > ? ORDER BY pk"
    return [r[0] for r in lib.conn.execute(q, (since or "", after_pk or 0))]


def sent_pks(lib: Library, profile: str) -> set[int]:
    """Papers already in a digest sent to `profile` (found again through aliases after merges)."""
    q = """SELECT DISTINCT i.paper_id FROM digest_items i JOIN digests d ON d.pk = i.digest_pk
           WHERE d.profile = ? AND d.status = 'sent'"""
    ids = [r[0] for r in lib.conn.execute(q, (profile,))]
    out: set[int] = set()
    for chunk in _chunks(ids, 500):
        marks = _marks(chunk)
        out.update(r[0] for r in lib.conn.execute(f"SELECT pk FROM papers WHERE id IN ({marks})", chunk))
        alias_q = f"SELECT paper_pk FROM aliases WHERE alias IN ({marks})"
        out.update(r[0] for r in lib.conn.execute(alias_q, chunk))
    return out


def last_sent(lib: Library, profile: str) -> dict[str, Any] | None:
    """When the last sent digest of `profile` was made and its newest paper then (its window's end)."""
    q = """SELECT created_at, last_paper_pk FROM digests WHERE profile = ? AND status = 'sent'
           ORDER BY last_paper_pk DESC, pk DESC LIMIT 1"""
    row = lib.conn.execute(q, (profile,)).fetchone()
    return dict(row) if row else None


def pending_digest(lib: Library, profile: str) -> dict[str, Any] | None:
    """The digest built for `profile` whose sending has not succeeded yet, with its items."""
    q = "SELECT * FROM digests WHERE profile = ? AND status = 'pending' ORDER BY pk LIMIT 1"
    row = lib.conn.execute(q, (profile,)).fetchone()
    return digest_row(lib, row["pk"]) if row else None


def digest_row(lib: Library, pk: int) -> dict[str, Any]:
    row = lib.conn.execute("SELECT * FROM digests WHERE pk = ?", (pk,)).fetchone()
    items_q = "SELECT rank, paper_id, data FROM digest_items WHERE digest_pk = ? ORDER BY rank"
    items = [
        {"rank": r["rank"], "paper_id": r["paper_id"], **json.loads(r["data"])}
        for r in lib.conn.execute(items_q, (pk,))
    ]
    return dict(row) | {"items": items}


def create_digest(
    lib: Library,
    profile: str,
    *,
    created_at: str,
    since: str | None,
    last_paper_pk: int,
    message_id: str,
    items: list[dict[str, Any]],
) -> int:
    """Store a digest as pending with its items (paper_id plus JSON data); returns its pk."""
    cur = lib.conn.execute(
        """INSERT INTO digests (profile, created_at, since, last_paper_pk, status, message_id)
           VALUES (?, ?, ?, ?, 'pending', ?)""",
        (profile, created_at, since, last_paper_pk, message_id),
    )
    pk = int(cur.lastrowid or 0)
    lib.conn.executemany(
        "INSERT INTO digest_items (digest_pk, rank, paper_id, data) VALUES (?, ?, ?, ?)",
        [
            (pk, rank, it["paper_id"], dumps({k: v for k, v in it.items() if k != "paper_id"}))
            for rank, it in enumerate(items, start=1)
        ],
    )
    return pk


def record_failure(lib: Library, pk: int, error: str) -> None:
    lib.conn.execute("UPDATE digests SET attempts = attempts + 1, last_error = ? WHERE pk = ?", (error, pk))


def mark_sent(lib: Library, pk: int, recipient: str, sent_at: str) -> None:
    lib.conn.execute(
        """UPDATE digests SET status = 'sent', attempts = attempts + 1, last_error = NULL,
           recipient = ?, sent_at = ? WHERE pk = ?""",
        (recipient, sent_at, pk),
    )


def digests_of(lib: Library, profile: str, limit: int = 20) -> list[dict[str, Any]]:
    q = "SELECT pk FROM digests WHERE profile = ? ORDER BY pk DESC LIMIT ?"
    return [digest_row(lib, r[0]) for r in lib.conn.execute(q, (profile, limit))]


# ---------------------------------------------------------------- deliveries


def delivered_channels(lib: Library, digest_pk: int) -> set[str]:
    """The channels this digest already reached."""
    q = "SELECT channel FROM digest_deliveries WHERE digest_pk = ?"
    return {r[0] for r in lib.conn.execute(q, (digest_pk,))}


def record_delivery(lib: Library, digest_pk: int, channel: str, sent_at: str) -> None:
    lib.conn.execute(
        "INSERT OR IGNORE INTO digest_deliveries (digest_pk, channel, sent_at) VALUES (?, ?, ?)",
        (digest_pk, channel, sent_at),
    )
