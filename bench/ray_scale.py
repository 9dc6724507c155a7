"""Ray scaling on this machine: embedding and bulk parsing with 1 and 2 single-thread workers.

    .venv/bin/python bench/ray_scale.py [--texts 600] [--lines 40000] [--tier quality]

Texts and lines come from ../shared/corpora/arxiv-118k/arxiv_metadata.jsonl.xz. In the same run:
- local: the tier's embedder in this process with one thread (the baseline for --ray's overhead);
- ray-1 and ray-2: `cluster.RayEmbedder` with 1 and 2 single-thread actors on a local Ray;
- parse-1 and parse-2: `cluster.ray_chunks` (parse and prepare, no writing) with 1 and 2 workers.
Goals (issue 17): ray-2 >= 1.8x ray-1, ray-1 within 15% of local, parse-2 >= 1.7x parse-1.
Prints one JSON object; the numbers go in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import itertools
import json
import lzma
import sys
import tempfile
import time
from pathlib import Path

import orjson

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


def parse_rate(path: Path, lines: int, workers: int) -> float:
    cluster = rc.Cluster(address="local", workers=workers, shard_lines=max(1000, lines // 16))
    start = time.perf_counter()
    read = sum(len(p) for p, _ in rc.ray_chunks("arxiv_snapshot", Source.from_file(path), None, cluster))
    assert read == lines, (read, lines)
    return lines / (time.perf_counter() - start)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--texts", type=int, default=600)
    ap.add_argument("--lines", type=int, default=40_000)
    ap.add_argument("--tier", default="quality", choices=["quality", "fast"])
    args = ap.parse_args()
    if not CORPUS.exists():
        print(f"skipped: {CORPUS} not found", file=sys.stderr)
        return 0
    lines = corpus_lines(max(args.texts, args.lines))
    texts = texts_of(lines[: args.texts])
    rc.connect(rc.Cluster(address="local", workers=2))
    out: dict[str, float] = {"local": local_rate(args.tier, texts)}
    out["ray-1"] = ray_rate(args.tier, texts, 1)
    out["ray-2"] = ray_rate(args.tier, texts, 2)
    with tempfile.TemporaryDirectory() as tmp:
        shard = Path(tmp) / "snapshot.jsonl"
        shard.write_bytes(b"".join(lines[: args.lines]))
        out["parse-1"] = parse_rate(shard, args.lines, 1)
        out["parse-2"] = parse_rate(shard, args.lines, 2)
    rc.disconnect()
    result = {
        "tier": args.tier,
        "texts": args.texts,
        "lines": args.lines,
        "per_second": {k: round(v, 1) for k, v in out.items()},
        "embed_2_over_1": round(out["ray-2"] / out["ray-1"], 2),
        "ray_1_overhead": round(1 - out["ray-1"] / out["local"], 3),
        "parse_2_over_1": round(out["parse-2"] / out["parse-1"], 2),
    }
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
