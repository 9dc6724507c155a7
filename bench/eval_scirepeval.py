"""SciRepEval search sample: 100 real Semantic Scholar queries, 10 judged candidates each; NDCG@10.

    .venv/bin/python bench/eval_scirepeval.py [--json]

A smoke check, not a benchmark (1,000 candidates, 115 relevant; see the sample's README). Every
query's 10 candidates are ranked; grades are the sample's click-derived scores (0, 1, 2).
The pool is shuffled (seed 0) before ranking, so ties never inherit the file's order.
Systems, in the same run on the same pools:
- bm25 and tfidf: the sklearn baselines of eval_csfcube.py, fitted on the 1,000 candidates
- ours-keyword / ours-semantic-<tier> / ours-hybrid-<tier>: `paperradar.search.search()` over a
  library of the candidates, its order restricted to the query's pool; candidates it does not
  return follow in the shuffled order. Keyword ranking by FTS5's bm25.
- ours-keyword-tantivy / ours-hybrid-<tier>-tantivy: the same with the keyword side ranked by the
  Tantivy side index (storage/search_index.py) built for this small library (the size threshold
  forced to 0), as big libraries rank.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import statistics
import sys
import tempfile
from pathlib import Path

from eval_csfcube import ndcg_at, sklearn_rankers

SAMPLE = (
    Path(__file__).resolve().parents[2]
    / "shared"
    / "eval"
    / "scirepeval-samples"
    / "scirepeval_search_small.jsonl.gz"
)


def load() -> list[dict]:
    with gzip.open(SAMPLE, "rt") as f:
        return [json.loads(line) for line in f]


def build_library(queries: list[dict], tmp: Path):  # type: ignore[no-untyped-def]
    from paperradar.embed import load_embedder
    from paperradar.importers.base import Source
    from paperradar.index import update_index
    from paperradar.ingest import import_source
    from paperradar.storage import open_library

    rows = {}
    for q in queries:
        for c in q["candidates"]:
            rows[c["corpus_id"]] = {
                "corpus_id": c["corpus_id"],
                "title": c["title"],
                "abstract": c.get("abstract") or "",
                "authors": c.get("author_names") or [],
                "year": c.get("year"),
                "venue": c.get("venue"),
            }
    path = tmp / "candidates.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows.values()), encoding="utf-8")
    lib = open_library(tmp / "lib.db")
    report = import_source(lib, Source.from_file(path))
    if report.rejected:
        sys.exit(f"rejected candidates: {report.rejected[:3]}")
    from paperradar.storage import search_index

    search_index.build(lib)  # what a library of search_index.MIN_PAPERS or more has
    tiers = []
    for tier in ("fast", "quality"):
        update_index(lib, load_embedder(tier))  # type: ignore[arg-type]
        tiers.append(tier)
    return lib, tiers


def ours(lib, query: str, pool: list[str], mode: str, tier: str | None, tantivy: bool = False) -> list[str]:  # type: ignore[no-untyped-def]
    from paperradar import search as search_module
    from paperradar.index import best_index
    from paperradar.storage import search_index

    previous = search_module.best_index
    search_module.best_index = lambda lib: best_index(lib, tier)  # type: ignore[assignment]
    search_index.ENABLED = tantivy
    try:
        hits = search_module.search(lib, query, mode=mode, limit=1000).hits
    finally:
        search_module.best_index = previous  # type: ignore[assignment]
        search_index.ENABLED = True
    in_pool = set(pool)
    ranked = []
    for h in hits:
        cid = next((i.split(":", 1)[1] for i in h.paper.ids if i.startswith("corpus:")), None)
        if cid in in_pool and cid not in ranked:
            ranked.append(cid)
    return ranked + [p for p in pool if p not in ranked]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    queries = load()
    corpus = {
        str(c["corpus_id"]): {"title": c["title"], "abstract": c.get("abstract") or ""}
        for q in queries
        for c in q["candidates"]
    }
    baselines = sklearn_rankers(corpus)
    rng = random.Random(0)
    scores: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        lib, tiers = build_library(queries, Path(tmp))
        systems = {name: (lambda q, p, f=f: f(q, p)) for name, f in baselines.items()}
        systems["ours-keyword"] = lambda q, p: ours(lib, q, p, "keyword", None)
        systems["ours-keyword-tantivy"] = lambda q, p: ours(lib, q, p, "keyword", None, True)
        for tier in tiers:
            systems[f"ours-semantic-{tier}"] = lambda q, p, t=tier: ours(lib, q, p, "semantic", t)
            systems[f"ours-hybrid-{tier}"] = lambda q, p, t=tier: ours(lib, q, p, "hybrid", t)
            systems[f"ours-hybrid-{tier}-tantivy"] = lambda q, p, t=tier: ours(lib, q, p, "hybrid", t, True)
        for q in queries:
            grades = {str(c["corpus_id"]): int(c["score"]) for c in q["candidates"]}
            if not any(grades.values()):
                continue
            pool = list(grades)
            rng.shuffle(pool)
            for name, rank in systems.items():
                scores.setdefault(name, []).append(ndcg_at(rank(q["query"], pool), grades, 10))
        lib.close()
    result = {name: round(100 * statistics.mean(v), 2) for name, v in scores.items()}
    n = len(next(iter(scores.values())))
    if args.json:
        print(json.dumps({"queries": n, "ndcg@10": result}, indent=2))
        return
    print(f"SciRepEval search sample: {n} queries with a relevant candidate, NDCG@10 (x100)")
    print("| system | NDCG@10 |")
    print("|---|---|")
    for name, v in result.items():
        print(f"| {name} | {v:.2f} |")


if __name__ == "__main__":
    main()
