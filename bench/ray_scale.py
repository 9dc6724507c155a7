"""Ray scaling on this machine: embedding and bulk parsing with 1 and 2 single-thread workers.

    .venv/bin/python bench/ray_scale.py [--texts 600] [--lines 40000] [--tier quality] [--repeat 3]
                                        [--parse-only]

Texts and lines come from ../shared/corpora/arxiv-118k/arxiv_metadata.jsonl.xz. In the same run:
- local: the tier's embedder in this process with one thread (the baseline for --ray's overhead);
- ray-1 and ray-2: `cluster.RayEmbedder` with 1 and 2 single-thread actors on a local Ray;
- parse-1 and parse-2: `cluster.ShardParsers` (parse and prepare, and the prepared records
  unpickled here; no matching, no writing) with 1 and 2 single-thread actors, run --repeat times
  in turn (one arm, then the other, so both see the same load); the ratio is the median of the
  runs' ratios. Rates count from when the actors are up; their start-up (once per import) is
  reported apart. On a loaded machine the wall-clock ratio says little, so each arm's CPU seconds
  (this process, the actors, Ray's own processes) are reported too, with the ratio they allow on
  two idle cores (`cpu_bound_seconds`).
Goals (issue 17): ray-2 >= 1.8x ray-1, ray-1 within 15% of local, parse-2 >= 1.7x parse-1.
Prints one JSON object; the numbers go in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import itertools
import json
import lzma
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import orjson
import ray

from paperradar import cluster as rc
from paperradar.embed import load_embedder, text_for, tier_files
from paperradar.importers.base import Source

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpora" / "arxiv-118k" / "arxiv_metadata.jsonl.xz"


def corpus_lines(n: int) -> list[bytes]:
    with lzma.open(CORPUS, "rb") as f:
        return list(itertools.islice(f, n))


def texts_of(lines: list[bytes]) -> list[str]:
    rows = [orjson.loads(line) for line in lines]
    return [text_for(r.get("title"), r.get("abstract")) for r in rows]


def local_rate(tier: str, texts: list[str]) -> float:
    if tier == "quality":
        from paperradar.embed.onnx import OnnxEmbedder

        folder, digest = tier_files("quality")
        embedder = OnnxEmbedder(folder, digest, threads=1)
    else:
        embedder = load_embedder("fast")
    embedder.embed_batch(texts[:16])
    start = time.perf_counter()
    embedder.embed_batch(texts)
    return len(texts) / (time.perf_counter() - start)


def ray_rate(tier: str, texts: list[str], workers: int) -> float:
    embedder = rc.RayEmbedder(tier, rc.Cluster(address="local", workers=workers))  # type: ignore[arg-type]
    embedder.embed_batch(texts[: 16 * workers])  # every actor warm
    start = time.perf_counter()
    for i in range(0, len(texts), embedder.batch_hint()):  # as update_index hands them over
        embedder.embed_batch(texts[i : i + embedder.batch_hint()])
    rate = len(texts) / (time.perf_counter() - start)
    embedder.close()
    return rate


def _stat(pid: int) -> list[str]:
    """Fields of /proc/PID/stat after the command name (Linux), or none when the process is gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return []


def _cpu(pids: list[int]) -> float:
    """CPU seconds (user and system) the processes have spent so far."""
    fields = [_stat(pid) for pid in pids]
    return sum(int(f[11]) + int(f[12]) for f in fields if f) / os.sysconf("SC_CLK_TCK")


def _descendants(root: int) -> list[int]:
    parents = {
        int(d.name): int(f[1])
        for d in Path("/proc").iterdir()
        if d.name.isdigit()
        if (f := _stat(int(d.name)))
    }
    found, todo = [], [root]
    while todo:
        parent = todo.pop()
        kids = [pid for pid, ppid in parents.items() if ppid == parent]
        found += kids
        todo += kids
    return found


def parse_arm(path: Path, lines: int, workers: int) -> dict[str, float]:
    """One parsing arm: lines a second once the actors are up, the seconds they took to start, and
    the CPU seconds spent meanwhile by this process, by the busiest actor, by all actors, and by
    Ray's own processes (raylet, GCS, idle workers: this process's other descendants)."""
    cluster = rc.Cluster(address="local", workers=workers, shard_lines=max(1000, lines // 16))
    begin = time.perf_counter()
    parsers = rc.ShardParsers(cluster)
    actors = ray.get([a.ready.remote() for a in parsers.actors])
    ray_own = [pid for pid in _descendants(os.getpid()) if pid not in actors]
    before = [_cpu([pid]) for pid in actors], _cpu(ray_own), time.process_time()
    start = time.perf_counter()
    read = sum(len(p) for p, _ in parsers.chunks("arxiv_snapshot", Source.from_file(path)))
    took = time.perf_counter() - start
    spent = [_cpu([pid]) - b for pid, b in zip(actors, before[0], strict=True)]
    arm = {"parse": lines / took, "start": start - begin, "cpu-driver": time.process_time() - before[2]}
    arm |= {"cpu-busiest": max(spent), "cpu-actors": sum(spent), "cpu-ray": _cpu(ray_own) - before[1]}
    parsers.close()
    assert read == lines, (read, lines)
    return arm


def cpu_bound_seconds(arm: dict[str, float]) -> float:
    """The shortest time the arm's CPU work could take on two idle cores: no actor faster than its
    own CPU time, and all the work spread over two cores at best."""
    work = arm["cpu-actors"] + arm["cpu-driver"] + arm["cpu-ray"]
    return max(arm["cpu-busiest"], arm["cpu-driver"], work / 2)


def parse_runs(lines: list[bytes], repeat: int) -> dict[str, object]:
    """Both parsing arms `repeat` times in turn: medians of each measure, each run's ratio, and the
    ratio the arms' CPU seconds allow on two idle cores."""
    runs: dict[int, list[dict[str, float]]] = {1: [], 2: []}
    with tempfile.TemporaryDirectory() as tmp:
        shard = Path(tmp) / "snapshot.jsonl"
        shard.write_bytes(b"".join(lines))
        for _ in range(repeat):
            for workers in (1, 2):
                runs[workers].append(parse_arm(shard, len(lines), workers))
    pairs = list(zip(runs[1], runs[2], strict=True))
    ratios = [two["parse"] / one["parse"] for one, two in pairs]
    bound = [cpu_bound_seconds(one) / cpu_bound_seconds(two) for one, two in pairs]
    medians = {f"{k}-{w}": statistics.median(a[k] for a in runs[w]) for w in runs for k in runs[w][0]}
    return {
        "parse": {k: round(v, 2) for k, v in medians.items()},
        "parse_2_over_1_runs": [round(r, 2) for r in ratios],
        "parse_2_over_1": round(statistics.median(ratios), 2),
        "parse_2_over_1_cpu_bound_on_idle_cores": round(statistics.median(bound), 2),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--texts", type=int, default=600)
    ap.add_argument("--lines", type=int, default=40_000)
    ap.add_argument("--tier", default="quality", choices=["quality", "fast"])
    ap.add_argument("--repeat", type=int, default=3, help="runs of the two parsing arms")
    ap.add_argument("--parse-only", action="store_true", help="leave the embedding arms out")
    args = ap.parse_args()
    if not CORPUS.exists():
        print(f"skipped: {CORPUS} not found", file=sys.stderr)
        return 0
    lines = corpus_lines(max(args.texts, args.lines))
    rc.connect(rc.Cluster(address="local", workers=2))
    result: dict[str, object] = {
        "lines": args.lines,
        "repeat": args.repeat,
        "load": round(os.getloadavg()[0], 1),
    }
    out: dict[str, float] = {}
    if not args.parse_only:
        texts = texts_of(lines[: args.texts])
        out["local"] = local_rate(args.tier, texts)
        out["ray-1"] = ray_rate(args.tier, texts, 1)
        out["ray-2"] = ray_rate(args.tier, texts, 2)
        result |= {"tier": args.tier, "texts": args.texts}
        result |= {"embed_2_over_1": round(out["ray-2"] / out["ray-1"], 2)}
        result |= {"ray_1_overhead": round(1 - out["ray-1"] / out["local"], 3)}
    result["per_second"] = {k: round(v, 1) for k, v in out.items()}
    result |= parse_runs(lines[: args.lines], args.repeat)
    rc.disconnect()
    result["load_after"] = round(os.getloadavg()[0], 1)
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
