"""What a resumable ANN build costs and saves (ann.py checkpoints, issue 17), in one run:

1. a full build with checkpoints off (the baseline);
2. a full build checkpointing every `--interval` seconds: the overhead is its time over (1)'s;
3. a build in a child process that SIGKILLs itself once `--kill-at` of the vectors are in, then a
   resume of it in this process: the time saved is (1)'s time less the resume's (what a restart
   from zero would have spent, against what the resume did).

Each build is `ann.sync_ann`, as `paperradar index` runs it (2 threads on this machine). The
library is synthetic: `--size` papers, each with a random unit vector of `--dim` dimensions, made
once at `--db` and reused. recall@10 against exact search on 200 random queries is reported for
the baseline and the resumed index. Load averages are recorded before and after each phase.

    flock /tmp/p7/measure.lock .venv/bin/python bench/ann_resume.py [--size 300000] [--dim 256]
        [--interval 60] [--kill-at 0.8] [--chunk 50000] [--db bench/out/ann-resume/lib.db] [--json]
        [--overhead-pairs N]   # only the overhead, N ABBA pairs of builds (wall and CPU ratios)
"""

from __future__ import annotations

import argparse
import json
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from paperradar import ann
from paperradar.ann import AnnIndex, sync_ann
from paperradar.storage import open_library
from paperradar.storage.rows import PaperValues

ROOT = Path(__file__).resolve().parents[1]
MODEL = "bench-random"
BATCH = 10_000


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def make_library(db: Path, size: int, dim: int) -> Any:
    """The synthetic library at `db`: reused when it already has `size` vectors of MODEL."""
    lib = open_library(db)
    if lib.embedding_models().get(MODEL) == size:
        return lib
    lib.close()
    shutil.rmtree(db.parent, ignore_errors=True)
    db.parent.mkdir(parents=True)
    lib = open_library(db)
    rng = np.random.default_rng(0)
    for start in range(1, size + 1, BATCH):
        pks = range(start, min(start + BATCH, size + 1))
        v = rng.standard_normal((len(pks), dim)).astype(np.float32)
        v /= np.linalg.norm(v, axis=1, keepdims=True)
        rows = {pk: paper(pk) for pk in pks}
        with lib.transaction():
            lib.insert_papers(rows)
            lib.put_embeddings(MODEL, [(pk, f"h{pk}", x.tobytes()) for pk, x in zip(pks, v, strict=True)])
    return lib


def paper(pk: int) -> PaperValues:
    title = f"synthetic paper {pk}"
    return PaperValues(
        f"bench:{pk}", title, None, "", title, None, None, [], False, {}, "2026-12-03T00:00:00Z"
    )


def clear(lib: Any) -> None:
    shutil.rmtree(ann.ann_dir(lib.path), ignore_errors=True)


def timed_build(lib: Any, interval: float) -> dict[str, Any]:
    """One `sync_ann` with checkpoints every `interval` seconds; its time and its checkpoint writes."""
    writes: list[float] = []
    write = ann._write_checkpoint

    def timed_write(*args: Any) -> None:
        start = time.perf_counter()
        write(*args)
        writes.append(time.perf_counter() - start)

    ann.CHECKPOINT_SECONDS = interval
    ann._write_checkpoint = timed_write  # type: ignore[assignment]
    before = loadavg()
    start, cpu = time.perf_counter(), time.process_time()
    try:
        result = sync_ann(lib, MODEL)
    finally:
        ann._write_checkpoint = write  # type: ignore[assignment]
    seconds = time.perf_counter() - start
    return {
        "result": result,
        "seconds": round(seconds, 1),
        "cpu_seconds": round(time.process_time() - cpu, 1),  # every thread of this process
        "checkpoints": len(writes),
        "checkpoint_seconds": [round(s, 2) for s in writes],
        "load_before": before,
        "load_after": loadavg(),
    }


def killed_build(db: Path, interval: float, kill_at: float) -> dict[str, Any]:
    before = loadavg()
    start = time.perf_counter()
    settings = {
        "--db": db,
        "--interval": interval,
        "--chunk": ann.CHUNK,
        "--size": ann.ANN_MIN,
        "--kill-at": kill_at,
    }
    child = [sys.executable, __file__, "--child", *(str(x) for kv in settings.items() for x in kv)]
    done = subprocess.run(child, capture_output=True, text=True)
    if done.returncode != -signal.SIGKILL:
        sys.exit(f"the child build was not killed (exit {done.returncode}): {done.stderr[-2000:]}")
    meta_file = next(ann.ann_dir(str(db)).glob("*.checkpoint.json"))
    meta = json.loads(meta_file.read_text())
    part = meta_file.parent / meta["file"]
    return {
        "seconds_until_kill": round(time.perf_counter() - start, 1),
        "checkpoint_vectors": meta["vectors"],
        "checkpoint_bytes": part.stat().st_size,
        "load_before": before,
        "load_after": loadavg(),
    }


def child(db: Path, interval: float, kill_at: float) -> None:
    """The build that is killed: SIGKILL (no cleanup) once `kill_at` of the vectors are in."""
    import os

    lib = open_library(db)
    ann.CHECKPOINT_SECONDS = interval

    def progress(done: int, total: int | None = None, message: str = "") -> None:
        if total and done >= kill_at * total:
            os.kill(os.getpid(), signal.SIGKILL)

    sync_ann(lib, MODEL, progress)


def recall_at_10(lib: Any, dim: int) -> float:
    pks, blobs = zip(*lib.vectors(MODEL), strict=True)
    matrix = np.frombuffer(b"".join(blobs), dtype=np.float32).reshape(len(pks), dim)
    keys = np.asarray(pks)
    index = AnnIndex.open(lib, MODEL)
    assert index is not None
    rng = np.random.default_rng(7)
    queries = rng.standard_normal((200, dim)).astype(np.float32)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    hits = 0
    for q in queries:
        want = set(keys[np.argpartition(-(matrix @ q), 10)[:10]].tolist())
        hits += len(want & {pk for pk, _ in index.search(q, 10)})
    return hits / (10 * len(queries))


def overhead(lib: Any, interval: float, pairs: int) -> dict[str, Any]:
    """Builds without (A) and with (B) checkpoints in ABBA order, so drift in the load falls on both;
    the ratios of their summed wall and CPU times."""
    runs: dict[str, list[dict[str, Any]]] = {"plain": [], "checkpointed": []}
    for i in range(pairs):
        order = ["plain", "checkpointed"] if i % 2 == 0 else ["checkpointed", "plain"]
        for kind in order:
            clear(lib)
            runs[kind].append(timed_build(lib, float("inf") if kind == "plain" else interval))
            print(kind, runs[kind][-1], file=sys.stderr, flush=True)
    clear(lib)
    total = {k: (sum(r["seconds"] for r in v), sum(r["cpu_seconds"] for r in v)) for k, v in runs.items()}
    return {
        **runs,
        "wall_ratio": round(total["checkpointed"][0] / total["plain"][0], 3),
        "cpu_ratio": round(total["checkpointed"][1] / total["plain"][1], 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=300_000)
    parser.add_argument("--dim", type=int, default=256)
    parser.add_argument("--interval", type=float, default=60.0, help="seconds between checkpoints")
    parser.add_argument("--kill-at", type=float, default=0.8)
    parser.add_argument(
        "--chunk", type=int, default=ann.CHUNK, help="vectors added between checkpoint chances"
    )
    parser.add_argument("--db", type=Path, default=ROOT / "bench" / "out" / "ann-resume" / "lib.db")
    parser.add_argument("--json", action="store_true")
    parser.add_argument(
        "--overhead-pairs",
        type=int,
        default=0,
        help="only the overhead: N pairs of builds without and with checkpoints, in ABBA order",
    )
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    ann.ANN_MIN, ann.CHUNK = min(ann.ANN_MIN, args.size), args.chunk
    if args.child:
        return child(args.db, args.interval, args.kill_at)

    start = time.perf_counter()
    lib = make_library(args.db, args.size, args.dim)
    out: dict[str, Any] = {"size": args.size, "dim": args.dim, "threads": ann.THREADS, "chunk": ann.CHUNK}
    out |= {"interval": args.interval, "kill_at": args.kill_at}
    out["library_seconds"] = round(time.perf_counter() - start, 1)
    print(f"library ready ({out['library_seconds']} s)", file=sys.stderr, flush=True)
    if args.overhead_pairs:
        out["overhead"] = overhead(lib, args.interval, args.overhead_pairs)
        print(json.dumps(out, indent=None if args.json else 2))
        return
    clear(lib)
    out["plain"] = timed_build(lib, float("inf"))
    out["plain"]["recall_at_10"] = recall_at_10(lib, args.dim)
    print("plain build", out["plain"], file=sys.stderr, flush=True)
    clear(lib)
    out["checkpointed"] = timed_build(lib, args.interval)
    print("checkpointed build", out["checkpointed"], file=sys.stderr, flush=True)
    out["overhead_ratio"] = round(out["checkpointed"]["seconds"] / out["plain"]["seconds"], 3)
    clear(lib)
    out["killed"] = killed_build(args.db, args.interval, args.kill_at)
    print("killed build", out["killed"], file=sys.stderr, flush=True)
    out["resumed"] = timed_build(lib, args.interval)
    out["resumed"]["recall_at_10"] = recall_at_10(lib, args.dim)
    print("resumed build", out["resumed"], file=sys.stderr, flush=True)
    out["saved_seconds"] = round(out["plain"]["seconds"] - out["resumed"]["seconds"], 1)
    clear(lib)
    lib.close()
    print(json.dumps(out, indent=None if args.json else 2))


if __name__ == "__main__":
    main()
