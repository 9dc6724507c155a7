"""Author hold-out on arxiv-118k: can a profile built from an author's earlier papers find their later ones?

    nice -n 10 .venv/bin/python bench/eval_holdout.py [--authors 300] [--cuts 2026-02-01,2026-04-01]
    nice -n 10 .venv/bin/python bench/eval_holdout.py --dev --authors 100 --log bench/out/holdout-dev.jsonl
    ... --dev --dev-cut 2026-04-15 ...  # the second dev cut, near the harder reported one
    ... --title-repeat 2 | --fit-sample N  # a dev round's lexical text or vocabulary fit sample
    nice -n 10 .venv/bin/python bench/eval_holdout.py --diversity --authors 150   # interests' shares
    ... --max-features N [--min-df N] [--max-df F]   # ours' vocabulary (default: rank/features.py's Policy)
    ... --learner dense_weight=0.25     # ours' LearnerConfig changed (a proposed default's run)

Protocol: for each cut date (by listing date) an author's profile = their papers listed before the
cut; targets = their papers listed on or after it; candidates = every paper listed on or after it.
Recall@50 and nDCG@50 (binary gain), averaged over authors, with 95% bootstrap intervals (2,000
resamples of the authors) and the paired ratio ours / SVM. Author names are never a feature:
only title + abstract text is used.

Authors: at least 5 papers before the cut and 2 after, at most 40 in all (a unique-name rule:
common names such as "Yang Liu", 402 papers, cover several people). Reported authors: a
random.Random(0) sample of the eligible names at each cut: until 2026-12-03 its first 150
(`random.Random(0).sample(eligible, 150)`); since then (`--authors 300`, fixed by the lead before
any result of that run) the first 300 names of the same sample order after dropping every name
used as a dev author (dev cut 2026-03-01's 200 and dev cut 2026-04-15's 100), so the first 150 are
exactly the earlier 150 (none of them is a dev name: checked at run time) and `--authors 150`
reproduces the earlier logs. Dev authors (`--dev`, for choosing
settings): cut 2026-03-01, a random.Random(12345) sample of eligible names that are in neither
reported sample; or (`--dev-cut 2026-04-15`) the same at a second dev cut, whose names are also
outside the first dev cut's first 200 (a larger --authors keeps a smaller one's names first).

Systems, all in this run, on the same authors and candidates:
- ours: what `profile create` + `recommend` do (rank/model_cache.fit_profile over rank/features.py's
  library-wide TF-IDF and the fast-tier vectors that import makes; interests clustered as
  interests.refresh_interests does; negatives by paper-id hash)
- arxiv-sanity-svm: arxiv-sanity-lite exactly: TF-IDF 1-2 grams, 20k features, min_df 5,
  max_df 0.1, sublinear tf, its token pattern; LinearSVC(class_weight="balanced", max_iter=10000,
  tol=1e-6, C=0.01, dual=True) over every paper, all but the author's a negative
- scholar-inbox-lr: logistic regression (class weights balanced) on the same MiniLM fast-tier
  vectors, positives vs 5,000 random papers
- zotero-decayed-cosine: zotero-arxiv-daily's time-decayed mean cosine (weights 1/(1+log10(rank+1)),
  newest first) on the same vectors
- bm25-profile-words: BM25 (k1 1.2, b 0.75) of the profile's words (their term counts) over the candidates

Vectors (`--vectors`): `fast` (default) is a library bulk-imported whole, so every paper has the
fast tier's vector. `synced` is a library bulk-imported up to the cut and kept current by daily
`sync` from then on: `import_tier` embeds a day's listing with the quality tier, so every paper
listed on or after the cut has the quality tier's vector and every earlier one (the profile's own
papers included: they were already in the library) the fast tier's, and the ranking reads the best
vector each paper has (index.best_vectors). `quality` is that library once `paperradar index` has
upgraded the rest: every paper has the quality tier's vector (all-MiniLM-L6-v2, int8). The
vector-based baselines read the same vectors.

Each (cut, author) result is appended to bench/out/holdout-log.jsonl as it is made, so a long run
that stops keeps its results and a rerun goes on from there.
"""

from __future__ import annotations

import argparse
import json
import lzma
import random
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import normalize
from sklearn.svm import LinearSVC

from paperradar.embed import load_embedder, text_for
from paperradar.rank import features as F
from paperradar.rank import learner
from paperradar.rank.interests import cluster_rows

HERE = Path(__file__).resolve().parent
CORPUS = HERE.parent.parent / "shared" / "corpora" / "arxiv-118k" / "arxiv_metadata.jsonl.xz"
OUT = HERE / "out"
CUTS = ("2026-02-01", "2026-04-01")
DEV_CUT = "2026-03-01"  # the dev cut of a --dev run (--dev-cut: another of DEV_CUTS)
# the first dev cut, and a second one near the harder reported cut (2026-04-01) with other names
DEV_CUTS = ("2026-03-01", "2026-04-15")
DEV_FIRST_TAKEN = 200  # the first dev cut's names that the second dev cut's sample leaves out
# the reported sample: REPORTED_FIRST names per cut until 2026-12-03 (the dev names were drawn
# outside them); since then up to 300, the same sample order with every dev name dropped
REPORTED_FIRST = 150
DEV_NAMES = {DEV_CUTS[0]: DEV_FIRST_TAKEN, DEV_CUTS[1]: 100}  # dev authors per dev cut (round 12)
SYNCED_FROM = min(*CUTS, *DEV_CUTS)  # quality-tier vectors are made for every paper listed since
K = 50
LR_NEGATIVES = 5000
MIN_BEFORE, MIN_AFTER, MAX_TOTAL = 5, 2, 40
MAX_FEATURES = F.Policy().max_features  # ours' vocabulary size (--max-features: a dev round's)
MIN_DF = 0  # 0: features.py's min_df; else a dev round's (--min-df)
MAX_DF = 0.0  # 0: features.py's max_df; else a dev round's (--max-df)
TITLE_REPEAT = 1  # ours' lexical text: the title this many times, then the abstract (--title-repeat)
FIT_SAMPLE = F.FIT_SAMPLE  # papers ours' vocabulary is fitted on (--fit-sample: a dev round's)
LEARNER = learner.LearnerConfig()  # ours' settings outside --dev (--learner: a proposed default's)


@dataclass
class Corpus:
    ids: list[str]
    texts: list[str]
    authors: list[list[str]]
    dates: list[str]
    ours: F.Features  # as the library keeps them
    dense: np.ndarray  # the vectors of the current cut (see use_vectors), unit rows
    sanity: sparse.csr_matrix  # arxiv-sanity-lite's TF-IDF, float64 (liblinear's type)
    counts: sparse.csr_matrix  # word counts, for BM25
    fast: np.ndarray | None = None  # the fast tier's vectors of every paper
    quality: np.ndarray | None = None  # the quality tier's, rows listed since SYNCED_FROM (else 0)
    by_cut: dict[str, np.ndarray] | None = None  # use_vectors' matrices, one per cut


def use_vectors(c: Corpus, vectors: str, cut: str) -> None:
    """Point the corpus at the vectors a library of this kind has at `cut` (see the docstring)."""
    if c.fast is None:
        c.fast = c.dense
    if vectors == "fast":
        c.dense = c.fast
    elif vectors == "quality":
        if c.quality is None or not c.quality.any(axis=1).all():
            c.quality, c.by_cut = _quality_all(c), {}
        c.dense = c.quality
    else:
        if cut < SYNCED_FROM:
            raise ValueError(f"quality vectors start at {SYNCED_FROM}, not {cut}")
        if c.quality is None:
            c.quality, c.by_cut = _quality_since(c), {}
        assert c.by_cut is not None
        if cut not in c.by_cut:
            after = np.asarray(c.dates) >= cut
            c.by_cut[cut] = np.where(after[:, None], c.quality, c.fast).astype(np.float32)
        c.dense = c.by_cut[cut]
    c.ours.dense = c.dense


def _quality_since(c: Corpus) -> np.ndarray:
    rows = np.flatnonzero(np.asarray(c.dates) >= SYNCED_FROM)
    got = _cached(
        f"holdout-quality-since-{SYNCED_FROM}", lambda: _embed([c.texts[i] for i in rows], "quality")
    )
    out = np.zeros_like(c.fast)
    out[rows] = normalize(got)
    return out


def _quality_all(c: Corpus) -> np.ndarray:
    out = _quality_since(c)
    rows = np.flatnonzero(np.asarray(c.dates) < SYNCED_FROM)
    got = _cached(
        f"holdout-quality-before-{SYNCED_FROM}", lambda: _embed([c.texts[i] for i in rows], "quality")
    )
    out[rows] = normalize(got)
    return out


def load() -> Corpus:
    ids, texts, authors, dates, titles = [], [], [], [], []
    with lzma.open(CORPUS, "rt") as f:
        for line in f:
            d = json.loads(line)
            ids.append("arxiv:" + d["id"])
            texts.append(" ".join(text_for(d["title"], d["abstract"]).split()))
            authors.append(d["authors"])
            dates.append(d["listing_date"])
            titles.append(" ".join((d["title"] or "").split()))
    dense = normalize(_cached("holdout-fast", lambda: _embed(texts)))
    lex_texts = texts
    if TITLE_REPEAT > 1:  # a dev round's: the title's words count more in ours' TF-IDF
        lex_texts = [
            (t + " ") * (TITLE_REPEAT - 1) + x if t else x for t, x in zip(titles, texts, strict=True)
        ]
    ours = _cached_features(ids, lex_texts)
    ours.dense = dense
    sanity = _cached_sparse("holdout-sanity", lambda: _sanity_tfidf(texts)).astype(np.float64)
    counts = _cached_sparse(
        "holdout-counts", lambda: CountVectorizer(stop_words="english", min_df=2).fit_transform(texts)
    )
    return Corpus(ids, texts, authors, dates, ours, dense, sanity, counts.tocsr())


def _cached(name: str, make: Callable[[], np.ndarray]) -> np.ndarray:
    path = OUT / f"{name}.npy"
    if path.exists():
        return np.load(path)
    m = make()
    OUT.mkdir(exist_ok=True)
    np.save(path, m)
    return m


def _cached_sparse(name: str, make: Callable[[], Any]) -> sparse.csr_matrix:
    path = OUT / f"{name}.npz"
    if path.exists():
        return sparse.load_npz(path).tocsr()
    m = sparse.csr_matrix(make())
    OUT.mkdir(exist_ok=True)
    sparse.save_npz(path, m, compressed=False)
    return m


def _embed(texts: list[str], tier: str = "fast") -> np.ndarray:
    emb = load_embedder(tier)  # type: ignore[arg-type]
    step = 1024 if tier == "fast" else 256
    parts = []
    for i in range(0, len(texts), step):
        parts.append(emb.embed_batch(texts[i : i + step]))
        print(f"{tier} tier: {i + len(parts[-1])}/{len(texts)} embedded", file=sys.stderr, flush=True)
    return np.vstack(parts)


def _cached_features(ids: list[str], texts: list[str]) -> F.Features:
    """The features a library of this corpus has: features.py's fit on its id-hash sample (with
    --max-features, a vocabulary of that many terms instead of the library's Policy)."""
    order = F.id_hash_order(ids)
    name = "holdout-ours-lexical"
    if MAX_FEATURES != 20_000:  # the cache without a suffix is of the 20,000-term cap (FORMAT 1)
        name += f"-{MAX_FEATURES}"
    if MIN_DF:
        name += f"-min-df-{MIN_DF}"
    if MAX_DF:
        name += f"-max-df-{MAX_DF}"
    if TITLE_REPEAT > 1:
        name += f"-title-{TITLE_REPEAT}"
    if FIT_SAMPLE != 60_000:  # the caches without it are of a 60,000-paper fit (FORMAT 1 and 2)
        name += f"-fit-{FIT_SAMPLE}"
    lexical = _cached_sparse(name, lambda: _ours_lexical(texts, order)).astype(np.float32)
    pks = np.arange(len(ids), dtype=np.int64)
    vocab = F.Vocabulary([], np.zeros(0), len(ids))
    return F.Features([], pks, lexical, vocab, "", hash_order=order)


def _ours_lexical(texts: list[str], order: np.ndarray) -> sparse.csr_matrix:
    sample = [texts[i] for i in sorted(order[:FIT_SAMPLE])]
    policy = F.Policy(max_features=MAX_FEATURES, min_df=MIN_DF or None, max_df=MAX_DF or None)
    vocab = F.fit_vocabulary(sample, policy)
    return F._transform(vocab, texts)


def _sanity_tfidf(texts: list[str]) -> sparse.csr_matrix:
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
    return vec.fit_transform(texts)


# ---------------------------------------------------------------- authors


def eligible(c: Corpus, cut: str) -> list[tuple[str, list[int], list[int]]]:
    papers: dict[str, list[int]] = defaultdict(list)
    for i, names in enumerate(c.authors):
        for a in names:
            papers[a].append(i)
    out = []
    for a, rows in papers.items():
        before = [i for i in rows if c.dates[i] < cut]
        after = [i for i in rows if c.dates[i] >= cut]
        if len(before) >= MIN_BEFORE and len(after) >= MIN_AFTER and len(rows) <= MAX_TOTAL:
            out.append((a, before, after))
    return sorted(out)


def reported_authors(c: Corpus, cut: str, n: int) -> list[tuple[str, list[int], list[int]]]:
    """The first n names of the random.Random(0) sample order of the eligible names at `cut`, after
    dropping every dev name (DEV_NAMES: the dev authors of both dev cuts). The first REPORTED_FIRST
    (150) are the reported sample before the rule (the dev names were drawn outside it), checked
    here, so a 150-author run reproduces the earlier logs and 300 adds 150 new names to them."""
    first = _first_reported(c, cut, REPORTED_FIRST)
    if n <= REPORTED_FIRST:
        return first[:n]
    dev = dev_names(c)
    e = eligible(c, cut)
    # random.sample draws indices one by one while the population is large against k (it is here:
    # 8,000+ names), so a larger k keeps a smaller one's names first; the check below holds it to that
    order = random.Random(0).sample(e, min(len(e), n + len(dev)))
    out = [x for x in order if x[0] not in dev][:n]
    if [x[0] for x in out[:REPORTED_FIRST]] != [x[0] for x in first]:
        raise RuntimeError(
            f"cut {cut}: the first {REPORTED_FIRST} of {n} reported names are not the 150-sample"
        )
    return out


def _first_reported(c: Corpus, cut: str, n: int) -> list[tuple[str, list[int], list[int]]]:
    """The reported sample as it was until 2026-12-03: random.Random(0).sample of n eligible names."""
    e = eligible(c, cut)
    return random.Random(0).sample(e, min(n, len(e)))


def dev_names(c: Corpus) -> set[str]:
    """Every name used as a dev author: DEV_NAMES[cut] names at each dev cut."""
    return {a for cut, n in DEV_NAMES.items() for a, _, _ in dev_authors(c, n, cut)}


def dev_authors(c: Corpus, n: int, cut: str = DEV_CUT) -> list[tuple[str, list[int], list[int]]]:
    """Dev authors at `cut`: a random.Random(12345) sample of eligible names outside both reported
    samples' first REPORTED_FIRST (the reported samples until 2026-12-03); at a second dev cut (DEV_CUTS[1:]) also outside the first dev cut's first
    DEV_FIRST_TAKEN names, so that its evidence is independent of the first's."""
    taken = {a for k in CUTS for a, _, _ in _first_reported(c, k, REPORTED_FIRST)}
    if cut != DEV_CUTS[0]:
        taken |= {a for a, _, _ in dev_authors(c, DEV_FIRST_TAKEN, DEV_CUTS[0])}
    e = [x for x in eligible(c, cut) if x[0] not in taken]
    return random.Random(12345).sample(e, min(n, len(e)))


# ---------------------------------------------------------------- systems


@dataclass
class Cut:
    cut: str
    cand: np.ndarray
    bm25: sparse.csr_matrix  # candidates x words, BM25 term weights


def prepare_cut(c: Corpus, cut: str) -> Cut:
    cand = np.array([i for i, d in enumerate(c.dates) if d >= cut])
    return Cut(cut, cand, _bm25_matrix(c.counts, cand))


def _bm25_matrix(
    counts: sparse.csr_matrix, cand: np.ndarray, k1: float = 1.2, b: float = 0.75
) -> sparse.csr_matrix:
    tf = counts[cand].astype(np.float64).tocsr()
    n = tf.shape[0]
    df = np.bincount(tf.indices, minlength=tf.shape[1])
    idf = np.log(1 + (n - df + 0.5) / (df + 0.5))
    length = np.asarray(tf.sum(axis=1)).ravel()
    norm = k1 * (1 - b + b * length / max(length.mean(), 1e-9))
    rows = np.repeat(np.arange(n), np.diff(tf.indptr))
    tf.data = tf.data * (k1 + 1) / (tf.data + norm[rows]) * idf[tf.indices]
    return tf


def ours(c: Corpus, cut: Cut, before: list[int], cfg: learner.LearnerConfig) -> np.ndarray:
    model = ours_model(c, before, [], cfg)
    return model.evidence(c.ours.lexical[cut.cand], c.dense[cut.cand]).score


def ours_model(
    c: Corpus, before: list[int], rejected: list[int], cfg: learner.LearnerConfig
) -> learner.Model:
    """The profile model `recommend` fits (model_cache.fit_profile), on the corpus's features."""
    from paperradar.rank import model_cache

    feats = c.ours
    ref_rows, neg_rows = model_cache.sample_rows(feats, set(before) | set(rejected), cfg)
    pos_rows, rej_rows = np.asarray(before), np.asarray(rejected, dtype=np.int64)
    d = c.dense
    data = learner.TrainingSet(
        pos_lex=feats.lexical[pos_rows],
        pos_weights=learner.recency_weights(_ages(c, before), cfg.half_life_days),
        neg_lex=feats.lexical[neg_rows],
        rej_lex=feats.lexical[rej_rows],
        ref_lex=feats.lexical[ref_rows],
        pos_dense=d[pos_rows],
        pos_groups=_interest_groups(c, before),
        rej_dense=d[rej_rows],
        ref_dense=d[ref_rows],
    )
    return learner.fit(data, cfg)


def _interest_groups(c: Corpus, before: list[int]) -> np.ndarray:
    """The profile's interests as interests.refresh_interests finds them (k-means on the dense rows,
    k by silhouette); naming them is not needed here."""
    return cluster_rows(normalize(c.dense[before]))


def _ages(c: Corpus, rows: list[int]) -> list[float]:
    days = [date.fromisoformat(c.dates[i]) for i in rows]
    newest = max(days)
    return [float((newest - d).days) for d in days]


def sanity_svm(c: Corpus, cut: Cut, before: list[int]) -> np.ndarray:
    coef, intercept = sanity_svm_fit(c, before)
    return np.asarray(c.sanity[cut.cand] @ coef).ravel() + intercept


def sanity_svm_fit(c: Corpus, before: list[int]) -> tuple[np.ndarray, float]:
    """The exact arxiv-sanity SVM's weights for a profile, kept in bench/out/holdout-svm-fits/
    (by the profile's rows), so the dev rounds that use its score as an evidence reuse the fit."""
    import hashlib

    key = hashlib.sha1(",".join(map(str, sorted(before))).encode()).hexdigest()[:16]
    path = OUT / "holdout-svm-fits" / f"{key}.npz"
    if path.exists():
        got = np.load(path)
        return got["coef"], float(got["intercept"])
    y = np.zeros(c.sanity.shape[0])
    y[before] = 1
    clf = LinearSVC(class_weight="balanced", verbose=False, max_iter=10000, tol=1e-6, C=0.01, dual=True)
    clf.fit(c.sanity, y)
    coef, intercept = clf.coef_.ravel(), float(clf.intercept_[0])
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, coef=coef, intercept=intercept)
    return coef, intercept


def scholar_lr(c: Corpus, cut: Cut, before: list[int]) -> np.ndarray:
    own = set(before)
    negs = [int(i) for i in c.ours.hash_order[: LR_NEGATIVES + len(before)] if int(i) not in own][
        :LR_NEGATIVES
    ]
    x = c.dense[before + negs]
    y = np.r_[np.ones(len(before)), np.zeros(len(negs))]
    clf = LogisticRegression(C=1.0, class_weight="balanced", max_iter=1000).fit(x, y)
    return clf.decision_function(c.dense[cut.cand])


def decayed_cosine(c: Corpus, cut: Cut, before: list[int]) -> np.ndarray:
    newest_first = sorted(before, key=lambda i: c.dates[i], reverse=True)
    w = 1 / (1 + np.log10(np.arange(len(newest_first)) + 1))
    w = w / w.sum()
    return (c.dense[cut.cand] @ c.dense[newest_first].T) @ w


def bm25_words(c: Corpus, cut: Cut, before: list[int]) -> np.ndarray:
    q = np.asarray(c.counts[before].sum(axis=0)).ravel()
    return np.asarray(cut.bm25 @ q).ravel()


BASELINES: dict[str, Callable[[Corpus, Cut, list[int]], np.ndarray]] = {
    "arxiv-sanity-svm": sanity_svm,
    "scholar-inbox-lr": scholar_lr,
    "zotero-decayed-cosine": decayed_cosine,
    "bm25-profile-words": bm25_words,
}


# ---------------------------------------------------------------- metrics


def metrics(scores: np.ndarray, cand: np.ndarray, targets: set[int]) -> tuple[float, float]:
    top = cand[np.argsort(-scores, kind="stable")[:K]]
    hits = [1.0 if int(i) in targets else 0.0 for i in top]
    dcg = sum(h / np.log2(r + 2) for r, h in enumerate(hits))
    ideal = sum(1 / np.log2(r + 2) for r in range(min(K, len(targets))))
    return sum(hits) / len(targets), dcg / ideal


def bootstrap(values: np.ndarray, n: int = 2000, seed: int = 0) -> tuple[float, float]:
    rng = np.random.default_rng(seed)
    means = values[rng.integers(0, len(values), (n, len(values)))].mean(axis=1)
    return float(np.percentile(means, 2.5)), float(np.percentile(means, 97.5))


def ratio_interval(a: np.ndarray, b: np.ndarray, n: int = 2000, seed: int = 0) -> tuple[float, float, float]:
    """mean(a) / mean(b) over the same authors, with a paired bootstrap interval."""
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(a), (n, len(a)))
    ratios = a[idx].mean(axis=1) / np.maximum(b[idx].mean(axis=1), 1e-12)
    return (
        float(a.mean() / max(b.mean(), 1e-12)),
        float(np.percentile(ratios, 2.5)),
        float(np.percentile(ratios, 97.5)),
    )


def summarise(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Per cut and system: means with bootstrap intervals over the authors every system has."""
    out: dict[str, Any] = {}
    for cut in sorted({r["cut"] for r in rows}):
        by: dict[str, dict[str, tuple[float, float]]] = defaultdict(dict)
        for r in rows:
            if r["cut"] == cut:
                by[r["system"]][r["author"]] = (r["recall"], r["ndcg"])
        common = sorted(set.intersection(*(set(v) for v in by.values())))
        systems = {}
        for name, per in by.items():
            rec = np.asarray([per[a][0] for a in common])
            nd = np.asarray([per[a][1] for a in common])
            systems[name] = {
                f"recall@{K}": round(float(rec.mean()), 4),
                "recall_ci": [round(x, 4) for x in bootstrap(rec)],
                f"ndcg@{K}": round(float(nd.mean()), 4),
                "ndcg_ci": [round(x, 4) for x in bootstrap(nd)],
            }
        entry: dict[str, Any] = {"authors": len(common), "systems": systems}
        if "ours" in by and "arxiv-sanity-svm" in by and common:
            a = np.asarray([by["ours"][x][0] for x in common])
            b = np.asarray([by["arxiv-sanity-svm"][x][0] for x in common])
            entry["ours_over_svm_recall"] = [round(v, 3) for v in ratio_interval(a, b)]
        out[cut] = entry
    return out


# ---------------------------------------------------------------- feedback


def feedback_eval(c: Corpus, cut: str, authors: int, log_path: Path) -> dict[str, Any]:
    """After 5 dislikes of papers from one interest (the 5 best-ranked candidates it holds), that
    interest's share of the next top 20, and recall@50 of the author's later papers that belong
    to other interests; then undo (refit without them) and compare with the first ranking."""
    prepared = prepare_cut(c, cut)
    cfg = LEARNER
    done = {r["author"]: r for r in _rows(log_path)}
    for a, before, after in [x for x in eligible(c, cut) if len(x[1]) >= 10][: authors * 4]:
        if len(done) >= authors:
            break
        if a in done:
            continue
        row = _feedback_one(c, prepared, before, after, cfg)
        if row is None:
            continue
        row["author"] = a
        with log_path.open("a") as f:
            f.write(json.dumps(row) + "\n")
        done[a] = row
        print("feedback", len(done), a, row, file=sys.stderr, flush=True)
    rows = list(done.values())
    return {
        "cut": cut,
        "authors": len(rows),
        "share_before": round(float(np.mean([r["share_before"] for r in rows])), 3),
        "share_after": round(float(np.mean([r["share_after"] for r in rows])), 3),
        "halved": round(float(np.mean([r["share_after"] <= r["share_before"] / 2 for r in rows])), 3),
        "other_recall_before": round(float(np.mean([r["other_before"] for r in rows])), 4),
        "other_recall_after": round(float(np.mean([r["other_after"] for r in rows])), 4),
        "undo_identical": all(r["undo_identical"] for r in rows),
    }


def _feedback_one(
    c: Corpus, cut: Cut, before: list[int], after: list[int], cfg: learner.LearnerConfig
) -> dict[str, Any] | None:
    model = ours_model(c, before, [], cfg)
    ev = model.evidence(c.ours.lexical[cut.cand], c.dense[cut.cand])
    if len(model.interests) < 2:
        return None
    order = np.argsort(-ev.score, kind="stable")
    top = order[:20]
    target = int(np.bincount(ev.interest[top]).argmax())
    disliked = [int(cut.cand[j]) for j in order if ev.interest[j] == target][:5]
    at = {int(p): j for j, p in enumerate(cut.cand)}
    others = {t for t in after if t in at and ev.interest[at[t]] != target}
    if not others:
        return None
    model2 = ours_model(c, before, disliked, cfg)
    ev2 = model2.evidence(c.ours.lexical[cut.cand], c.dense[cut.cand])
    keep = ~np.isin(cut.cand, disliked)
    order2 = np.flatnonzero(keep)[np.argsort(-ev2.score[keep], kind="stable")]
    undo = ours_model(c, before, [], cfg).evidence(c.ours.lexical[cut.cand], c.dense[cut.cand]).score
    return {
        "share_before": float(np.mean(ev.interest[top] == target)),
        "share_after": float(np.mean(ev.interest[order2[:20]] == target)),
        "other_before": len(others & set(cut.cand[order[:K]].tolist())) / len(others),
        "other_after": len(others & set(cut.cand[order2[:K]].tolist())) / len(others),
        "undo_identical": bool(np.array_equal(undo, ev.score)),
    }


def diversity_eval(c: Corpus, cut: str, authors: int) -> dict[str, Any]:
    """For the reported authors whose profile has 2+ interests: each interest's share of the top
    12, ranked by score alone and as `recommend` shows them (rank.interests.spread), and the
    hits among the author's later papers in both."""
    from paperradar.rank.interests import spread

    prepared = prepare_cut(c, cut)
    cfg = LEARNER
    out: dict[str, list[float]] = defaultdict(list)
    for _, before, after in reported_authors(c, cut, authors):
        model = ours_model(c, before, [], cfg)
        k = len(model.interests)
        if k < 2:
            continue
        ev = model.evidence(c.ours.lexical[prepared.cand], c.dense[prepared.cand])
        tops = {
            "no-diversity": np.argsort(-ev.score, kind="stable")[:12],
            "spread": np.asarray(spread(ev.score.tolist(), ev.interest.tolist(), 12)),
        }
        sizes = np.bincount(_interest_groups(c, before), minlength=k) / len(before)
        out["profile_largest_interest_share"].append(float(sizes.max()))
        out["interests"].append(k)
        for name, top in tops.items():
            share = np.bincount(ev.interest[top], minlength=k) / len(top)
            out[f"{name}: largest interest's share"].append(float(share.max()))
            out[f"{name}: smallest interest's share"].append(float(share.min()))
            out[f"{name}: interests present"].append(float((share > 0).sum()))
            hits = len(set(prepared.cand[top].tolist()) & set(after))
            out[f"{name}: later papers in top 12"].append(hits / len(after))
    res: dict[str, Any] = {"cut": cut, "authors with 2+ interests": len(out["interests"])}
    res.update({k: round(float(np.mean(v)), 3) for k, v in out.items()})
    return res


def _rows(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


# ---------------------------------------------------------------- runs


def run(
    authors: int, cuts: list[str], log_path: Path, only: set[str] | None, vectors: str = "fast"
) -> dict[str, Any]:
    t0 = time.perf_counter()
    c = load()
    print(f"loaded in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    done = _read_log(log_path)
    plans = {cut: reported_authors(c, cut, authors) for cut in cuts}
    prepared = {cut: prepare_cut(c, cut) for cut in cuts}
    cfg = LEARNER
    systems = {"ours": lambda c_, k_, b_: ours(c_, k_, b_, cfg), **BASELINES}
    for n in range(authors):  # the cuts take turns, so a stopped run has both
        for cut in cuts:
            if n >= len(plans[cut]):
                continue
            a, before, after = plans[cut][n]
            use_vectors(c, vectors, cut)
            for name, fn in systems.items():
                if (only and name not in only) or (cut, a, name) in done:
                    continue
                s = time.perf_counter()
                rec, ndcg = metrics(fn(c, prepared[cut], before), prepared[cut].cand, set(after))
                row = {
                    "cut": cut,
                    "author": a,
                    "system": name,
                    "recall": rec,
                    "ndcg": ndcg,
                    "seconds": round(time.perf_counter() - s, 2),
                }
                with log_path.open("a") as f:
                    f.write(json.dumps(row) + "\n")
                done[(cut, a, name)] = row
            print(cut, n, a, file=sys.stderr, flush=True)
    wanted = {(cut, a) for cut, p in plans.items() for a, _, _ in p}
    rows = [r for r in done.values() if (r["cut"], r["author"]) in wanted]
    return {"k": K, "candidates": {cut: len(prepared[cut].cand) for cut in cuts}, "cuts": summarise(rows)}


# Round 1 (dense 0.5/1.5, C 0.03/0.3, 40k negatives, half-life 730: none above the default on 34
# dev authors) and round 2 (knn 1/2/3, dense 0.7, C 0.05; knn 2 chosen) are in docs/evaluation.md.
# Round 3 (issue 11, second session), all with knn 2 (the default since round 2): a lower C (the
# balanced weights make C scale with the rows: 20k negatives at C 0.1 regularise about as much as
# the SVM's 118k at C 0.017), the SVM's own negatives (every other paper) at that C, a shorter
# half-life; and the arxiv-sanity SVM itself on the same dev authors, to read ratios from.
# Round 4: a lexical SVM per interest, scored by the best interest (with or without the
# profile-wide SVM beside them), run with `--only` beside the logged knn-2 rows. Round 5: a third
# evidence, the TF-IDF cosine to the profile's (recency-weighted) mean row, at weight 0.5 and 1.
# Round 6 (issue 11, third session): other third evidences, the per-interest nearest papers on
# the TF-IDF rows (the dense rule where the fast tier is weak) at weight 1 and 0.5, and the
# profile's words (BM25-like: each word weighs the profile papers using it); and reciprocal-rank
# fusion instead of adding z-scores (rrf 0.002 ~ k 60 over 30k candidates), alone and with the
# lexical nearest papers. Round 7: the profile's words (round 6's best recall) at weight 0.5 and 2,
# and at 1 beside the lexical nearest papers at 0.5.
# Each setting changes LearnerConfig's defaults of the day: rounds 1-10 ran with dense weight 1 and
# 20,000 terms, the defaults until round 10's pick became them (2026-12-03: dense weight 0.25, every
# term), so rerunning an earlier round now scores it on the new defaults.
DEV_GRID: dict[str, dict[str, Any]] = {
    "knn-2": {"knn": 2},
    "knn-2-C-0.02": {"knn": 2, "C": 0.02},
    "knn-2-all-negatives-C-0.017": {"knn": 2, "negatives": 200_000, "C": 0.017},
    "knn-2-half-life-180": {"knn": 2, "half_life_days": 180},
    "knn-2-interest-svm-max": {"knn": 2, "interest_svm": "max"},
    "knn-2-interest-svm-max-with-global": {"knn": 2, "interest_svm": "max-with-global"},
    "knn-2-centroid-0.5": {"knn": 2, "centroid_weight": 0.5},
    "knn-2-centroid-1": {"knn": 2, "centroid_weight": 1.0},
    "knn-2-lexical-knn-1": {"knn": 2, "lexical_knn_weight": 1.0},
    "knn-2-lexical-knn-0.5": {"knn": 2, "lexical_knn_weight": 0.5},
    "knn-2-words-1": {"knn": 2, "words_weight": 1.0},
    "knn-2-rrf": {"knn": 2, "rrf": 0.002},
    "knn-2-rrf-lexical-knn": {"knn": 2, "rrf": 0.002, "lexical_knn_weight": 1.0},
    "knn-2-words-0.5": {"knn": 2, "words_weight": 0.5},
    "knn-2-words-2": {"knn": 2, "words_weight": 2.0},
    "knn-2-words-1-lexical-knn-0.5": {"knn": 2, "words_weight": 1.0, "lexical_knn_weight": 0.5},
    # round 8 (issue 11, fourth session): new evidence. Pseudo-relevance feedback over the pool:
    # the cosine to the mean row of the pool's m best candidates (dense, TF-IDF or both), or
    # ("prf_refit": (m, w), bench only) those m refitted as positives of weight w; and the exact
    # arxiv-sanity SVM's own score as an evidence ("svm_weight", bench only: its z on the reference
    # papers added), alone and with the feedback.
    **{
        f"knn-2-prf-{rows}-{m}-{w}": {"knn": 2, "prf_top": m, **{f"prf_{rows}_weight": w}}
        for rows in ("dense", "lexical")
        for m in (5, 10, 20)
        for w in (0.5, 1.0)
    },
    "knn-2-prf-both-10-0.5": {"knn": 2, "prf_top": 10, "prf_dense_weight": 0.5, "prf_lexical_weight": 0.5},
    "knn-2-svm-0.5": {"knn": 2, "svm_weight": 0.5},
    "knn-2-svm-1": {"knn": 2, "svm_weight": 1.0},
    "knn-2-svm-2": {"knn": 2, "svm_weight": 2.0},
    "knn-2-svm-1-prf-lexical-10-0.5": {"knn": 2, "svm_weight": 1.0, "prf_top": 10, "prf_lexical_weight": 0.5},
    "knn-2-prf-refit-10-0.3": {"knn": 2, "prf_refit": (10, 0.3)},
    "knn-2-prf-refit-20-0.3": {"knn": 2, "prf_refit": (20, 0.3)},
    # round 9: with every term of the vocabulary fit (--max-features 300000: 224,908 terms here; the
    # library's Policy then kept 20,000), the SVM's C and the dense evidence's weight again
    "knn-2-C-0.05": {"knn": 2, "C": 0.05},
    "knn-2-C-0.3": {"knn": 2, "C": 0.3},
    "knn-2-dense-0.5": {"knn": 2, "dense_weight": 0.5},
    "knn-2-dense-1.5": {"knn": 2, "dense_weight": 1.5},
    # round 10: the dense weight further down (0.5 won round 9), and 0.5 with the 20,000 terms
    "knn-2-dense-0.25": {"knn": 2, "dense_weight": 0.25},
    "knn-2-dense-0": {"knn": 2, "dense_weight": 0.0},
    # round 12 (issue 11, 2026-12-03): on the new defaults (every term, dense weight 0.25), at both
    # dev cuts (--dev-cut): the third evidences again, the dense weight either side of 0.25, and
    # the settings that need their own fit (knn 3, no recency, 40,000 negatives, C 0.2)
    "knn-2-words-0.25": {"knn": 2, "words_weight": 0.25},
    "knn-2-dense-0.1": {"knn": 2, "dense_weight": 0.1},
    "knn-2-dense-0.35": {"knn": 2, "dense_weight": 0.35},
    "knn-3": {"knn": 3},
    "knn-2-half-life-0": {"knn": 2, "half_life_days": 0.0},
    "knn-2-negatives-40000": {"knn": 2, "negatives": 40_000},
    "knn-2-C-0.2": {"knn": 2, "C": 0.2},
    # round 12's second batch: C 0.2 (best nDCG at the second dev cut) with the profile's words,
    # with 40,000 negatives (with balanced weights, more negatives also loosen the fit), and C 0.3
    "knn-2-C-0.2-words-0.5": {"knn": 2, "C": 0.2, "words_weight": 0.5},
    "knn-2-C-0.2-words-1": {"knn": 2, "C": 0.2, "words_weight": 1.0},
    "knn-2-C-0.2-negatives-40000": {"knn": 2, "C": 0.2, "negatives": 40_000},
}
BENCH_ONLY = ("svm_weight", "prf_refit")  # DEV_GRID keys that are not LearnerConfig fields
DEV_BASELINES = ("arxiv-sanity-svm",)


def dev_sweep(
    authors: int, log_path: Path, only: set[str] | None = None, vectors: str = "fast"
) -> dict[str, Any]:
    """Choosing settings: ours under each DEV_GRID setting on the dev authors (cut DEV_CUT), never
    on the reported ones. Authors are the outer loop, so a stopped run covers every setting."""
    from dataclasses import replace

    c = load()
    use_vectors(c, vectors, DEV_CUT)
    plan = dev_authors(c, authors, DEV_CUT)
    prepared = prepare_cut(c, DEV_CUT)
    done = _read_log(log_path)
    fits: dict[tuple[str, learner.LearnerConfig], learner.Model] = {}
    systems: dict[str, Callable[[Corpus, Cut, list[int]], np.ndarray]] = {
        name: lambda c_, k_, b_, ch=change: _dev_ours(
            c_,
            k_,
            b_,
            replace(learner.LearnerConfig(), **{k: v for k, v in ch.items() if k not in BENCH_ONLY}),
            fits,
            {k: v for k, v in ch.items() if k in BENCH_ONLY},
        )
        for name, change in DEV_GRID.items()
    }
    systems.update({name: BASELINES[name] for name in DEV_BASELINES})
    systems = {k: v for k, v in systems.items() if not only or k in only}
    for n, (a, before, after) in enumerate(plan):
        for name, fn in systems.items():
            if (DEV_CUT, a, name) in done:
                continue
            s = time.perf_counter()
            rec, ndcg = metrics(fn(c, prepared, before), prepared.cand, set(after))
            row = {"cut": DEV_CUT, "author": a, "system": name, "recall": rec, "ndcg": ndcg}
            row["seconds"] = round(time.perf_counter() - s, 2)
            with log_path.open("a") as f:
                f.write(json.dumps(row) + "\n")
            done[(DEV_CUT, a, name)] = row
        print("dev", n, a, file=sys.stderr, flush=True)
    return summarise(list(done.values()))


def _dev_ours(
    c: Corpus,
    cut: Cut,
    before: list[int],
    cfg: learner.LearnerConfig,
    fits: dict[tuple[str, learner.LearnerConfig], learner.Model],
    bench: dict[str, Any] | None = None,
) -> np.ndarray:
    """ours under cfg, fitting once per author for settings that differ only in how the
    evidences are weighed and combined (the third evidences, rrf and the pool's feedback): the
    model is fitted with every third evidence on, then scored with cfg's weights, which gives the
    same scores as a fit under cfg (a third evidence's fit touches nothing else; a weight of 0
    leaves it out). `bench` holds the settings only this script has (BENCH_ONLY)."""
    from dataclasses import replace

    bench = bench or {}
    base = replace(
        cfg,
        dense_weight=learner.LearnerConfig().dense_weight,  # the fit does not read it (the scores do)
        centroid_weight=0.0,
        lexical_knn_weight=0.0,
        words_weight=0.0,
        rrf=0.0,
        prf_top=1,  # keeps the reference rows; the feedback's fit is nothing else
        prf_dense_weight=0.0,
        prf_lexical_weight=0.0,
    )
    key = (cut.cut + "|" + ",".join(map(str, before)), base)
    for old in [k for k in fits if k[0] != key[0]]:  # one author at a time
        del fits[old]
    if key not in fits:
        full = replace(base, centroid_weight=1.0, lexical_knn_weight=1.0, words_weight=1.0)
        fits[key] = ours_model(c, before, [], full)
    model = replace(fits[key], cfg=cfg)
    x, d = c.ours.lexical[cut.cand], c.dense[cut.cand]
    if "prf_refit" in bench:
        m, w = bench["prf_refit"]
        return _prf_refit(c, cut, before, model.evidence(x, d), m, w, cfg)
    score = model.evidence(x, d).score
    if bench.get("svm_weight"):
        score = score + bench["svm_weight"] * _svm_z(c, cut, before, cfg)
    return score + model.feedback(score, x, d)


def _svm_z(c: Corpus, cut: Cut, before: list[int], cfg: learner.LearnerConfig) -> np.ndarray:
    """The exact arxiv-sanity SVM's score of the candidates, z-scored on ours' reference papers."""
    from paperradar.rank import model_cache

    coef, b = sanity_svm_fit(c, before)
    ref = model_cache.sample_rows(c.ours, set(before), cfg)[0]
    mean, sd = learner._scale(np.asarray(c.sanity[ref] @ coef).ravel() + b)
    return (np.asarray(c.sanity[cut.cand] @ coef).ravel() + b - mean) / sd


def _prf_refit(
    c: Corpus,
    cut: Cut,
    before: list[int],
    first: learner.Evidence,
    m: int,
    w: float,
    cfg: learner.LearnerConfig,
) -> np.ndarray:
    """Pseudo-relevance feedback by refitting: the first ranking's m best candidates join the
    profile as positives of weight w (each in the interest that scored it best), and the model
    is fitted again."""
    from paperradar.rank import model_cache

    top = np.argsort(-first.score, kind="stable")[:m]
    extra = [int(i) for i in cut.cand[top]]
    rows = np.asarray(before + extra)
    ref_rows, neg_rows = model_cache.sample_rows(c.ours, set(rows.tolist()), cfg)
    groups = np.r_[_interest_groups(c, before), np.maximum(first.interest[top], 0)]
    weights = np.r_[learner.recency_weights(_ages(c, before), cfg.half_life_days), np.full(m, w)]
    feats, dense = c.ours, c.dense
    data = learner.TrainingSet(
        pos_lex=feats.lexical[rows],
        pos_weights=weights,
        neg_lex=feats.lexical[neg_rows],
        rej_lex=feats.lexical[np.zeros(0, dtype=np.int64)],
        ref_lex=feats.lexical[ref_rows],
        pos_dense=dense[rows],
        pos_groups=groups,
        rej_dense=dense[np.zeros(0, dtype=np.int64)],
        ref_dense=dense[ref_rows],
    )
    return learner.fit(data, cfg).evidence(feats.lexical[cut.cand], dense[cut.cand]).score


def _read_log(path: Path) -> dict[tuple[str, str, str], dict[str, Any]]:
    if not path.exists():
        return {}
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return {(r["cut"], r["author"], r["system"]): r for r in rows}


def _learner_config(text: str) -> learner.LearnerConfig:
    """LearnerConfig with `name=value,...` changed (each value read as its field's type)."""
    from dataclasses import fields, replace

    types = {f.name: type(getattr(learner.LearnerConfig(), f.name)) for f in fields(learner.LearnerConfig)}
    changes: dict[str, Any] = {}
    for part in filter(None, text.split(",")):
        name, _, value = part.partition("=")
        if name not in types:
            raise SystemExit(f"--learner: no setting {name!r} (LearnerConfig has {', '.join(types)})")
        changes[name] = types[name](value)
    return replace(learner.LearnerConfig(), **changes)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--authors", type=int, default=300, help="per cut (the reported sample: 300; 150: the earlier one)"
    )
    ap.add_argument("--cuts", default=",".join(CUTS))
    ap.add_argument("--log", default=str(OUT / "holdout-log.jsonl"))
    ap.add_argument("--only", default="", help="comma-separated systems to run (default: all)")
    ap.add_argument(
        "--summary", action="store_true", help="summarise the logs (comma-separated) without running"
    )
    ap.add_argument("--dev", action="store_true", help="the settings sweep on dev authors (DEV_GRID)")
    ap.add_argument(
        "--dev-cut",
        choices=DEV_CUTS,
        default=DEV_CUTS[0],
        help="the dev cut (2026-04-15: names outside both reported samples and the first dev cut's 200)",
    )
    ap.add_argument("--diversity", action="store_true", help="interest shares of the top 12 (cut 2026-04-01)")
    ap.add_argument("--feedback-log", default=str(OUT / "holdout-feedback.jsonl"))
    ap.add_argument("--feedback", action="store_true", help="the feedback evaluation (cut 2026-04-01)")
    ap.add_argument(
        "--vectors",
        choices=("fast", "synced", "quality"),
        default="fast",
        help="fast: a library imported whole; synced: imported up to the cut, then daily syncs "
        "(quality tier); quality: every paper upgraded to the quality tier by `paperradar index`",
    )
    ap.add_argument(
        "--max-features",
        type=int,
        default=MAX_FEATURES,
        help="ours' TF-IDF vocabulary size (default: the library's, features.Policy)",
    )
    ap.add_argument("--min-df", type=int, default=0, help="ours' vocabulary min_df (default: features.py's)")
    ap.add_argument(
        "--max-df", type=float, default=0.0, help="ours' vocabulary max_df (default: features.py's)"
    )
    ap.add_argument(
        "--title-repeat",
        type=int,
        default=1,
        help="ours' lexical text: the title this many times (a dev round's)",
    )
    ap.add_argument(
        "--fit-sample",
        type=int,
        default=F.FIT_SAMPLE,
        help="papers ours' vocabulary is fitted on (a dev round's)",
    )
    ap.add_argument(
        "--learner",
        default="",
        help="ours' settings changed from LearnerConfig's defaults, e.g. dense_weight=0.5 (not with --dev)",
    )
    args = ap.parse_args()
    OUT.mkdir(exist_ok=True)
    globals()["MAX_FEATURES"] = args.max_features
    globals()["MIN_DF"] = args.min_df
    globals()["MAX_DF"] = args.max_df
    globals()["LEARNER"] = _learner_config(args.learner)
    globals()["DEV_CUT"] = args.dev_cut
    globals()["TITLE_REPEAT"] = args.title_repeat
    globals()["FIT_SAMPLE"] = args.fit_sample
    if args.summary:
        rows = {k: v for p in args.log.split(",") for k, v in _read_log(Path(p)).items()}
        print(json.dumps(summarise(list(rows.values())), indent=2))
        return
    if args.dev:
        if args.authors > DEV_NAMES[args.dev_cut]:  # the reported sample drops only these dev names
            raise SystemExit(
                f"--dev --dev-cut {args.dev_cut}: at most {DEV_NAMES[args.dev_cut]} authors "
                "(more dev names could be among the 300 reported authors per cut)"
            )
        only = set(filter(None, args.only.split(","))) or None
        print(json.dumps(dev_sweep(args.authors, Path(args.log), only, args.vectors), indent=2))
        return
    if args.diversity:
        print(json.dumps(diversity_eval(load(), CUTS[1], args.authors), indent=2))
        return
    if args.feedback:
        res = feedback_eval(load(), CUTS[1], args.authors, Path(args.feedback_log))
        print(json.dumps(res, indent=2))
        return
    log_path = Path(args.log)
    only = set(filter(None, args.only.split(","))) or None
    res = run(args.authors, args.cuts.split(","), log_path, only, args.vectors)
    print(json.dumps(res, indent=2))


if __name__ == "__main__":
    main()
