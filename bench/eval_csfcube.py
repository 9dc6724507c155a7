"""CSFCube: re-rank each query paper's judged pool, NDCG@20 and MAP, ours next to baselines.

    .venv/bin/python bench/eval_csfcube.py [--tiers fast quality] [--cache] [--json]

Protocol (Mysore et al. 2021, the official `ranking_eval.py` conventions): every query's pool of
judged candidates is ranked; NDCG@20 on the graded labels (0-3, linear gain), MAP with grade >= 2
relevant. Facet-free: queries are whole papers (title + abstract); results are also broken down by
the query's facet. Anything tunable (the dense weight in fusion) is chosen on each fold's dev
queries and applied to that fold's test queries; the two test folds together cover all 50 queries.

Systems, all in this run on the same pools:
- bm25 (sklearn counts + Okapi BM25, k1=1.2, b=0.75, IDF over the 4,205 papers): a baseline
- tfidf (sklearn TfidfVectorizer, sublinear tf, English stop words; cosine): a baseline
- ours-lexical: `similar_to(mode="lexical")`, BM25 of the paper's words through SQLite FTS5
- ours-dense-<tier>: `similar_to(mode="dense")` with the embeddings of that tier (baseline "dense MiniLM alone")
- ours-hybrid-<tier>: `similar_to(mode="hybrid")`, reciprocal rank fusion, dense weight tuned on dev
- ours-facet-<tier>: `similar_to(mode="hybrid", facet=<the query's facet>)`: the query's sentences of
  that facet (weighted by paperradar's own key-sentence model, not CSFCube's labels) matched by
  optimal transport to each candidate's facet sentences, embedded by the product's default sentence
  tier (the quality tier when built); z-scores of that, the whole paper's cosine (that tier's
  index) and BM25, and BM25 of the facet sentences' words, summed, then each candidate's cosine to
  the 3 best of that ranking (similar.near_best) added; the four weights tuned on dev
- ours-facet-defaults-<tier>: the same with the product's default weights (`similar.FACET_FUSION`)
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

SHARED = Path(__file__).resolve().parents[2] / "shared" / "eval" / "csfcube"
WEIGHTS = (0.5, 1.0, 1.5, 2.0, 3.0)
# facet fusion grid (similar.FacetFusion): whole-paper BM25, facet sentences, facet sentences' words,
# likeness to the best candidates (neighbours)
FACET_GRID = [
    (wl, wf, wx, wn)
    for wl in (0.25, 0.5, 1.0)
    for wf in (0.5, 1.0, 2.0)
    for wx in (0.0, 0.25, 0.5)
    for wn in (0.0, 0.5, 1.0, 2.0)
]
CACHE = Path(__file__).parent / "out" / "csfcube-cache"


class CachedEmbedder:
    """An embedder whose vectors are remembered by text in an .npz file (the bench's --cache)."""

    def __init__(self, embedder, path: Path):  # type: ignore[no-untyped-def]
        self.embedder, self.path = embedder, path
        self.model_id, self.dim = embedder.model_id, embedder.dim
        self.known: dict[str, np.ndarray] = {}
        if path.exists():
            with np.load(path, allow_pickle=False) as z:
                if str(z["model_id"]) == embedder.model_id:
                    self.known = dict(zip(z["texts"].tolist(), z["vectors"], strict=True))

    def embed_batch(self, texts: list[str]) -> np.ndarray:
        todo = sorted({t for t in texts if t not in self.known})
        t = time.perf_counter()
        for i in range(0, len(todo), 256):
            chunk = todo[i : i + 256]
            self.known.update(zip(chunk, self.embedder.embed_batch(chunk), strict=True))
            if i and i % 5120 == 0:
                self.save()
                print(
                    f"# {i:,} of {len(todo):,} sentences in {time.perf_counter() - t:.0f} s", file=sys.stderr
                )
        return np.stack([self.known[t] for t in texts]) if texts else np.zeros((0, self.dim), np.float32)

    def save(self) -> None:
        texts = list(self.known)
        vectors = np.stack([self.known[t] for t in texts]) if texts else np.zeros((0, self.dim), np.float32)
        np.savez(self.path, model_id=self.model_id, texts=np.array(texts), vectors=vectors)


def load() -> tuple[dict[str, dict], dict[str, dict[str, int]], dict[str, str], dict[str, list[str]]]:
    corpus = {}
    with gzip.open(SHARED / "corpus.jsonl.gz", "rt") as f:
        for line in f:
            d = json.loads(line)
            corpus[d["paper_id"]] = d
    qrels: dict[str, dict[str, int]] = defaultdict(dict)
    facet_of: dict[str, str] = {}
    with gzip.open(SHARED / "qrels.jsonl.gz", "rt") as f:
        for line in f:
            d = json.loads(line)
            qid = f"{d['query_id']}_{d['facet']}"
            qrels[qid][d["doc_id"]] = max(int(d["relevance"]), qrels[qid].get(d["doc_id"], 0))
            facet_of[qid] = d["facet"]
    splits = json.loads((SHARED / "evaluation_splits.json").read_text())["all"]
    return corpus, dict(qrels), facet_of, splits


def ndcg_at(ranked: list[str], grades: dict[str, int], k: int = 20) -> float:
    dcg = sum(grades.get(d, 0) / math.log2(i + 2) for i, d in enumerate(ranked[:k]))
    ideal = sorted(grades.values(), reverse=True)[:k]
    idcg = sum(g / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / idcg if idcg else 0.0


def average_precision(ranked: list[str], grades: dict[str, int], threshold: int = 2) -> float:
    relevant = {d for d, g in grades.items() if g >= threshold}
    if not relevant:
        return 0.0
    hits, total = 0, 0.0
    for i, d in enumerate(ranked, start=1):
        if d in relevant:
            hits += 1
            total += hits / i
    return total / len(relevant)


def text(paper: dict) -> str:
    return f"{paper['title']}. {paper['abstract']}"


def sklearn_rankers(corpus: dict[str, dict]):  # type: ignore[no-untyped-def]
    from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer

    ids = list(corpus)
    row = {pid: i for i, pid in enumerate(ids)}
    docs = [text(corpus[p]) for p in ids]
    tfidf = TfidfVectorizer(sublinear_tf=True, stop_words="english").fit(docs)
    tf_matrix = tfidf.transform(docs)
    counts = CountVectorizer(stop_words="english").fit(docs)
    c_matrix = counts.transform(docs).tocsr().astype(np.float64)
    df = np.asarray((c_matrix > 0).sum(axis=0)).ravel()
    n = len(docs)
    idf = np.log(1 + (n - df + 0.5) / (df + 0.5))
    lengths = np.asarray(c_matrix.sum(axis=1)).ravel()
    avg = lengths.mean()

    def bm25(query: str, pool: list[str]) -> list[str]:
        q_terms = np.flatnonzero(counts.transform([query]).toarray().ravel())
        sub = c_matrix[[row[p] for p in pool]][:, q_terms].toarray()
        norm = 1.2 * (1 - 0.75 + 0.75 * lengths[[row[p] for p in pool]] / avg)
        scores = (sub * 2.2 / (sub + norm[:, None])) @ idf[q_terms]
        return [pool[i] for i in np.argsort(-scores, kind="stable")]

    def cosine(query: str, pool: list[str]) -> list[str]:
        scores = (tf_matrix[[row[p] for p in pool]] @ tfidf.transform([query]).T).toarray().ravel()
        return [pool[i] for i in np.argsort(-scores, kind="stable")]

    return {"bm25": bm25, "tfidf": cosine}


def build_library(tmp: Path, tiers: tuple[str, ...] = ("fast", "quality")):  # type: ignore[no-untyped-def]
    """The CSFCube corpus imported through paperradar's own importer, indexed by every built tier.
    A library already in `tmp` (a --cache folder) is reused: only what is missing is embedded."""
    from paperradar.importers.base import Source
    from paperradar.index import VectorIndex, update_index
    from paperradar.ingest import import_source
    from paperradar.storage import open_library

    fresh = not (tmp / "csfcube.db").exists()
    lib = open_library(tmp / "csfcube.db")
    if fresh:
        report = import_source(
            lib, Source.from_file(SHARED / "corpus.jsonl.gz"), "tabular_jsonl", {"corpus": "paper_id"}
        )
        assert report.read == 4205 and not report.rejected, report.as_json()
    indexes = {}
    try:
        from paperradar.embed import load_embedder
    except ImportError:
        load_embedder = None  # noqa: N806
    for tier in tiers:
        if load_embedder is None:
            break
        try:
            embedder = load_embedder(tier)
        except Exception as e:  # noqa: BLE001 - a missing tier is reported, not fatal
            print(f"# {tier} embeddings unavailable: {e}", file=sys.stderr)
            continue
        t = time.perf_counter()
        update_index(lib, embedder)
        print(
            f"# embedded 4,205 papers with {embedder.model_id} in {time.perf_counter() - t:.1f} s",
            file=sys.stderr,
        )
        indexes[tier] = VectorIndex.load(lib, embedder.model_id)
    return lib, indexes


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--tiers", nargs="+", default=["fast", "quality"], help="embedding tiers to evaluate")
    ap.add_argument(
        "--cache",
        action="store_true",
        help=f"keep the library and the sentence vectors in {CACHE} and reuse them (delete it to rebuild)",
    )
    args = ap.parse_args()
    if not SHARED.exists():
        sys.exit(f"{SHARED} not found: this evaluation needs ../shared/eval/csfcube")
    from paperradar.embed import load_embedder
    from paperradar.facets import SentenceVectors
    from paperradar.similar import FACET_FUSION, FacetFusion, default_sentence_vectors, similar_to

    corpus, qrels, facet_of, splits = load()
    baselines = sklearn_rankers(corpus)
    with tempfile.TemporaryDirectory() as tmp:
        folder = CACHE if args.cache else Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        lib, indexes = build_library(folder, tuple(args.tiers))
        pk_of = {pid: lib.resolve(f"corpus:{int(pid)}") for pid in corpus}
        pid_of = {pk: pid for pid, pk in pk_of.items()}

        default = default_sentence_vectors()  # what `paperradar similar --facet` embeds sentences with
        sentences = None
        if default is not None:
            embedder = default.embedder
            if args.cache:  # the same embedder, its vectors remembered on disk
                tier = "quality" if embedder.model_id == load_embedder("quality").model_id else "fast"
                embedder = CachedEmbedder(embedder, CACHE / f"sentences-{tier}.npz")
                SentenceVectors(embedder).of([corpus[p]["abstract"] for p in corpus])
                embedder.save()
            sentences = SentenceVectors(embedder)

        def ours(mode: str, tier: str | None, weight: float = 1.0, fusion: tuple | None = None):  # type: ignore[no-untyped-def]
            def rank(qid: str, pool: list[str]) -> list[str]:
                qpk = pk_of[qid.split("_")[0]]
                hits = similar_to(
                    lib,
                    qpk,
                    limit=len(pool),
                    among=[pk_of[p] for p in pool],
                    index=indexes.get(tier) if tier else None,
                    mode=mode,
                    dense_weight=weight,
                    facet=facet_of[qid] if fusion else None,
                    sentence_vectors=sentences,
                    facet_fusion=FacetFusion(*fusion) if fusion else FACET_FUSION,
                )
                ranked = [pid_of[h.pk] for h in hits]
                return ranked + [p for p in pool if p not in set(ranked)]  # unmatched ones last

            return rank

        systems = {name: _by_query_text(f, corpus) for name, f in baselines.items()}
        systems["ours-lexical"] = ours("lexical", None)
        tuned: dict[str, dict] = {}
        for tier in indexes:
            systems[f"ours-dense-{tier}"] = ours("dense", tier)
            tuned[f"ours-hybrid-{tier}"] = {w: ours("hybrid", tier, w) for w in WEIGHTS}
            if sentences is not None:
                tuned[f"ours-facet-{tier}"] = {w: ours("hybrid", tier, fusion=w) for w in FACET_GRID}
                defaults = (
                    FACET_FUSION.lexical,
                    FACET_FUSION.sentences,
                    FACET_FUSION.words,
                    FACET_FUSION.neighbours,
                )
                systems[f"ours-facet-defaults-{tier}"] = ours("hybrid", tier, fusion=defaults)
        results = evaluate(systems, tuned, qrels, facet_of, splits)
        lib.close()
    results["models"] = {tier: ix.model_id for tier, ix in indexes.items()}
    results["sentences"] = sentences.embedder.model_id if sentences is not None else None
    out = Path(__file__).parent / "out"
    out.mkdir(exist_ok=True)
    (out / f"csfcube-{'-'.join(args.tiers)}.json").write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2) if args.json else render(results))


def evaluate(systems, tuned, qrels, facet_of, splits) -> dict:  # type: ignore[no-untyped-def]
    def score(rank, qids):  # type: ignore[no-untyped-def]
        per = {}
        for qid in qids:
            pool = sorted(qrels[qid])
            ranked = rank(qid, pool)
            per[qid] = (ndcg_at(ranked, qrels[qid]), average_precision(ranked, qrels[qid]))
        return per

    per_system: dict[str, dict[str, tuple[float, float]]] = {}
    chosen: dict[str, dict[str, float]] = {}
    for name, rank in systems.items():
        per_system[name] = score(rank, splits["fold1_test"] + splits["fold2_test"])
    for name, variants in tuned.items():
        per_system[name] = {}
        chosen[name] = {}
        for fold in ("fold1", "fold2"):
            dev = {
                w: np.mean([v[0] for v in score(r, splits[f"{fold}_dev"]).values()])
                for w, r in variants.items()
            }
            best = max(dev, key=lambda w: (dev[w], -_distance_from_one(w)))
            chosen[name][fold] = best
            per_system[name].update(score(variants[best], splits[f"{fold}_test"]))
    table = {}
    for name, per in per_system.items():
        row = {"ndcg@20": _mean([v[0] for v in per.values()]), "map": _mean([v[1] for v in per.values()])}
        for facet in ("background", "method", "result"):
            row[f"ndcg@20 {facet}"] = _mean([v[0] for q, v in per.items() if facet_of[q] == facet])
        row["queries"] = len(per)
        table[name] = row
    return {"test_folds": table, "dense_weight_chosen_on_dev": chosen}


def _distance_from_one(w) -> float:  # type: ignore[no-untyped-def]
    """Ties on dev go to the weights nearest 1 (a weight, or a tuple of them)."""
    return sum(abs(x - 1.0) for x in (w if isinstance(w, tuple) else (w,)))


def _by_query_text(rank_text, corpus):  # type: ignore[no-untyped-def]
    """A baseline that ranks by the query paper's text, as a (query id, pool) ranker."""
    return lambda qid, pool: rank_text(text(corpus[qid.split("_")[0]]), pool)


def _mean(xs: list[float]) -> float:
    return round(100 * float(np.mean(xs)), 2) if xs else float("nan")


def render(results: dict) -> str:
    rows = results["test_folds"]
    head = "| system | NDCG@20 | MAP | NDCG@20 background | method | result |\n|---|---:|---:|---:|---:|---:|"
    lines = [head]
    for name, r in rows.items():
        lines.append(
            f"| {name} | {r['ndcg@20']:.2f} | {r['map']:.2f} | {r['ndcg@20 background']:.2f} | "
            f"{r['ndcg@20 method']:.2f} | {r['ndcg@20 result']:.2f} |"
        )
    lines.append(f"\nweights chosen on dev folds: {results['dense_weight_chosen_on_dev']}")
    lines.append(f"models: {results.get('models')}; sentences: {results.get('sentences')}")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
