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

    .venv/bin/python bench/topics.py [--db PATH] [--json]

With `--fit-sample N` it instead builds twice in one run, fitted on every paper and on a sample of
about N (the path a library above 200,000 papers takes), and prints both builds' time, peak RSS,
purity and NMI, and the NMI between the two labellings (JSON).

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


def evaluate(db_path: Path) -> dict[str, Any]:
    lib = open_library(db_path)
    pks, matrix = best_matrix(lib)
    cats = db.primary_categories(lib)
    truth = np.array([cats.get(int(pk), "?") for pk in pks])
    a = db.assignments(lib)
    row = {int(pk): i for i, pk in enumerate(a.pk)}
    at = np.array([row[int(pk)] for pk in pks])
    fine = a.topic[at]
    topics = db.topics(lib)
    parent = {t.id: t.parent for t in topics}
    broad = np.array([parent[int(t)] for t in fine])
    texts = paper_texts(lib, pks)
    base, base_s = baseline(texts, len(np.unique(fine)), len(np.unique(broad)))
    rng = np.random.default_rng(0)
    label_of = {t.id: t.label for t in topics if t.level == 2}
    sample = rng.choice(len(pks), SAMPLE, replace=False)
    xy = np.stack([a.x[at], a.y[at]], axis=1)[sample]
    high = matrix[sample]
    centred = high - high.mean(axis=0)
    pca = centred @ np.linalg.svd(centred, full_matrices=False)[2][:2].T
    _, majority = np.unique(truth, return_counts=True)
    return {
        "papers": len(pks),
        "majority_category_share": round(majority.max() / len(truth), 4),
        "fine": {"paperradar": quality(fine, truth), "tfidf_kmeans": quality(base["fine"], truth)},
        "broad": {"paperradar": quality(broad, truth), "tfidf_kmeans": quality(base["broad"], truth)},
        "baseline_seconds": round(base_s, 1),
        "labels": label_quality(texts, fine, label_of, rng),
        "map_knn10_kept": {
            "paperradar": round(knn_kept(high, xy), 3),
            "pca_2d": round(knn_kept(high, pca), 3),
        },
    }


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


if __name__ == "__main__":
    sys.exit(main())
