"""Choosing the topic space's settings on a dev half of a library, never on the papers reported.

The dev half: the papers whose id hashes into the first half (`rank.features.id_hash_order`, seed
"topics-dev"), a split that depends only on the ids. Each setting clusters the dev half alone as a
build would (fine topics by spherical k-means on the joint rows of topics/space.py; broad topics
by each `--broad` method: Ward or average linkage of the fine centroids, or "papers@W", the
build's k-means of the papers at embedding weight W) and is scored against arXiv primary
categories (purity, NMI, as in bench/topics.py). `--seeds` and `--broad-seeds` rerun the k-means
with other seeds, to see how far a setting moves by chance. The chosen settings go into
topics/space.py and topics/cluster.py; bench/topics.py then reports the whole corpus
(docs/evaluation.md). `--quality-sample N` compares the tiers on N dev papers embedded afresh by
the quality tier (a few minutes for a few thousand papers).

    .venv/bin/python bench/topics_dev.py --db PATH [--weights 1,0.5] [--dims 128] [--baseline]
        [--seeds 0,1,2] [--broad ward,papers@0.3] [--broad-seeds 4] [--quality-sample N]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from paperradar.rank.features import id_hash_order  # noqa: E402
from paperradar.storage import open_library  # noqa: E402
from paperradar.storage import topics as db  # noqa: E402
from paperradar.topics import cluster, space  # noqa: E402
from paperradar.topics.build import paper_texts  # noqa: E402
from topics import baseline, best_matrix, quality  # noqa: E402  (bench/topics.py)


def dev_half(lib, pks: np.ndarray) -> np.ndarray:  # type: ignore[no-untyped-def]
    """Row indices (into pks) of the dev half, ascending."""
    ids = lib.paper_ids()
    order = id_hash_order([ids.get(int(pk), "") for pk in pks], seed="topics-dev")
    return np.sort(order[: len(pks) // 2])


def load(db_path: Path) -> dict[str, Any]:
    lib = open_library(db_path)
    all_pks, matrix = best_matrix(lib)
    rows = dev_half(lib, all_pks)
    pks = all_pks[rows]
    cats = db.primary_categories(lib)
    return {
        "lib": lib,
        "pks": pks,
        "vectors": matrix[rows],
        "texts": paper_texts(lib, pks),
        "truth": np.array([cats.get(int(pk), "?") for pk in pks]),
    }


def quality_sample(data: dict[str, Any], n: int) -> dict[str, dict[str, Any]]:
    """n papers of the dev half (a seeded choice) with their fast-tier vectors as stored, and the
    same papers with vectors the quality tier makes now (not read from any cache)."""
    from paperradar.embed import load_embedder

    rows = np.sort(np.random.default_rng(0).choice(len(data["pks"]), n, replace=False))
    texts = [data["texts"][i] for i in rows]
    embedder = load_embedder("quality")
    start = time.perf_counter()
    fresh = np.vstack([embedder.embed_batch(texts[i : i + 256]) for i in range(0, n, 256)])
    print(f"quality tier: {n} papers in {time.perf_counter() - start:.0f} s", file=sys.stderr)
    part = {
        "pks": data["pks"][rows],
        "texts": texts,
        "truth": data["truth"][rows],
        "broad_seeds": data["broad_seeds"],
        "lexical": {},
    }  # fmt: skip  (one LSA for both)
    return {
        "fast": {**part, "vectors": data["vectors"][rows]},
        "quality": {**part, "vectors": space.unit_rows(fresh)},
    }


def run_one(
    data: dict[str, Any], weight: float, dims: int, methods: list[str], seed: int = 0
) -> list[dict[str, Any]]:
    """One fine clustering of the dev half (k-means++ seeded with `seed`), and each broad method over it."""
    start = time.perf_counter()
    k_fine, k_broad = cluster.default_sizes(len(data["pks"]))
    if dims not in data.setdefault("lexical", {}):  # the same words at every weight
        data["lexical"][dims] = space.lexical_rows(data["texts"], dims)
    rows = space.joint_rows(data["vectors"], data["lexical"][dims], weight)
    cluster.SEED = seed
    fine_of, joint_centroids = cluster.fine_clusters(rows, k_fine)
    cluster.SEED = 0
    seconds = round(time.perf_counter() - start, 1)
    fine = {**quality(fine_of, data["truth"]), "seed": seed,
            "objective": round(float(np.einsum("nd,nd->", rows, joint_centroids[fine_of])), 1)}  # fmt: skip
    out = []
    for method in methods:
        if method == "ward":  # what the build does: Ward on the fine centroids in the embedding space
            centroids = space.member_centroids(data["vectors"], fine_of, len(joint_centroids))
        elif method == "ward-joint":  # Ward on the fine centroids in the clustering space
            centroids = joint_centroids
        elif method == "ward-lexical":  # Ward on the mean LSA rows of each fine topic
            centroids = space.member_centroids(data["lexical"][dims], fine_of, len(joint_centroids))
        elif method in ("average", "average-joint"):  # cosine average linkage of the centroids
            centroids = joint_centroids if method == "average-joint" else space.member_centroids(
                data["vectors"], fine_of, len(joint_centroids))  # fmt: skip
        elif method.startswith("papers"):  # k-means of the papers (joint rows, or at weight
            # "papers@W"), each fine topic under its papers' majority (cluster.broad_by_papers);
            # one result per broad seed, each with its k-means objective (higher: tighter)
            at = float(method.split("@")[1]) if "@" in method else weight
            broad_rows = space.joint_rows(data["vectors"], data["lexical"][dims], at)
            for b_seed in range(data["broad_seeds"]):
                cluster.SEED = b_seed
                groups, cents = cluster.fine_clusters(broad_rows, k_broad)
                cluster.SEED = 0
                objective = float(np.einsum("nd,nd->", broad_rows, cents[groups]))
                counts = np.zeros((len(joint_centroids), groups.max() + 1))
                np.add.at(counts, (fine_of, groups), 1)
                broad_of = counts.argmax(axis=1)
                out.append({"weight": weight, "dims": dims, "broad_method": method, "broad_seed": b_seed,
                            "broad_objective": round(objective, 1), "fine": fine,
                            "broad": quality(broad_of[fine_of], data["truth"]), "fine_seconds": seconds})  # fmt: skip
            continue
        else:
            raise SystemExit(f"unknown broad method {method!r}")
        if method.startswith("average"):
            from sklearn.cluster import AgglomerativeClustering

            broad_of = AgglomerativeClustering(n_clusters=k_broad, linkage="average", metric="cosine"
                                               ).fit_predict(centroids)  # fmt: skip
        elif not method.startswith("papers"):
            broad_of = cluster.broad_clusters(centroids, k_broad)
        out.append({"weight": weight, "dims": dims, "broad_method": method, "fine": fine,
                    "broad": quality(broad_of[fine_of], data["truth"]), "fine_seconds": seconds})  # fmt: skip
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--db", type=Path, required=True)
    ap.add_argument("--weights", default="1,0.8,0.6")
    ap.add_argument("--dims", default="128")
    ap.add_argument("--broad", default="ward,ward-joint")
    ap.add_argument("--seeds", default="0", help="k-means++ seeds of the fine clustering, each run")
    ap.add_argument("--broad-seeds", type=int, default=1, help="seeds of the broad k-means (papers methods)")
    ap.add_argument(
        "--baseline", action="store_true", help="also the TF-IDF k-means baseline on the dev half"
    )
    ap.add_argument(
        "--quality-sample",
        type=int,
        metavar="N",
        help="instead: N papers of the dev half, embedded afresh by the quality tier, each setting run"
        " on their fast-tier and on their quality-tier vectors",
    )
    args = ap.parse_args()
    data = load(args.db)
    data["broad_seeds"] = args.broad_seeds
    print(f"dev half: {len(data['pks']):,} papers", file=sys.stderr)
    if args.quality_sample:
        tiers = quality_sample(data, args.quality_sample)
        if args.baseline:
            k_fine, k_broad = cluster.default_sizes(args.quality_sample)
            base, _ = baseline(tiers["fast"]["texts"], k_fine, k_broad)
            out = {name: quality(labels, tiers["fast"]["truth"]) for name, labels in base.items()}
            print(json.dumps({"baseline": out, "papers": args.quality_sample}), flush=True)
        for tier, part in tiers.items():
            for weight in [float(w) for w in args.weights.split(",")]:
                for result in run_one(part, weight, int(args.dims.split(",")[0]), args.broad.split(",")):
                    print(json.dumps({"tier": tier, **result}), flush=True)
        return
    if args.baseline:
        k_fine, k_broad = cluster.default_sizes(len(data["pks"]))
        base, secs = baseline(data["texts"], k_fine, k_broad)
        out = {name: quality(labels, data["truth"]) for name, labels in base.items()}
        print(json.dumps({"baseline": out, "seconds": round(secs, 1)}), flush=True)
    for dims in [int(d) for d in args.dims.split(",")]:
        for weight in [float(w) for w in args.weights.split(",")]:
            for seed in [int(x) for x in args.seeds.split(",")]:
                for result in run_one(data, weight, dims, args.broad.split(","), seed):
                    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
