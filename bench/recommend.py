"""Recommendation speed on the 118k library: ranking 7,000 candidates (a `recommend --days 7`),
cold and warm; a digest for 20 profiles; the web home page; memory.

    nice -n 10 .venv/bin/python bench/recommend.py [--library bench/out/lib-118k.db] [--json]

The shared library is copied once to bench/out/rec-118k.db (it is never written). 20 profiles
are made from authors with 8-40 papers (random.Random(0)), by their paper ids. Candidates: the
7,000 newest papers (by pk) less each profile's own.

    nice -n 10 .venv/bin/python bench/recommend.py --library bench/out/lib-3m.db --in-place --candidates 1500

`--in-place` (a big library, issue 17): the library is used where it is, not copied (3M papers
are 28 GB). The 20 profiles are made under the reserved prefix `zz-bench-rec-` from the authors
of the first 118,024 papers (the real ones in make_library.py's libraries, so the same profiles
as at 118k) and deleted at the end, with their marks and digests (cascade), even after an
error; nothing else is written (no paper is marked seen, feedback is undone). The features, when
the library has none, are built first in a subprocess (its wall, CPU seconds and peak RSS).
With `--serve` it only starts `paperradar serve` on the library, views Home for 8 profiles and
runs 10 searches, and reports the server's peak RSS (VmHWM).

- build: the features of the library made from nothing (vocabulary fit + every row), once
- cold: a new process (features read from bench/out/rec-118k.db.features/) ranks once
- warm (model cached): the same profile ranked again in the same process
- warm (refit): a new feedback mark before each ranking, so the profile's model is fitted again
- digest: new digests (Markdown and email render) for all 20 profiles, in-memory delivery
- home: GET / through the app in-process (FastAPI TestClient), after one warm-up view

    nice -n 10 .venv/bin/python bench/recommend.py --stale

`--stale` (issue 11: features are never built inside a request): a fresh copy of rec-118k.db and
its features (bench/out/h11-stale-118k.db), then 200 new papers arrive (copies of the newest
texts under new ids), so the features are stale. Timed (wall and CPU seconds) in this new process: the first like of a
new paper (it reads the features from the cache folder), 10 more likes, a 7,000-candidate
ranking that includes the new papers (first and again); then the features folder is moved away
(none at all) and a like and a ranking are timed again. Each step checks that the library's
features were not built or updated (the cache folder's key is unchanged, no build function ran).
"""

from __future__ import annotations

import argparse
import json
import os
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
RESERVED = "zz-bench-rec-"  # profiles a run on a library in place makes and deletes
REAL_PAPERS = 118_024  # make_library.py's libraries start with the 118k real papers


def copy_library(src: Path) -> Path:
    dst = OUT / "rec-118k.db"
    if not dst.exists():
        shutil.copyfile(src, dst)
        for ext in ("-wal",):
            if Path(f"{src}{ext}").exists():
                shutil.copyfile(f"{src}{ext}", f"{dst}{ext}")
    return dst


def make_profiles(lib: Any, prefix: str = "bench-", rows: int | None = None) -> list[str]:
    from paperradar import profiles as P

    have = P.list_profiles(lib)
    if len([p for p in have if p.name.startswith(prefix)]) >= PROFILES:
        return sorted(p.name for p in have if p.name.startswith(prefix))[:PROFILES]
    by: dict[str, list[str]] = defaultdict(list)
    where = f" WHERE pk <= {int(rows)}" if rows else ""
    for pid, data in lib.conn.execute(f"SELECT id, authors FROM papers{where}"):
        for a in (data or "").split(";"):
            if a.strip():
                by[a.strip()].append(pid)
    names = sorted(a for a, ids in by.items() if 8 <= len(ids) <= 40)
    chosen = random.Random(0).sample(names, PROFILES)
    out = []
    for n, a in enumerate(chosen):
        name = f"{prefix}{n:02d}"
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


def run(
    src: Path, in_place: bool = False, candidates: int = CANDIDATES, serve: bool = False
) -> dict[str, Any]:
    from paperradar.rank import features as F
    from paperradar.storage import open_library

    path = src if in_place else copy_library(src)
    lib = open_library(path)
    res: dict[str, Any] = {
        "library": str(src),
        "in_place": in_place,
        "candidates": candidates,
        "load": _load(),
    }
    cache = F.cache_dir(lib)
    if cache is not None and F._read_cache(lib) is None:  # none yet, or of an older features FORMAT
        res["build"] = _build(path)
    names = make_profiles(lib, RESERVED, REAL_PAPERS) if in_place else make_profiles(lib)
    try:
        res |= _measure(lib, path, names, candidates, in_place) if not serve else {}
        if serve:
            res["serve"] = serve_rss(path, names)
    finally:
        if in_place:
            _drop_profiles(lib, names)
    res["max_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    res["load_after"] = _load()
    lib.close()
    return res


SERVE_QUERIES = ["graph neural networks", "dark matter halo", "protein structure prediction",
                 "reinforcement learning", "language models", "quantum error correction",
                 "image segmentation", "bayesian inference", "galaxy clusters", "optimal transport"]  # fmt: skip


def serve_rss(path: Path, names: list[str], port: int = 8765) -> dict[str, Any]:
    """`paperradar serve` on the library: Home for 8 profiles three times each and 10 searches
    twice, then its peak RSS (VmHWM) and its job worker's; the server is stopped."""
    import urllib.request

    cmd = [str(Path(sys.executable).parent / "paperradar"), "--db", str(path), "serve", "--port", str(port)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"

    def get(url: str) -> float:
        start = time.perf_counter()
        with urllib.request.urlopen(base + url, timeout=600) as r:
            r.read()
        return time.perf_counter() - start

    try:
        started = time.perf_counter()
        while True:
            try:
                get("/search?q=x")
                break
            except OSError:
                if proc.poll() is not None or time.perf_counter() - started > 300:
                    raise SystemExit("the server did not start") from None
                time.sleep(1)
        homes = [get(f"/?profile={n}") for _ in range(3) for n in names[:8]]
        searches = [get(f"/search?q={q.replace(' ', '+')}") for _ in range(2) for q in SERVE_QUERIES]
        return {
            "started_s": round(time.perf_counter() - started, 1),
            "home_p50_s": round(statistics.median(homes), 3),
            "home_max_s": round(max(homes), 3),
            "search_p50_s": round(statistics.median(searches), 3),
            **_hwm(proc.pid),
        }
    finally:
        proc.terminate()  # uvicorn lets the request at hand and the warm-up worker finish first
        try:
            proc.wait(120)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _hwm(pid: int) -> dict[str, Any]:
    """Peak and current RSS (MB) of the server and of each of its child processes."""

    def status(p: int) -> dict[str, int]:
        fields = dict(line.split(":", 1) for line in Path(f"/proc/{p}/status").read_text().splitlines())
        return {k: int(fields[k].split()[0]) // 1024 for k in ("VmHWM", "VmRSS")}

    kids = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        kids += [int(c) for c in (task / "children").read_text().split()]
    return {"server_mb": status(pid), "children_mb": [status(k) for k in kids]}


def _drop_profiles(lib: Any, names: list[str]) -> None:
    from paperradar import profiles as P

    for name in names:
        assert name.startswith(RESERVED), name
        P.delete_profile(lib, name)


def _build(path: Path) -> dict[str, Any]:
    """The library's features built from nothing in a new process: wall, CPU, peak RSS, rows."""
    code = (
        "import sys,json;from paperradar.storage import open_library;from paperradar.rank import features as F;"
        f"f=F.load_features(open_library({str(path)!r}));"
        "print(json.dumps({'rows':len(f.pks),'terms':len(f.vocabulary.terms),'scope':f.scope}))"
    )
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    out = proc.stdout.read() if proc.stdout else ""
    _, status, usage = os.wait4(proc.pid, 0)
    if os.waitstatus_to_exitcode(status):
        raise SystemExit(f"the features build failed (exit {os.waitstatus_to_exitcode(status)})")
    return {
        "wall_s": round(time.perf_counter() - start, 1),
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 1),
        "peak_rss_mb": round(usage.ru_maxrss / 1024),
        **json.loads(out.strip().splitlines()[-1]),
    }


def _measure(lib: Any, path: Path, names: list[str], candidates: int, in_place: bool) -> dict[str, Any]:
    from paperradar import profiles as P
    from paperradar.rank import model_cache
    from paperradar.recommend import recommend

    res: dict[str, Any] = {}
    pool = [r[0] for r in lib.conn.execute("SELECT pk FROM papers ORDER BY pk DESC LIMIT ?", (candidates,))]
    res["cold_seconds"], res["cold_cpu_seconds"] = _cold(path, names[0], pool)

    def rank(name: str) -> None:
        recommend(lib, name, among=pool, limit=20, mark_seen=False)

    for name in names:  # first ranking per profile: fits and caches its model
        rank(name)
    warm = [both(lambda n=n: rank(n)) for _ in range(3) for n in names]
    refit = []
    for n in names[:10]:
        P.give_feedback(lib, n, pool[-1], "dislike")
        refit.append(both(lambda n=n: rank(n)))
        P.undo_feedback(lib, n)
    res["warm_cached"], res["warm_refit"] = _spread(warm), _spread(refit)
    model_cache.forget()
    res["digest_20_seconds"], res["digest_20_cpu_seconds"] = both(lambda: _digests(lib, names, pool))
    res["home"] = _home(path, names[0], days=None if in_place else 36500)
    return res


def _spread(times: list[tuple[float, float]]) -> dict[str, Any]:
    """p50 and p99 of wall seconds, and p50 of CPU seconds (what the machine's load does not inflate)."""
    wall = [w for w, _ in times]
    cpu = [c for _, c in times]
    return {
        "p50": round(statistics.median(wall), 3),
        "p99": round(pct(wall, 0.99), 3),
        "cpu_p50": round(statistics.median(cpu), 3),
        "cpu_p99": round(pct(cpu, 0.99), 3),
        "n": len(times),
    }


def _cold(path: Path, name: str, pool: list[int]) -> tuple[float, float]:
    """Wall and CPU seconds of a new process (imports included) that ranks once."""
    code = (
        "import sys,time,json;t=time.perf_counter();"
        "from paperradar.storage import open_library;from paperradar.recommend import recommend;"
        f"lib=open_library({str(path)!r});pool=json.load(sys.stdin);"
        f"recommend(lib,{name!r},among=pool,limit=20,mark_seen=False);"
        "print(time.perf_counter()-t, time.process_time())"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], input=json.dumps(pool), capture_output=True, text=True, check=True
    )
    wall, cpu = done.stdout.strip().splitlines()[-1].split()
    return round(float(wall), 2), round(float(cpu), 2)


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


def _home(path: Path, name: str, days: int | None) -> dict[str, Any]:
    """Home's views; `days` None: Home's default window (papers added since the last
    recommendation, the newest 20,000: make_library.py's big libraries have no dates to window)."""
    from fastapi.testclient import TestClient

    from paperradar.web.app import create_app

    client = TestClient(create_app(str(path)), base_url="http://127.0.0.1")  # a name it answers
    url = f"/?profile={name}" + (f"&days={days}" if days else "")
    status = client.get(url).status_code
    first = timed(lambda: client.get(url))
    times = [timed(lambda: client.get(url)) for _ in range(15)]
    api = client.get("/api/home" + url[1:]).json()
    return {
        "status": status,
        "cards": sum(len(g["items"]) for g in api.get("groups", [])),
        "first": round(first, 3),
        "p50": round(statistics.median(times), 3),
        "p99": round(pct(times, 0.99), 3),
    }


def stale(src: Path) -> dict[str, Any]:
    from paperradar import profiles as P
    from paperradar.rank import features as F
    from paperradar.storage import open_library

    path = OUT / "h11-stale-118k.db"
    rec = copy_library(src)
    for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        p.unlink(missing_ok=True)
    shutil.rmtree(f"{path}.features", ignore_errors=True)
    shutil.copyfile(rec, path)
    shutil.copytree(f"{rec}.features", f"{path}.features")
    lib = open_library(path)
    names = make_profiles(lib)
    key = F._read_cache(lib).key
    new = _add_papers(lib, 200)
    builds: list[str] = []
    for fn in ("_build", "_update", "_attach_dense"):
        real = getattr(F, fn)
        setattr(F, fn, lambda *a, _r=real, _n=fn, **k: builds.append(_n) or _r(*a, **k))
    pool = [r[0] for r in lib.conn.execute("SELECT pk FROM papers ORDER BY pk DESC LIMIT ?", (CANDIDATES,))]
    res: dict[str, Any] = {"uptime": _load()}
    res["first_like_s"] = both(lambda: P.give_feedback(lib, names[0], new[0], "like"))
    likes = [both(lambda i=i: P.give_feedback(lib, names[1 + i % 5], new[1 + i], "like")) for i in range(10)]
    for n, what in enumerate(("wall", "cpu")):
        res[f"likes_{what}_p50_s"] = round(statistics.median(x[n] for x in likes), 3)
        res[f"likes_{what}_max_s"] = round(max(x[n] for x in likes), 3)
    res["rank_7000_first_s"] = both(lambda: _rank(lib, names[0], pool))
    res["rank_7000_again_s"] = both(lambda: _rank(lib, names[0], pool))
    res["new_papers_in_top20"] = sum(1 for pk in _rank(lib, names[0], new) if pk in set(new))
    res["stale_builds"], res["stale_key_unchanged"] = list(builds), F._read_cache(lib).key == key
    shutil.move(f"{path}.features", f"{path}.features-away")
    F.forget()
    from paperradar.rank import model_cache

    model_cache.forget()
    res["none_like_s"] = both(lambda: P.give_feedback(lib, names[2], new[20], "like"))
    res["none_rank_7000_s"] = both(lambda: _rank(lib, names[2], pool))
    res["none_builds"], res["none_folder_made"] = (
        builds[len(res["stale_builds"]) :],
        F.cache_dir(lib).exists(),
    )
    res["uptime_after"] = _load()
    lib.close()
    return res


def both(fn: Any) -> tuple[float, float]:
    """Wall and CPU seconds of one call (CPU time is what the machine's load does not inflate)."""
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return round(time.perf_counter() - wall, 3), round(time.process_time() - cpu, 3)


def _rank(lib: Any, name: str, pool: list[int]) -> list[int]:
    from paperradar.recommend import recommend

    return [lib.resolve(r.paper.id) for r in recommend(lib, name, among=pool, limit=20, mark_seen=False)]


def _add_papers(lib: Any, n: int) -> list[int]:
    """n new papers: the texts of the newest n under new ids (so they are new to the features)."""
    from paperradar.ingest import ImportReport, ingest_records
    from paperradar.models import Author, PartialDate, Record, SourceRef

    stamp = int(time.time())
    rows = lib.conn.execute("SELECT title, abstract FROM papers ORDER BY pk DESC LIMIT ?", (n,)).fetchall()
    records = [
        Record(
            source=SourceRef("bench", "stale", i + 1),
            ids=[f"doi:10.99999/stale.{stamp}.{i}"],
            title=f"{title} (v{stamp})",
            abstract=abstract,
            authors=[Author("Bench Author")],
            dates={"published": PartialDate.from_iso("2026-11-30")},
        )
        for i, (title, abstract) in enumerate(rows)
    ]
    ingest_records(lib, records, ImportReport("stale", "bench"))
    return [lib.resolve(r.ids[0]) for r in records]


def _load() -> str:
    return open("/proc/loadavg").read().split(" ")[0]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--library", default=str(OUT / "lib-118k.db"))
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--stale", action="store_true", help="likes and rankings on stale or missing features")
    ap.add_argument("--in-place", action="store_true", help="use the library where it is (a big one)")
    ap.add_argument("--candidates", type=int, default=CANDIDATES, help="the newest papers ranked")
    ap.add_argument("--serve", action="store_true", help="only: `paperradar serve`'s peak RSS after warm-up")
    args = ap.parse_args()
    lib = Path(args.library)
    res = stale(lib) if args.stale else run(lib, args.in_place, args.candidates, args.serve)
    print(json.dumps(res, indent=2))


if __name__ == "__main__":
    main()
