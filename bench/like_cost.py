"""A like's own cost, in one process, on a copy of the load library (issue 11): the write a like
now is, and the re-clustering of the profile's interests that it no longer does (the web server's
background worker does it, once per pass). Wall and CPU time; the load average beside them.

    cp bench/out/h13-118k.db bench/out/h11-like-118k.db
    cp -r bench/out/h13-118k.db.features bench/out/h11-like-118k.db.features
    nice -n 10 .venv/bin/python bench/like_cost.py bench/out/h11-like-118k.db [--profile load]

Writes to the library it is given (20 likes): never point it at a shared one.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from collections.abc import Callable

from paperradar import interests as I
from paperradar import profiles as P
from paperradar.storage import open_library


def timed(fn: Callable[[], object]) -> tuple[float, float]:
    """Wall and CPU seconds of one call."""
    w, c = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - w, time.process_time() - c


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("db")
    ap.add_argument("--profile", default="load")
    args = ap.parse_args()
    lib = open_library(args.db)
    q = "SELECT id FROM papers ORDER BY (pk * 2654435761) % 4294967296 LIMIT 21"
    ids = [r[0] for r in lib.conn.execute(q)]
    out: dict[str, object] = {"load_before": os.getloadavg()[0]}
    out["first_like_wall_cpu_s"] = [
        round(x, 3) for x in timed(lambda: P.give_feedback(lib, args.profile, ids[0], "like"))
    ]
    likes = [timed(lambda i=i: P.give_feedback(lib, args.profile, i, "like")) for i in ids[1:]]
    for n, what in enumerate(("wall", "cpu")):
        values = [x[n] * 1000 for x in likes]
        out[f"like_{what}_p50_max_ms"] = [round(statistics.median(values), 2), round(max(values), 2)]
    profile = P.get_profile(lib, args.profile)
    out["positives"] = len(I.positives_and_negatives(lib, profile.pk)[0])
    out["stale_after_likes"] = I.interests_stale(profile)
    out["regroup_wall_cpu_s"] = [round(x, 3) for x in timed(lambda: I.regroup_if_stale(lib, args.profile))]
    out["stale_after_regroup"] = I.interests_stale(P.get_profile(lib, args.profile))
    out["load_after"] = os.getloadavg()[0]
    print(json.dumps(out))


if __name__ == "__main__":
    main()
