"""What choosing the papers to embed after a small import costs in a big library, before and
after issue 17's fix (docs/benchmarks.md, "A small import into a big library").

Before: `index.lacking` read and hashed every paper's text (and held every stored hash of two
models), and the fast tier's `update_index` did the same again. After: the texts of changed and
untitled papers only, counts and an anti-join on indexes (`text_state`, `lacking`, `lacking_pks`).
The old full pass is tests/test_index_lacking.py's oracle, run here unchanged. Each step runs in a
fresh process, so its peak RSS is its own; every step runs `--repeat` times, in turn.

    .venv/bin/paperradar --db LIB import --no-index DAY.jsonl     # the small import, once
    .venv/bin/python bench/index_lacking.py --db LIB [--repeat 2] [--json]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STEPS = ("old-quality", "new-quality", "old-fast", "new-fast")


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def one(db: str, step: str) -> dict[str, object]:
    """One step in this process: (old|new)-(quality|fast), the selection `import_tier` makes for
    that tier after an import (quality: how many it lacks and the new papers, at most 2,001; fast:
    every paper it lacks, with its text hash, as `update_index` needs them)."""
    sys.path.insert(0, str(ROOT / "tests"))
    from paperradar.embed import load_embedder
    from paperradar.index import _hashed, lacking, lacking_pks, text_state
    from paperradar.storage import open_library
    from test_index_lacking import full_pass_lacking

    lib = open_library(db)
    quality, fast = load_embedder("quality").model_id, load_embedder("fast").model_id
    before = rss_mb()
    cpu, start = time.process_time(), time.perf_counter()
    if step == "old-quality":
        count, new = full_pass_lacking(lib, quality, [fast], 2001)
    elif step == "new-quality":
        count, new = lacking(lib, quality, [fast], 2001)
    elif step == "old-fast":
        new = [pk for pk, h in _hashed(lib, fast, None) if isinstance(h, str)]
        count = len(new)
    else:
        state = text_state(lib)
        new = [pk for pk, h in _hashed(lib, fast, lacking_pks(lib, fast, state)) if isinstance(h, str)]
        count = len(new)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    papers = lib.papers_stamp().count
    lib.close()
    return {
        "step": step,
        "papers": papers,
        "ms": round(seconds * 1000, 1),
        "cpu_ms": round(cpu * 1000, 1),
        "rss_before_mb": round(before),
        "peak_rss_mb": round(peak),
        "count": count,
        "chosen": len(new),
        "chosen_head": new[:3],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", required=True)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--one", choices=STEPS, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        print(json.dumps(one(args.db, args.one)))
        return
    rows = []
    for _ in range(args.repeat):
        for step in STEPS:
            out = subprocess.run(
                [sys.executable, __file__, "--db", args.db, "--one", step], capture_output=True, text=True
            )
            if out.returncode != 0:
                sys.exit(f"{step} failed:\n{out.stderr}")
            rows.append(json.loads(out.stdout))
            if not args.json:
                print(json.dumps(rows[-1]), file=sys.stderr)
    load = Path("/proc/loadavg").read_text().split()[:3]
    print(json.dumps({"load": load, "rows": rows}, indent=1 if args.json else None))


if __name__ == "__main__":
    main()
