"""Bulk-mode import (`paperradar import --bulk`, storage/bulk.py): the full-text index is built once
at the end, and a bulk import interrupted by SIGKILL or Ctrl-C leaves a library whose keyword
search finds every paper it holds; running the import again completes it.

Runs the real `paperradar` command in a subprocess on a generated arXiv-listing file (test_crash's),
with bulk mode's transactions made 2 batches long (20 in use) so the test stays small.
Does I/O (temporary files, SQLite, subprocesses).
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

from paperradar.importers.base import Source
from paperradar.imports import import_sources
from paperradar.ingest import BATCH
from paperradar.search import search
from paperradar.storage import open_library
from paperradar.storage.bulk import PENDING, lock_path
from test_crash import PAPERRADAR, committed_records, write_corpus

GROUP = 2  # batches a bulk transaction, in these tests
FIRST = GROUP * BATCH  # records in a bulk import's first transaction
TOTAL = FIRST + 4 * BATCH
PYTHON = PAPERRADAR.parent / "python"


def paperradar(*args: str) -> list[str]:
    """The `paperradar` command line, run with bulk transactions of GROUP batches."""
    # SIGINT's handler restored: a command started in the background by a shell without job control
    # (a CI script's `cmd &`) inherits SIGINT ignored, so Ctrl-C would never reach it; a terminal's does
    code = (
        "import signal, sys; import paperradar.imports as i; from paperradar.cli import main;"
        " signal.signal(signal.SIGINT, signal.default_int_handler);"
        f" i.BULK_GROUP = {GROUP}; sys.argv = ['paperradar', *sys.argv[1:]]; main()"
    )
    return [str(PYTHON), "-c", code, *args]


def _raw(db: Path, sql: str) -> tuple:
    """A query answered without opening the library as paperradar does (which would finish the index)."""
    conn = sqlite3.connect(db)
    try:
        return tuple(conn.execute(sql).fetchone() or ())
    finally:
        conn.close()


def interrupt(db: Path, path: Path, sig: int) -> int:
    """Run a bulk import and send `sig` once its first transaction is in; the records it had."""
    with open(db.parent / "import.log", "wb") as log:
        proc = subprocess.Popen(
            paperradar("--db", str(db), "import", "--no-index", "--bulk", str(path)),
            stdout=log,
            stderr=log,
        )
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            n = committed_records(db)
            if n is not None and n >= FIRST:
                os.kill(proc.pid, sig)
                proc.wait(timeout=60)
                return n
            time.sleep(0.02)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
    raise AssertionError(f"the bulk import ended (code {proc.returncode}) before it could be interrupted")


def assert_every_paper_found(db: Path, expected: int) -> None:
    lib = open_library(db)
    try:
        assert lib.check_integrity() == []
        assert lib.counts()["papers"] == expected
        assert lib.conn.execute("SELECT count(*) FROM papers_fts_docsize").fetchone()[0] == expected
        for i in (1, expected // 2, expected):  # each paper's abstract ends "We release study <i>."
            hits = search(lib, f'"release study {i}"').hits
            assert [h.paper.id for h in hits] == [f"arxiv:2501.{i:05d}"]
    finally:
        lib.close()


def rerun(db: Path, path: Path, done: int) -> None:
    again = subprocess.run(
        paperradar("--db", str(db), "import", "--no-index", "--bulk", str(path), "--json"),
        capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    [report] = json.loads(again.stdout)["files"]
    assert (report["read"], report["unchanged"], report["new"]) == (TOTAL, done, TOTAL - done)
    assert_every_paper_found(db, TOTAL)


def test_bulk_import_killed_is_indexed_on_next_open_and_resumes(tmp_path):
    path = write_corpus(tmp_path / "listing.jsonl", TOTAL)
    db = tmp_path / "lib.db"
    n = interrupt(db, path, signal.SIGKILL)
    assert FIRST <= n < TOTAL and n % FIRST == 0  # whole transactions only
    # as the killed import left it: papers stored, the index not yet holding them, and saying so
    assert _raw(db, "SELECT count(*) FROM papers") == (n,)
    assert _raw(db, "SELECT count(*) FROM papers_fts_docsize") == (0,)
    assert _raw(db, f"SELECT value FROM settings WHERE key = '{PENDING}'") == ("1",)

    assert_every_paper_found(db, n)  # opening it indexed what the import left out
    assert _raw(db, f"SELECT count(*) FROM settings WHERE key = '{PENDING}'") == (0,)
    assert not Path(lock_path(str(db))).exists()
    rerun(db, path, n)


def test_bulk_import_stopped_by_ctrl_c_finishes_the_index_before_exiting(tmp_path):
    path = write_corpus(tmp_path / "listing.jsonl", TOTAL)
    db = tmp_path / "lib.db"
    n = interrupt(db, path, signal.SIGINT)
    papers = _raw(db, "SELECT count(*) FROM papers")[0]
    assert n <= papers < TOTAL
    assert _raw(db, "SELECT count(*) FROM papers_fts_docsize") == (papers,)  # indexed before it exited
    assert _raw(db, f"SELECT count(*) FROM settings WHERE key = '{PENDING}'") == (0,)
    rerun(db, path, papers)


def test_library_opened_during_a_bulk_import_leaves_its_index_to_it(tmp_path):
    """The library opened again mid-import (here in the same process; another process is kept
    out by the lock, as the tests above show) must not index, and so unmark, the papers the import
    is still writing; a paper updated by a second record of the same import stays consistent."""
    first = Source.from_file(write_corpus(tmp_path / "a.jsonl", 3))
    line = json.loads(first.head(1 << 20).splitlines()[1])
    line["abstract"] = "A corrected abstract about zeolites."
    line["last_listing_date"] = "2025-02-01"
    update = Source.from_bytes(json.dumps(line).encode(), "b")
    db = tmp_path / "lib.db"
    lib = open_library(db)
    try:
        with lib.bulk_import():
            import_sources(lib, [first])
            other = open_library(db)  # as `paperradar search` would, while the import runs
            assert other.conn.execute("SELECT count(*) FROM papers_fts_docsize").fetchone()[0] == 0
            other.close()
            merged = import_sources(lib, [update]).files[0]
        assert (merged.new, merged.merged) == (0, 1)  # the paper's row updated: its FTS5 trigger ran
        assert lib.check_integrity() == []
        assert [h.paper.id for h in search(lib, '"release study 2"').hits] == ["arxiv:2501.00002"]
        assert lib.conn.execute("SELECT count(*) FROM papers_fts_docsize").fetchone()[0] == 3
    finally:
        lib.close()
