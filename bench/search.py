"""Search latency: paperradar's keyword `search()` against bare FTS5, on the same queries, in the same run.

Library: bench/out/lib-118k.db, built once from ../shared/corpora/arxiv-118k/arxiv_metadata.jsonl.xz
with `paperradar import` when absent (about 1-3 minutes).
Queries: 200 drawn deterministically (seed 0) from titles in the library: 2- and 3-word runs of
content words, single words, quoted 2-word phrases and 6-word natural-language queries.
Baseline: `SELECT rowid FROM papers_fts WHERE papers_fts MATCH ? ORDER BY rank LIMIT 20` with the
same MATCH expression (default bm25, no papers loaded, no snippets, no count), on a read-only
connection of its own (the library's SQL stays behind its storage contract).
paperradar: `search(lib, query, limit=20)`: weighted bm25, filters, snippets, the papers, the total.
Tantivy (storage/search_index.py, when the library has `<library>.tantivy/`): the same search()
with the side index on and off (then FTS5's exact BM25 over every match), interleaved in the same run, with the overlap@10 of the two
rankings, how many queries the side index answered, and whether both give the same totals; and
the side index without its `pairs` field (phrases of common words from positions, as before
2026-12-03), with how many queries' pages differ from the paired ones.
Hybrid (when the library has vectors): `search(..., mode="hybrid")`, query embedding included, over
the persisted ANN index when the library has one (ann.py), else exact; with `--exact-baseline` the
same hybrid search over exact vectors is timed too (after the peak RSS is read).
Each query runs once to warm the cache, then once timed for each side (interleaved).

    .venv/bin/python bench/search.py [--queries N] [--db PATH] [--exact-baseline] [--json]
"""

from __future__ import annotations

import argparse
import bisect
import json
import random
import re
import resource
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from paperradar import index as idx
from paperradar.ann import AnnIndex
from paperradar.embed import load_embedder
from paperradar.errors import BackendUnavailable
from paperradar.index import VectorIndex, best_index
from paperradar.search import Filters, search
from paperradar.storage import Library, open_library, search_engine, search_index
from paperradar.storage.fts import STOPWORDS, match_expression, parse_query

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpora" / "arxiv-118k" / "arxiv_metadata.jsonl.xz"
DEFAULT_DB = ROOT / "bench" / "out" / "lib-118k.db"
BASELINE = "SELECT rowid FROM papers_fts WHERE papers_fts MATCH ? ORDER BY rank LIMIT 20"


def build(db: Path) -> None:
    """Import the 118k corpus into `db` (through a temporary name, so a killed build leaves nothing)."""
    db.parent.mkdir(parents=True, exist_ok=True)  # `--db` makes no folders
    tmp = db.with_name(db.name + ".building")
    for p in (tmp, Path(f"{tmp}-wal"), Path(f"{tmp}-shm")):
        p.unlink(missing_ok=True)
    exe = ROOT / ".venv" / "bin" / "paperradar"
    print(f"building {db} from {CORPUS} ...", file=sys.stderr)
    subprocess.run([str(exe), "--db", str(tmp), "import", str(CORPUS)], check=True, stdout=subprocess.DEVNULL)
    lib = open_library(tmp)
    lib.checkpoint()  # the log folded in, so the file moves whole
    lib.close()
    tmp.replace(db)
    for p in (Path(f"{tmp}-wal"), Path(f"{tmp}-shm")):
        p.unlink(missing_ok=True)


def make_queries(lib: Library, n: int, seed: int = 0) -> list[str]:
    """Realistic queries from titles: what someone who half-remembers a paper would type. Each
    draws a pk at random and takes the first titled paper from there (the library's own reads)."""
    rng = random.Random(seed)
    pks = list(lib.all_pks())  # ascending
    max_pk = pks[-1] if pks else 0
    out: list[str] = []
    while len(out) < n:
        title = _title_from(lib, pks, rng.randint(1, max_pk))
        shape = SHAPES[len(out) % len(SHAPES)]
        chosen = words_from_title(rng, title, shape)
        if chosen is not None:
            out.append(f'"{" ".join(chosen)}"' if shape == "phrase" else " ".join(chosen).lower())
    return out


SHAPES = ["two"] * 8 + ["three"] * 4 + ["one"] * 3 + ["phrase"] * 3 + ["long"] * 2


def words_from_title(rng: random.Random, title: str | None, shape: str) -> list[str] | None:
    """The words a query of this shape takes from a title (a phrase: consecutive words as written;
    else content words), or None when the title has too few."""
    raw = re.findall(r"[A-Za-z][A-Za-z0-9-]+", title or "")
    words = raw if shape == "phrase" else [w for w in raw if w.lower() not in STOPWORDS]
    size = {"one": 1, "two": 2, "three": 3, "phrase": 2, "long": 6}[shape]
    if len(words) < size:
        return None
    start = rng.randint(0, len(words) - size)
    return words[start : start + size]


def _title_from(lib: Library, pks: list[int], at: int) -> str | None:
    """The title of the first paper with one whose pk is `at` or above (None past the last)."""
    for pk in pks[bisect.bisect_left(pks, at) :]:
        if (title := lib.paper_row(pk).title) is not None:
            return title
    return None


def percentiles(ms: list[float]) -> dict[str, float]:
    qs = statistics.quantiles(ms, n=100, method="inclusive")
    return {
        "p50": round(qs[49], 2),
        "p90": round(qs[89], 2),
        "p99": round(qs[98], 2),
        "mean": round(statistics.fmean(ms), 2),
    }


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1000


def measure(sides: dict[str, Callable[[str], object]], queries: list[str]) -> dict[str, list[float]]:
    for q in queries:  # warm the page cache
        for fn in sides.values():
            fn(q)
    times: dict[str, list[float]] = {name: [] for name in sides}
    for q in queries:
        for name, fn in sides.items():
            times[name].append(timed(lambda: fn(q)))  # noqa: B023
    return times


def run(db: Path, n: int, exact_baseline: bool = False) -> dict[str, Any]:
    if not db.exists():
        build(db)
    lib = open_library(db)
    papers = lib.counts()["papers"]
    queries = make_queries(lib, n)
    filters = Filters(since="2015", categories=("cs",))
    bare = sqlite3.connect(f"file:{db}?mode=ro", uri=True, check_same_thread=False)  # the baseline's own
    side = search_index.load(lib)
    sides: dict[str, Callable[[str], object]] = {
        "baseline (bare FTS5 MATCH ORDER BY rank LIMIT 20)": lambda q: bare.execute(
            BASELINE, (match_expression(parse_query(q).terms),)
        ).fetchall(),
        "paperradar keyword search()": lambda q: search(lib, q, limit=20),
        "paperradar keyword search(), --since 2015 --category cs": lambda q: search(
            lib, q, limit=20, filters=filters
        ),
    }
    if side is not None:
        sides["baseline: keyword search(), exact FTS5 BM25 (Tantivy off)"] = lambda q: exact_search(lib, q)
    if side is not None and side.common:
        sides["baseline: keyword search(), Tantivy without its pairs field"] = lambda q: unpaired_search(
            lib, q
        )
    dense = best_index(lib)
    hybrid = lambda q: search(lib, q, mode="hybrid", limit=20)  # noqa: E731
    if dense is not None:
        kind = "ANN (usearch)" if isinstance(dense[0], AnnIndex) else "exact"
        sides[f"paperradar hybrid search(), {kind} over {len(dense[0]):,} vectors"] = hybrid
    try:  # what a quality-tier library adds to hybrid search: embedding the query with the transformer
        quality = load_embedder("quality")
        sides["query embedding alone, quality tier (int8 ONNX MiniLM)"] = lambda q: quality.embed_batch([q])
    except BackendUnavailable:
        pass
    times = measure(sides, queries)
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if dense is not None and exact_baseline and isinstance(dense[0], AnnIndex):
        exact = VectorIndex.load(lib, dense[0].model_id)  # the same hybrid search over exact vectors
        idx._CACHE[f"{lib.path}#best"] = (lib.embedding_generation(), exact, dense[1])
        base = {"baseline: hybrid search() with exact numpy search": hybrid}
        times.update(measure(base, queries))
        idx._CACHE.clear()
    results = [search(lib, q, limit=20) for q in queries]
    tantivy = agreement(lib, queries, results) if side is not None else {}
    if side is not None and side.common:
        tantivy["pages_differ_without_pairs"] = sum(
            _page(unpaired_search(lib, q)) != _page(r) for q, r in zip(queries, results, strict=True)
        )
    lib.close()
    bare.close()
    return {
        "tantivy": tantivy,
        "peak_rss_mb_before_exact_baseline": round(rss_mb),
        "library": str(db),
        "papers": papers,
        "queries": len(queries),
        "examples": queries[:8],
        "relaxed_to_any_word": sum(r.relaxed for r in results),
        "no_results": sum(not r.hits for r in results),
        "latency_ms": {name: percentiles(ms) for name, ms in times.items()},
    }


def exact_search(lib: Library, q: str, **kw: Any) -> Any:
    """search() with the Tantivy side index off: FTS5's BM25 over every match."""
    search_index.ENABLED = False
    try:
        return search(lib, q, limit=20, **kw)
    finally:
        search_index.ENABLED = True


def unpaired_search(lib: Library, q: str) -> Any:
    """search() with the Tantivy side index, its phrases matched and scored from positions alone
    (as before the `pairs` field, 2026-12-03): the same answers, the cost the pairs save."""
    side = search_index.load(lib)
    assert side is not None
    common, side.common = side.common, frozenset()
    try:
        return search(lib, q, limit=20)
    finally:
        side.common = common


def _page(result: Any) -> tuple[int, list[tuple[str, float]]]:
    """A result as its total and (paper, score) list, scores to 4 significant digits (float32 sums)."""
    return result.total, [(h.paper.id, float(f"{h.score:.4g}")) for h in result.hits]


def agreement(lib: Library, queries: list[str], results: list[Any]) -> dict[str, Any]:
    """How often the side index answered, overlap@10 of its rankings with FTS5's, and how many
    queries got another total."""
    answered, overlaps, totals_differ = 0, [], 0
    for q, got in zip(queries, results, strict=True):
        parsed = parse_query(q)
        if (
            not parsed.terms
            or search_engine.ranked(lib, parsed.terms, parsed.excluded, "AND", Filters(), 1, 0) is None
        ):
            continue
        answered += 1
        want = exact_search(lib, q)
        totals_differ += want.total != got.total
        top = {h.paper.id for h in want.hits[:10]}
        overlaps.append(len(top & {h.paper.id for h in got.hits[:10]}) / max(1, len(top)))
    return {
        "answered_by_tantivy": answered,
        "totals_differ": totals_differ,
        "overlap_at_10_mean": round(statistics.fmean(overlaps), 4) if overlaps else None,
        "overlap_at_10_min": min(overlaps) if overlaps else None,
        "overlap_at_10_below_0.5": sum(o < 0.5 for o in overlaps),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--db", type=Path, default=DEFAULT_DB)
    ap.add_argument("--json", action="store_true")
    ap.add_argument(
        "--exact-baseline", action="store_true", help="also time hybrid over exact vectors (loads them all)"
    )
    args = ap.parse_args()
    report = run(args.db, args.queries, args.exact_baseline)
    if args.json:
        print(json.dumps(report, indent=2))
        return
    print(
        f"{report['papers']:,} papers, {report['queries']} queries (e.g. {', '.join(report['examples'][:5])})"
    )
    print(f"relaxed to any word: {report['relaxed_to_any_word']}, no results: {report['no_results']}")
    print(f"peak RSS (before any exact baseline): {report['peak_rss_mb_before_exact_baseline']:,} MB")
    if report["tantivy"]:
        print(f"Tantivy keyword ranking: {report['tantivy']}")
    for name, p in report["latency_ms"].items():
        print(
            f"  {name:<64} p50 {p['p50']:7.2f} ms  p90 {p['p90']:7.2f} ms  p99 {p['p99']:7.2f} ms  mean {p['mean']:7.2f} ms"
        )


if __name__ == "__main__":
    main()
