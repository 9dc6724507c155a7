"""`papers rebuild` time on SQLite and PostgreSQL: the first N records of the arXiv corpus imported,
a profile with likes and seen marks added, then one rebuild timed (it re-matches every record and
carries the rows that refer to papers, in one transaction). Results in docs/benchmarks.md.

    .venv/bin/python bench/rebuild.py LOCATION [--limit N] [--json]

LOCATION: a new SQLite file, or an empty PostgreSQL database (postgresql://...).
"""

from __future__ import annotations

import argparse
import json
import lzma
import tempfile
import time
from itertools import islice
from pathlib import Path

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpora" / "arxiv-118k" / "arxiv_metadata.jsonl.xz"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("location")
    ap.add_argument("--limit", type=int, default=20_000)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    from paperradar import profiles as P
    from paperradar.importers.base import Source
    from paperradar.ingest import import_source
    from paperradar.papers import rebuild
    from paperradar.storage import open_library

    with tempfile.TemporaryDirectory() as tmp, lzma.open(CORPUS, "rb") as f:
        sample = Path(tmp) / "sample.jsonl"
        sample.write_bytes(b"".join(islice(f, args.limit)))
        lib = open_library(args.location)
        start = time.perf_counter()
        import_source(lib, Source.from_file(sample))
        imported = time.perf_counter() - start
    pks = lib.list_pks(200, order="added")
    ids = [lib.paper_row(pk).id for pk in pks]
    P.create_profile(lib, "bench", papers=ids[:20])
    for ref in ids[20:60]:
        P.give_feedback(lib, "bench", ref, "like")
    P.mark_seen(lib, "bench", pks[60:200])
    start = time.perf_counter()
    report = rebuild(lib)
    seconds = time.perf_counter() - start
    lib.close()
    result = {"records": report["records"], "papers": report["papers"], "import_s": round(imported, 1),
              "rebuild_s": round(seconds, 1), "user_rows_kept": report["user_rows_kept"]}  # fmt: skip
    print(json.dumps(result) if args.json else result)


if __name__ == "__main__":
    main()
