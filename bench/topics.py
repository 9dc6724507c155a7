"""Topics on the 118k arXiv corpus: build time and memory, cluster quality, label quality, map quality.

Library: `--db` (default bench/out/topics-118k.db, a copy of bench/out/lib-118k.db made on first run;
it needs the topic tables, so a library made before migration 5 must be re-imported). Steps:
1. `paperradar index --tier fast` (cached: only new text is embedded);
2. `paperradar topics build --json` in a child process, timed, with the child's peak RSS;
3. quality against arXiv primary categories (weak labels), for fine and broad topics:
   purity and NMI of paperradar's topics vs the baseline, k-means (scikit-learn MiniBatchKMeans,
   same k, seed 0) on TF-IDF of title + abstract (unigrams + bigrams, min_df 5), made in the same run;
4. label quality: the share of a topic's papers whose text contains a label phrase, next to the
   share of papers of another (random) topic containing it;
5. map quality: of each of 2,000 sampled papers' 10 nearest neighbours (cosine, among the sample),
   how many are among its 10 nearest on the 2-D map, next to a 2-D PCA projection.

    .venv/bin/python bench/topics.py [--db PATH] [--json] [--tiers fast best [--work DIR]]

With `--fit-sample N` it instead builds twice in one run, fitted on every paper and on a sample of
about N (the path a library above 200,000 papers takes), and prints both builds' time, peak RSS,
purity and NMI, and the NMI between the two labellings (JSON).

With `--tiers fast best` it builds once per tier in the same run and scores every build against one
TF-IDF k-means baseline (computed once: the papers and the numbers of topics are the same): `fast`
on a copy of `--db` (in `--work`, default a temporary folder, removed afterwards) from which the
quality tier's vectors are dropped, so the build reads the trained fast tier for every paper, as in
a library right after a big `paperradar import`; `best` on `--db` itself, the best vector each
paper has (the quality tier's after `paperradar index`), as steps 1-2 above. Each tier gets its
build's time and peak RSS, purity and NMI at both levels, the label check and the map check.

With `--quality-copy DST` it makes the library as `paperradar index` leaves it (every paper with
the quality tier's vector) without an hour of embedding: DST is a copy of `--db` given the quality
tier's vectors that bench/eval_holdout.py cached for the same corpus (bench/out/holdout-quality-*.npy,
rows in the corpus file's order), stored as `update_index` stores them (the quality embedder's model
id, the hash of the library's own text). Before storing, the quality tier embeds 20 of the library's
papers afresh; each cached row must be within cosine 0.999 of it, else nothing is stored. (The ANN
file `paperradar index` would also build is not made: topics do not read it.)
"""

from __future__ import annotations

import argparse
import json
import lzma
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from paperradar.storage import open_library
from paperradar.storage import topics as db
from paperradar.topics import sample as sample_mod
from paperradar.topics.build import paper_texts, topic_models

ROOT = Path(__file__).resolve().parents[1]
EXE = ROOT / ".venv" / "bin" / "paperradar"
SAMPLE = 2000


def purity(labels: np.ndarray, truth: np.ndarray) -> float:
    """Share of papers whose cluster's most common category is their own."""
    total = 0
    for c in np.unique(labels):
        _, counts = np.unique(truth[labels == c], return_counts=True)
        total += counts.max()
    return total / len(labels)


def quality(labels: np.ndarray, truth: np.ndarray) -> dict[str, float]:
    from sklearn.metrics import normalized_mutual_info_score

    return {
        "clusters": len(np.unique(labels)),
        "purity": round(purity(labels, truth), 4),
        "nmi": round(float(normalized_mutual_info_score(truth, labels)), 4),
    }


def baseline(texts: list[str], k_fine: int, k_broad: int) -> tuple[dict[str, np.ndarray], float]:
    """k-means on TF-IDF with the same numbers of clusters; returns labels and seconds."""
    from sklearn.cluster import MiniBatchKMeans
    from sklearn.feature_extraction.text import TfidfVectorizer

    start = time.perf_counter()
    x = TfidfVectorizer(
        stop_words="english", ngram_range=(1, 2), min_df=5, max_df=0.5, sublinear_tf=True, dtype=np.float32
    ).fit_transform(texts)
    out = {}
    for name, k in (("fine", k_fine), ("broad", k_broad)):
        km = MiniBatchKMeans(n_clusters=k, batch_size=4096, n_init=3, random_state=0)
        out[name] = km.fit_predict(x)
    return out, time.perf_counter() - start


def label_quality(texts: list[str], labels: np.ndarray, label_of: dict[int, str], rng) -> dict[str, float]:
    """Mean over topics: share of its papers containing a label phrase, vs. of a random other topic's."""
    own, other = [], []
    topics = sorted(label_of)
    for t in topics:
        members = np.flatnonzero(labels == t)
        others = np.flatnonzero(labels == rng.choice([x for x in topics if x != t]))
        phrases = [re.compile(r"\b" + re.escape(p)) for p in label_of[t].split(", ")]
        own.append(_share(texts, rng.permutation(members)[:300], phrases))
        other.append(_share(texts, rng.permutation(others)[:300], phrases))
    return {"own_topic": round(float(np.mean(own)), 3), "random_other_topic": round(float(np.mean(other)), 3)}


def _share(texts: list[str], rows: np.ndarray, phrases: list[re.Pattern[str]]) -> float:
    if len(rows) == 0:
        return 0.0
    return sum(any(p.search(texts[i].lower()) for p in phrases) for i in rows) / len(rows)


def knn_kept(high: np.ndarray, low: np.ndarray, k: int = 10) -> float:
    """Mean share of each point's k nearest neighbours (cosine, high-d) that are also among its k
    nearest in 2-D."""
    sims = high @ high.T
    np.fill_diagonal(sims, -np.inf)
    d2 = ((low[:, None, :] - low[None, :, :]) ** 2).sum(axis=2)
    np.fill_diagonal(d2, np.inf)
    a = np.argpartition(-sims, k, axis=1)[:, :k]
    b = np.argpartition(d2, k, axis=1)[:, :k]
    return float(np.mean([len(set(x) & set(y)) / k for x, y in zip(a, b, strict=True)]))


def run_build(db_path: Path, *extra: str) -> dict[str, Any]:
    subprocess.run(
        [str(EXE), "--db", str(db_path), "index", "--tier", "fast"], check=True, capture_output=True
    )
    return build_child(db_path, *extra)


def build_child(db_path: Path, *extra: str) -> dict[str, Any]:
    """`paperradar topics build --json` in a child process: its report, wall seconds and the peak
    RSS of that child alone (os.wait4: RUSAGE_CHILDREN would give the largest child so far)."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        start = time.perf_counter()
        cmd = [str(EXE), "--db", str(db_path), "topics", "build", "--json", *extra]
        child = subprocess.Popen(cmd, stdout=out, stderr=err)
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - start
        child.returncode = os.waitstatus_to_exitcode(status)
        if child.returncode != 0:
            err.seek(0)
            sys.exit(f"{' '.join(cmd)} failed: {err.read()[-2000:]}")
        out.seek(0)
        report = json.load(out)
    return {**report, "wall_s": round(wall, 1), "peak_rss_mb": round(usage.ru_maxrss / 1024)}


def labellings(db_path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(pk, fine topic, broad topic, primary category) of every assigned paper, in pk order."""
    lib = open_library(db_path)
    a = db.assignments(lib)
    parent = {t.id: t.parent for t in db.topics(lib)}
    cats = db.primary_categories(lib)
    lib.close()
    broad = np.array([parent[int(t)] for t in a.topic])
    return a.pk, a.topic, broad, np.array([cats.get(int(pk), "?") for pk in a.pk])


def sample_vs_full(db_path: Path, fit_sample: int) -> dict[str, Any]:
    """The default build (fitted on every paper up to 200,000) and one fitted on a sample of about
    `fit_sample` papers, in the same run: time, peak RSS, and both against the arXiv categories."""
    from sklearn.metrics import normalized_mutual_info_score as nmi

    out: dict[str, Any] = {}
    labels = {}
    for name, extra in (("full", ()), ("sample", ("--fit-sample", str(fit_sample)))):
        build = run_build(db_path, *extra)
        pks, fine, broad, truth = labellings(db_path)
        labels[name] = (pks, fine, broad)
        out[name] = {**build, "fine": quality(fine, truth), "broad": quality(broad, truth)}
    (pa, fa, ba), (pb, fb, bb) = labels["full"], labels["sample"]
    assert np.array_equal(pa, pb), "the two builds assigned different papers"
    out["agreement_nmi"] = {
        "fine": round(float(nmi(fa, fb)), 4),
        "broad": round(float(nmi(ba, bb)), 4),
    }
    return out


def best_matrix(lib) -> tuple[np.ndarray, np.ndarray]:  # type: ignore[no-untyped-def]
    """(pks, vectors) of every embedded paper, each by the best vector it has, as a build reads them."""
    parts = list(sample_mod.vector_batches(lib, topic_models(lib)))
    return np.concatenate([p for p, _ in parts]), np.vstack([m for _, m in parts])


@dataclass
class Built:
    """A library's stored topics, read for scoring: every embedded paper in pk order."""

    pks: np.ndarray
    matrix: np.ndarray  # each paper's best vector, as the build read it
    truth: np.ndarray  # arXiv primary category
    texts: list[str]
    fine: np.ndarray
    broad: np.ndarray
    label_of: dict[int, str]  # fine topic id -> label
    xy: np.ndarray  # map position


def read_built(db_path: Path) -> Built:
    lib = open_library(db_path)
    pks, matrix = best_matrix(lib)
    cats = db.primary_categories(lib)
    a = db.assignments(lib)
    row = {int(pk): i for i, pk in enumerate(a.pk)}
    at = np.array([row[int(pk)] for pk in pks])
    fine = a.topic[at]
    topics = db.topics(lib)
    parent = {t.id: t.parent for t in topics}
    texts = paper_texts(lib, pks)
    lib.close()
    return Built(
        pks,
        matrix,
        np.array([cats.get(int(pk), "?") for pk in pks]),
        texts,
        fine,
        np.array([parent[int(t)] for t in fine]),
        {t.id: t.label for t in topics if t.level == 2},
        np.stack([a.x[at], a.y[at]], axis=1),
    )


def sizes(b: Built) -> tuple[int, int]:
    return len(np.unique(b.fine)), len(np.unique(b.broad))


def scores(b: Built) -> dict[str, Any]:
    """Purity and NMI of the build at both levels, the label check and the map check."""
    rng = np.random.default_rng(0)  # the map's sample is drawn first, the label check's after it
    sample = rng.choice(len(b.pks), min(SAMPLE, len(b.pks)), replace=False)
    labels = label_quality(b.texts, b.fine, b.label_of, rng)
    high = b.matrix[sample]
    centred = high - high.mean(axis=0)
    pca = centred @ np.linalg.svd(centred, full_matrices=False)[2][:2].T
    return {
        "fine": quality(b.fine, b.truth),
        "broad": quality(b.broad, b.truth),
        "labels": labels,
        "map_knn10_kept": {
            "paperradar": round(knn_kept(high, b.xy[sample]), 3),
            "pca_2d": round(knn_kept(high, pca), 3),
        },
    }


def evaluate(db_path: Path) -> dict[str, Any]:
    b = read_built(db_path)
    base, base_s = baseline(b.texts, *sizes(b))
    ours = scores(b)
    _, majority = np.unique(b.truth, return_counts=True)
    return {
        "papers": len(b.pks),
        "majority_category_share": round(majority.max() / len(b.truth), 4),
        "fine": {"paperradar": ours["fine"], "tfidf_kmeans": quality(base["fine"], b.truth)},
        "broad": {"paperradar": ours["broad"], "tfidf_kmeans": quality(base["broad"], b.truth)},
        "baseline_seconds": round(base_s, 1),
        "labels": ours["labels"],
        "map_knn10_kept": ours["map_knn10_kept"],
    }


def fast_only_copy(src: Path, dst: Path) -> dict[str, Any]:
    """DST = SRC with the fast tier's vectors only (every other model's dropped), so that a build
    reads the trained fast tier for every paper. Exits if SRC's fast vectors do not cover every
    embedded paper (the build would then score fewer papers than the other tiers')."""
    from paperradar.embed import load_embedder

    start = time.perf_counter()
    with closing(sqlite3.connect(src)) as a, closing(sqlite3.connect(dst)) as c:
        a.backup(c)
    lib = open_library(dst)
    fast = load_embedder("fast").model_id
    have = lib.embedding_models()
    embedded = len({pk for m in have for pk in lib.embedding_hashes(m)})
    if have.get(fast, 0) != embedded:
        lib.close()
        sys.exit(
            f"{src}: the fast tier {fast} has {have.get(fast, 0):,} vectors for {embedded:,} embedded papers"
        )
    dropped = {}
    with lib.transaction():
        for model in have.keys() - {fast}:
            lib.drop_embeddings(model, sorted(lib.embedding_hashes(model)))
            dropped[model] = have[model]
    lib.close()
    return {"dropped": dropped, "kept": {fast: have[fast]}, "seconds": round(time.perf_counter() - start, 1)}


def by_tier(db_path: Path, tiers: list[str], work: Path) -> dict[str, Any]:
    """`--tiers` (module docstring): one build per tier, each scored; one baseline for all."""
    out: dict[str, Any] = {"tiers": {}}
    built: dict[str, Built] = {}
    for tier in tiers:
        if tier == "fast":
            path = work / "fast-only.db"
            copy = fast_only_copy(db_path, path)
            build = build_child(path)  # the copy holds --db's vectors: nothing for `index` to embed
            out["tiers"][tier] = {"library": f"copy of {db_path}, other tiers' vectors dropped", "copy": copy}
        else:
            path = db_path
            build = run_build(path)
            out["tiers"][tier] = {"library": str(path)}
        built[tier] = read_built(path)
        out["tiers"][tier] |= {"build": build, **scores(built[tier])}
    first = built[tiers[0]]
    for tier, b in built.items():
        if not np.array_equal(b.pks, first.pks) or sizes(b) != sizes(first):
            sys.exit(f"the {tier} build has other papers or numbers of topics than the {tiers[0]} build")
    base, base_s = baseline(first.texts, *sizes(first))
    _, majority = np.unique(first.truth, return_counts=True)
    out["papers"] = len(first.pks)
    out["majority_category_share"] = round(majority.max() / len(first.truth), 4)
    out["tfidf_kmeans"] = {level: quality(base[level], first.truth) for level in ("fine", "broad")}
    out["baseline_seconds"] = round(base_s, 1)
    for r in out["tiers"].values():
        r["minus_baseline"] = {
            level: {m: round(r[level][m] - out["tfidf_kmeans"][level][m], 4) for m in ("purity", "nmi")}
            for level in ("fine", "broad")
        }
    return out


HOLDOUT_CUT = "2026-02-01"  # bench/eval_holdout.py's SYNCED_FROM: its two quality caches split there
CORPUS = ROOT.parent / "shared" / "corpora" / "arxiv-118k" / "arxiv_metadata.jsonl.xz"


def cached_quality_rows() -> dict[str, np.ndarray]:
    """arXiv id -> the quality tier's cached unit vector (bench/eval_holdout.py's caches, whose rows
    follow the corpus file's order, split at its cut date)."""
    ids, dates = [], []
    with lzma.open(CORPUS, "rt") as f:
        for line in f:
            d = json.loads(line)
            ids.append("arxiv:" + d["id"])
            dates.append(d["listing_date"])
    since = np.asarray(dates) >= HOLDOUT_CUT
    out = ROOT / "bench" / "out"
    parts = {
        True: np.load(out / f"holdout-quality-since-{HOLDOUT_CUT}.npy"),
        False: np.load(out / f"holdout-quality-before-{HOLDOUT_CUT}.npy"),
    }
    for flag, m in parts.items():
        if len(m) != int((since == flag).sum()):
            sys.exit(f"{len(m)} cached rows for {int((since == flag).sum())} papers (since={flag})")
    rows = np.empty((len(ids), parts[True].shape[1]), dtype=np.float32)
    rows[since], rows[~since] = parts[True], parts[False]
    rows /= np.maximum(np.linalg.norm(rows, axis=1, keepdims=True), 1e-12)
    return dict(zip(ids, rows, strict=True))


def quality_copy(src: Path, dst: Path, check: int = 20) -> dict[str, Any]:
    """`--quality-copy` (module docstring): DST = SRC with every paper's quality-tier vector."""
    from paperradar.embed import load_embedder, text_for
    from paperradar.index import text_hash

    cached = cached_quality_rows()
    with sqlite3.connect(src) as a, sqlite3.connect(dst) as b:
        a.backup(b)
    lib = open_library(dst)
    embedder = load_embedder("quality")
    ids = lib.paper_ids()
    rows = []
    for pk, title, abstract in lib.paper_texts():
        text, vector = text_for(title, abstract), cached.get(ids[pk])
        if text and vector is not None:
            rows.append((pk, text, vector))
    picked = np.random.default_rng(0).choice(len(rows), check, replace=False)
    fresh = embedder.embed_batch([rows[i][1] for i in picked])
    fresh /= np.maximum(np.linalg.norm(fresh, axis=1, keepdims=True), 1e-12)
    cosines = [float(fresh[j] @ rows[i][2]) for j, i in enumerate(picked)]
    if min(cosines) < 0.999:
        lib.close()
        dst.unlink()
        sys.exit(f"cached quality rows do not match the quality tier (cosines {cosines}): not used")
    for i in range(0, len(rows), 5000):
        with lib.transaction():
            lib.put_embeddings(
                embedder.model_id, [(pk, text_hash(t), v.tobytes()) for pk, t, v in rows[i : i + 5000]]
            )
    report = {"papers": len(ids), "stored": len(rows), "model": embedder.model_id,
              "check_min_cosine": round(min(cosines), 5), "models": lib.embedding_models()}  # fmt: skip
    lib.close()
    return report


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--db", type=Path, default=ROOT / "bench" / "out" / "topics-118k.db")
    ap.add_argument("--json", action="store_true")
    ap.add_argument(
        "--fit-sample",
        type=int,
        help="instead: build fitted on all papers, then on a sample of about this many (same run), and"
        " compare quality, time and peak RSS",
    )
    ap.add_argument("--quality-copy", type=Path, metavar="DST", help="instead: make DST (module docstring)")
    ap.add_argument(
        "--tiers",
        nargs="+",
        choices=["fast", "best"],
        help="instead: one build per tier in the same run (fast: on a copy holding the fast tier's vectors"
        " only; best: the best vector each paper has), one baseline for all",
    )
    ap.add_argument(
        "--work", type=Path, help="with --tiers: folder for the fast-only copy (default: a temporary one)"
    )
    args = ap.parse_args()
    if args.quality_copy:
        print(json.dumps(quality_copy(args.db, args.quality_copy), indent=2))
        return
    if not args.db.exists():
        shutil.copy(ROOT / "bench" / "out" / "lib-118k.db", args.db)
    with sqlite3.connect(args.db) as conn:
        if not conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'topics'").fetchone():
            sys.exit(f"{args.db} was made before the topic tables (migration 5): re-import it or pass --db")
    if args.fit_sample:
        print(json.dumps(sample_vs_full(args.db, args.fit_sample), indent=2))
        return
    if args.tiers:
        with tempfile.TemporaryDirectory(dir=args.work, prefix="topics-tiers-") as work:
            r = by_tier(args.db, list(dict.fromkeys(args.tiers)), Path(work))
        print(json.dumps(r, indent=2) if args.json else _tiers_text(r))
        return
    report = {"build": run_build(args.db), **evaluate(args.db)}
    print(json.dumps(report, indent=2) if args.json else _text(report))


def _text(r: dict[str, Any]) -> str:
    b = r["build"]
    lines = [
        f"build: {b['papers']:,} papers, {b['fine_topics']} fine / {b['broad_topics']} broad topics,"
        f" {b['wall_s']} s wall ({b['seconds']}), peak RSS {b['peak_rss_mb']} MB",
        f"majority category share: {r['majority_category_share']}",
    ]
    for level in ("fine", "broad"):
        for name, q in r[level].items():
            lines.append(
                f"{level:5} {name:12} clusters {q['clusters']:>4}  purity {q['purity']:.3f}  NMI {q['nmi']:.3f}"
            )
    lines.append(f"labels: {r['labels']}  map 10-NN kept: {r['map_knn10_kept']}")
    return "\n".join(lines)


def _tiers_text(r: dict[str, Any]) -> str:
    lines = [f"{r['papers']:,} papers; majority category share {r['majority_category_share']}"]
    for level in ("fine", "broad"):
        q = r["tfidf_kmeans"][level]
        lines.append(
            f"{level:5} {'TF-IDF k-means':16} {q['clusters']:>4}  purity {q['purity']:.4f}  NMI {q['nmi']:.4f}"
        )
        for tier, t in r["tiers"].items():
            q, d = t[level], t["minus_baseline"][level]
            lines.append(
                f"{level:5} {tier:16} {q['clusters']:>4}  purity {q['purity']:.4f}  NMI {q['nmi']:.4f}"
                f"  (baseline {d['purity']:+.4f} / {d['nmi']:+.4f})"
            )
    for tier, t in r["tiers"].items():
        b = t["build"]
        lines.append(
            f"{tier}: build {b['wall_s']} s wall, peak RSS {b['peak_rss_mb']} MB, model {b['model']};"
            f" labels {t['labels']}; map 10-NN kept {t['map_knn10_kept']}"
        )
    lines.append(f"baseline: {r['baseline_seconds']} s")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
