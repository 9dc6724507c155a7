"""Bulk mode for a big import into a SQLite library: the full-text index is built once at the end.

Indexing each batch's papers in FTS5 as they are written costs a third of a big import (the index
is merged again and again as it grows). In bulk mode the new papers are written without it, and
`catch_up` indexes all of them with one INSERT ... SELECT when the import ends. The library is
never half-written:

- The settings row `fts_pending_from` holds the first pk not yet indexed; every paper below it is.
  It is set (committed) before the first batch and removed in the transaction that indexes the rest.
- A paper at or above it that is updated or deleted during the import is indexed first
  (`index_before_change`), so the FTS5 triggers never delete what was never indexed.
- The importing process holds an exclusive lock on `<library>-bulk` (lockf, released by the
  kernel when the process dies, even by SIGKILL). A library opened with the row still set and the lock
  free belongs to an interrupted bulk import: `finish_interrupted` indexes the papers it left
  before anything reads them, so no search silently misses a paper. Re-running the import skips
  the records already stored (they are content-addressed) and stores the rest.

While a bulk import runs, other processes see its committed papers in lists and pages, but keyword
search finds them only once the import ends. Does I/O (the database, the lock file).
"""

from __future__ import annotations

import fcntl
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from typing import Any

from ..errors import InvalidInput

log = logging.getLogger(__name__)

PENDING = "fts_pending_from"
CACHE_KIB = 262144  # page cache while bulk-importing (256 MB): the alias and key b-trees stay in memory


def lock_path(db_path: str) -> str:
    return db_path + "-bulk"


def pending_from(conn: Any) -> int | None:
    """The first pk the full-text index does not hold yet, or None when it holds every paper."""
    row = conn.execute("SELECT value FROM settings WHERE key = ?", (PENDING,)).fetchone()
    return None if row is None else int(row[0])


def _set_pending(conn: Any, pk: int) -> None:
    conn.execute(
        "INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?)"
        " ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
        (PENDING, str(pk), datetime.now(UTC).isoformat(timespec="seconds")),
    )


def catch_up(conn: Any, *, keep_pending: bool = False) -> int:
    """Index every paper at or above the pending pk (inside the caller's transaction); returns how
    many. `keep_pending` (a bulk import still running) moves the mark past them instead of
    removing it."""
    start = pending_from(conn)
    if start is None:
        return 0
    cur = conn.execute(
        "INSERT INTO papers_fts (rowid, title, abstract, authors)"
        " SELECT pk, title, abstract, authors FROM papers WHERE pk >= ?"
        " AND pk NOT IN (SELECT id FROM papers_fts_docsize WHERE id >= ?)",
        (start, start),
    )
    if keep_pending:
        top = conn.execute("SELECT coalesce(max(pk), 0) FROM papers").fetchone()[0]
        _set_pending(conn, max(start, int(top) + 1))
    else:
        conn.execute("DELETE FROM settings WHERE key = ?", (PENDING,))
    return int(cur.rowcount)


def index_before_change(conn: Any, pk: int) -> None:
    """Before a paper's text is updated or the paper deleted: index it if bulk mode left it out, so
    the triggers' FTS5 'delete' removes what is there (deleting what is not corrupts the index)."""
    start = pending_from(conn)
    if start is None or pk < start:
        return
    conn.execute(
        "INSERT INTO papers_fts (rowid, title, abstract, authors) SELECT pk, title, abstract, authors"
        " FROM papers WHERE pk = ? AND pk NOT IN (SELECT id FROM papers_fts_docsize WHERE id = ?)",
        (pk, pk),
    )


_HELD: set[str] = set()  # libraries this process is bulk-importing into


@contextmanager
def holding_lock(db_path: str) -> Iterator[bool]:
    """Hold the bulk lock of this library: yields False (holding nothing) when another process, or
    this one, has it. A POSIX lock (lockf): the kernel drops it when the process dies, and a forked
    parsing worker does not inherit it (a flock would outlive a killed import in its worker)."""
    key = os.path.realpath(db_path)
    if key in _HELD:
        yield False
        return
    fd = os.open(lock_path(db_path), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        try:
            fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            yield False
            return
        _HELD.add(key)
        try:
            yield True
        finally:
            _HELD.discard(key)
    finally:
        os.close(fd)  # releases the lock


def finish_interrupted(lib: Any) -> None:
    """On opening a library: index the papers an interrupted bulk import left out of the index.
    Nothing to do (one settings lookup) unless a bulk import was interrupted; a running one (its
    lock held) is left alone."""
    if lib.path == ":memory:" or pending_from(lib.conn) is None:
        return
    with holding_lock(lib.path) as mine:
        if not mine:
            return
        with lib.transaction():
            n = catch_up(lib.conn)
        if n:
            log.warning("indexed %d papers for keyword search that an interrupted import had left out", n)
        _remove_lock_file(lib.path)


def _remove_lock_file(db_path: str) -> None:
    with suppress(FileNotFoundError):
        os.unlink(lock_path(db_path))


@contextmanager
def bulk_mode(lib: Any) -> Iterator[None]:
    """Run a big import in bulk mode (see the module's docstring). The index is finished when the
    block ends, also when it ends by an error or Ctrl-C (a second Ctrl-C leaves that to the next
    command that opens the library)."""
    if lib.path == ":memory:":
        yield
        return
    with holding_lock(lib.path) as mine:
        if not mine:
            raise InvalidInput(f"{lib.path}: another bulk import into this library is running")
        with lib.transaction():
            catch_up(lib.conn)  # one left by an interrupted import, first
            _set_pending(lib.conn, lib.max_paper_pk() + 1)
        (old_cache,) = lib.conn.execute("PRAGMA cache_size").fetchone()
        lib.conn.execute(f"PRAGMA cache_size=-{CACHE_KIB}")
        lib.fts_deferred = True
        try:
            yield
        finally:
            lib.fts_deferred = False
            lib.conn.execute(f"PRAGMA cache_size={int(old_cache)}")
            _finish(lib)
        _remove_lock_file(lib.path)


def _finish(lib: Any) -> None:
    with lib.transaction():
        n = catch_up(lib.conn)
    log.info("bulk import: %d papers indexed for keyword search", n)
