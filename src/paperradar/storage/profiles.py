"""SQL for profiles: their papers, interests, feedback and the papers each has seen.

Functions take the library (for its connection); writes must run inside `lib.transaction()`.
Does I/O (the database).
"""

from __future__ import annotations

import json
import random
from dataclasses import asdict, dataclass
from typing import Any

from ..errors import NotFound
from ..models import FEEDBACK_KINDS as FEEDBACK_KINDS  # the one home (models.py); read here by callers
from . import users
from .base import Library
from .common import dumps


@dataclass(frozen=True, slots=True)
class Interest:
    """One of a profile's interests, as stored in its `interests` JSON column: a name, its key
    terms and the ids of the profile's papers in it."""

    name: str
    terms: list[str]
    papers: list[str]


@dataclass(frozen=True, slots=True)
class ProfileRow:
    """A row of the profiles table (cheap to read: none of its papers, feedback or seen marks)."""

    pk: int
    name: str  # as stored (a name is looked up without regard to case)
    author: str | None
    created_at: str
    recommended_at: str | None
    interests: list[Interest]
    threshold: float | None


@dataclass(frozen=True, slots=True)
class FeedbackRow:
    """A row of the feedback table: one like, dislike or not-interested mark."""

    pk: int
    paper_pk: int
    kind: str  # one of FEEDBACK_KINDS
    created_at: str


@dataclass(frozen=True, slots=True)
class AuthorPaper:
    """A paper found by an author's last name (`author_rows`): what telling people apart needs."""

    pk: int
    id: str
    title: str | None
    abstract: str | None
    date: str | None
    authors: list[str]  # names, in the paper's order
    categories: list[str]


def profile_row(lib: Library, name: str) -> ProfileRow:
    """The profile's row (NotFound when there is none the viewer may see)."""
    q = "SELECT pk, name, author, created_at, recommended_at, interests, threshold FROM profiles WHERE name = ?"
    r = lib.conn.execute(q, (name,)).fetchone()
    if r is None or users.hidden(lib, int(r["pk"])):  # issue 16: another user's profile is not found
        raise NotFound(f"no profile named {name!r} (see `paperradar profile list`)")
    return ProfileRow(
        pk=int(r["pk"]),
        name=r["name"],
        author=r["author"],
        created_at=r["created_at"],
        recommended_at=r["recommended_at"],
        interests=[Interest(i["name"], i["terms"], i["papers"]) for i in json.loads(r["interests"])],
        threshold=r["threshold"],
    )


def profile_exists(lib: Library, name: str) -> bool:
    """Whether any profile has this name (anyone's: names are unique across users)."""
    return lib.conn.execute("SELECT 1 FROM profiles WHERE name = ?", (name,)).fetchone() is not None


def profile_names(lib: Library) -> list[str]:
    names = [r[0] for r in lib.conn.execute("SELECT name FROM profiles ORDER BY name COLLATE NOCASE")]
    return users.visible_names(lib, names)  # issue 16: only the signed-in user's


def insert_profile(lib: Library, name: str, author: str | None, now: str) -> int:
    cur = lib.conn.execute(
        "INSERT INTO profiles (name, author, created_at) VALUES (?, ?, ?)", (name, author, now)
    )
    pk = int(cur.lastrowid or 0)
    users.claim(lib, pk)  # issue 16: the signed-in user owns what they create
    return pk


def delete_profile(lib: Library, profile_pk: int) -> None:
    lib.conn.execute("DELETE FROM profiles WHERE pk = ?", (profile_pk,))


def set_interests(lib: Library, profile_pk: int, interests: list[Interest]) -> None:
    stored = [asdict(i) for i in interests]
    lib.conn.execute("UPDATE profiles SET interests = ? WHERE pk = ?", (dumps(stored), profile_pk))


def set_recommended_at(lib: Library, profile_pk: int, when: str) -> None:
    lib.conn.execute("UPDATE profiles SET recommended_at = ? WHERE pk = ?", (when, profile_pk))


def add_papers(lib: Library, profile_pk: int, pks: list[int], now: str) -> None:
    lib.conn.executemany(
        "INSERT OR IGNORE INTO profile_papers (profile_pk, paper_pk, added_at) VALUES (?, ?, ?)",
        [(profile_pk, pk, now) for pk in pks],
    )


def remove_papers(lib: Library, profile_pk: int, pks: list[int]) -> int:
    cur = lib.conn.executemany(
        "DELETE FROM profile_papers WHERE profile_pk = ? AND paper_pk = ?", [(profile_pk, pk) for pk in pks]
    )
    return cur.rowcount


def paper_pks(lib: Library, profile_pk: int) -> list[int]:
    q = "SELECT paper_pk FROM profile_papers WHERE profile_pk = ? ORDER BY added_at, paper_pk"
    return [r[0] for r in lib.conn.execute(q, (profile_pk,))]


def add_feedback(lib: Library, profile_pk: int, paper_pk: int, kind: str, now: str) -> None:
    lib.conn.execute(
        "INSERT INTO feedback (profile_pk, paper_pk, kind, created_at) VALUES (?, ?, ?, ?)",
        (profile_pk, paper_pk, kind, now),
    )


def pop_feedback(lib: Library, profile_pk: int) -> FeedbackRow | None:
    """Delete the profile's latest feedback and return it (None when there is none)."""
    q = "SELECT pk, paper_pk, kind, created_at FROM feedback WHERE profile_pk = ? ORDER BY pk DESC LIMIT 1"
    r = lib.conn.execute(q, (profile_pk,)).fetchone()
    if r is None:
        return None
    lib.conn.execute("DELETE FROM feedback WHERE pk = ?", (r["pk"],))
    return _feedback(r)


def feedback(lib: Library, profile_pk: int) -> list[FeedbackRow]:
    """Every feedback row of the profile, oldest first."""
    q = "SELECT pk, paper_pk, kind, created_at FROM feedback WHERE profile_pk = ? ORDER BY pk"
    return [_feedback(r) for r in lib.conn.execute(q, (profile_pk,))]


def _feedback(r: Any) -> FeedbackRow:
    return FeedbackRow(int(r["pk"]), int(r["paper_pk"]), r["kind"], r["created_at"])


def current_feedback(lib: Library, profile_pk: int) -> dict[int, str]:
    """The latest feedback kind per paper (a later mark replaces an earlier one)."""
    return {row.paper_pk: row.kind for row in feedback(lib, profile_pk)}


def mark_seen(lib: Library, profile_pk: int, pks: list[int], now: str) -> None:
    lib.conn.executemany(
        "INSERT OR IGNORE INTO seen (profile_pk, paper_pk, seen_at) VALUES (?, ?, ?)",
        [(profile_pk, pk, now) for pk in pks],
    )


def seen_pks(lib: Library, profile_pk: int) -> set[int]:
    return {r[0] for r in lib.conn.execute("SELECT paper_pk FROM seen WHERE profile_pk = ?", (profile_pk,))}


def papers_dated_since(lib: Library, since: str, limit: int | None = None) -> list[int]:
    """Papers whose best date is on or after `since` (ISO; a partial date compares as its start),
    newest first; the first `limit` of them (None: all; millions in a big library)."""
    q = "SELECT pk FROM papers WHERE date >= ? ORDER BY date DESC, pk DESC"
    return _pks(lib, q, since, limit)


def papers_added_since(lib: Library, since: str, limit: int | None = None) -> list[int]:
    """Papers first added to the library at or after `since` (an ISO timestamp), newest first;
    the first `limit` of them (None: all)."""
    return _pks(lib, "SELECT pk FROM papers WHERE created_at >= ? ORDER BY pk DESC", since, limit)


def _pks(lib: Library, q: str, since: str, limit: int | None) -> list[int]:
    if limit is None:
        return [r[0] for r in lib.conn.execute(q, (since,))]
    return [r[0] for r in lib.conn.execute(q + " LIMIT ?", (since, limit))]


def unsee(lib: Library, profile_pk: int, pks: list[int]) -> None:
    """Forget that the profile was shown these papers (after an undo): they can come back."""
    lib.conn.executemany(
        "DELETE FROM seen WHERE profile_pk = ? AND paper_pk = ?", [(profile_pk, pk) for pk in pks]
    )


def clear_feedback(lib: Library, profile_pk: int) -> list[int]:
    """Delete every feedback mark of the profile; returns the papers they were on."""
    pks = [
        r[0] for r in lib.conn.execute("SELECT paper_pk FROM feedback WHERE profile_pk = ?", (profile_pk,))
    ]
    lib.conn.execute("DELETE FROM feedback WHERE profile_pk = ?", (profile_pk,))
    return pks


def clear_seen(lib: Library, profile_pk: int) -> None:
    lib.conn.execute("DELETE FROM seen WHERE profile_pk = ?", (profile_pk,))


def follows(lib: Library, profile_pk: int) -> list[str]:
    q = "SELECT author FROM profile_follows WHERE profile_pk = ? ORDER BY added_at, author"
    return [r[0] for r in lib.conn.execute(q, (profile_pk,))]


def add_follow(lib: Library, profile_pk: int, author: str, now: str) -> None:
    lib.conn.execute(
        "INSERT OR IGNORE INTO profile_follows (profile_pk, author, added_at) VALUES (?, ?, ?)",
        (profile_pk, author, now),
    )


def remove_follow(lib: Library, profile_pk: int, author: str) -> int:
    q = "DELETE FROM profile_follows WHERE profile_pk = ? AND author = ?"
    return lib.conn.execute(q, (profile_pk, author)).rowcount


def rules(lib: Library, profile_pk: int) -> dict[str, list[str]]:
    """{"must": [...], "exclude": [...]}, each in the order added."""
    out: dict[str, list[str]] = {"must": [], "exclude": []}
    q = "SELECT kind, word FROM profile_rules WHERE profile_pk = ? ORDER BY added_at, word"
    for kind, word in lib.conn.execute(q, (profile_pk,)):
        out[kind].append(word)
    return out


def add_rule(lib: Library, profile_pk: int, kind: str, word: str, now: str) -> None:
    lib.conn.execute(
        "INSERT OR IGNORE INTO profile_rules (profile_pk, kind, word, added_at) VALUES (?, ?, ?, ?)",
        (profile_pk, kind, word, now),
    )


def remove_rule(lib: Library, profile_pk: int, kind: str, word: str) -> int:
    q = "DELETE FROM profile_rules WHERE profile_pk = ? AND kind = ? AND word = ?"
    return lib.conn.execute(q, (profile_pk, kind, word)).rowcount


def set_threshold(lib: Library, profile_pk: int, value: float | None) -> None:
    lib.conn.execute("UPDATE profiles SET threshold = ? WHERE pk = ?", (value, profile_pk))


def state_stamp(lib: Library, profile_pk: int) -> tuple[object, ...]:
    """What a profile's fitted model depends on: its papers and its feedback (cheap to read)."""
    a = lib.conn.execute(
        "SELECT count(*), coalesce(sum(paper_pk), 0), coalesce(max(added_at), '') FROM profile_papers"
        " WHERE profile_pk = ?",
        (profile_pk,),
    ).fetchone()
    b = lib.conn.execute(
        "SELECT count(*), coalesce(max(pk), 0), coalesce(sum(pk), 0) FROM feedback WHERE profile_pk = ?",
        (profile_pk,),
    ).fetchone()
    return (*tuple(a), *tuple(b))


def random_pks(lib: Library, n: int, avoid: set[int], seed: int) -> list[int]:
    """Up to n papers drawn at random (reproducibly, from `seed`), none of them in `avoid`."""
    top = lib.max_paper_pk()
    if top == 0:
        return []
    every = [r[0] for r in lib.conn.execute("SELECT pk FROM papers")]
    pool = [pk for pk in every if pk not in avoid]
    rng = random.Random(seed)
    return sorted(rng.sample(pool, min(n, len(pool))))


def author_rows(lib: Library, last_name: str) -> list[AuthorPaper]:
    """Papers whose authors text contains `last_name` (a coarse full-text pre-filter; the caller
    checks the names), in pk order."""
    words = '"' + last_name.replace('"', "") + '"'
    q = (
        "SELECT p.pk, p.id, p.title, p.abstract, p.date, p.data FROM papers_fts f JOIN papers p"
        " ON p.pk = f.rowid WHERE papers_fts MATCH ? ORDER BY p.pk"
    )
    out = []
    for r in lib.conn.execute(q, (f"authors : {words}",)):
        data = json.loads(r["data"])
        out.append(
            AuthorPaper(
                pk=int(r["pk"]),
                id=r["id"],
                title=r["title"],
                abstract=r["abstract"],
                date=r["date"],
                authors=[a["name"] for a in data.get("authors", [])],
                categories=list(data.get("categories", [])),
            )
        )
    return out


def move_paper_refs(lib: Library, from_pk: int, to_pk: int) -> None:
    """When two papers are merged: every reference to `from_pk` follows to `to_pk` (profiles'
    papers, feedback, seen marks and any other table that refers to a paper: `lib.paper_refs`)."""
    lib.move_paper_refs(from_pk, to_pk)
