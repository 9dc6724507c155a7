"""Time and memory of `topics build` at millions of papers, on a library replicated from a smaller one.

A real library of that size takes hours to import and embed; topics only read each paper's title,
abstract and vector. This makes `--out` from `--db` (an embedded library, e.g. bench/out/lib-118k.db)
by copying its papers' texts and vectors `--copies` times under new pks (plain SQL, no import, no
full-text index), then times `paperradar topics build --json` on it in a child process with the
child's own peak RSS (bench/topics.py's build_child). The copies repeat the same vectors, so the
result says what the build costs at that size (reading, fitting on the sample, streaming every
vector, storing every assignment), not how good its topics are: quality is bench/topics.py's.

    .venv/bin/python bench/topics_scale.py --db bench/out/lib-118k.db --copies 26 --out bench/out/topics-3m.db
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import time
from pathlib import Path

from paperradar.storage import open_library
from topics import build_child


def replicate(src: Path, out: Path, copies: int) -> int:
    """Papers (id, title, abstract) and vectors of `src`, `copies` times, into a new library."""
    if out.exists():
        raise SystemExit(f"{out} exists: remove it or pick another --out")
    open_library(out).close()  # the schema
    conn = sqlite3.connect(out)
    conn.execute("PRAGMA journal_mode=OFF")
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("ATTACH DATABASE ? AS src", (f"file:{src}?mode=ro",))
    step = conn.execute("SELECT max(pk) FROM src.papers").fetchone()[0] + 1
    for c in range(copies):
        conn.execute(
            "INSERT INTO papers (pk, id, title, abstract, data, created_at, updated_at)"
            " SELECT pk + ?1, id || '#' || ?2, title, abstract, '{}', created_at, updated_at FROM src.papers",
            (c * step, c),
        )
        conn.execute(
            "INSERT INTO embeddings (paper_pk, model_id, text_hash, vector)"
            " SELECT paper_pk + ?1, model_id, text_hash, vector FROM src.embeddings",
            (c * step,),
        )
        conn.commit()
    n = conn.execute("SELECT count(*) FROM papers").fetchone()[0]
    conn.close()
    return int(n)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--db", type=Path, required=True, help="an embedded library to replicate (read only)")
    ap.add_argument("--copies", type=int, required=True)
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    start = time.perf_counter()
    papers = replicate(args.db.resolve(), args.out, args.copies)
    made = time.perf_counter() - start
    report = {"papers": papers, "replicate_s": round(made, 1), "build": build_child(args.out)}
    report["library_bytes"] = args.out.stat().st_size
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
