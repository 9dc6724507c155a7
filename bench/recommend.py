"""Recommendation speed on the 118k library: ranking 7,000 candidates (a `recommend --days 7`),
cold and warm; a digest for 20 profiles; the web home page; memory.

    nice -n 10 .venv/bin/python bench/recommend.py [--library bench/out/lib-118k.db] [--json]

The shared library is copied once to bench/out/rec-118k.db (it is never written). 20 profiles
are made from authors with 8-40 papers (random.Random(0)), by their paper ids. Candidates: the
7,000 newest papers (by pk) less each profile's own.

- build: the features of the library made from nothing (vocabulary fit + every row), once
- cold: a new process (features read from bench/out/rec-118k.db.features/) ranks once
- warm (model cached): the same profile ranked again in the same process
- warm (refit): a new feedback mark before each ranking, so the profile's model is fitted again
- digest: new digests (Markdown and email render) for all 20 profiles, in-memory delivery
- home: GET / through the app in-process (FastAPI TestClient), after one warm-up view
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import shutil
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"
CANDIDATES = 7000
PROFILES = 20


def copy_library(src: Path) -> Path:
    dst = OUT / "rec-118k.db"
    if not dst.exists():
        shutil.copyfile(src, dst)
        for ext in ("-wal",):
            if Path(f"{src}{ext}").exists():
                shutil.copyfile(f"{src}{ext}", f"{dst}{ext}")
    return dst


def make_profiles(lib: Any) -> list[str]:
    from paperradar import profiles as P

    have = P.list_profiles(lib)
    if len([p for p in have if p.name.startswith("bench-")]) >= PROFILES:
        return sorted(p.name for p in have if p.name.startswith("bench-"))[:PROFILES]
    by: dict[str, list[str]] = defaultdict(list)
    for pid, data in lib.conn.execute("SELECT id, authors FROM papers"):
        for a in (data or "").split(";"):
            if a.strip():
                by[a.strip()].append(pid)
    names = sorted(a for a, ids in by.items() if 8 <= len(ids) <= 40)
    chosen = random.Random(0).sample(names, PROFILES)
    out = []
    for n, a in enumerate(chosen):
        name = f"bench-{n:02d}"
        if not any(p.name == name for p in have):
            P.create_profile(lib, name, papers=by[a])
        out.append(name)
    return out


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def timed(fn: Any) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def run(src: Path) -> dict[str, Any]:
    from paperradar import profiles as P
    from paperradar.rank import features as F
    from paperradar.rank import model_cache
    from paperradar.recommend import recommend
    from paperradar.storage import open_library

    path = copy_library(src)
    lib = open_library(path)
    res: dict[str, Any] = {"library": str(src)}
    cache = F.cache_dir(lib)
    if cache is not None and not (cache / "meta.json").exists():
        res["build_seconds"] = round(timed(lambda: F.load_features(lib)), 1)
    names = make_profiles(lib)
    pool = [r[0] for r in lib.conn.execute("SELECT pk FROM papers ORDER BY pk DESC LIMIT ?", (CANDIDATES,))]
    res["cold_seconds"] = _cold(path, names[0], pool)

    def rank(name: str) -> None:
        recommend(lib, name, among=pool, limit=20, mark_seen=False)

    for name in names:  # first ranking per profile: fits and caches its model
        rank(name)
    warm = [timed(lambda n=n: rank(n)) for _ in range(3) for n in names]
    refit = []
    for n in names[:10]:
        P.give_feedback(lib, n, pool[-1], "dislike")
        refit.append(timed(lambda n=n: rank(n)))
        P.undo_feedback(lib, n)
    res["warm_cached"] = {
        "p50": round(statistics.median(warm), 3),
        "p99": round(pct(warm, 0.99), 3),
        "n": len(warm),
    }
    res["warm_refit"] = {
        "p50": round(statistics.median(refit), 3),
        "p99": round(pct(refit, 0.99), 3),
        "n": len(refit),
    }
    model_cache.forget()
    res["digest_20_seconds"] = round(_digests(lib, names, pool), 2)
    res["home"] = _home(path, names[0])
    res["max_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    lib.close()
    return res


def _cold(path: Path, name: str, pool: list[int]) -> float:
    code = (
        "import sys,time,json;t=time.perf_counter();"
        "from paperradar.storage import open_library;from paperradar.recommend import recommend;"
        f"lib=open_library({str(path)!r});pool=json.load(sys.stdin);"
        f"recommend(lib,{name!r},among=pool,limit=20,mark_seen=False);print(time.perf_counter()-t)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], input=json.dumps(pool), capture_output=True, text=True, check=True
    )
    return round(float(done.stdout.strip().splitlines()[-1]), 2)


def _digests(lib: Any, names: list[str], pool: list[int]) -> float:
    from datetime import UTC, datetime

    from paperradar.digest.render import render_html, render_text
    from paperradar.digest.service import new_digest
    from paperradar.recommend import recommend

    def among_pool(lib_: Any, profile: str, among: list[int], limit: int) -> Any:
        keep = set(pool)
        return recommend(
            lib_, profile, among=[pk for pk in among if pk in keep], limit=limit, mark_seen=False
        )

    start = time.perf_counter()
    for name in names:
        d = new_digest(lib, name, now=datetime.now(UTC), limit=10, all_time=True, rank=among_pool)
        render_html(d)
        render_text(d)
    return time.perf_counter() - start


def _home(path: Path, name: str) -> dict[str, Any]:
    from fastapi.testclient import TestClient

    from paperradar.web.app import create_app

    client = TestClient(create_app(str(path)))
    url = f"/?profile={name}&days=36500"
    first = timed(lambda: client.get(url))
    times = [timed(lambda: client.get(url)) for _ in range(15)]
    return {
        "first": round(first, 3),
        "p50": round(statistics.median(times), 3),
        "p99": round(pct(times, 0.99), 3),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--library", default=str(OUT / "lib-118k.db"))
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    res = run(Path(args.library))
    print(json.dumps(res, indent=2))


if __name__ == "__main__":
    main()
