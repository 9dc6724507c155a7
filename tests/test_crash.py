"""An import killed with SIGKILL leaves a consistent library of whole batches, and running the
same import again completes it without duplicates.

Runs the real `paperradar` command as a subprocess on a generated 20,000-paper file in the shape
of the arXiv daily-listing corpus. Does I/O (temporary files, SQLite, subprocesses).
"""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

from conftest import REPO
from paperradar.ingest import BATCH
from paperradar.storage import open_library

PAPERRADAR = REPO / ".venv" / "bin" / "paperradar"
VOCABULARY = (
    "learning model neural network graph diffusion transformer attention robust sparse quantum optimal "
    "adaptive stochastic kernel bayesian latent policy reward agent vision language token embedding "
    "retrieval spectral manifold convex gradient descent scalable efficient benchmark dataset protein "
    "molecule lattice spin topological phase segmentation detection tracking reasoning planning memory "
    "compression quantization pruning distillation alignment preference feedback simulation control"
)
WORDS = VOCABULARY.split()
CATEGORIES = ["cs.CV", "cs.CL", "cs.LG", "cs.AI", "quant-ph", "cond-mat.mtrl-sci", "cs.RO", "stat.ML"]


def corpus_line(rng: random.Random, i: int) -> str:
    def sentence(n: int) -> str:
        return " ".join(rng.choice(WORDS) for _ in range(n)).capitalize() + "."

    title = f"{sentence(rng.randint(6, 12))[:-1]}: Case {i}"
    abstract = " ".join(sentence(rng.randint(12, 24)) for _ in range(rng.randint(6, 10)))
    cats = rng.sample(CATEGORIES, rng.randint(1, 3))
    day = 1 + i % 28
    return json.dumps(
        {
            "id": f"2501.{i:05d}",
            "title": title,
            "abstract": f"{abstract} We release study {i}.",
            "authors": [
                f"Author{rng.randint(1, 20000)} Surname{rng.randint(1, 500)}"
                for _ in range(rng.randint(1, 9))
            ],
            "categories": cats,
            "other_classes": [],
            "comment": None,
            "listing_date": f"2025-01-{day:02d}",
            "last_listing_date": f"2025-01-{day:02d}",
        }
    )


def write_corpus(path: Path, n: int) -> Path:
    rng = random.Random(20250115)
    with path.open("w", encoding="utf-8") as f:
        for i in range(1, n + 1):
            f.write(corpus_line(rng, i) + "\n")
    return path


def committed_records(db: Path) -> int | None:
    """Records committed so far, as another process sees them (None before the schema exists)."""
    if not db.exists():
        return None
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1)
        try:
            return int(conn.execute("SELECT count(*) FROM records").fetchone()[0])
        finally:
            conn.close()
    except sqlite3.DatabaseError:
        return None


def import_and_kill(db: Path, path: Path, total: int, deadline: float) -> int | None:
    """Start the import, SIGKILL it once at least one batch is in but not all; the records seen
    at that moment, or None when the import finished first."""
    with open(db.parent / "import.log", "wb") as log:
        proc = subprocess.Popen(
            [str(PAPERRADAR), "--db", str(db), "import", "--no-index", str(path)], stdout=log, stderr=log
        )
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            n = committed_records(db)
            if n is not None and BATCH <= n < total:
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
                return n if proc.returncode == -signal.SIGKILL else None
            time.sleep(0.01)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
    assert time.monotonic() < deadline, "the import neither finished nor committed a batch in time"
    return None


def test_kill_minus_9_leaves_whole_batches_and_reimport_completes(tmp_path):
    deadline = time.monotonic() + 50
    total = 20_000
    while True:
        path = write_corpus(tmp_path / f"listing-{total}.jsonl", total)
        db = tmp_path / f"lib-{total}.db"
        seen = import_and_kill(db, path, total, deadline)
        if seen is not None:
            break
        total *= 2  # this machine imported it all before the kill: try a bigger file

    lib = open_library(db)
    try:
        assert lib.check_integrity() == []
        counts = lib.counts()
        n = counts["records"]
        assert n >= seen and BATCH <= n < total
        assert n % BATCH == 0, f"{n} records: a partial batch survived the kill"
        assert counts["papers"] == n and counts["imports"] == 0  # the killed import was never logged
        q = lambda sql: tuple(lib.conn.execute(sql).fetchone())  # noqa: E731
        assert q("SELECT min(line), max(line), count(DISTINCT line) FROM records") == (1, n, n)
        assert q("SELECT count(*) FROM papers_fts_docsize")[0] == n  # every paper is in the full-text index
        lacking = q(
            "SELECT count(*) FROM papers p WHERE NOT EXISTS (SELECT 1 FROM records r WHERE r.paper_pk = p.pk)"
            " OR NOT EXISTS (SELECT 1 FROM aliases a WHERE a.paper_pk = p.pk AND a.alias = p.id)"
            " OR NOT EXISTS (SELECT 1 FROM aliases a WHERE a.paper_pk = p.pk"
            "                AND a.alias = 'doi:10.48550/arxiv.' || substr(p.id, 7))"
        )[0]
        assert lacking == 0
        last = q(
            f"SELECT id FROM papers_fts JOIN papers ON papers.pk = papers_fts.rowid WHERE papers_fts MATCH 'title : \"Case {n}\"'"
        )
        assert last == (f"arxiv:2501.{n:05d}",)
    finally:
        lib.close()

    again = subprocess.run(
        [str(PAPERRADAR), "--db", str(db), "import", "--no-index", str(path), "--json"],
        capture_output=True,
        text=True,
        timeout=max(5.0, deadline - time.monotonic() + 10),
        check=True,
    )
    [report] = json.loads(again.stdout)["files"]
    assert report["read"] == total and report["rejected"] == []
    assert (report["unchanged"], report["new"], report["merged"]) == (n, total - n, 0)

    lib = open_library(db)
    try:
        assert lib.check_integrity() == []
        assert lib.counts()["papers"] == total and lib.counts()["records"] == total
        assert tuple(lib.conn.execute("SELECT count(DISTINCT id), count(*) FROM papers").fetchone()) == (
            total,
            total,
        )
        assert lib.conn.execute("SELECT count(*) FROM papers_fts_docsize").fetchone()[0] == total
    finally:
        lib.close()
