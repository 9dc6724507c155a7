"""What building a big library costs, stage by stage: wall time, CPU time, peak RSS and disk.

Runs each stage as the real `paperradar` command (a subprocess, its own peak RSS from wait4) and
records the result in a JSON file (default bench/out/scale-<size>.json), one entry per stage, kept
across runs (a stage run again replaces its entry). Stages:

    import   paperradar --db LIB import --no-index INPUT      (bulk mode: the input is >= 64 MB)
    index    paperradar --db LIB index --tier fast --json      (fast-tier vectors, then the ANN index)
    ann      the ANN build alone (`ann.sync_ann`, what `index` runs after embedding), logging each
             50,000 vectors added with the time, so a build stopped midway still gives its rate

A stage that was run by hand under `/usr/bin/time -v` can be recorded from its log instead
(`--from-time-log import=bench/out/import-3m.log`), with the command it ran.

    .venv/bin/python bench/make_library.py --size 3M
    .venv/bin/python bench/scale.py --size 3M --stages import index
    .venv/bin/python bench/scale.py --size 3M --from-time-log import=bench/out/import-3m.log
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"
PAPERRADAR = ROOT / ".venv" / "bin" / "paperradar"


ANN_SCRIPT = """
import sys, time
from paperradar.ann import sync_ann
from paperradar.embed import load_embedder
from paperradar.storage import open_library
start = time.perf_counter()
def progress(done, total=None, message=''):
    print(f'{time.perf_counter() - start:.1f} s: {done} of {total} vectors added', flush=True)
lib = open_library(sys.argv[1])
print(sync_ann(lib, load_embedder('fast').model_id, progress), f'{time.perf_counter() - start:.1f} s', flush=True)
"""


def commands(lib: Path, source: Path) -> dict[str, list[str]]:
    base = [str(PAPERRADAR), "--db", str(lib)]
    return {
        "import": [*base, "import", "--no-index", "--json", str(source)],
        "index": [*base, "index", "--tier", "fast", "--json"],
        "ann": [str(PAPERRADAR.parent / "python"), "-c", ANN_SCRIPT, str(lib)],
    }


def disk(lib: Path) -> dict[str, int]:
    """Bytes of the library file (with its WAL) and of its ANN folder."""
    files = [lib, Path(f"{lib}-wal")]
    ann = Path(f"{lib}.ann")
    return {
        "library_bytes": sum(f.stat().st_size for f in files if f.exists()),
        "ann_bytes": sum(f.stat().st_size for f in ann.rglob("*") if f.is_file()) if ann.exists() else 0,
    }


def counts(lib: Path) -> dict[str, int]:
    conn = sqlite3.connect(f"file:{lib}?mode=ro", uri=True)
    try:
        q = lambda sql: int(conn.execute(sql).fetchone()[0])  # noqa: E731
        return {
            "papers": q("SELECT coalesce(max(pk), 0) FROM papers"),
            "vectors": q("SELECT count(*) FROM embeddings"),
        }
    finally:
        conn.close()


def run_stage(cmd: list[str], log: Path) -> dict[str, object]:
    """Run one stage; its wall and CPU seconds, peak RSS (its own process tree's largest), exit code."""
    started = time.perf_counter()
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(proc.pid, 0)
    return {
        "command": " ".join(cmd),
        "exit_code": os.waitstatus_to_exitcode(status),
        "wall_s": round(time.perf_counter() - started, 1),
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 1),
        "peak_rss_mb": round(usage.ru_maxrss / 1024),
        "log": str(log.relative_to(ROOT)),
    }


_TIME_FIELDS = {
    "wall": re.compile(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): ([\d:.]+)"),
    "user": re.compile(r"User time \(seconds\): ([\d.]+)"),
    "sys": re.compile(r"System time \(seconds\): ([\d.]+)"),
    "rss": re.compile(r"Maximum resident set size \(kbytes\): (\d+)"),
    "command": re.compile(r'Command being timed: "(.*)"'),
    "exit": re.compile(r"Exit status: (\d+)"),
}


def from_time_log(log: Path) -> dict[str, object]:
    """A stage measured by `/usr/bin/time -v` (its log), in run_stage's shape."""
    text = log.read_text(errors="replace")
    found = {k: m.group(1) for k, rx in _TIME_FIELDS.items() if (m := rx.search(text))}
    missing = {"wall", "user", "sys", "rss"} - found.keys()
    if missing:
        raise SystemExit(f"{log}: no /usr/bin/time -v report ({', '.join(sorted(missing))} missing)")
    wall = 0.0
    for part in found["wall"].split(":"):
        wall = wall * 60 + float(part)
    return {
        "command": found.get("command", "?"),
        "exit_code": int(found.get("exit", "0")),
        "wall_s": round(wall, 1),
        "cpu_s": round(float(found["user"]) + float(found["sys"]), 1),
        "peak_rss_mb": round(int(found["rss"]) / 1024),
        "log": str(log),
        "measured_by": "/usr/bin/time -v",
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--size", default="3M", help="the library's size label (make_library.py --size)")
    ap.add_argument("--stages", nargs="*", default=[], choices=["import", "index", "ann"])
    ap.add_argument("--from-time-log", nargs="*", default=[], metavar="STAGE=LOG")
    args = ap.parse_args()
    tag = args.size.lower()
    lib, source = OUT / f"lib-{tag}.db", OUT / f"synth-{tag}.jsonl"
    result_path = OUT / f"scale-{tag}.json"
    results = (
        json.loads(result_path.read_text()) if result_path.exists() else {"size": args.size, "stages": {}}
    )
    load = lambda: round(os.getloadavg()[0], 1)  # noqa: E731
    for spec in args.from_time_log:
        stage, _, log = spec.partition("=")
        entry = from_time_log(Path(log))
        results["stages"][stage] = {**entry, **disk(lib), **counts(lib), "recorded": _now()}
    for stage in args.stages:
        before = load()
        entry = run_stage(commands(lib, source)[stage], OUT / f"scale-{tag}-{stage}.log")
        entry |= {"load_before": before, "load_after": load(), **disk(lib), **counts(lib), "recorded": _now()}
        results["stages"][stage] = entry
        print(json.dumps({stage: entry}), file=sys.stderr)
    result_path.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


if __name__ == "__main__":
    main()
