"""Web search latency: `/search` (the HTML page) and `/api/search` served by `paperradar serve` on
loopback, against the bare `search()` call on the same queries in the same run (the baseline).

Library: a copy of bench/out/lib-118k.db (the server writes its settings, so the shared file is
never served itself), made once at bench/out/web-118k.db. Queries: bench/search.py's 200 title-made
queries (seed 0). The server runs in its own process (`paperradar serve`); this process sends one
request at a time with a keep-alive HTTP client, each query once to warm up and once timed, for at
most --seconds; the baseline, the bare `search()` call, runs in this process, interleaved query by
query. Server time is the app's own `Server-Timing` header; client time adds HTTP and the loopback
round trip.

    .venv/bin/python bench/web.py [--queries N] [--seconds S] [--mode keyword|hybrid] [--json]
"""

from __future__ import annotations

import argparse
import json
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from paperradar.search import search  # noqa: E402
from paperradar.storage import open_library  # noqa: E402
from paperradar.storage.migrations import MIGRATIONS  # noqa: E402
from paperradar.storage.sqlite import SQLiteLibrary  # noqa: E402
from search import DEFAULT_DB, make_queries, percentiles  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
COPY = ROOT / "bench" / "out" / "web-118k.db"
PATHS = ("/search", "/api/search")


def library_copy(src: Path, dst: Path) -> Path:
    """A private copy of the shared library, made once (read-only on the source, WAL included)."""
    if not dst.exists():
        tmp = dst.with_name(dst.name + ".copying")
        tmp.unlink(missing_ok=True)
        source = sqlite3.connect(f"file:{src}?mode=ro", uri=True)
        target = sqlite3.connect(tmp)
        source.backup(target)
        # a library made before migration 7 was written has its number but not its table
        if not target.execute("SELECT 1 FROM sqlite_master WHERE name = 'web_settings'").fetchone():
            target.executescript(MIGRATIONS[6])
        target.close()
        source.close()
        tmp.replace(dst)
    return dst


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(db: Path, port: int) -> subprocess.Popen[bytes]:
    exe = ROOT / ".venv" / "bin" / "paperradar"
    proc = subprocess.Popen(
        [str(exe), "--db", str(db), "serve", "--port", str(port)], stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/api/stats", timeout=2)
            return proc
        except httpx.TransportError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("the server did not start")


def server_ms(response: httpx.Response) -> float:
    return float(response.headers["server-timing"].split("dur=")[1])


def load(
    client: httpx.Client, lib: SQLiteLibrary, queries: list[str], mode: str, until: float
) -> dict[str, dict[str, list[float]]]:
    """Each query once to warm, then once timed on the baseline and each endpoint (interleaved, so
    all see the same machine load), one request at a time, until the time budget ends."""
    out: dict[str, dict[str, list[float]]] = {p: {"server": [], "client": []} for p in PATHS}
    out["search()"] = {"server": []}
    for q in queries:
        search(lib, q, mode=mode, limit=20)
        for path in PATHS:
            client.get(path, params={"q": q, "mode": mode})
    for i, q in enumerate(queries):
        if time.monotonic() > until:
            break
        out["search()"]["server"].append(search(lib, q, mode=mode, limit=20).took_ms)
        for path in PATHS if i % 2 else PATHS[::-1]:  # alternate which endpoint goes first
            start = time.perf_counter()
            r = client.get(path, params={"q": q, "mode": mode})
            out[path]["client"].append((time.perf_counter() - start) * 1000)
            r.raise_for_status()
            out[path]["server"].append(server_ms(r))
    return out


def run(db: Path, n: int, seconds: float, mode: str) -> dict[str, Any]:
    db = library_copy(db, COPY)
    lib = open_library(db)
    queries = make_queries(lib.conn, n)
    papers = lib.counts()["papers"]
    lib.close()
    port = free_port()
    proc = start_server(db, port)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            lib = open_library(db)
            got = load(client, lib, queries, mode, time.monotonic() + seconds)
            lib.close()
    finally:
        proc.terminate()
        proc.wait(10)
    base, page, api = got["search()"]["server"], got["/search"], got["/api/search"]
    return {
        "library": str(db),
        "papers": papers,
        "mode": mode,
        "queries": len(queries),
        "timed": {"page": len(page["server"]), "api": len(api["server"])},
        "latency_ms": {
            "baseline: search() in-process": percentiles(base),
            "/search page, server time": percentiles(page["server"]),
            "/search page, client time": percentiles(page["client"]),
            "/api/search, server time": percentiles(api["server"]),
            "/api/search, client time": percentiles(api["client"]),
        },
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--seconds", type=float, default=240, help="time budget of the timed load loop")
    ap.add_argument("--mode", default="keyword", choices=["keyword", "hybrid", "semantic"])
    ap.add_argument("--db", type=Path, default=DEFAULT_DB)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    report = run(args.db, args.queries, args.seconds, args.mode)
    if args.json:
        print(json.dumps(report, indent=2))
        return
    print(
        f"{report['papers']:,} papers, {report['queries']} queries, mode {report['mode']}, timed {report['timed']}"
    )
    for name, p in report["latency_ms"].items():
        print(
            f"  {name:<34} p50 {p['p50']:>7.2f}  p90 {p['p90']:>7.2f}  p99 {p['p99']:>7.2f}  mean {p['mean']:>7.2f} ms"
        )


if __name__ == "__main__":
    main()
