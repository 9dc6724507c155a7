"""The team backend next to the default one: the same imports into SQLite and PostgreSQL, in the
same run, then the same queries on both.

1. The seed pages (../shared/samples/pages) imported into both: papers, merges and the exported
   JSONL (each line's keys sorted, the import times left out) must be identical.
2. The first N records of ../shared/corpora/arxiv-118k (all with --records 0) imported into both
   with `paperradar import`, one after the other (parsing, matching, writing, and unless
   --no-index the fast tier's embeddings): records per second; papers, merges and the exported
   JSONL compared (and its SHA-256 on each side).
3. Keyword search, `search(lib, q, limit=20)`, 200 queries drawn as bench/search.py draws them
   (seed 0, from the SQLite library's titles), interleaved, after one warming pass: p50/p99 ms;
   hybrid (`mode="hybrid"`, query embedding included): p50/p99 ms over the first 50 queries; how
   many of each query's first 10 papers the backends share (they rank differently).

    PAPERRADAR_TEST_PG=$(sh tests/start_postgres.sh) .venv/bin/python bench/team.py [--records N]
        [--no-index] [--skip-pages] [--queries 0]
    .venv/bin/python bench/team.py --compare LIBRARY.db postgresql://...   # step 3 only, e.g. after
        `paperradar db copy LIBRARY.db postgresql://...` of the 118k library

The PostgreSQL databases (paperradar_bench_pages, paperradar_bench_team_N) are made afresh (needs
the CREATEDB right that tests/start_postgres.sh gives its role). Writes bench/out/team-*.db.
Prints JSON.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import lzma
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "tests"))

from paperradar.errors import BackendUnavailable  # noqa: E402
from paperradar.papers import export_papers, list_papers  # noqa: E402
from paperradar.search import search  # noqa: E402
from paperradar.storage import open_library  # noqa: E402
from pg_databases import with_database  # noqa: E402
from search import make_queries, measure, percentiles  # noqa: E402

CORPUS = ROOT.parent / "shared" / "corpora" / "arxiv-118k" / "arxiv_metadata.jsonl.xz"
PAGES = ROOT.parent / "shared" / "samples" / "pages"
OUT = ROOT / "bench" / "out"
EXE = ROOT / ".venv" / "bin" / "paperradar"


def fresh_pg(base: str, name: str) -> str:
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')  # type: ignore[arg-type]
        conn.execute(f'CREATE DATABASE "{name}"')  # type: ignore[arg-type]
    return with_database(base, name)


def fresh_file(name: str) -> str:
    path = OUT / name
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return str(path)


NO_INDEX: list[str] = []  # ["--no-index"]: the corpus import without the fast tier's embeddings


def cli_import(location: str, *paths: str, options: tuple[str, ...] = ()) -> float:
    """Seconds `paperradar import` takes."""
    start = time.perf_counter()
    command = [str(EXE), "--db", location, "import", *options, *paths]
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def export_lines(location: str) -> list[str]:
    lib = open_library(location)
    try:
        text = export_papers(list_papers(lib, limit=None, order="added"), "jsonl")
    finally:
        lib.close()
    out = []
    for line in text.splitlines():
        row = json.loads(line)
        for key in ("added", "updated", "created_at", "updated_at"):
            row.pop(key, None)
        out.append(json.dumps(row, sort_keys=True))
    return out


def counts(location: str) -> dict[str, int]:
    lib = open_library(location)
    try:
        return lib.counts()
    finally:
        lib.close()


def seed_pages(base: str) -> dict[str, Any]:
    lite, pg = fresh_file("team-pages.db"), fresh_pg(base, "paperradar_bench_pages")
    pages = [str(p) for p in sorted(PAGES.iterdir())]
    secs = {"sqlite": cli_import(lite, *pages), "postgresql": cli_import(pg, *pages)}
    a, b = export_lines(lite), export_lines(pg)
    ca, cb = counts(lite), counts(pg)
    return {
        "files": len(pages),
        "papers": [ca["papers"], cb["papers"]],
        "merged_papers": [ca["merged_papers"], cb["merged_papers"]],
        "export_identical": a == b,
        "export_lines_differing": sum(x != y for x, y in zip(a, b, strict=False)) + abs(len(a) - len(b)),
        "import_s": {k: round(v, 2) for k, v in secs.items()},
    }


def corpus_slice(n: int) -> Path:
    if n <= 0:  # the whole corpus, read compressed by the importer itself
        return CORPUS
    path = OUT / f"team-arxiv-{n}.jsonl"
    if not path.exists():
        with lzma.open(CORPUS, "rt", encoding="utf-8") as src, open(path, "w", encoding="utf-8") as dst:
            for i, line in enumerate(src):
                if i >= n:
                    break
                dst.write(line)
    return path


def corpus(base: str, n: int, queries: int) -> dict[str, Any]:
    """Import the same records into both, one after the other; compare; time searches (queries > 0)."""
    data = corpus_slice(n)
    name = f"team-{n or 'all'}"
    lite, pg = fresh_file(f"{name}.db"), fresh_pg(base, f"paperradar_bench_{name.replace('-', '_')}")
    options = tuple(NO_INDEX)
    secs = {"sqlite": cli_import(lite, str(data), options=options)}
    secs["postgresql"] = cli_import(pg, str(data), options=options)
    a, b = export_lines(lite), export_lines(pg)
    records = n or counts(lite)["records"]
    return {
        "records": records,
        "locations": {"sqlite": lite, "postgresql": _safe(pg)},
        "papers": [counts(lite)["papers"], counts(pg)["papers"]],
        "merged_papers": [counts(lite)["merged_papers"], counts(pg)["merged_papers"]],
        "export_identical": a == b,
        "export_sha256": [checksum(a), checksum(b)],
        "import_s": {k: round(v, 1) for k, v in secs.items()},
        "embedded": not NO_INDEX,
        "records_per_s": {k: round(records / v) for k, v in secs.items()},
        **(searches(lite, pg, queries) if queries else {}),
    }


def checksum(lines: list[str]) -> str:
    """SHA-256 of the exported lines (import times left out, keys sorted)."""
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


def _safe(url: str) -> str:
    return url.split("@")[-1]


def searches(lite: str, pg: str, queries: int) -> dict[str, Any]:
    """Keyword (all queries) and hybrid (the first 50) search times on both libraries."""
    libs = {"sqlite": open_library(lite), "postgresql": open_library(pg)}
    try:
        qs = make_queries(libs["sqlite"], queries)
        kw = measure({k: (lambda q, lib=lib: search(lib, q, limit=20)) for k, lib in libs.items()}, qs)
        try:
            hy: dict[str, list[float]] | None = measure(
                {k: (lambda q, lib=lib: search(lib, q, mode="hybrid", limit=20)) for k, lib in libs.items()},
                qs[:50],
            )
        except BackendUnavailable:  # no vectors of the current fast tier (e.g. an older library)
            hy = None
        found = {k: [search(lib, q, limit=10) for q in qs] for k, lib in libs.items()}
    finally:
        for lib in libs.values():
            lib.close()
    totals = {k: [r.total for r in v[:50]] for k, v in found.items()}
    same = sum(a == b for a, b in zip(totals["sqlite"], totals["postgresql"], strict=True))
    return {
        "top10_overlap": top_overlap(found["sqlite"], found["postgresql"]),
        "keyword_ms": {k: percentiles(v) for k, v in kw.items()},
        "hybrid_ms": {k: percentiles(v) for k, v in hy.items()}
        if hy
        else "no vectors of the current fast tier",
        "same_total_matches_of_50": same,
        "queries": len(qs),
    }


def top_overlap(a: list[Any], b: list[Any]) -> dict[str, float]:
    """How many of one backend's first 10 papers the other also shows first, per query: the mean
    share (of the shorter list), and the share of queries whose first paper is the same."""
    shares, firsts, n = [], 0, 0
    for x, y in zip(a, b, strict=True):
        ids_x, ids_y = [h.paper.id for h in x.hits], [h.paper.id for h in y.hits]
        if not ids_x or not ids_y:
            continue
        n += 1
        shares.append(len(set(ids_x) & set(ids_y)) / min(len(ids_x), len(ids_y)))
        firsts += ids_x[0] == ids_y[0]
    return {
        "mean_share": round(sum(shares) / max(n, 1), 3),
        "same_first": round(firsts / max(n, 1), 3),
        "queries": n,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", type=int, default=20_000, help="0: the whole corpus")
    ap.add_argument("--no-index", action="store_true", help="import the corpus without embedding it")
    ap.add_argument("--skip-pages", action="store_true", help="skip step 1 (the seed pages)")
    ap.add_argument("--queries", type=int, default=200, help="0: no search timings")
    ap.add_argument(
        "--compare", nargs=2, metavar=("SQLITE", "POSTGRESQL"), help="only time searches on these"
    )
    args = ap.parse_args()
    if args.compare:
        print(json.dumps({"load": os.getloadavg()[0], **searches(*args.compare, args.queries)}, indent=2))
        return
    base = os.environ.get("PAPERRADAR_TEST_PG")
    if not base:
        sys.exit("set PAPERRADAR_TEST_PG (PAPERRADAR_TEST_PG=$(sh tests/start_postgres.sh))")
    OUT.mkdir(parents=True, exist_ok=True)
    NO_INDEX.extend(["--no-index"] if args.no_index else [])
    result = {
        "load_before": os.getloadavg()[0],
        "seed_pages": None if args.skip_pages else seed_pages(base),
        "corpus": corpus(base, args.records, args.queries),
        "load_after": os.getloadavg()[0],
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
