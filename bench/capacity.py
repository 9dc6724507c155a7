"""The capacity model: what a library of 30M and 200M papers would cost on one machine, projected
from the sizes measured (118k, 1M, and 3M when bench/scale.py has written bench/out/scale-3m.json).

Each stage gets one curve with one constant, chosen from what the stage does, not from the points:
- linear, c*n: work or bytes per paper that do not depend on the library's size (parsing and
  writing a record, embedding a text, a row and its postings on disk, an ANN node);
- n log n, c*n*log2(n): building the HNSW graph (each insert searches a graph whose depth grows
  with log n);
- affine, a + b*n: a process's memory (a fixed interpreter and model, plus per-paper maps), and
  search latency (a fixed cost per query: parsing, the query embedding, loading and highlighting
  20 papers; plus BM25 over every match, and a common word's match set grows with the library;
  two-stage search bounds that part, and the 3M point says by how much).
With two points an affine curve goes through both (spread 1.0 says nothing then). Import is fitted
on the 3M run alone once it is in: it is the bulk mode a big import takes (the full-text index
built once at the end), and the 118k and 1M runs used the per-batch path. The constant is the geometric mean of the measured points' constants (a least-squares fit in
log space); `spread` is the largest over the smallest of them: 1.0 means the points agree, 2.0
that one was twice as costly per unit as another (most of the 118k/1M points were taken under
different loads on the shared 2-core machine: see `source`). Pure: it only reads files.

    .venv/bin/python bench/capacity.py [--scale-json bench/out/scale-3m.json] [--json]
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SIZES = (30_000_000, 200_000_000)
RAM_GB = 24  # this machine
SQLITE_MAX_GB = 1_073_741_823 * 16_384 / 1e9  # SQLite 3.40's default max_page_count x our 16 KiB pages


@dataclass
class Point:
    papers: int
    value: float
    source: str


@dataclass
class Stage:
    name: str
    unit: str
    curve: str  # linear | nlogn | affine
    points: list[Point] = field(default_factory=list)
    fit_from: int = 0  # fit only the points of at least this many papers, when there are any

    def used(self) -> list[Point]:
        big = [p for p in self.points if p.papers >= self.fit_from]
        return big or self.points

    def basis(self, n: float) -> float:
        return n * math.log2(n) if self.curve == "nlogn" else n

    def fit(self) -> tuple[float, float, float]:
        """(intercept, constant, spread)."""
        pts = self.used()
        if self.curve == "affine" and len(pts) >= 2:
            mean_n = sum(p.papers for p in pts) / len(pts)
            mean_y = sum(p.value for p in pts) / len(pts)
            var = sum((p.papers - mean_n) ** 2 for p in pts)
            b = sum((p.papers - mean_n) * (p.value - mean_y) for p in pts) / var
            return mean_y - b * mean_n, b, 1.0
        cs = [p.value / self.basis(p.papers) for p in pts]
        c = math.exp(sum(math.log(x) for x in cs) / len(cs))
        return 0.0, c, max(cs) / min(cs)

    def at(self, n: float) -> float:
        a, c, _ = self.fit()
        return a + c * self.basis(n)


def measured() -> list[Stage]:
    """The points measured so far, each with where it is written (docs/benchmarks.md sections)."""
    b = "docs/benchmarks.md"
    return [
        Stage("import", "s", "linear", fit_from=2_000_000, points=[
            Point(118_024, 55.8, f"{b} Ingest, 2026-11-22 (2,115 records/s)"),
            Point(1_000_000, 66 * 60, f"{b} 1M, under load 7-12 (12.3 CPU-min in the main process)"),
        ]),
        Stage("fast-tier embedding (2 cores)", "s", "linear", [
            Point(118_024, 60, "docs/scale.md 118k row, quiet"),
            Point(999_984, 1_440, f"{b} 1M, under load (694 papers/s)"),
        ]),
        Stage("quality-tier embedding (2 cores)", "s", "linear", [
            Point(2_000, 2_000 / 34.6, f"{b} Embedding throughput: 34.3-35.0 abstracts/s, ONNX int8"),
        ]),
        Stage("ANN build (usearch i8, 2 threads)", "s", "nlogn", [
            Point(118_024, 289, f"{b} Choosing the ANN index, under load 7-12"),
            Point(999_984, 1_138, f"{b} 1M, under load"),
        ]),
        Stage("library file", "GB", "linear", [
            Point(118_024, 1.085, "bench/out/lib-118k.db of 2026-12-02 (384-d fast-tier vectors)"),
            Point(999_984, 8.1, f"{b} 1M (256-d vectors then; 384-d adds 0.5 GB per 1M)"),
        ]),
        Stage("ANN file", "GB", "linear", [Point(999_984, 0.386, f"{b} 1M")]),
        Stage("keyword p50", "ms", "affine", [
            Point(118_024, 9.3, f"{b} Search latency run 5, quiet"),
            Point(999_984, 51.8, f"{b} 1M, quiet"),
        ]),
        Stage("hybrid p50", "ms", "affine", [
            Point(118_024, 24.6, f"{b} Search latency run 5, quiet (exact vectors)"),
            Point(999_984, 62.9, f"{b} 1M, quiet (ANN)"),
        ]),
        Stage("topics: assign + store (streamed)", "s", "linear", [
            Point(118_024, 22.0 + 22.2, f"{b} Topics at millions of papers, full fit, load 10-15"),
            Point(3_068_624, 536.3 + 592.5, f"{b} Topics at millions of papers, 3M replicated, load 11-15"),
        ]),
        Stage("RSS while searching", "MB", "affine", [
            Point(118_024, 402, f"{b} Search latency run 5"),
            Point(999_984, 592, f"{b} 1M"),
        ]),
    ]  # fmt: skip


def add_scale_json(stages: list[Stage], path: Path) -> None:
    """Add the points bench/scale.py measured (its JSON: per stage wall_s, papers, library and ANN
    bytes; the index stage's log holds `ann_seconds`, the ANN build's share of it)."""
    data = json.loads(path.read_text())
    where = f"{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}"
    by_name = {s.name: s for s in stages}
    for name, (n, value) in scale_values(data.get("stages", {})).items():
        if name in by_name and n and value:
            by_name[name].points.append(Point(n, value, where))


def scale_values(stage: dict[str, Any]) -> dict[str, tuple[int, float]]:
    """(papers, value) per stage of this model, from bench/scale.py's stages."""
    out: dict[str, tuple[int, float]] = {}
    imp, idx = stage.get("import") or {}, stage.get("index") or {}
    if imp.get("exit_code") == 0:
        out["import"] = (int(imp["papers"]), float(imp["wall_s"]))
        out["library file"] = (int(imp["papers"]), imp["library_bytes"] / 1e9)
    if idx.get("exit_code") == 0:
        ann = _ann_seconds(ROOT / str(idx.get("log", "")))
        n = int(idx.get("vectors") or idx["papers"])
        if ann is not None:
            out["fast-tier embedding (2 cores)"] = (n, float(idx["wall_s"]) - ann)
            out["ANN build (usearch i8, 2 threads)"] = (n, ann)
        out["library file"] = (int(idx["papers"]), idx["library_bytes"] / 1e9)
        if idx.get("ann_bytes"):
            out["ANN file"] = (n, idx["ann_bytes"] / 1e9)
    ann_stage = stage.get("ann") or {}
    if ann_stage.get("exit_code") == 0:  # the ANN build run alone (bench/scale.py --stages ann)
        n = int(ann_stage.get("vectors") or ann_stage["papers"])
        out["ANN build (usearch i8, 2 threads)"] = (n, float(ann_stage["wall_s"]))
        out["library file"] = (int(ann_stage["papers"]), ann_stage["library_bytes"] / 1e9)  # with vectors
        if ann_stage.get("ann_bytes"):
            out["ANN file"] = (n, ann_stage["ann_bytes"] / 1e9)
    return out


def _ann_seconds(log: Path) -> float | None:
    """`ann_seconds` in the index stage's JSON output, when its log has it."""
    if not log.is_file():
        return None
    found = re.search(r'"ann_seconds":\s*([\d.]+)', log.read_text(errors="replace"))
    return float(found.group(1)) if found else None


def human(value: float, unit: str) -> str:
    if unit == "s":
        for limit, div, name in ((120, 1, "s"), (7_200, 60, "min"), (172_800, 3_600, "h")):
            if value < limit:
                return f"{value / div:,.0f} {name}" if div > 1 or value >= 10 else f"{value:.1f} s"
        return f"{value / 86_400:,.1f} d"
    if unit == "GB" and value >= 1_000:
        return f"{value / 1_000:,.1f} TB"
    return f"{value:,.1f} {unit}" if value < 100 else f"{value:,.0f} {unit}"


def table(stages: list[Stage]) -> list[dict[str, Any]]:
    rows = []
    for s in stages:
        a, c, spread = s.fit()
        small = Stage(s.name, s.unit, s.curve, [p for p in s.points if p.papers < 2_000_000], s.fit_from)
        big = [p for p in s.points if p.papers >= 2_000_000]
        check = None
        if big and small.points and (s.curve != "affine" or len(small.points) >= 2):
            check = f"{human(small.at(big[0].papers), s.unit)} predicted by the smaller sizes"
        rows.append(
            {
                "stage": s.name,
                "curve": s.curve,
                "measured": {f"{p.papers:,}": human(p.value, s.unit) for p in s.points},
                **{f"{n // 1_000_000}M": human(s.at(n), s.unit) for n in SIZES},
                "spread": round(spread, 2),
                "check_3m": check,
                "raw": {"intercept": a, "constant": c, "unit": s.unit},
                "sources": [p.source for p in s.points],
            }
        )
    return rows


def limits(stages: list[Stage]) -> dict[str, str]:
    """Where one machine and one SQLite file stop, by the fitted curves."""
    by = {s.name: s for s in stages}
    ann_per_paper = by["ANN file"].fit()[1]  # GB per paper
    rss = by["RSS while searching"]
    ann_fits = (RAM_GB - rss.at(3e6) / 1_000) / ann_per_paper
    lib_per_paper = by["library file"].fit()[1]
    return {
        "ann_in_ram_papers": f"{ann_fits / 1e6:,.0f}M (ANN file in {RAM_GB} GB of page cache, minus one server)",
        "sqlite_file_papers": f"{SQLITE_MAX_GB / lib_per_paper / 1e6:,.0f}M ({SQLITE_MAX_GB / 1e3:,.1f} TB: "
        "max_page_count x 16 KiB pages; raise with PRAGMA max_page_count)",
        "import_200m": human(by["import"].at(2e8), "s") + " of single-writer import",
        "keyword_p50_30m": human(by["keyword p50"].at(3e7), "ms") + " without a bound on BM25's match set",
    }


def markdown(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| stage | curve | measured | 3M from 118k+1M alone | 30M | 200M | spread |",
        "|---|---|---|---|---:|---:|---:|",
    ]
    for r in rows:
        seen = "; ".join(f"{k}: {v}" for k, v in r["measured"].items())
        check = (r["check_3m"] or "-").replace(" predicted by the smaller sizes", "")
        lines.append(
            f"| {r['stage']} | {r['curve']} | {seen} | {check} | {r['30M']} | {r['200M']} | {r['spread']} |"
        )
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--scale-json", type=Path, default=ROOT / "bench" / "out" / "scale-3m.json")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    stages = measured()
    if args.scale_json.is_file():
        add_scale_json(stages, args.scale_json)
    else:
        print(f"note: {args.scale_json} not found: 3M points left out", file=sys.stderr)
    rows = table(stages)
    if args.json:
        print(json.dumps({"stages": rows, "limits": limits(stages)}, indent=2))
        return
    print(markdown(rows))
    for k, v in limits(stages).items():
        print(f"- {k}: {v}")


if __name__ == "__main__":
    main()
