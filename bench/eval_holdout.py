"""Author hold-out on arxiv-118k: can a profile built from an author's earlier papers find their later ones?

    .venv/bin/python bench/eval_holdout.py [--authors 120] [--json]

Protocol: cut date 2026-04-01 (by listing date). An author's profile = their papers listed before
the cut; targets = their papers listed on or after it; candidates = every paper listed on or after
it (~21.9k). Recall@50 and nDCG@50 (binary gain), averaged over authors. Author names are never a
feature: only title + abstract text is used.

Authors: at least 5 papers before the cut and 2 after; names with more than 40 papers in all are
left out, since such common names (e.g. "Yang Liu", 402 papers) cover several people. From the
eligible names a deterministic sample (random.Random(0)) of --authors is taken, to keep the run
near ten minutes on 2 shared cores (the SVM baseline trains on all 118k papers per author).

Systems, all in this run, on the same authors and candidates:
- ours: the recommender's learner (rank/learner.py, default LearnerConfig): logistic regression over
  TF-IDF + fast-tier embeddings; positives = the profile, 5,000 random pre-cut papers as negatives
- arxiv-sanity-lite SVM: TF-IDF over title + abstract, word 1-2-grams, 20k features, min_df 5,
  max_df 0.1, sublinear tf, English stop words; LinearSVC(C=0.01, class_weight="balanced",
  max_iter=10000; arxiv-sanity-lite's tol=1e-6 is left at sklearn's 1e-4 to keep the run short),
  trained on all papers with every unlabelled one a negative
- time-decayed mean cosine (zotero-arxiv-daily): embedding cosine to each profile paper, weighted
  1 / (1 + log10(rank + 1)) by recency rank (newest first), normalised
"""

from __future__ import annotations

import argparse
import json
import lzma
import random
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.preprocessing import normalize
from sklearn.svm import LinearSVC

from paperradar.embed import load_embedder, text_for
from paperradar.rank import learner

HERE = Path(__file__).resolve().parent
CORPUS = HERE.parent.parent / "shared" / "corpora" / "arxiv-118k" / "arxiv_metadata.jsonl.xz"
OUT = HERE / "out"
CUT = "2026-04-01"
K = 50
RANDOMS = 5000
MIN_BEFORE, MIN_AFTER, MAX_TOTAL = 5, 2, 40


def load() -> tuple[list[str], list[str], list[list[str]], list[str]]:
    ids, texts, authors, dates = [], [], [], []
    with lzma.open(CORPUS, "rt") as f:
        for line in f:
            d = json.loads(line)
            ids.append(d["id"])
            texts.append(" ".join(text_for(d["title"], d["abstract"]).split()))
            authors.append(d["authors"])
            dates.append(d["listing_date"])
    return ids, texts, authors, dates


def pick_authors(
    authors: list[list[str]], dates: list[str], n: int
) -> list[tuple[str, list[int], list[int]]]:
    papers: dict[str, list[int]] = defaultdict(list)
    for i, names in enumerate(authors):
        for a in names:
            papers[a].append(i)
    eligible = []
    for a, rows in papers.items():
        before = [i for i in rows if dates[i] < CUT]
        after = [i for i in rows if dates[i] >= CUT]
        if len(before) >= MIN_BEFORE and len(after) >= MIN_AFTER and len(rows) <= MAX_TOTAL:
            eligible.append((a, before, after))
    eligible.sort()
    print(f"{len(eligible)} eligible authors; sampling {n}", file=sys.stderr)
    return random.Random(0).sample(eligible, min(n, len(eligible)))


def dense_matrix(texts: list[str]) -> np.ndarray:
    emb = load_embedder("fast")
    cache = OUT / f"holdout-{emb.model_id.replace('/', '_')}.npy"
    if cache.exists():
        return np.load(cache)
    m = np.vstack([emb.embed_batch(texts[i : i + 512]) for i in range(0, len(texts), 512)])
    OUT.mkdir(exist_ok=True)
    np.save(cache, m)
    return m


def metrics(scores: np.ndarray, cand: np.ndarray, targets: set[int]) -> tuple[float, float]:
    top = cand[np.argsort(-scores)[:K]]
    hits = [1.0 if int(i) in targets else 0.0 for i in top]
    dcg = sum(h / np.log2(r + 2) for r, h in enumerate(hits))
    ideal = sum(1 / np.log2(r + 2) for r in range(min(K, len(targets))))
    return sum(hits) / len(targets), dcg / ideal


def run(n_authors: int) -> dict[str, object]:
    t0 = time.perf_counter()
    ids, texts, authors, dates = load()
    chosen = pick_authors(authors, dates, n_authors)
    cand = np.array([i for i, d in enumerate(dates) if d >= CUT])
    pre = [i for i, d in enumerate(dates) if d < CUT]
    dense = normalize(dense_matrix(texts))
    cfg = learner.LearnerConfig()
    ours_x = learner.features(learner.fit_vectorizer(texts, cfg).transform(texts), dense, cfg)
    sanity_x = _sanity_tfidf(texts)
    prep = time.perf_counter() - t0
    results: dict[str, list[tuple[float, float]]] = defaultdict(list)
    timing: dict[str, float] = defaultdict(float)
    for a, before, after in chosen:
        targets = set(after)
        for name, fn in SYSTEMS.items():
            s = time.perf_counter()
            scores = fn(before, cand, pre, ours_x, sanity_x, dense, dates, a)
            timing[name] += time.perf_counter() - s
            results[name].append(metrics(scores, cand, targets))
        print(
            a, {k: round(float(np.mean([r for r, _ in v])), 3) for k, v in results.items()}, file=sys.stderr
        )
    summary = {
        name: {
            f"recall@{K}": round(float(np.mean([r for r, _ in rows])), 4),
            f"ndcg@{K}": round(float(np.mean([n for _, n in rows])), 4),
            "seconds": round(timing[name], 1),
        }
        for name, rows in results.items()
    }
    return {
        "authors": len(chosen),
        "candidates": len(cand),
        "cut": CUT,
        "prep_seconds": round(prep, 1),
        "systems": summary,
    }


def _sanity_tfidf(texts: list[str]):  # type: ignore[no-untyped-def]
    vec = TfidfVectorizer(
        input="content",
        encoding="utf-8",
        decode_error="replace",
        strip_accents="unicode",
        lowercase=True,
        analyzer="word",
        stop_words="english",
        token_pattern=r"(?u)\b[a-zA-Z_][a-zA-Z0-9_]+\b",
        ngram_range=(1, 2),
        max_features=20000,
        norm="l2",
        use_idf=True,
        smooth_idf=True,
        sublinear_tf=True,
        max_df=0.1,
        min_df=5,
    )
    return vec.fit_transform(texts).astype(np.float32)


def ours(before, cand, pre, x, _sx, _d, _dates, author):  # type: ignore[no-untyped-def]
    rng = random.Random(author)
    own = set(before)
    randoms = [i for i in rng.sample(pre, RANDOMS + len(before)) if i not in own][:RANDOMS]
    model = learner.fit(x[before], None, x[randoms], learner.LearnerConfig())
    return model.decision(x[cand])


def ours_lexical(before, cand, pre, x, _sx, _d, _dates, author):  # type: ignore[no-untyped-def]
    n_lex = x.shape[1] - 256  # the fast tier's 256 dimensions come last
    return ours(before, cand, pre, x[:, :n_lex], None, None, None, author)


def sanity_svm(before, cand, _pre, _x, sx, _d, _dates, _a):  # type: ignore[no-untyped-def]
    y = np.zeros(sx.shape[0])
    y[before] = 1
    clf = LinearSVC(class_weight="balanced", verbose=False, max_iter=10000, C=0.01)
    clf.fit(sx, y)
    return clf.decision_function(sx[cand])


def decayed_cosine(before, cand, _pre, _x, _sx, dense, dates, _a):  # type: ignore[no-untyped-def]
    newest_first = sorted(before, key=lambda i: dates[i], reverse=True)
    w = 1 / (1 + np.log10(np.arange(len(newest_first)) + 1))
    w = w / w.sum()
    return (dense[cand] @ dense[newest_first].T) @ w


SYSTEMS = {
    "ours": ours,
    "ours-lexical-only": ours_lexical,
    "arxiv-sanity-svm": sanity_svm,
    "decayed-mean-cosine": decayed_cosine,
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--authors", type=int, default=40)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    res = run(args.authors)
    if args.json:
        print(json.dumps(res, indent=2))
        return
    print(f"author hold-out, {res['authors']} authors, {res['candidates']} candidates, cut {CUT}")
    for name, m in res["systems"].items():  # type: ignore[union-attr]
        print(
            f"  {name:<22} recall@{K} {m[f'recall@{K}']:.4f}  nDCG@{K} {m[f'ndcg@{K}']:.4f}  ({m['seconds']} s)"
        )


if __name__ == "__main__":
    main()
