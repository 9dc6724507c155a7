"""Facet-aware similar papers on CSFCube: variants of the facet scoring compared on the DEV folds.

    nice -n 5 .venv/bin/python bench/csfcube_facet_variants.py [--tier quality] [--round 1|2|3] [--windows]

Round 3 adds one signal at a time to the product's facet fusion (round_three), and `--windows`
embeds each sentence with its neighbours instead (about 11 min the first time, then cached).

Needs the cache of `bench/eval_csfcube.py --cache` (the library with the tier's vectors and every
sentence's vector). For each variant (which query sentences carry the facet, how a candidate's
sentences are matched, how that is fused with the whole-paper evidence), the weights are chosen on
each fold's dev queries; the table gives, per fold, the dev NDCG@20 at the chosen weights. CSFCube's
two folds are a 2-fold cross-validation (fold 1's dev queries are fold 2's test queries), so the
variant is also chosen per fold, on that fold's dev queries, and only then scored on its test
queries (printed last). The lexical and dense evidence come from the product's `similar_to()`.

The "csfcube-labels" row uses the query's sentence labels shipped with CSFCube (predicted by the
CSFCube authors' own tagger): a diagnostic of how much the choice of sentences matters, never a
candidate for the product (whose user picks a facet, not sentences).
"""

from __future__ import annotations

import argparse
import csv
import gzip
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from eval_csfcube import CACHE, SHARED, CachedEmbedder, load, ndcg_at  # noqa: E402
from paperradar import highlights as hl  # noqa: E402
from paperradar.facets import FACETS, SentenceVectors, facet_weights  # noqa: E402

HIGHLIGHTS = SHARED.parent / "abstract-highlights" / "abstract_sentences.csv.gz"
SPAN_FACET = {"problem": "background", "task": "background", "idea": "method", "result": "result"}
CSFCUBE_FACET = {"background": {"background", "objective"}, "method": {"method"}, "result": {"result"}}
DENSE = (0.5, 1.0, 1.5, 2.0, 3.0)
FACET_W = (0.0, 0.5, 1.0, 2.0, 4.0)
LEX_Z = (0.0, 0.25, 0.5, 1.0)


def fit_facet_model() -> dict[str, dict[str, float]]:
    """Per facet, logistic weights over highlights.features from the reader-labelled spans: a
    sentence is positive when it holds at least half of a span mapped to that facet."""
    from sklearn.linear_model import LogisticRegression

    groups: dict[str, tuple[str, list[tuple[int, int, str]]]] = {}
    with gzip.open(HIGHLIGHTS, "rt", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            if row["arxiv_id"].strip():
                g = groups.setdefault(row["arxiv_id"], (row["abstract"], []))
                g[1].append((int(row["start_idx"]), int(row["end_idx"]), SPAN_FACET[row["label"]]))
    names = sorted(hl.features(["x"])[0])
    xs, ys = [], []
    for text, spans in groups.values():
        offsets = hl.sentence_spans(text)
        if len(offsets) < 2:
            continue
        feats = hl.features([text[s:e].strip() for s, e in offsets])
        for (s, e), ft in zip(offsets, feats, strict=True):
            xs.append([ft[n] for n in names])
            ys.append(
                [any(min(b, e) - max(a, s) >= (b - a) / 2 for a, b, k in spans if k == f) for f in FACETS]
            )
    x, y = np.array(xs), np.array(ys)
    out = {}
    for j, facet in enumerate(FACETS):
        model = LogisticRegression(C=1.0, max_iter=2000, fit_intercept=False).fit(x, y[:, j])
        out[facet] = dict(zip(names, model.coef_[0].tolist(), strict=True))
    return out


def weights_learned(model: dict[str, dict[str, float]]) -> Callable[[list[str]], dict[str, np.ndarray]]:
    def weigh(sents: list[str]) -> dict[str, np.ndarray]:
        feats = hl.features(sents)
        out = {}
        for f in FACETS:
            p = 1 / (
                1 + np.exp(-np.array([sum(model[f].get(k, 0.0) * v for k, v in ft.items()) for ft in feats]))
            )
            out[f] = p / p.sum()
        return out

    return weigh


def weights_uniform(sents: list[str]) -> dict[str, np.ndarray]:
    return {f: np.full(len(sents), 1.0 / len(sents)) for f in FACETS}


def hard(weigh):  # type: ignore[no-untyped-def]
    """Only the sentence(s) with the top weight: the facet's one sentence."""

    def top(sents: list[str]) -> dict[str, np.ndarray]:
        out = {}
        for f, w in weigh(sents).items():
            h = (w >= w.max() - 1e-12).astype(float)
            out[f] = h / h.sum()
        return out

    return top


def sharpen(weigh, power: float):  # type: ignore[no-untyped-def]
    def sharp(sents: list[str]) -> dict[str, np.ndarray]:
        return {f: (w**power) / (w**power).sum() for f, w in weigh(sents).items()}

    return sharp


# ------------------------------------------------------------------ matching: (query, weights, cand) -> score


def maxsim(q: np.ndarray, w: np.ndarray, c: np.ndarray, v: np.ndarray) -> float:
    return float(w @ (q @ c.T).max(axis=1))


def topk_mean(k: int):  # type: ignore[no-untyped-def]
    def score(q: np.ndarray, w: np.ndarray, c: np.ndarray, v: np.ndarray) -> float:
        sims = np.sort(q @ c.T, axis=1)[:, ::-1][:, :k]
        return float(w @ sims.mean(axis=1))

    return score


def sinkhorn(eps: float = 0.05, iters: int = 100):  # type: ignore[no-untyped-def]
    """Entropic optimal transport (cost 1 - cosine), query masses = facet weights, candidate's
    uniform; the score is the transported similarity (as Aspire's otAspire, without its training)."""

    def score(q: np.ndarray, w: np.ndarray, c: np.ndarray, v: np.ndarray) -> float:
        sims = q @ c.T
        k = np.exp(-(1 - sims) / eps)
        a, b = w + 1e-12, np.full(len(c), 1.0 / len(c))
        v = np.ones(len(c))
        for _ in range(iters):
            u = a / (k @ v + 1e-300)
            v = b / (k.T @ u + 1e-300)
        plan = u[:, None] * k * v[None, :]
        return float((plan * sims).sum())

    return score


def whole_mean(q: np.ndarray, w: np.ndarray, c: np.ndarray, v: np.ndarray) -> float:
    """The weighted mean of the query's facet sentences against the candidate's mean sentence."""
    m = c.mean(axis=0)
    return float(w @ (q @ m))


def paper_vector(q: np.ndarray, w: np.ndarray, c: np.ndarray, v: np.ndarray) -> float:
    """The query's facet sentences against the candidate's whole-paper vector (no candidate sentences)."""
    return float(w @ (q @ v))


# ------------------------------------------------------------------ fusion


def ranks(scores: np.ndarray) -> np.ndarray:
    r = np.empty(len(scores))
    r[np.argsort(-scores, kind="stable")] = np.arange(1, len(scores) + 1)
    return r


def zs(x: np.ndarray) -> np.ndarray:
    sd = x.std()
    return (x - x.mean()) / sd if sd > 0 else np.zeros_like(x)


def fuse_rrf(lex: np.ndarray, dense: np.ndarray, facet: np.ndarray, wd: float, wf: float) -> np.ndarray:
    """The product's fusion: RRF of lexical and dense, then RRF of that order with the facet order."""
    hybrid = 1 / (60 + ranks(lex)) + wd / (60 + ranks(dense))
    return 1 / (60 + ranks(hybrid)) + wf / (60 + ranks(facet))


def fuse_z(lex: np.ndarray, dense: np.ndarray, facet: np.ndarray, wl: float, wf: float) -> np.ndarray:
    return wl * zs(lex) + zs(dense) + wf * zs(facet)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tier", default="quality")
    ap.add_argument(
        "--round",
        type=int,
        default=1,
        help="1: sentence weights x matching x fusion; 2: see round_two; 3: see round_three",
    )
    ap.add_argument(
        "--windows", action="store_true", help="sentence vectors of a sentence with its neighbours"
    )
    args = ap.parse_args()
    from paperradar.embed import load_embedder
    from paperradar.index import VectorIndex
    from paperradar.similar import similar_to
    from paperradar.storage import open_library

    corpus, qrels, facet_of, splits = load()
    lib = open_library(CACHE / "csfcube.db")
    embedder = CachedEmbedder(load_embedder(args.tier), CACHE / f"sentences-{args.tier}.npz")
    index = VectorIndex.load(lib, embedder.model_id)
    vectors = SentenceVectors(embedder)
    pk_of = {pid: lib.resolve(f"corpus:{int(pid)}") for pid in corpus}
    texts = {pk: a or "" for pk, _, a in lib.paper_texts_of(sorted(pk_of.values()))}
    data = {}
    for qid in qrels:
        qpid = qid.split("_")[0]
        pool = sorted(qrels[qid])
        pks = [pk_of[p] for p in pool]
        col = {pk: i for i, pk in enumerate(pks)}
        lex = np.full(len(pool), -1.0)
        for h in similar_to(lib, pk_of[qpid], limit=len(pool), among=pks, mode="lexical"):
            lex[col[h.pk]] = h.score
        dense = np.zeros(len(pool))
        for h in similar_to(lib, pk_of[qpid], limit=len(pool), among=pks, index=index, mode="dense"):
            dense[col[h.pk]] = h.score
        q, *cands = vectors.of([texts[pk_of[qpid]]] + [texts[pk] for pk in pks])
        labels = [s["label"] for s in corpus[qpid]["abstract_sentences"]]
        paper = [index.vector_of(pk) for pk in pks]
        data[qid] = (pool, lex, dense, q, cands, hl.sentences(texts[pk_of[qpid]]), labels, paper)
    embedder.save()
    if args.windows:  # each sentence embedded with its neighbours (its vector stands for the sentence)
        data = with_windows(data, texts, pk_of, args.tier)

    learned = weights_learned(fit_facet_model())
    if args.round == 2:
        round_two(lib, pk_of, texts, data, learned, qrels, facet_of, splits)
        return
    if args.round == 3:
        round_three(lib, pk_of, texts, data, corpus, index, qrels, facet_of, splits)
        return

    def csfcube_labels(qid: str) -> np.ndarray:
        sents, labels = data[qid][5], data[qid][6]
        if len(labels) != len(sents):  # the split differs from CSFCube's: fall back to all sentences
            return np.full(len(sents), 1.0 / len(sents))
        h = np.array([lab in CSFCUBE_FACET[facet_of[qid]] for lab in labels], dtype=float)
        return h / h.sum() if h.sum() else np.full(len(sents), 1.0 / len(sents))

    weighers = {
        "key-sentence model (shipped)": lambda qid: facet_weights(data[qid][5])[facet_of[qid]],
        "key-sentence model, top sentence": lambda qid: hard(facet_weights)(data[qid][5])[facet_of[qid]],
        "uniform (all sentences)": lambda qid: weights_uniform(data[qid][5])[facet_of[qid]],
        "learned from highlights spans": lambda qid: learned(data[qid][5])[facet_of[qid]],
        "learned, squared": lambda qid: sharpen(learned, 2.0)(data[qid][5])[facet_of[qid]],
        "learned, top sentence": lambda qid: hard(learned)(data[qid][5])[facet_of[qid]],
        "csfcube-labels (diagnostic only)": csfcube_labels,
    }
    matchers = {
        "max-sim": maxsim,
        "top-2 mean": topk_mean(2),
        "OT (sinkhorn)": sinkhorn(),
        "mean sentence": whole_mean,
        "paper vector": paper_vector,
    }
    fusions = {
        "rrf": (fuse_rrf, [(wd, wf) for wd in DENSE for wf in FACET_W]),
        "z-sum": (fuse_z, [(wl, wf) for wl in LEX_Z for wf in FACET_W]),
    }

    def ndcgs(facet_scores: dict[str, np.ndarray], fuse, w) -> dict[str, float]:  # type: ignore[no-untyped-def]
        out = {}
        for qid, fs in facet_scores.items():
            pool, lex, dense = data[qid][:3]
            s = fuse(lex, dense, fs, *w)
            ranked = [pool[i] for i in np.argsort(-s, kind="stable")]
            out[qid] = ndcg_at(ranked, qrels[qid])
        return out

    results = []
    for wname, weigh in weighers.items():
        wq = {qid: weigh(qid) for qid in data}
        for mname, match in matchers.items():
            fscores = {
                qid: np.array(
                    [
                        match(data[qid][3], wq[qid], c, v) if len(c) and v is not None else 0.0
                        for c, v in zip(data[qid][4], data[qid][7], strict=True)
                    ]
                )
                for qid in data
            }
            for fname, (fuse, grid) in fusions.items():
                per_w = {w: ndcgs(fscores, fuse, w) for w in grid}
                row = {"weights": wname, "match": mname, "fusion": fname}
                for fold in ("fold1", "fold2"):
                    dev = splits[f"{fold}_dev"]
                    best = max(grid, key=lambda w: (np.mean([per_w[w][q] for q in dev]), -w[1]))  # noqa: B023
                    row[f"{fold} w"] = best
                    row[f"{fold} dev"] = float(np.mean([per_w[best][q] for q in dev]))
                    row[f"{fold} test"] = per_w[best]
                results.append(row)
                print(
                    f"| {wname} | {mname} | {fname} | {100 * row['fold1 dev']:.2f} {row['fold1 w']} | "
                    f"{100 * row['fold2 dev']:.2f} {row['fold2 w']} |",
                    flush=True,
                )
    report_cross_validated(results, splits, facet_of)


def _facet_inputs(lib, texts, qpk, pks, cands, sents, facet, weigh):  # type: ignore[no-untyped-def]
    """A facet query's sentence weights, each candidate's BM25 to its facet sentences (-1 where
    none matches) and each candidate's sentence weights for that facet (None with no sentences)."""
    from paperradar.similar import query_terms

    w = weigh(sents)[facet]
    top = [s for s, x in zip(sents, w, strict=True) if x >= 0.5 * w.max()]
    col = {pk: i for i, pk in enumerate(pks)}
    flex = np.full(len(pks), -1.0)
    for pk, sc in lib.bm25_scores(query_terms(None, " ".join(top)), pks, len(pks), exclude=qpk):
        flex[col[pk]] = sc
    cw = [weigh(hl.sentences(texts[pk]))[facet] if len(c) else None for pk, c in zip(pks, cands, strict=True)]
    return w, flex, cw


def ot(
    q: np.ndarray, a: np.ndarray, c: np.ndarray, b: np.ndarray, eps: float = 0.05, iters: int = 100
) -> float:
    """Entropic OT between query sentences (masses a) and candidate sentences (masses b)."""
    sims = q @ c.T
    k = np.exp(-(1 - sims) / eps)
    v = np.ones(len(c))
    for _ in range(iters):
        u = (a + 1e-12) / (k @ v + 1e-300)
        v = (b + 1e-12) / (k.T @ u + 1e-300)
    return float((u[:, None] * k * v[None, :] * sims).sum())


def round_two(lib, pk_of, texts, data, learned, qrels, facet_of, splits) -> None:  # type: ignore[no-untyped-def]
    """z-sum of four signals (lexical, dense, facet sentences by embedding, facet sentences' words
    by BM25); candidate sentences weighted for the facet too (two-sided OT); weights chosen per
    fold, or per fold and facet."""

    weighers = {"shipped": facet_weights, "learned": learned, "uniform": weights_uniform}
    grid = [(wl, wf, wx) for wl in LEX_Z for wf in FACET_W for wx in (0.0, 0.25, 0.5, 1.0)]
    rows = []
    tables = {}
    for wname, weigh in weighers.items():
        signals: dict[str, dict[str, tuple[np.ndarray, np.ndarray]]] = {
            "max-sim": {},
            "OT": {},
            "OT two-sided": {},
        }
        for qid, (pool, _lex, _dense, q, cands, sents, _labels, _paper) in data.items():
            facet = facet_of[qid]
            w, flex, cw = _facet_inputs(
                lib, texts, pk_of[qid.split("_")[0]], [pk_of[p] for p in pool], cands, sents, facet, weigh
            )
            for name, fn in {
                "max-sim": lambda c, b, q=q, w=w: maxsim(q, w, c, None),  # type: ignore[arg-type]
                "OT": lambda c, b, q=q, w=w: ot(q, w, c, np.full(len(c), 1.0 / len(c))),
                "OT two-sided": lambda c, b, q=q, w=w: ot(q, w, c, b),
            }.items():
                fs = np.array([fn(c, b) if len(c) else 0.0 for c, b in zip(cands, cw, strict=True)])
                signals[name][qid] = (fs, flex)
        for mname, sig in signals.items():
            per_w = {}
            for wt in grid:
                per_w[wt] = {}
                for qid, (fs, flex) in sig.items():
                    pool, lex, dense = data[qid][:3]
                    sc = wt[0] * zs(lex) + zs(dense) + wt[1] * zs(fs) + wt[2] * zs(flex)
                    per_w[wt][qid] = ndcg_at([pool[i] for i in np.argsort(-sc, kind="stable")], qrels[qid])
            if wname == "shipped":
                tables[mname] = per_w
            for scope in ("per fold", "per fold and facet"):
                row = {"weights": wname, "match": mname, "fusion": f"z-sum, {scope}"}
                for fold in ("fold1", "fold2"):
                    dev = splits[f"{fold}_dev"]
                    groups = (
                        [dev]
                        if scope == "per fold"
                        else [[q for q in dev if facet_of[q] == f] for f in FACETS]
                    )
                    chosen, dev_scores, test = [], {}, {}
                    for g in groups:
                        best = max(grid, key=lambda w: (np.mean([per_w[w][q] for q in g]), -w[1] - w[2]))  # noqa: B023
                        chosen.append(best)
                        dev_scores.update({q: per_w[best][q] for q in g})
                        facets_here = {facet_of[q] for q in g}
                        test.update(
                            {q: per_w[best][q] for q in splits[f"{fold}_test"] if facet_of[q] in facets_here}
                        )
                    row[f"{fold} w"] = chosen
                    row[f"{fold} dev"] = float(np.mean(list(dev_scores.values())))
                    row[f"{fold} test"] = test
                rows.append(row)
                print(
                    f"| {wname} | {mname} | {row['fusion']} | {100 * row['fold1 dev']:.2f} {row['fold1 w']} | "
                    f"{100 * row['fold2 dev']:.2f} {row['fold2 w']} |",
                    flush=True,
                )
    # references on dev: dense alone, and lexical + dense (z-sum) without facet evidence
    for label, wts in {"dense alone": (0.0, 0.0, 0.0), "lexical 0.25 + dense": (0.25, 0.0, 0.0)}.items():
        vals = []
        for fold in ("fold1", "fold2"):
            for qid in splits[f"{fold}_dev"]:
                pool, lex, dense = data[qid][:3]
                sc = wts[0] * zs(lex) + zs(dense)
                vals.append(ndcg_at([pool[i] for i in np.argsort(-sc, kind="stable")], qrels[qid]))
        print(f"reference on dev, {label}: {100 * np.mean(vals):.2f}")
    print("weights chosen per fold and facet:")
    report_cross_validated([r for r in rows if "facet" in r["fusion"]], splits, facet_of)
    print("weights chosen per fold:")
    report_cross_validated([r for r in rows if "facet" not in r["fusion"]], splits, facet_of)
    for mname, per_w in tables.items():  # the shipped weights' grid: which settings both folds' dev like
        print(
            f"shipped / {mname}: dev NDCG@20 per fold of the best settings (fold1, fold2, lexical-facet-words)"
        )
        dev = {
            w: [np.mean([per_w[w][q] for q in splits[f"{f}_dev"]]) for f in ("fold1", "fold2")] for w in grid
        }
        for w in sorted(dev, key=lambda w: -min(dev[w]))[:8]:
            print(f"  {w}: {100 * dev[w][0]:.2f} {100 * dev[w][1]:.2f}")


def near_best(paper: np.ndarray, scores: np.ndarray, k: int) -> np.ndarray:
    """similar.near_best over a pool's whole-paper vectors (rows; zeros where none)."""
    best = np.argsort(-scores, kind="stable")[: k + 1]
    sims = paper @ paper[best].T
    return np.array(
        [sims[i, [j for j, b in enumerate(best) if b != i][:k]].mean() for i in range(len(paper))]
    )


def windows(sents: list[str] | tuple[str, ...]) -> list[str]:
    """Each sentence with the one before and the one after it."""
    return [" ".join(sents[max(i - 1, 0) : i + 2]) for i in range(len(sents))]


def with_windows(data, texts, pk_of, tier):  # type: ignore[no-untyped-def]
    from paperradar.embed import load_embedder

    embedder = CachedEmbedder(load_embedder(tier), CACHE / f"windows-{tier}.npz")
    wanted = sorted({w for pk in set(pk_of.values()) for w in windows(hl.sentences(texts[pk]))})
    embedder.embed_batch(wanted)
    embedder.save()
    out = {}
    for qid, (pool, lex, dense, q, _cands, sents, labels, paper) in data.items():
        qpk = pk_of[qid.split("_")[0]]
        pks = [pk_of[p] for p in pool]

        def vecs(pk: int, dim: int = q.shape[1]) -> np.ndarray:
            ws = windows(hl.sentences(texts[pk]))
            return embedder.embed_batch(ws) if ws else np.zeros((0, dim), np.float32)

        out[qid] = (pool, lex, dense, vecs(qpk), [vecs(pk) for pk in pks], sents, labels, paper)
    return out


def round_three(lib, pk_of, texts, data, corpus, index, qrels, facet_of, splits) -> None:  # type: ignore[no-untyped-def]
    """The product's facet fusion (z-sum of whole-paper BM25 and cosine, two-sided OT of the facet
    sentences, facet words) plus one more signal at a time, weights chosen per fold on dev:
    - centroid: cosine of the normalised means of all sentence vectors (the whole abstract, which
      the whole-paper vector cuts at 256 tokens)
    - facet centroid: the same with each side's facet weights
    - neighbours k: a candidate's mean cosine to the k best candidates of the product's ranking
      (pseudo-relevance feedback over the candidates found)
    - OT all: two-sided transport of all sentences (uniform masses)
    """
    from paperradar.similar import FACET_FUSION, query_terms

    def unit(x: np.ndarray) -> np.ndarray:
        n = np.linalg.norm(x)
        return x / n if n > 0 else x

    feats: dict[str, dict[str, np.ndarray]] = {}
    for qid, (pool, lex, dense, q, cands, sents, _labels, paper) in data.items():
        facet = facet_of[qid]
        qpk = pk_of[qid.split("_")[0]]
        pks = [pk_of[p] for p in pool]
        col = {pk: i for i, pk in enumerate(pks)}
        w, flex, cw = _facet_inputs(lib, texts, qpk, pks, cands, sents, facet, facet_weights)
        fs = np.array([ot(q, w, c, b) if len(c) else 0.0 for c, b in zip(cands, cw, strict=True)])
        qc, qfc = unit(q.mean(axis=0)), unit(w @ q)
        cc = np.stack([unit(c.mean(axis=0)) if len(c) else np.zeros(q.shape[1]) for c in cands])
        fc = np.stack(
            [unit(b @ c) if len(c) else np.zeros(q.shape[1]) for c, b in zip(cands, cw, strict=True)]
        )
        otall = np.array(
            [
                ot(q, np.full(len(q), 1 / len(q)), c, np.full(len(c), 1 / len(c))) if len(c) else 0.0
                for c in cands
            ]
        )
        base = (
            FACET_FUSION.lexical * zs(lex)
            + zs(dense)
            + FACET_FUSION.sentences * zs(fs)
            + FACET_FUSION.words * zs(flex)
        )
        pv = np.stack([v if v is not None else np.zeros(q.shape[1]) for v in paper])
        sim = pv @ pv.T
        np.fill_diagonal(sim, np.nan)
        order = np.argsort(-base, kind="stable")
        lex_all = np.full(len(pool), -1.0)
        paper = lib.paper_row(qpk)
        for pk, sc in lib.bm25_scores(
            query_terms(paper.title, paper.abstract, 10_000), pks, len(pks), exclude=qpk
        ):
            lex_all[col[pk]] = sc
        f = {
            "lexical, all words": lex_all,
            "lex": lex,
            "dense": dense,
            "fs": fs,
            "flex": flex,
            "centroid": cc @ qc,
            "facet centroid": fc @ qfc,
            "OT all": otall,
        }
        csim = cc @ cc.T
        fsim = fc @ fc.T
        fot = np.full((len(pool), len(pool)), np.nan)
        for j in order[:6]:
            for i in range(len(pool)):
                if i != j and len(cands[i]) and len(cands[j]):
                    fot[i, j] = ot(cands[j], cw[j], cands[i], cw[i])
        for name, m in {"": sim, " centroid": csim, " facet centroid": fsim, " facet OT": fot}.items():
            for k in (3, 5):
                f[f"neighbours{name} {k}"] = np.array(
                    [np.nanmean(m[i, [j for j in order[: k + 1] if j != i][:k]]) for i in range(len(pool))]
                )
        feats[qid] = {name: zs(np.asarray(x, dtype=np.float64)) for name, x in f.items()}
        feats[qid]["_paper"] = pv  # for the product's neighbours (near_best), over each setting's own ranking

    base_grid = [(wl, wf, wx) for wl in (0.25, 0.5, 1.0) for wf in (0.5, 1.0, 2.0) for wx in (0.0, 0.25, 0.5)]
    extra_w = (0.0, 0.25, 0.5, 1.0, 2.0)

    def ndcg_of(qid: str, wts: dict[str, float]) -> float:
        z = feats[qid]
        if "product neighbours 3" in wts:  # as similar.near_best: the k best of the ranking before it
            wts = dict(wts)
            wn = wts.pop("product neighbours 3")
            sc = z["dense"] + sum(w * z[n] for n, w in wts.items() if w)
            sc = sc + wn * zs(near_best(z["_paper"], sc, 3)) if wn else sc
        else:
            sc = z["dense"] + sum(w * z[n] for n, w in wts.items() if w)
        pool = data[qid][0]
        return ndcg_at([pool[i] for i in np.argsort(-sc, kind="stable")], qrels[qid])

    extras = [n for n in next(iter(feats.values())) if n not in ("lex", "dense", "fs", "flex", "_paper")]
    extras.append("product neighbours 3")
    cv: dict[str, float] = {}
    for extra in extras:
        per_w = {}
        for wl, wf, wx in base_grid:
            for we in extra_w:
                wts = {"lex": wl, "fs": wf, "flex": wx, extra: we}
                per_w[(wl, wf, wx, we)] = {qid: ndcg_of(qid, wts) for qid in feats}
        test: dict[str, float] = {}
        line = f"| {extra} |"
        for fold in ("fold1", "fold2"):
            dev = splits[f"{fold}_dev"]
            best = max(per_w, key=lambda w: (np.mean([per_w[w][q] for q in dev]), -sum(w[1:])))  # noqa: B023
            line += f" {100 * np.mean([per_w[best][q] for q in dev]):.2f} {best} |"
            test.update({q: per_w[best][q] for q in splits[f"{fold}_test"]})
        by_we = {
            we: [
                max(np.mean([per_w[w][q] for q in splits[f"{f}_dev"]]) for w in per_w if w[3] == we)
                for f in ("fold1", "fold2")
            ]
            for we in extra_w
        }
        line += " " + " ".join(f"{we}:{100 * a:.2f}/{100 * b:.2f}" for we, (a, b) in by_we.items()) + " |"
        print(line, flush=True)
        cv[extra] = test
        if "neighbours" in extra and extra.count(" ") <= 2:  # one setting for both folds
            both = {
                w: [np.mean([per_w[w][q] for q in splits[f"{f}_dev"]]) for f in ("fold1", "fold2")]
                for w in per_w
            }
            for w in sorted(both, key=lambda w: -sum(both[w]))[:5]:
                print(
                    f"   both dev folds, (lexical, facet, words, {extra}) {w}: {100 * both[w][0]:.2f} {100 * both[w][1]:.2f}"
                )
    joint(feats, data, qrels, facet_of, splits, cv)
    for extra, test in cv.items():
        print(f"cross-validated test, {extra}: {100 * np.mean(list(test.values())):.2f}", end="")
        for facet in FACETS:
            print(
                f"; {facet} {100 * np.mean([v for q, v in test.items() if facet_of[q] == facet]):.2f}", end=""
            )
        print()


def joint(feats, data, qrels, facet_of, splits, cv) -> None:  # type: ignore[no-untyped-def]
    """The product's signals plus whole-paper neighbours, OT of all sentences and the sentence
    centroid together; weights chosen per fold on dev, and the settings best on both dev folds
    (highest lower of the two)."""
    names = ("lex", "fs", "flex", "nb", "OT all", "centroid")
    grid = [
        (wl, wf, wx, (k, wn), wo, wc)
        for wl in (0.25, 0.5, 1.0)
        for wf in (0.5, 1.0, 2.0)
        for wx in (0.0, 0.25, 0.5)
        for k in (3, 5)
        for wn in (0.0, 0.5, 1.0, 2.0)
        for wo in (0.0, 0.5, 1.0)
        for wc in (0.0, 0.25, 0.5)
        if wn or k == 3
    ]
    qids = list(feats)
    zsets = {}
    for qid in qids:
        z = feats[qid]
        zsets[qid] = z
    per_w: dict = {}
    for w in grid:
        wl, wf, wx, (k, wn), wo, wc = w
        per_w[w] = {}
        for qid in qids:
            z = zsets[qid]
            sc = (
                z["dense"]
                + wl * z["lex"]
                + wf * z["fs"]
                + wx * z["flex"]
                + wn * z[f"neighbours {k}"]
                + wo * z["OT all"]
                + wc * z["centroid"]
            )
            pool = data[qid][0]
            per_w[w][qid] = ndcg_at([pool[i] for i in np.argsort(-sc, kind="stable")], qrels[qid])
    dev = {
        w: [float(np.mean([per_w[w][q] for q in splits[f"{f}_dev"]])) for f in ("fold1", "fold2")]
        for w in grid
    }
    test: dict[str, float] = {}
    for i, fold in enumerate(("fold1", "fold2")):
        best = max(grid, key=lambda w: (dev[w][i], -sum(x for x in w if isinstance(x, float)) - w[3][1]))  # noqa: B023
        print(f"joint, {fold}: chosen on dev {best} ({names}): dev {100 * dev[best][i]:.2f}")
        test.update({q: per_w[best][q] for q in splits[f"{fold}_test"]})
    cv["joint, per fold"] = test
    print("joint: settings by the lower of the two dev folds:")
    for w in sorted(grid, key=lambda w: -min(dev[w]))[:12]:
        print(f"  {w}: {100 * dev[w][0]:.2f} {100 * dev[w][1]:.2f}")


def report_cross_validated(results, splits, facet_of) -> None:  # type: ignore[no-untyped-def]
    """Per fold, the variant best on that fold's dev (diagnostics excluded), scored on its test."""
    eligible = [r for r in results if "diagnostic" not in r["weights"]]
    per_query = {}
    for fold in ("fold1", "fold2"):
        best = max(eligible, key=lambda r: r[f"{fold} dev"])  # noqa: B023
        print(
            f"{fold}: chosen on dev: {best['weights']} / {best['match']} / {best['fusion']} {best[f'{fold} w']}"
        )
        per_query.update({q: best[f"{fold} test"][q] for q in splits[f"{fold}_test"]})
    print(f"test folds NDCG@20 {100 * np.mean(list(per_query.values())):.2f}", end="")
    for facet in FACETS:
        print(
            f"; {facet} {100 * np.mean([v for q, v in per_query.items() if facet_of[q] == facet]):.2f}",
            end="",
        )
    print()


if __name__ == "__main__":
    main()
