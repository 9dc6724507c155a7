"""CSFCube: score rankings that others published, with the metric and folds of eval_csfcube.py.

    .venv/bin/python bench/csfcube_published.py DIR [--json]

DIR holds rankings in the CSFCube release's format, `test-pid2pool-csfcube-<method>-<facet>-ranked.json`
(a JSON object: query paper id -> [[candidate id, score], ...] best first). The CSFCube repository
(`iesl/CSFCube`, `eval_scripts/sample_ranked_pools/`) ships SPECTER's, as its authors ran it: scoring
them here puts a published system's per-facet numbers next to ours, on the same 50 queries, the same
test folds and the same NDCG@20 and MAP (eval_csfcube.py). A candidate a file does not rank goes last.
Nothing of the files is kept in this repository (the data are CC BY-NC 4.0); pass the folder.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from eval_csfcube import SHARED, _mean, average_precision, load, ndcg_at  # noqa: E402

NAME = re.compile(r"test-pid2pool-csfcube-(?P<method>.+)-(?P<facet>background|method|result)-ranked\.json$")


def read_runs(folder: Path) -> dict[str, dict[str, list[str]]]:
    """method -> '<pid>_<facet>' -> ranked candidate ids."""
    runs: dict[str, dict[str, list[str]]] = defaultdict(dict)
    for path in sorted(folder.iterdir()):
        m = NAME.match(path.name)
        if not m:
            continue
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            raise SystemExit(f"{path}: not a ranking file: {e}") from None
        for pid, ranked in data.items():
            if not isinstance(ranked, list) or not all(isinstance(r, list) and r for r in ranked):
                raise SystemExit(f"{path}: query {pid}: expected [[candidate id, score], ...]")
            runs[m["method"]][f"{pid}_{m['facet']}"] = [str(r[0]) for r in ranked]
    if not runs:
        raise SystemExit(f"{folder}: no test-pid2pool-csfcube-<method>-<facet>-ranked.json files")
    return dict(runs)


def score(runs: dict[str, dict[str, list[str]]]) -> dict[str, dict[str, float]]:
    _, qrels, facet_of, splits = load()
    qids = splits["fold1_test"] + splits["fold2_test"]
    table = {}
    for method, ranked_by_qid in runs.items():
        per = {}
        for qid in qids:
            if qid not in ranked_by_qid:
                continue
            pool = sorted(qrels[qid])
            seen = [d for d in ranked_by_qid[qid] if d in qrels[qid]]
            ranked = seen + [d for d in pool if d not in set(seen)]
            per[qid] = (ndcg_at(ranked, qrels[qid]), average_precision(ranked, qrels[qid]))
        row = {"ndcg@20": _mean([v[0] for v in per.values()]), "map": _mean([v[1] for v in per.values()])}
        for facet in ("background", "method", "result"):
            row[f"ndcg@20 {facet}"] = _mean([v[0] for q, v in per.items() if facet_of[q] == facet])
        row["queries"] = len(per)
        table[method] = row
    return table


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("folder", type=Path, help="folder of test-pid2pool-csfcube-<method>-<facet>-ranked.json")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    if not SHARED.exists():
        raise SystemExit(f"{SHARED}: CSFCube is not there (../shared/eval/csfcube)")
    table = score(read_runs(args.folder))
    if args.json:
        print(json.dumps(table, indent=2))
        return
    print(
        "| system | queries | NDCG@20 | MAP | background | method | result |\n|---|---:|---:|---:|---:|---:|---:|"
    )
    for name, r in table.items():
        print(
            f"| {name} | {r['queries']} | {r['ndcg@20']:.2f} | {r['map']:.2f} | {r['ndcg@20 background']:.2f} "
            f"| {r['ndcg@20 method']:.2f} | {r['ndcg@20 result']:.2f} |"
        )


if __name__ == "__main__":
    main()
