"""The key sentence, evaluated: does paperradar.highlights pick the sentence that states each
paper's idea and the one that states its result?

Data: ../shared/eval/abstract-highlights/ (reader-labelled idea/result spans in arXiv abstracts;
evaluation only, never copied into the repo). The one row group without an arXiv id (58 rows of
fragments of a single abstract) is left out. A chosen sentence is correct when it holds at least
half of the labelled span's characters (the README's "contains most of the labelled span");
token F1 compares the chosen sentence's words with the span's.

Methods, all in the same run and on the same folds: first sentence, last sentence, a position
prior (the relative-position bin where the kind's sentence most often sits, counted on the
training folds), and the learned highlighter (logistic regression over position and cue-phrase
features, trained on the training folds only). 5-fold cross-validation by abstract (fold = a
stable hash of the arXiv id): every reported number comes from a fold the model never saw. The
regularisation C is chosen inside each training part by an inner 4-fold split, never on the
reported fold.

    .venv/bin/python bench/eval_highlights.py [--json]
    .venv/bin/python bench/eval_highlights.py --write-model   # refit on all abstracts, write the weights
"""

from __future__ import annotations

import argparse
import csv
import gzip
import hashlib
import json
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression

from paperradar import highlights as hl

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "eval" / "abstract-highlights" / "abstract_sentences.csv.gz"
FOLDS = 5
C_GRID = (0.03, 0.1, 0.3, 1.0, 3.0)
BINS = 5


@dataclass
class Abstract:
    arxiv_id: str
    text: str
    spans: dict[str, list[tuple[int, int]]] = field(default_factory=dict)
    sents: list[str] = field(default_factory=list)
    offsets: list[tuple[int, int]] = field(default_factory=list)
    feats: list[dict[str, float]] = field(default_factory=list)

    def gold(self, kind: str) -> int | None:
        """The sentence holding most of the kind's (first) span."""
        if kind not in self.spans:
            return None
        a, b = self.spans[kind][0]
        overlap = [max(0, min(b, e) - max(a, s)) for s, e in self.offsets]
        return int(np.argmax(overlap)) if max(overlap) > 0 else None


def load(path: Path = DATA) -> list[Abstract]:
    by_id: dict[str, Abstract] = {}
    with gzip.open(path, "rt", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            if not row["arxiv_id"].strip():
                continue
            ab = by_id.setdefault(row["arxiv_id"], Abstract(row["arxiv_id"], row["abstract"]))
            ab.spans.setdefault(row["label"], []).append((int(row["start_idx"]), int(row["end_idx"])))
    out = []
    for ab in by_id.values():
        ab.offsets = hl.sentence_spans(ab.text)
        ab.sents = [ab.text[s:e].strip() for s, e in ab.offsets]
        ab.feats = hl.features(ab.sents)
        if len(ab.sents) >= 2:
            out.append(ab)
    return out


def fold_of(arxiv_id: str, k: int = FOLDS) -> int:
    return int(hashlib.sha256(arxiv_id.encode()).hexdigest(), 16) % k


# ---------------------------------------------------------------- methods: each returns an index


def names_of(abstracts: list[Abstract]) -> list[str]:
    return sorted(abstracts[0].feats[0])


def fit(abstracts: list[Abstract], kind: str, c: float) -> dict[str, float]:
    names = names_of(abstracts)
    xs, ys = [], []
    for ab in abstracts:
        g = ab.gold(kind)
        if g is None:
            continue
        for i, f in enumerate(ab.feats):
            xs.append([f[n] for n in names])
            ys.append(int(i == g))
    model = LogisticRegression(C=c, max_iter=2000, fit_intercept=False)
    model.fit(np.array(xs), np.array(ys))
    return {n: float(w) for n, w in zip(names, model.coef_[0], strict=True)}


def choose_c(train: list[Abstract], kind: str) -> float:
    """The C with the best inner-fold accuracy on the training part alone."""
    best = (-1.0, C_GRID[0])
    for c in C_GRID:
        hits = 0
        for k in range(4):
            inner_train = [a for a in train if fold_of(a.arxiv_id + "inner", 4) != k]
            inner_dev = [a for a in train if fold_of(a.arxiv_id + "inner", 4) == k]
            w = fit(inner_train, kind, c)
            hits += sum(
                _correct(a, kind, _argmax(hl.scores(a.sents, w))) for a in inner_dev if kind in a.spans
            )
        best = max(best, (hits, c))
    return best[1]


def _argmax(xs: list[float]) -> int:
    return int(np.argmax(xs))


def prior(train: list[Abstract], kind: str) -> np.ndarray:
    counts = np.zeros(BINS)
    for ab in train:
        g = ab.gold(kind)
        if g is not None:
            counts[_bin(g, len(ab.sents))] += 1
    return counts


def _bin(i: int, n: int) -> int:
    return min(BINS - 1, int(i / n * BINS))


def by_prior(ab: Abstract, counts: np.ndarray) -> int:
    return max(range(len(ab.sents)), key=lambda i: (counts[_bin(i, len(ab.sents))], -i))


# ---------------------------------------------------------------- scoring


def _correct(ab: Abstract, kind: str, i: int) -> bool:
    """The chosen sentence holds at least half of the labelled span's characters."""
    a, b = ab.spans[kind][0]
    s, e = ab.offsets[i]
    return max(0, min(b, e) - max(a, s)) * 2 >= (b - a)


def _f1(ab: Abstract, kind: str, i: int) -> float:
    a, b = ab.spans[kind][0]
    gold, got = ab.text[a:b].lower().split(), ab.sents[i].lower().split()
    common = sum(min(gold.count(t), got.count(t)) for t in set(gold))
    if not common:
        return 0.0
    p, r = common / len(got), common / len(gold)
    return 2 * p * r / (p + r)


def evaluate(abstracts: list[Abstract]) -> dict[str, Any]:
    picks: dict[str, dict[str, list[tuple[Abstract, int]]]] = defaultdict(lambda: defaultdict(list))
    chosen_c: dict[str, list[float]] = defaultdict(list)
    for k in range(FOLDS):
        train = [a for a in abstracts if fold_of(a.arxiv_id) != k]
        test = [a for a in abstracts if fold_of(a.arxiv_id) == k]
        model = {}
        for kind in hl.KINDS:
            c = choose_c(train, kind)
            chosen_c[kind].append(c)
            model[kind] = fit(train, kind, c)
        for kind in hl.KINDS:
            counts = prior(train, kind)
            for ab in test:
                if kind not in ab.spans:
                    continue
                n = len(ab.sents)
                picks["first sentence"][kind].append((ab, 0))
                picks["last sentence"][kind].append((ab, n - 1))
                picks["position prior"][kind].append((ab, by_prior(ab, counts)))
                idea_s, result_s = hl.scores(ab.sents, model["idea"]), hl.scores(ab.sents, model["result"])
                picks["highlighter (each kind alone)"][kind].append(
                    (ab, _argmax(idea_s if kind == "idea" else result_s))
                )
                both = hl.pick(idea_s, result_s)
                picks["highlighter (idea and result differ)"][kind].append(
                    (ab, both[0 if kind == "idea" else 1])
                )
    table = {
        method: {
            kind: {
                "n": len(got),
                "accuracy": round(100 * float(np.mean([_correct(a, kind, i) for a, i in got])), 1),
                "token_f1": round(100 * float(np.mean([_f1(a, kind, i) for a, i in got])), 1),
            }
            for kind, got in per_kind.items()
        }
        for method, per_kind in picks.items()
    }
    return {"abstracts": len(abstracts), "folds": FOLDS, "chosen_C": dict(chosen_c), "methods": table}


def write_model(abstracts: list[Abstract]) -> None:
    weights = {}
    for kind in hl.KINDS:
        c = choose_c(abstracts, kind)
        weights[kind] = {n: round(w, 5) for n, w in fit(abstracts, kind, c).items()}
    note = "written by bench/eval_highlights.py --write-model; logistic regression over highlights.features"
    hl.MODEL_FILE.write_text(json.dumps({"note": note, "weights": weights}, indent=1, sort_keys=True) + "\n")
    print(f"wrote {hl.MODEL_FILE}", file=sys.stderr)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--write-model", action="store_true")
    args = ap.parse_args()
    abstracts = load()
    if args.write_model:
        write_model(abstracts)
        return
    report = evaluate(abstracts)
    if args.json:
        print(json.dumps(report, indent=2))
        return
    print(f"{report['abstracts']} abstracts, {report['folds']}-fold CV; C per fold {report['chosen_C']}")
    for method, per_kind in report["methods"].items():
        cells = "  ".join(
            f"{kind}: acc {v['accuracy']:5.1f} F1 {v['token_f1']:5.1f} (n={v['n']})"
            for kind, v in per_kind.items()
        )
        print(f"  {method:<38} {cells}")


if __name__ == "__main__":
    main()
