"""Choosing the ANN library by measurement: usearch, hnswlib and faiss on the library's real vectors.

Vectors: every embedding of one model in a library (default: the fast tier of bench/out/lib-118k.db,
made by `paperradar --db bench/out/lib-118k.db index --tier fast`). Queries: 500 titles drawn
deterministically (seed 0) from the library, embedded by the same model, i.e. what a user types.
Baseline, in the same run: exact search (numpy float32 matrix product + argpartition), which
also gives the true neighbours for recall@10 and recall@100 (k=100 is the depth hybrid search fuses).
Each index is built with 2 threads (this machine's cores) and queried one query at a time on one
thread, as `paperradar search` does.

    .venv/bin/python bench/ann.py [--db PATH] [--tier fast|quality] [--queries N] [--json]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from paperradar.embed import load_embedder
from paperradar.storage import open_library

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DB = ROOT / "bench" / "out" / "lib-118k.db"
K = 100


def load(db: Path, tier: str, n_queries: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    lib = open_library(db)
    embedder = load_embedder(tier)  # type: ignore[arg-type]
    pks, blobs = [], []
    for pk, blob in lib.vectors(embedder.model_id):
        pks.append(pk)
        blobs.append(blob)
    if not pks:
        sys.exit(f"{db} has no {tier} vectors: run `paperradar --db {db} index --tier {tier}`")
    matrix = np.frombuffer(b"".join(blobs), dtype=np.float32).reshape(len(pks), -1)
    rng = random.Random(0)
    titles = [
        lib.conn.execute("SELECT title FROM papers WHERE pk = ?", (pk,)).fetchone()[0]
        for pk in rng.sample(pks, n_queries)
    ]
    queries = np.asarray(embedder.embed_batch([t or "" for t in titles]), dtype=np.float32)
    lib.close()
    return np.asarray(pks, dtype=np.int64), np.ascontiguousarray(matrix), queries


def exact_topk(matrix: np.ndarray, q: np.ndarray, k: int) -> np.ndarray:
    scores = matrix @ q
    top = np.argpartition(-scores, k - 1)[:k]
    return top[np.argsort(-scores[top])]


def timed_queries(
    fn: Callable[[np.ndarray], np.ndarray], queries: np.ndarray
) -> tuple[list[np.ndarray], list[float]]:
    for q in queries[:20]:  # warm up
        fn(q)
    results, times = [], []
    for q in queries:
        t = time.perf_counter()
        results.append(fn(q))
        times.append((time.perf_counter() - t) * 1000)
    return results, times


def recall(found: list[np.ndarray], truth: list[np.ndarray], k: int) -> float:
    return float(
        np.mean(
            [len(set(f[:k].tolist()) & set(t[:k].tolist())) / k for f, t in zip(found, truth, strict=True)]
        )
    )


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS"):
                return int(line.split()[1]) / 1024
    return 0.0


class Built:
    """A built index: `query(q)` returns the K nearest row numbers; `set_ef` sets the search breadth."""

    def __init__(self, query: Callable[[np.ndarray], np.ndarray], set_ef: Callable[[int], None], size: int):
        self.query, self.set_ef, self.size = query, set_ef, size


def build_usearch(matrix: np.ndarray, path: Path, dtype: str) -> Built:
    from usearch.index import Index

    index = Index(ndim=matrix.shape[1], metric="cos", dtype=dtype, connectivity=16, expansion_add=128)
    index.add(np.arange(len(matrix), dtype=np.uint64), matrix, threads=2)
    index.save(str(path))
    view = Index.restore(str(path), view=True)  # what paperradar searches: the file, memory-mapped

    def set_ef(ef: int) -> None:
        view.expansion_search = ef

    return Built(lambda q: view.search(q, K, threads=1).keys.astype(np.int64), set_ef, path.stat().st_size)


def build_usearch_rescored(matrix: np.ndarray, path: Path) -> Built:
    """int8 HNSW for 2K candidates, their float32 vectors for the order (what ann.AnnIndex does, with
    the vectors read from SQLite instead of memory)."""
    from usearch.index import Index

    built = build_usearch(matrix, path, "i8")
    view = Index.restore(str(path), view=True)

    def query(q: np.ndarray) -> np.ndarray:
        top = view.search(q, 2 * K, threads=1).keys.astype(np.int64)
        return top[np.argsort(-(matrix[top] @ q), kind="stable")][:K]

    def set_ef(ef: int) -> None:
        view.expansion_search = ef

    return Built(query, set_ef, built.size)


def build_hnswlib(matrix: np.ndarray, path: Path) -> Built:
    import hnswlib

    index = hnswlib.Index(space="ip", dim=matrix.shape[1])
    index.init_index(max_elements=len(matrix), M=16, ef_construction=128, random_seed=0)
    index.set_num_threads(2)
    index.add_items(matrix, np.arange(len(matrix)))
    index.save_index(str(path))
    index.set_num_threads(1)
    return Built(
        lambda q: index.knn_query(q, k=K)[0][0].astype(np.int64),
        lambda ef: index.set_ef(max(ef, K)),
        path.stat().st_size,
    )


def build_faiss(matrix: np.ndarray, path: Path) -> Built:
    import faiss

    faiss.omp_set_num_threads(2)
    index = faiss.IndexHNSWFlat(matrix.shape[1], 16, faiss.METRIC_INNER_PRODUCT)
    index.hnsw.efConstruction = 128
    index.add(matrix)
    faiss.write_index(index, str(path))
    faiss.omp_set_num_threads(1)

    def set_ef(ef: int) -> None:
        index.hnsw.efSearch = ef

    return Built(lambda q: index.search(q[None, :], K)[1][0].astype(np.int64), set_ef, path.stat().st_size)


CANDIDATES: dict[str, Callable[[np.ndarray, Path], Built]] = {
    "usearch i8 M16": lambda m, p: build_usearch(m, p, "i8"),
    "usearch i8 M16 + f32 rescore": build_usearch_rescored,
    "usearch f16 M16": lambda m, p: build_usearch(m, p, "f16"),
    "hnswlib f32 M16": build_hnswlib,
    "faiss HNSW16 f32": build_faiss,
}
EF = (128, 256, 512)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", type=Path, default=DEFAULT_DB)
    ap.add_argument("--tier", default="fast")
    ap.add_argument("--queries", type=int, default=500)
    ap.add_argument("--only", help="comma-separated candidate names (default: all)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    pks, matrix, queries = load(args.db, args.tier, args.queries)
    print(f"{len(pks):,} vectors of {matrix.shape[1]} dims; {len(queries)} queries", file=sys.stderr)
    truth, exact_ms = timed_queries(lambda q: exact_topk(matrix, q, K), queries)
    rows: list[dict[str, Any]] = [_row("exact (numpy f32)", 0.0, matrix.nbytes, exact_ms, truth, truth)]
    names = args.only.split(",") if args.only else list(CANDIDATES)
    with tempfile.TemporaryDirectory(dir=ROOT / "bench" / "out") as tmp:
        for name in names:
            gc.collect()
            start = time.perf_counter()
            built = CANDIDATES[name](matrix, Path(tmp) / name.replace(" ", "_"))
            build_s = time.perf_counter() - start
            for ef in EF:
                built.set_ef(ef)
                found, ms = timed_queries(built.query, queries)
                rows.append(_row(f"{name} ef{ef}", build_s, built.size, ms, found, truth))
                print(json.dumps(rows[-1]), file=sys.stderr)
            del built
    if args.json:
        print(json.dumps({"vectors": len(pks), "dims": int(matrix.shape[1]), "rows": rows}, indent=2))
        return
    print(
        f"{len(pks):,} vectors x {matrix.shape[1]} dims ({args.tier}), {len(queries)} title queries, k={K}, cpu={os.cpu_count()}"
    )
    print("| index | build s | size MB | p50 ms | p99 ms | recall@10 | recall@100 | p50 vs exact |")
    print("|---|---|---|---|---|---|---|---|")
    base = rows[0]["p50_ms"]
    for r in rows:
        print(
            f"| {r['name']} | {r['build_s']:.1f} | {r['size_mb']:.0f} | {r['p50_ms']:.2f} | {r['p99_ms']:.2f} "
            f"| {r['recall10']:.3f} | {r['recall100']:.3f} | {base / r['p50_ms']:.1f}x faster |"
        )


def _row(
    name: str, build_s: float, size: int, ms: list[float], found: list[np.ndarray], truth: list[np.ndarray]
) -> dict[str, Any]:
    qs = statistics.quantiles(ms, n=100)
    return {
        "name": name,
        "build_s": round(build_s, 2),
        "size_mb": round(size / 2**20, 1),
        "p50_ms": round(statistics.median(ms), 3),
        "p99_ms": round(qs[98], 3),
        "recall10": round(recall(found, truth, 10), 4),
        "recall100": round(recall(found, truth, 100), 4),
        "rss_mb": round(rss_mb()),
    }


if __name__ == "__main__":
    main()
