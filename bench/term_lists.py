"""Two-stage keyword ranking against exact BM25, the ranking alone, on any file with a `papers_fts`
index: a paperradar library, or a bare FTS5 index of the same input made by `--make-bare INPUT`
(the same table, tokenizer and content, nothing else: a 3M index in ~25 min rather than a whole
import). Same run, interleaved, 200 queries (seed 0) made from titles like bench/search.py's.

- exact: `SELECT rowid, bm25(...) ... MATCH ? ORDER BY score LIMIT 20` (what text_ranked runs)
- two-stage: `term_lists.ranked(...)`, and the exact ranking when it hands the query back
  (what search() does); overlap@10 against exact, for the queries the lists answered
- count: the `count(*)` search() adds for the total of a full page
- the same exact and two-stage times for the queries the lists answered only (paired)

The lists are built first when the file has none: with `--all` every common word's (what
`paperradar index` builds), else only the query words' lists (the same lists, tested; a whole build
at 3M takes too long for a shared 2-core machine).

    nice .venv/bin/python bench/term_lists.py --make-bare bench/out/synth-3m.jsonl --db /tmp/bare-3m.db
    nice .venv/bin/python bench/term_lists.py --db /tmp/bare-3m.db [--all] [--json]
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import orjson

from paperradar.storage import term_lists
from paperradar.storage.fts import Filters, Term, match_expression
from search import SHAPES, words_from_title  # noqa: E402  (bench/search.py)

EXACT = "SELECT rowid, -bm25(papers_fts, 4.0, 1.0, 1.0) AS s FROM papers_fts WHERE papers_fts MATCH ? ORDER BY s DESC LIMIT ?"
COUNT = "SELECT count(*) FROM papers_fts WHERE papers_fts MATCH ?"
K = 20


class FileLibrary:
    """What term_lists needs of a library, over a plain connection (no paperradar schema needed)."""

    def __init__(self, path: Path):
        self.path = str(path)
        self.conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)

    def text_allowed(self, f: Filters, pks: list[int]) -> set[int]:
        q = f"SELECT pk FROM papers WHERE pk IN ({','.join('?' * len(pks))})"
        return {int(r[0]) for r in self.conn.execute(q, pks)}


def make_bare(src: Path, db: Path) -> None:
    conn = sqlite3.connect(db)
    conn.executescript(
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=OFF;"
        "CREATE TABLE papers(pk INTEGER PRIMARY KEY, title TEXT, abstract TEXT, authors TEXT);"
        "CREATE VIRTUAL TABLE papers_fts USING fts5(title, abstract, authors, content='papers',"
        f" content_rowid='pk', tokenize='{term_lists.TOKENIZE}');"
    )
    rows: list[tuple[int, str, str, str]] = []
    with open(src, "rb") as f:
        for n, line in enumerate(f, start=1):
            d = orjson.loads(line)
            rows.append((n, d.get("title"), d.get("abstract"), "; ".join(map(str, d.get("authors") or []))))
            if len(rows) == 20_000:
                _flush(conn, rows)
    _flush(conn, rows)


def _flush(conn: sqlite3.Connection, rows: list[tuple[int, str, str, str]]) -> None:
    conn.executemany("INSERT INTO papers VALUES (?, ?, ?, ?)", rows)
    conn.executemany("INSERT INTO papers_fts(rowid, title, abstract, authors) VALUES (?, ?, ?, ?)", rows)
    conn.commit()
    rows.clear()


def make_queries(conn: sqlite3.Connection, n: int, seed: int = 0) -> list[list[Term]]:
    """bench/search.py's shapes: 2- and 3-word runs, single words, quoted pairs, 6-word queries."""
    rng = random.Random(seed)
    max_pk = conn.execute("SELECT max(pk) FROM papers").fetchone()[0]
    out: list[list[Term]] = []
    while len(out) < n:
        row = conn.execute(
            "SELECT title FROM papers WHERE pk >= ? AND title IS NOT NULL LIMIT 1", (rng.randint(1, max_pk),)
        ).fetchone()
        shape = SHAPES[len(out) % len(SHAPES)]
        chosen = words_from_title(rng, row[0] if row else None, shape)
        if chosen is not None:
            out.append(
                [Term(" ".join(chosen), phrase=True)]
                if shape == "phrase"
                else [Term(w.lower()) for w in chosen]
            )
    return out


def ms(fn: Any) -> tuple[float, Any]:
    start = time.perf_counter()
    result = fn()
    return (time.perf_counter() - start) * 1000, result


def pct(values: list[float]) -> dict[str, float]:
    qs = statistics.quantiles(values, n=100, method="inclusive")
    return {"p50": round(qs[49], 2), "p90": round(qs[89], 2), "p99": round(qs[98], 2)}


def run(db: Path, n: int, whole: bool) -> dict[str, Any]:
    lib = FileLibrary(db)
    queries = make_queries(lib.conn, n)
    report: dict[str, Any] = {"library": str(db), "queries": len(queries)}
    if term_lists.load(lib) is None:  # type: ignore[arg-type]
        only = None if whole else [t.text for q in queries for t in q if not t.phrase]
        report["build"] = term_lists.build_term_lists(lib, only=only)  # type: ignore[arg-type]
    times: dict[str, list[float]] = {"exact": [], "two-stage (else exact)": [], "count": []}
    answered, overlaps = 0, []
    paired: dict[str, list[float]] = {
        "exact, queries the lists answered": [],
        "two-stage, queries the lists answered": [],
    }
    for terms in queries:  # once to warm the cache, once timed
        match = match_expression(terms)
        for _ in range(2):
            t_exact, exact = ms(lambda: lib.conn.execute(EXACT, (match, K)).fetchall())  # noqa: B023
            t_two, two = ms(lambda: term_lists.ranked(lib, terms, [], "AND", Filters(), K))  # type: ignore[arg-type]  # noqa: B023
            if two is None:
                t_two += ms(lambda: lib.conn.execute(EXACT, (match, K)).fetchall())[0]  # noqa: B023
            t_count, _ = ms(lambda: lib.conn.execute(COUNT, (match,)).fetchone())  # noqa: B023
        times["exact"].append(t_exact)
        times["two-stage (else exact)"].append(t_two)
        times["count"].append(t_count)
        if two is not None:
            answered += 1
            paired["exact, queries the lists answered"].append(t_exact)
            paired["two-stage, queries the lists answered"].append(t_two)
            top = {r[0] for r in exact[:10]}
            overlaps.append(len(top & {pk for pk, _ in two[:10]}) / max(1, len(top)))
    report |= {
        "answered_by_lists": answered,
        "overlap_at_10_mean": round(statistics.fmean(overlaps), 4) if overlaps else None,
        "overlap_at_10_min": min(overlaps) if overlaps else None,
        "latency_ms": {name: pct(v) for name, v in (times | paired).items() if len(v) > 1},
    }
    return report


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", type=Path, required=True)
    ap.add_argument(
        "--make-bare", type=Path, metavar="INPUT", help="build a bare FTS5 index of this JSONL first"
    )
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument(
        "--all", action="store_true", help="build every common word's list, not only the queries'"
    )
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    if args.make_bare:
        make_bare(args.make_bare, args.db)
        print(f"built {args.db}", file=sys.stderr)
    report = run(args.db, args.queries, args.all)
    print(json.dumps(report, indent=None if not args.json else 2))


if __name__ == "__main__":
    main()
