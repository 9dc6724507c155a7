"""Cheap fingerprints of what a profile's recommendations depend on, so a cache of them knows when
it is out of date without recomputing anything (web/home.py), and which shown papers have since
been acted on. Does I/O: reads SQL only."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from .base import Library

# one row: the library's newest paper and embedding change, and the profile's feedback, papers,
# seen papers, followed authors, keyword rules and whole profile row (interests and anything else stored on it)
_STATE = """
SELECT (SELECT max(pk) FROM papers),
       (SELECT seq FROM sqlite_sequence WHERE name = 'embedding_log'),
       (SELECT count(*) || ':' || ifnull(max(pk), 0) FROM feedback WHERE profile_pk = ?),
       (SELECT count(*) FROM profile_papers WHERE profile_pk = ?),
       (SELECT count(*) FROM seen WHERE profile_pk = ?),
       (SELECT group_concat(author, '|') FROM profile_follows WHERE profile_pk = ?),
       (SELECT group_concat(kind || ':' || word, '|') FROM profile_rules WHERE profile_pk = ?)
"""


def profile_state(lib: Library, profile_pk: int) -> str:
    """A string that changes when the library gains papers or embeddings, or the profile changes
    (feedback given or undone, papers added or removed, interests edited, papers marked seen)."""
    row = lib.conn.execute(_STATE, (profile_pk,) * 5).fetchone()
    prof = lib.conn.execute("SELECT * FROM profiles WHERE pk = ?", (profile_pk,)).fetchone()
    text = repr((tuple(row), tuple(prof) if prof else None))
    return hashlib.sha1(text.encode()).hexdigest()[:16]


def seen_among(lib: Library, profile_pk: int, pks: Sequence[int]) -> set[int]:
    """Which of `pks` the profile has seen or given feedback on."""
    if not pks:
        return set()
    marks = ",".join("?" * len(pks))
    q = f"SELECT paper_pk FROM seen WHERE profile_pk = ? AND paper_pk IN ({marks})"
    q += f" UNION SELECT paper_pk FROM feedback WHERE profile_pk = ? AND paper_pk IN ({marks})"
    return {r[0] for r in lib.conn.execute(q, (profile_pk, *pks, profile_pk, *pks))}


def digest_state(lib: Library, profile: str) -> str:
    """A string that changes when a digest of the profile is stored, sent or retried."""
    q = "SELECT count(*), max(pk), group_concat(status), sum(attempts) FROM digests WHERE profile = ?"
    return repr(tuple(lib.conn.execute(q, (profile,)).fetchone()))


_LIBRARY = """
SELECT (SELECT max(pk) FROM papers), (SELECT max(updated_at) FROM papers),
       (SELECT max(pk) FROM records), (SELECT max(pk) FROM corrections),
       (SELECT seq FROM sqlite_sequence WHERE name = 'embedding_log')
"""


def library_state(lib: Library) -> str:
    """A string that changes when papers are added, merged or changed, or embeddings change
    (each part one index lookup: papers.updated_at is indexed)."""
    return repr(tuple(lib.conn.execute(_LIBRARY).fetchone()))
