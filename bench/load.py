"""Load run: concurrent users against `paperradar serve` on 127.0.0.1, bounded in time.

Each of --users simulated users (asyncio tasks, one keep-alive HTTP client and CSRF cookie each)
loops until --seconds have passed, picking each step at random: the search page (35%, a
title-made query from bench/search.py), a paper page (35%, a random paper), Home with the
recommendations of the profile `load` (20%), and a like through the API (10%). Every response is
checked (2xx, and a page, not an error page); latency is client-side, HTTP on loopback included.
The server runs in its own process; the client shares the machine with it (2 cores here), so the
figures are an upper bound of what the server alone would show.

Library: a private copy of bench/out/lib-118k.db (the shared file is never written), made once at
bench/out/sec13-118k.db; the profile `load` is made from 20 papers of the copy.

    nice -n 10 .venv/bin/python bench/load.py --users 32 --seconds 60 [--db COPY] [--mix ...] [--json]
        [--before]   # the baseline: the server without the two fixes of issue 13's second pass
        [--inline-interests]   # the baseline of issue 11: a like re-clusters its profile in the request
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from paperradar.storage import open_library  # noqa: E402
from search import DEFAULT_DB, make_queries, percentiles  # noqa: E402
from web import free_port, library_copy, start_server  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
COPY = ROOT / "bench" / "out" / "sec13-118k.db"
EXE = str(Path(sys.executable).parent / "paperradar")
WEIGHTS = {"search": 35, "paper": 35, "home": 20, "like": 10}
ERRORS: list[str] = []
WARMUP_ERRORS: list[str] = []
# `--before`: the server without this pass's two fixes (the warm-up yielding to requests,
# web/warm.py QUIET_S; a library without usable vectors remembered, index._NO_INDEX), undone in the
# server process: the baseline, measured in the same window as the server as it is.
UNDO_FIXES = (
    "import sys; import paperradar.web.warm as w; w.QUIET_S = 0.0; import paperradar.index as i; "
    "i._NO_INDEX = type('Forgetful', (dict,), {'__setitem__': lambda *a: None})(); "
    "from paperradar.cli import main; sys.exit(main())"
)

# `--inline-interests` (issue 11): the server as it was before the regroup worker, a like re-clustering
# its profile's interests inside the request (the baseline of bench/load.py's like timings).
INLINE_INTERESTS = """
import sys
import paperradar.interests as i
import paperradar.profiles as p
give = p.give_feedback
def inline(lib, name, ref, kind):
    mark = give(lib, name, ref, kind)
    if kind.replace("-", "_") == "like":
        i.refresh_interests(lib, p.find_profile(lib, name).pk)
    return mark
p.give_feedback = inline
from paperradar.cli import main
sys.exit(main())
"""


def setup(db: Path, rng: random.Random) -> tuple[list[str], list[str]]:
    """Queries and paper ids from the library; the profile `load` made if missing."""
    lib = open_library(db)
    queries = make_queries(lib, 200, seed=0)
    lib.close()
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    ids = [r[0] for r in conn.execute("SELECT id FROM papers ORDER BY random() LIMIT 3000")]
    has = conn.execute("SELECT 1 FROM profiles WHERE name = 'load'").fetchone()
    conn.close()
    if not has:
        own = db.with_suffix(".own.txt")
        own.write_text("\n".join(rng.sample(ids, 20)) + "\n")
        subprocess.run([EXE, "--db", str(db), "profile", "create", "load", "--papers", str(own)], check=True)
    return queries, ids


async def user(
    base: str, end: float, queries: list[str], ids: list[str], seed: int, out: list, measure_from: float = 0.0
) -> None:
    rng = random.Random(seed)
    kinds, weights = list(WEIGHTS), list(WEIGHTS.values())
    async with httpx.AsyncClient(base_url=base, timeout=60) as c:
        token = (await c.get("/login")).cookies["paperradar_csrf"]
        c.headers["x-csrf-token"] = token
        while time.monotonic() < end:
            kind = rng.choices(kinds, weights)[0]
            began, started = time.monotonic(), time.perf_counter()
            ok = await step(c, kind, rng, queries, ids)
            if began < measure_from:  # a warm-up step: not timed, but an error is still an error
                WARMUP_ERRORS.extend([f"{kind}: {ok}"] if ok is not True else [])
                continue
            out.append((kind, (time.perf_counter() - started) * 1000, ok is True))
            if ok is not True:
                ERRORS.append(f"{kind}: {ok}")


async def step(
    c: httpx.AsyncClient, kind: str, rng: random.Random, queries: list[str], ids: list[str]
) -> bool:
    html = {"accept": "text/html"}
    try:
        if kind == "search":
            r = await c.get("/search", params={"q": rng.choice(queries)}, headers=html)
        elif kind == "paper":
            r = await c.get(f"/paper/{rng.choice(ids)}", headers=html)
        elif kind == "home":
            r = await c.get("/", params={"profile": "load"}, headers=html)
        else:
            r = await c.post("/api/profiles/load/feedback", json={"paper": rng.choice(ids), "kind": "like"})
    except httpx.HTTPError as e:
        return f"{type(e).__name__}"
    return (
        True
        if r.status_code == 200 and "error-page" not in r.text[:20000]
        else f"{r.status_code} {r.url.path}"
    )


def start(db: Path, port: int, before: bool, inline: bool = False) -> subprocess.Popen[bytes]:
    """`paperradar serve` on the library (with --before, without the fixes; with --inline-interests,
    likes re-clustering in the request), once it answers."""
    if inline:
        return start_server(db, port, [sys.executable, "-c", INLINE_INTERESTS])
    return start_server(db, port, [sys.executable, "-c", UNDO_FIXES] if before else None)


def report(samples: list[tuple[str, float, bool]], seconds: float) -> dict[str, Any]:
    out: dict[str, Any] = {"requests": len(samples), "errors": sum(not ok for _, _, ok in samples)}
    out["per_second"] = round(len(samples) / seconds, 1)
    for kind in WEIGHTS:
        ms = [t for k, t, _ in samples if k == kind]
        if len(ms) >= 2:
            pct = percentiles(ms)
            out[kind] = {"n": len(ms), "errors": sum(not ok for k, _, ok in samples if k == kind), **pct}
            out[kind]["max"] = round(max(ms), 1)
    return out


async def load(
    base: str, users: int, seconds: float, queries: list[str], ids: list[str], warmup: float = 0.0
) -> list:
    """Samples of `seconds` of load, after `warmup` seconds of the same load that are not counted."""
    samples: list[tuple[str, float, bool]] = []
    measure_from = time.monotonic() + warmup
    end = measure_from + seconds
    users_ = (user(base, end, queries, ids, seed, samples, measure_from) for seed in range(users))
    await asyncio.gather(*users_)
    return samples


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--users", type=int, default=32)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--db", type=Path, help="a library to serve as it is (default: a copy of the 118k one)")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--warmup", type=float, default=0, help="seconds of uncounted load first")
    ap.add_argument("--before", action="store_true", help="serve without this pass's two fixes (a baseline)")
    ap.add_argument(
        "--inline-interests",
        action="store_true",
        help="a like re-clusters in the request (issue 11 baseline)",
    )
    ap.add_argument("--mix", help="steps and weights, e.g. search=40,paper=40,home=20 (default: with likes)")
    args = ap.parse_args(argv)
    if args.mix:
        WEIGHTS.clear()
        WEIGHTS.update({k: int(v) for k, v in (part.split("=") for part in args.mix.split(","))})
    db = args.db or library_copy(DEFAULT_DB, COPY)
    queries, ids = setup(db, random.Random(0))
    port = free_port()
    server = start(db, port, args.before, args.inline_interests)
    try:
        started = time.monotonic() + args.warmup
        base = f"http://127.0.0.1:{port}"
        samples = asyncio.run(load(base, args.users, args.seconds, queries, ids, args.warmup))
        result = report(samples, time.monotonic() - started)
    finally:
        server.kill()  # not a graceful stop: a slow request must not hold the run
        server.wait(30)
    result.update(
        warmup=args.warmup,
        warmup_errors=WARMUP_ERRORS[:10],
        users=args.users,
        seconds=args.seconds,
        library=db.name,
        first_errors=ERRORS[:10],
    )
    result.update(server="before the fixes" if args.before else "as it is")
    if args.inline_interests:
        result.update(server="likes re-cluster in the request (before issue 11's regroup worker)")
    print(json.dumps(result, indent=1 if args.json else None))
    return 1 if result["errors"] or WARMUP_ERRORS else 0


if __name__ == "__main__":
    sys.exit(main())
