"""SQL for delivering digests: digests (pending and sent) with their papers, the papers new since
a profile's last digest, and the channels each digest reached (sync cursors: cursors.py).

Rows come back as the frozen dataclasses below (one per row kind). Functions take the library;
writes run inside the caller's `lib.transaction()` unless noted. Does I/O (the database).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from .base import Library
from .common import _chunks, _marks, dumps


@dataclass(frozen=True)
class LastSent:
    """When a profile's last sent digest was made, and the newest paper then (its window's end)."""

    created_at: str
    last_paper_pk: int


@dataclass(frozen=True)
class DigestItemRow:
    """One paper of a stored digest, in its rank, with the score, interest and reasons shown."""

    rank: int
    paper_id: str
    score: float
    interest: str | None = None
    reasons: tuple[str, ...] = ()

    def as_json(self) -> dict[str, Any]:
        return {
            "rank": self.rank,
            "paper_id": self.paper_id,
            "score": self.score,
            "interest": self.interest,
            "reasons": list(self.reasons),
        }


@dataclass(frozen=True)
class DigestRow:
    """A stored digest (the columns of `digests`) with its papers."""

    pk: int
    profile: str
    created_at: str
    since: str | None
    last_paper_pk: int | None
    status: str  # pending | sent
    message_id: str
    recipient: str | None
    attempts: int
    last_error: str | None
    sent_at: str | None
    items: tuple[DigestItemRow, ...]

    def as_json(self) -> dict[str, Any]:
        """The shape of `/api/digest/{profile}/history`'s items."""
        return asdict(self) | {"items": [it.as_json() for it in self.items]}


_DIGEST_COLUMNS = "pk, profile, created_at, since, last_paper_pk, status, message_id, recipient, attempts, last_error, sent_at"

# ---------------------------------------------------------------- digests


def papers_added_since(
    lib: Library, since: str | None = None, after_pk: int | None = None, newest: int | None = None
) -> list[int]:
    """pks of papers added to the library at or after `since` (ISO time) and after the paper
    `after_pk` (pks only grow, so that is exact where times have whole seconds); neither: all.
    `newest`: only that many, the newest (a window after a bulk import holds millions)."""
    if newest is not None:
        q = "SELECT pk FROM papers WHERE created_at >= ? AND pk > ? ORDER BY pk DESC LIMIT ?"
        return sorted(r[0] for r in lib.conn.execute(q, (since or "", after_pk or 0, newest)))
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


def last_sent(lib: Library, profile: str) -> LastSent | None:
    """When the last sent digest of `profile` was made and its newest paper then (its window's end)."""
    q = """SELECT created_at, last_paper_pk FROM digests WHERE profile = ? AND status = 'sent'
           ORDER BY last_paper_pk DESC, pk DESC LIMIT 1"""
    row = lib.conn.execute(q, (profile,)).fetchone()
    return LastSent(row["created_at"], int(row["last_paper_pk"] or 0)) if row else None


def pending_digest(lib: Library, profile: str) -> DigestRow | None:
    """The digest built for `profile` whose sending has not succeeded yet, with its items."""
    q = "SELECT pk FROM digests WHERE profile = ? AND status = 'pending' ORDER BY pk LIMIT 1"
    row = lib.conn.execute(q, (profile,)).fetchone()
    return digest_row(lib, row["pk"]) if row else None


def _item(row: Any) -> DigestItemRow:
    data = json.loads(row["data"])
    reasons = tuple(data.get("reasons") or ())
    return DigestItemRow(
        int(row["rank"]), row["paper_id"], float(data["score"]), data.get("interest"), reasons
    )


def digest_row(lib: Library, pk: int) -> DigestRow:
    r = lib.conn.execute(f"SELECT {_DIGEST_COLUMNS} FROM digests WHERE pk = ?", (pk,)).fetchone()
    items_q = "SELECT rank, paper_id, data FROM digest_items WHERE digest_pk = ? ORDER BY rank"
    items = tuple(_item(i) for i in lib.conn.execute(items_q, (pk,)))
    return DigestRow(
        int(r["pk"]), r["profile"], r["created_at"], r["since"], r["last_paper_pk"], r["status"],
        r["message_id"], r["recipient"], int(r["attempts"]), r["last_error"], r["sent_at"], items,
    )  # fmt: skip


def create_digest(
    lib: Library,
    profile: str,
    *,
    created_at: str,
    since: str | None,
    last_paper_pk: int,
    message_id: str,
    items: Sequence[DigestItemRow],
) -> int:
    """Store a digest as pending with its items (in their ranks); returns its pk."""
    cur = lib.conn.execute(
        """INSERT INTO digests (profile, created_at, since, last_paper_pk, status, message_id)
           VALUES (?, ?, ?, ?, 'pending', ?)""",
        (profile, created_at, since, last_paper_pk, message_id),
    )
    pk = int(cur.lastrowid or 0)
    lib.conn.executemany(
        "INSERT INTO digest_items (digest_pk, rank, paper_id, data) VALUES (?, ?, ?, ?)",
        [
            (
                pk,
                it.rank,
                it.paper_id,
                dumps({"score": it.score, "interest": it.interest, "reasons": list(it.reasons)}),
            )
            for it in items
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


def digests_of(lib: Library, profile: str, limit: int = 20) -> list[DigestRow]:
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
