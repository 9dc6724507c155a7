"""Web latency, two modes.

Search (default): `/search` (the HTML page) and `/api/search` served by `paperradar serve` on
loopback, against the bare `search()` call on the same queries in the same run (the baseline).

Pages (`--pages`, issue 15): every page a reader opens in the morning, warm, one request at a
time: Home and /api/home for a profile (made from an author with --author if the copy has none),
search, library, paper pages, digest preview, profiles, topics, map and trends; then Home right
after a dislike (the stale list served while the refit runs in the background) and how long the
background refit takes until /api/home is fresh again. The first (cold) Home view is reported
apart. `paperradar serve` in its own process; client time includes HTTP on loopback.

    .venv/bin/python bench/web.py --pages [--db COPY] [--rounds N] [--first-after S] [--json]

The server warms Home and its cards' similar papers when it starts (web/warm.py): --first-after
opens Home that many seconds after the server answers (0: at once, the worst case). The first
similar-papers request of each Home card is timed against papers no page showed.

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
from paperradar.profiles import create_profile, profile_names  # noqa: E402
from paperradar.search import search  # noqa: E402
from paperradar.storage import Library, open_library  # noqa: E402
from paperradar.storage.migrations import MIGRATIONS  # noqa: E402
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
        # a library made before migration 7 was written has its number but not its table (which
        # migration 14 merges into `settings`)
        old = target.execute("PRAGMA user_version").fetchone()[0] < 14
        if old and not target.execute("SELECT 1 FROM sqlite_master WHERE name = 'web_settings'").fetchone():
            target.executescript(MIGRATIONS[6])
        target.close()
        source.close()
        tmp.replace(dst)
    return dst


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(db: Path, port: int, program: list[str] | None = None) -> subprocess.Popen[bytes]:
    """`paperradar serve` on the library (or `program` given the same arguments), once it answers."""
    exe = program or [str(ROOT / ".venv" / "bin" / "paperradar")]
    proc = subprocess.Popen([*exe, "--db", str(db), "serve", "--port", str(port)], stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120  # a big library under load can take a while to open
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
    client: httpx.Client, lib: Library, queries: list[str], mode: str, until: float
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
    queries = make_queries(lib, n)
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


PROFILE = "bench"


def ensure_profile(db: Path, author: str) -> None:
    """A profile named `bench` made from `author`'s papers, unless the library has it."""
    lib = open_library(db)
    try:
        if PROFILE not in profile_names(lib):
            create_profile(lib, PROFILE, author=author, pick=1)
    finally:
        lib.close()


def page_urls(db: Path, n: int) -> dict[str, list[str]]:
    """The pages to time, each with `n` variants where the page takes a parameter."""
    lib = open_library(db)
    queries = make_queries(lib, n)
    spread = sorted(lib.paper_ids().items(), key=lambda kv: (kv[0] % 7919, kv[0]))  # papers all over
    ids = [paper_id for _, paper_id in spread[:n]]
    lib.close()
    q = [f"/search?q={x}" for x in queries]
    return {
        "Home /": [f"/?profile={PROFILE}"],
        "/api/home": [f"/api/home?profile={PROFILE}"],
        "/search?q=": q,
        "/api/search?q=": ["/api" + u for u in q],
        "/library (page k)": [f"/library?page={k + 1}" for k in range(n)],
        "/library?q= (words, newest)": [f"/library?q={x}" for x in queries],
        "/search?q=&order=newest": [f"/search?q={x}&order=newest" for x in queries],
        "/paper/{id}": [f"/paper/{i}" for i in ids],
        "/api/papers/{id}": [f"/api/papers/{i}" for i in ids],
        "/api/papers/{id}/similar": [f"/api/papers/{i}/similar" for i in ids],
        "/digest/{profile} (preview)": [f"/digest/{PROFILE}"],
        "/api/digest/{profile}": [f"/api/digest/{PROFILE}"],
        "/profiles/{name}": [f"/profiles/{PROFILE}"],
        "/topics": ["/topics"],
        "/map": ["/map"],
        "/trends": ["/trends"],
    }


def time_get(client: httpx.Client, url: str) -> tuple[float, float, int]:
    start = time.perf_counter()
    r = client.get(url)
    return (
        server_ms(r) if "server-timing" in r.headers else -1.0,
        (time.perf_counter() - start) * 1000,
        r.status_code,
    )


def time_pages(client: httpx.Client, urls: dict[str, list[str]], rounds: int) -> dict[str, Any]:
    """Each page warmed once, then timed `rounds` times (cycling through its variants)."""
    out: dict[str, Any] = {}
    for name, variants in urls.items():
        for u in variants:
            time_get(client, u)
        server, whole, codes = [], [], set()
        for k in range(rounds):
            s, c, code = time_get(client, variants[k % len(variants)])
            server.append(s)
            whole.append(c)
            codes.add(code)
        out[name] = {"server": percentiles(server), "client": percentiles(whole), "status": sorted(codes)}
        print(f"  {name}: server p50 {out[name]['server']['p50']:.1f} ms", file=sys.stderr, flush=True)
    return out


def feedback_rounds(client: httpx.Client, n: int) -> dict[str, Any]:
    """Dislike the top Home card, time Home at once (stale list), then time until it is fresh."""
    client.get("/")
    token = client.cookies.get("paperradar_csrf") or ""
    after, refit = [], []
    for _ in range(n):
        body = client.get(f"/api/home?profile={PROFILE}").json()
        ids = [i["id"] for g in body["groups"] for i in g["items"]]
        if not ids:
            break
        url = f"/api/profiles/{PROFILE}/feedback"
        r = client.post(url, json={"paper": ids[0], "kind": "dislike"}, headers={"x-csrf-token": token})
        r.raise_for_status()
        started = time.perf_counter()
        s, _, _ = time_get(client, f"/?profile={PROFILE}")
        after.append(s)
        while client.get(f"/api/home?profile={PROFILE}").json().get("stale"):
            time.sleep(0.05)
        refit.append((time.perf_counter() - started) * 1000)
    return {
        "home right after feedback, server": percentiles(after),
        "until fresh (background refit)": percentiles(refit),
    }


def first_similar(client: httpx.Client, other_pages: list[str], settle_s: float = 20.0) -> dict[str, Any]:
    """The first similar-papers request of each Home card (a reader opens these next: the server
    computes them in the background after Home's list, web/warm.py), `settle_s` after the list is
    ready (a reader reads Home first), against papers no page showed (nothing warmed them)."""
    body = client.get(f"/api/home?profile={PROFILE}").json()
    cards = [i["id"] for g in body["groups"] for i in g["items"]]
    time.sleep(settle_s)
    out: dict[str, Any] = {}
    for name, ids in (
        ("Home cards", cards),
        ("papers not shown", [u[7:] for u in other_pages[: len(cards)]]),
    ):
        server = [time_get(client, f"/api/papers/{i}/similar")[0] for i in ids]
        out[name] = percentiles(server) | {"n": len(server)}
        print(f"  first similar, {name}: server p50 {out[name]['p50']:.0f} ms", file=sys.stderr, flush=True)
    return out


def run_pages(db: Path, author: str, rounds: int, first_after: float = 0.0) -> dict[str, Any]:
    ensure_profile(db, author)
    urls = page_urls(db, max(rounds, 1))
    lib = open_library(db)
    papers = lib.counts()["papers"]
    lib.close()
    port = free_port()
    proc = start_server(db, port)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=600) as client:
            time.sleep(first_after)  # a reader who opens Home this long after the server answers
            started = time.perf_counter()
            cold_s, _, _ = time_get(client, f"/?profile={PROFILE}")
            while client.get(f"/api/home?profile={PROFILE}&wait=false").json().get("preparing"):
                time.sleep(0.5)
            cold_c = (time.perf_counter() - started) * 1000
            print(
                f"  cold Home: page {cold_s:.0f} ms, list ready after {cold_c:.0f} ms",
                file=sys.stderr,
                flush=True,
            )
            started = time.perf_counter()
            digest_s, _, _ = time_get(client, f"/digest/{PROFILE}")  # it never waits long (issue 15)
            while client.get(f"/api/digest/{PROFILE}?wait=false").json().get("preparing"):
                time.sleep(0.5)
            digest_c = (time.perf_counter() - started) * 1000
            print(
                f"  first digest preview: page {digest_s:.0f} ms, ready after {digest_c:.0f} ms",
                file=sys.stderr,
            )
            first = first_similar(client, urls["/paper/{id}"])
            pages = time_pages(client, urls, rounds)
            fb = feedback_rounds(client, 5)
    finally:
        proc.terminate()
        proc.wait(10)
    return {
        "library": str(db),
        "papers": papers,
        "rounds": rounds,
        "cold_home_ms": {"server": cold_s, "client": cold_c, "after_start_s": first_after},
        "first_similar_ms": first,
        "first_digest_ms": {"server": digest_s, "client": digest_c},
        "pages": pages,
        "feedback": fb,
    }


def print_pages(report: dict[str, Any]) -> None:
    print(f"{report['papers']:,} papers, {report['rounds']} timed requests per page (warm)")
    cold = report["cold_home_ms"]
    print(
        f"  first Home view {cold['after_start_s']:.0f} s after the server answered: page {cold['server']:.0f} ms,"
        f" its list ready after {cold['client']:.0f} ms"
    )
    dig = report["first_digest_ms"]
    print(
        f"  first digest preview (page): {dig['server']:.0f} ms, the preview ready after {dig['client']:.0f} ms"
    )
    for name, p in report["first_similar_ms"].items():
        print(f"  first similar papers, {name:<18} p50 {p['p50']:>7.1f} p90 {p['p90']:>7.1f} ms (n={p['n']})")
    for name, r in report["pages"].items():
        s, c = r["server"], r["client"]
        print(
            f"  {name:<30} server p50 {s['p50']:>7.1f} p90 {s['p90']:>7.1f}  client p50 {c['p50']:>7.1f} ms  {r['status']}"
        )
    for name, p in report["feedback"].items():
        print(f"  {name:<42} p50 {p['p50']:>8.1f} p90 {p['p90']:>8.1f} ms")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pages", action="store_true", help="time every page (issue 15) instead of search")
    ap.add_argument("--rounds", type=int, default=20, help="--pages: timed requests per page")
    ap.add_argument("--author", default="Dacheng Tao", help="--pages: the bench profile's author")
    ap.add_argument(
        "--first-after",
        type=float,
        default=0.0,
        help="--pages: open Home first this many seconds after start",
    )
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--seconds", type=float, default=240, help="time budget of the timed load loop")
    ap.add_argument("--mode", default="keyword", choices=["keyword", "hybrid", "semantic"])
    ap.add_argument("--db", type=Path, default=DEFAULT_DB)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    if args.pages:
        db = library_copy(args.db, COPY) if args.db == DEFAULT_DB else args.db
        pages = run_pages(db, args.author, args.rounds, args.first_after)
        print(json.dumps(pages, indent=2)) if args.json else print_pages(pages)
        return
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
