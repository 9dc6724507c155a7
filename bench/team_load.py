"""bench/load.py's run against a team server: the same simulated users (search, open a paper, Home
with the `load` profile's recommendations, like) against one `paperradar --db LOCATION serve` on
127.0.0.1, on PostgreSQL or SQLite, and then the likes counted in the database: the rows of kind
`like` the profile gained must equal the likes the clients got a 2xx for.

    nice -n 10 .venv/bin/python bench/team_load.py --db postgresql://.../paperradar_h16b_load \\
        --queries-from bench/out/h16b-118k.db [--users 32 --seconds 60 --warmup 10] [--json]

LOCATION is written to (likes; the profile `load` is made from 20 of its papers if missing): use
a copy. Queries are drawn from the titles of --queries-from (a SQLite library, as bench/load.py
draws them; the same papers as LOCATION for a fair comparison). Does I/O: a server, the database.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
import load  # noqa: E402
from paperradar.storage import open_library  # noqa: E402
from search import make_queries  # noqa: E402
from web import free_port, start_server  # noqa: E402

ACKED: list[str] = []  # paper ids whose like got a 2xx
_STEP = load.step


async def counted_step(
    c: httpx.AsyncClient, kind: str, rng: random.Random, queries: list[str], ids: list[str]
) -> Any:
    """bench/load.py's step; a like answered with a 2xx is remembered."""
    if kind != "like":
        return await _STEP(c, kind, rng, queries, ids)
    paper = rng.choice(ids)
    try:
        r = await c.post("/api/profiles/load/feedback", json={"paper": paper, "kind": "like"})
    except httpx.HTTPError as e:
        return type(e).__name__
    if 200 <= r.status_code < 300:
        ACKED.append(paper)
        return True
    return f"{r.status_code} {r.url.path}"


def likes(location: str) -> int:
    """Rows of kind `like` of the profile `load` (0 when it does not exist)."""
    lib = open_library(location)
    try:
        q = "SELECT count(*) FROM feedback f JOIN profiles p ON p.pk = f.profile_pk WHERE p.name = ? AND f.kind = ?"
        return int(lib.conn.execute(q, ("load", "like")).fetchone()[0])
    finally:
        lib.close()


def setup(location: str, queries_from: Path, rng: random.Random) -> tuple[list[str], list[str]]:
    """Queries from the SQLite twin's titles, 3,000 paper ids of LOCATION, the profile `load`."""
    twin = open_library(queries_from)
    queries = make_queries(twin, 200, seed=0)
    twin.close()
    lib = open_library(location)
    try:
        ids = [r[0] for r in lib.conn.execute("SELECT id FROM papers ORDER BY pk LIMIT 3000")]
        has = lib.conn.execute("SELECT 1 FROM profiles WHERE name = ?", ("load",)).fetchone()
    finally:
        lib.close()
    if not has:
        with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as own:
            own.write("\n".join(rng.sample(ids, 20)) + "\n")
        command = [load.EXE, "--db", location, "profile", "create", "load", "--papers", own.name]
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)  # stdout carries the JSON
        os.unlink(own.name)
    return queries, ids


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", required=True, help="the library to serve (a copy: it gets likes)")
    ap.add_argument("--queries-from", type=Path, required=True, help="a SQLite library with the same papers")
    ap.add_argument("--users", type=int, default=32)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--warmup", type=float, default=10, help="seconds of uncounted load first")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    queries, ids = setup(args.db, args.queries_from, random.Random(0))
    before = likes(args.db)
    load.step = counted_step  # type: ignore[assignment]
    port = free_port()
    server = start_server(args.db, port)  # type: ignore[arg-type]
    try:
        started = time.monotonic() + args.warmup
        samples = asyncio.run(
            load.load(f"http://127.0.0.1:{port}", args.users, args.seconds, queries, ids, args.warmup)
        )
        result = load.report(samples, time.monotonic() - started)
    finally:
        server.terminate()
        server.wait(60)
    stored = likes(args.db) - before
    result.update(
        backend="postgresql" if args.db.startswith("postgresql") else "sqlite",
        users=args.users,
        seconds=args.seconds,
        warmup=args.warmup,
        load_average=os.getloadavg(),
        likes_acknowledged=len(ACKED),
        likes_stored=stored,
        likes_all_stored=stored == len(ACKED),
        first_errors=load.ERRORS[:10],
        warmup_errors=load.WARMUP_ERRORS[:10],
    )
    print(json.dumps(result, indent=1 if args.json else None))
    return 0 if not result["errors"] and not load.WARMUP_ERRORS and stored == len(ACKED) else 1


if __name__ == "__main__":
    sys.exit(main())
