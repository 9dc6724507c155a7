"""Storing a topic build's assignments: INSERT OR REPLACE against plain INSERT, with SQLite's default
page cache or a bigger one. Re-inserts the first N of a library's own assignments after the
build's DELETE, inside a transaction it rolls back (the library is left as it was); prints wall,
CPU and bytes the process wrote (/proc/self/io's wchar, Linux).

    .venv/bin/python bench/topics_store.py LIBRARY N "INSERT OR REPLACE" INSERT [--cache-kib 131072]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from paperradar.storage import open_library
from paperradar.storage import topics as db


def written() -> int:
    fields = dict(line.split(": ") for line in Path("/proc/self/io").read_text().splitlines())
    return int(fields["wchar"])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("library", type=Path)
    ap.add_argument("rows", type=int)
    ap.add_argument("verbs", nargs="+", help='"INSERT OR REPLACE" and/or INSERT, timed in this order')
    ap.add_argument("--cache-kib", type=int, help="PRAGMA cache_size=-KIB first (default: SQLite's 2 MB)")
    args = ap.parse_args()
    lib = open_library(args.library)
    if args.cache_kib:
        lib.conn.execute(f"PRAGMA cache_size=-{args.cache_kib}")
    a = db.assignments(lib)
    n = args.rows
    rows = list(zip(a.pk[:n].tolist(), a.topic[:n].tolist(), a.score[:n].astype(float).tolist(),
                    a.x[:n].tolist(), a.y[:n].tolist(), strict=True))  # fmt: skip
    for verb in args.verbs:
        lib.conn.execute("BEGIN IMMEDIATE")
        lib.conn.execute("DELETE FROM paper_topics")
        w, t, c = written(), time.perf_counter(), time.process_time()
        sql = f"{verb} INTO paper_topics (paper_pk, topic, score, x, y) VALUES (?, ?, ?, ?, ?)"
        lib.conn.executemany(sql, rows)
        wall, cpu, gb = time.perf_counter() - t, time.process_time() - c, (written() - w) / 1e9
        print(
            f"{verb}: {len(rows):,} rows, {wall:.1f} s wall, {cpu:.1f} s CPU, {gb:.2f} GB written", flush=True
        )
        lib.conn.execute("ROLLBACK")
    lib.close()


if __name__ == "__main__":
    main()
