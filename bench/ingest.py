"""Ingest speed: paperradar's full import against a floor, on the same records, in the same run.

Floor: decompress, `json.loads` each line, `executemany` (id, title, abstract, authors) into a
plain SQLite table, one commit. paperradar: the real `import_source` (parsing, cleaning, matching,
merging, provenance, raw records, FTS5 index, batched transactions).
The input is the first N lines of ../shared/corpora/arxiv-118k/arxiv_metadata.jsonl.xz
(default: all 118,024), decompressed once to a temporary JSONL file that both read.

    .venv/bin/python bench/ingest.py [--limit N] [--json]
"""

from __future__ import annotations

import argparse
import json
import lzma
import os
import resource
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpora" / "arxiv-118k" / "arxiv_metadata.jsonl.xz"


def floor(path: Path, db: Path, fts: bool = False) -> float:
    """The issue's floor; with fts=True also a full-text index of the same rows (a second reference)."""
    start = time.perf_counter()
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("CREATE TABLE p (id TEXT PRIMARY KEY, title TEXT, abstract TEXT, authors TEXT)")
    if fts:
        conn.execute(
            "CREATE VIRTUAL TABLE f USING fts5(title, abstract, authors, tokenize='porter unicode61')"
        )
    rows = []
    with path.open("rb") as f:
        for line in f:
            d = json.loads(line)
            rows.append((d["id"], d["title"], d["abstract"], json.dumps(d["authors"])))
    conn.executemany("INSERT INTO p VALUES (?, ?, ?, ?)", rows)
    if fts:
        conn.executemany("INSERT INTO f VALUES (?, ?, ?)", [r[1:] for r in rows])
    conn.commit()
    conn.close()
    return time.perf_counter() - start


def paperradar(path: Path, db: Path) -> tuple[float, dict]:
    from paperradar.importers.base import Source
    from paperradar.ingest import import_source
    from paperradar.storage import open_library

    start = time.perf_counter()
    lib = open_library(db)
    report = import_source(lib, Source.from_file(path), "arxiv_snapshot")
    lib.close()
    return time.perf_counter() - start, report.as_json()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--limit", type=int, default=None, help="first N records only")
    ap.add_argument("--json", action="store_true", help="print results as JSON")
    args = ap.parse_args()
    if not CORPUS.exists():
        sys.exit(f"{CORPUS} not found: this benchmark needs ../shared/corpora")
    with tempfile.TemporaryDirectory() as tmp:
        jsonl = Path(tmp) / "corpus.jsonl"
        n = 0
        with lzma.open(CORPUS, "rb") as src, jsonl.open("wb") as dst:
            for line in src:
                if args.limit is not None and n >= args.limit:
                    break
                dst.write(line)
                n += 1
        t_floor = floor(jsonl, Path(tmp) / "floor.db")
        t_fts = floor(jsonl, Path(tmp) / "floor_fts.db", fts=True)
        t_ours, report = paperradar(jsonl, Path(tmp) / "lib.db")
        size = sum(f.stat().st_size for f in Path(tmp).glob("lib.db*"))
        t_again, again = paperradar(jsonl, Path(tmp) / "lib.db")  # re-import: everything unchanged
    result = {
        "records": n,
        "floor_s": round(t_floor, 2),
        "floor_rec_per_s": round(n / t_floor),
        "paperradar_s": round(t_ours, 2),
        "paperradar_rec_per_s": round(n / t_ours),
        "ratio_to_floor": round(t_floor / t_ours, 3),
        "floor_fts_rec_per_s": round(n / t_fts),
        "ratio_to_floor_fts": round(t_fts / t_ours, 3),
        "reimport_s": round(t_again, 2),
        "reimport_unchanged": again["unchanged"],
        "library_mb": round(size / 1e6, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "new": report["new"],
        "merged": report["merged"],
        "rejected": len(report["rejected"]),
        "cpus": os.cpu_count(),
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"records                 {n:,}")
    print(f"floor (json+executemany) {result['floor_rec_per_s']:>8,} rec/s  ({t_floor:.1f} s)")
    print(f"floor + FTS5 index       {result['floor_fts_rec_per_s']:>8,} rec/s  ({t_fts:.1f} s)")
    print(f"paperradar import        {result['paperradar_rec_per_s']:>8,} rec/s  ({t_ours:.1f} s)")
    print(f"ratio to floor           {result['ratio_to_floor']:.3f}  (goal >= 0.333)")
    print(f"ratio to floor + FTS5    {result['ratio_to_floor_fts']:.3f}")
    print(f"re-import (all unchanged) {t_again:.1f} s, {again['unchanged']:,} unchanged")
    print(f"library size {result['library_mb']} MB, peak RSS {result['peak_rss_mb']} MB")
    print(f"papers new {report['new']:,}, merged {report['merged']:,}, rejected {len(report['rejected'])}")


if __name__ == "__main__":
    main()
