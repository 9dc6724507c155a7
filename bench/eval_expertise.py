"""Reviewer expertise (Stelmakh et al. 2023): rank each participant's judged papers for their profile.

    .venv/bin/python bench/eval_expertise.py [--tier quality|fast] [--json]

For each participant and fold 1-10 the profile is the fold's profile papers; every judged paper is
scored; the package's own `score.py` computes the weighted pairwise loss (lower is better).
Text is title + abstract. Embeddings are computed once and cached in bench/out/.

Systems, all in this run:
- ours: the recommender's learner (rank/learner.py, its default LearnerConfig): logistic regression
  over TF-IDF + embedding features, the profile's papers as positives, 1,000 random papers of
  the package (not the participant's) as negatives, plus 4 x the mean cosine to the 3 nearest
  profile papers; "ours-regression-only" is the regression without that term
- baselines: mean, max and top-3-mean cosine of embeddings to the profile papers, TF-IDF mean cosine
- the published algorithms, scored by `score.py --anchors` from the package's prediction files
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
from sklearn.preprocessing import normalize

from paperradar.embed import load_embedder, text_for
from paperradar.rank import learner

HERE = Path(__file__).resolve().parent
DATA = HERE.parent.parent / "shared" / "eval" / "reviewer-expertise"
OUT = HERE / "out"
RANDOMS = 1000

VARIANTS = {
    "ours": learner.LearnerConfig(),
    "ours-regression-only": learner.LearnerConfig(knn_weight=0.0),
}


def load() -> tuple[dict[str, str], list[dict], dict[str, list[str]]]:
    with gzip.open(DATA / "papers.jsonl.gz", "rt") as f:
        papers = {p["paperId"]: text_for(p.get("title"), p.get("abstract")) for p in map(json.loads, f)}
    with gzip.open(DATA / "profiles.jsonl.gz", "rt") as f:
        profiles = [json.loads(line) for line in f]
    judged: dict[str, list[str]] = defaultdict(list)
    for line in (DATA / "expertise_judgments.jsonl").read_text().splitlines():
        d = json.loads(line)
        judged[str(d["participant_id"])].append(d["paper_id"])
    return papers, profiles, judged


def embeddings(ids: list[str], texts: list[str], tier: str) -> np.ndarray:
    emb = load_embedder(tier)  # type: ignore[arg-type]
    cache = OUT / f"expertise-{emb.model_id.replace('/', '_')}.npy"
    if cache.exists():
        return np.load(cache)
    start = time.perf_counter()
    m = np.vstack([emb.embed_batch(texts[i : i + 64]) for i in range(0, len(texts), 64)])
    print(f"embedded {len(texts)} texts with {tier} in {time.perf_counter() - start:.0f} s", file=sys.stderr)
    OUT.mkdir(exist_ok=True)
    np.save(cache, m)
    return m


def run(tier: str) -> dict[str, object]:
    papers, profiles, judged = load()
    ids = sorted(papers)
    row = {pid: i for i, pid in enumerate(ids)}
    texts = [papers[i] for i in ids]
    dense = normalize(embeddings(ids, texts, tier))
    cfg0 = learner.LearnerConfig()
    lex = normalize(learner.fit_vectorizer(texts, cfg0).transform(texts))
    preds: dict[str, list[dict]] = defaultdict(list)
    start = time.perf_counter()
    spaces = {name: learner.features(lex, dense, cfg) for name, cfg in VARIANTS.items()}
    done: dict[tuple[str, tuple[int, ...]], dict[str, np.ndarray]] = {}
    for prof in profiles:
        pid, fold = str(prof["participant_id"]), prof["fold"]
        pos = [row[p] for p in prof["profile_paper_ids"]]
        cand = [row[p] for p in judged[pid]]
        key = (pid, tuple(sorted(pos)))  # most participants have the same profile in every fold
        if key not in done:
            done[key] = _scores(pid, pos, cand, dense, lex, spaces, len(ids))
        for name, s in done[key].items():
            preds[name].extend(
                {"fold": fold, "participant_id": pid, "paper_id": ids[c], "score": float(v)}
                for c, v in zip(cand, s, strict=True)
            )
    seconds = time.perf_counter() - start
    results = {name: _score(rows) for name, rows in preds.items()}
    anchors = json.loads(_score_py("--anchors", "--json"))
    return {"tier": tier, "seconds": round(seconds, 1), "ours_and_baselines": results, "published": anchors}


def _scores(pid, pos, cand, dense, lex, spaces, n) -> dict[str, np.ndarray]:  # type: ignore[no-untyped-def]
    rng = random.Random(pid)  # the same negatives in every fold
    avoid = set(pos) | set(cand)
    rand = rng.sample([i for i in range(n) if i not in avoid], RANDOMS)
    scores = _baselines(dense, lex, pos, cand)
    for name, cfg in VARIANTS.items():
        x = spaces[name]
        scores[name] = learner.fit(x[pos], None, x[rand], cfg).decision(x[cand])
    return scores


def _baselines(dense: np.ndarray, lex, pos: list[int], cand: list[int]) -> dict[str, np.ndarray]:
    sims = dense[cand] @ dense[pos].T
    lex_sims = (lex[cand] @ lex[pos].T).toarray()
    return {
        "dense-mean-cosine": sims.mean(axis=1),
        "dense-max-cosine": sims.max(axis=1),
        "dense-top3-mean-cosine": np.sort(sims, axis=1)[:, -3:].mean(axis=1),
        "tfidf-mean-cosine": lex_sims.mean(axis=1),
    }


def _score(rows: list[dict]) -> dict[str, object]:
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as f:
        f.write("".join(json.dumps(r) + "\n" for r in rows))
    return json.loads(_score_py(f.name, "--json"))


def _score_py(*args: str) -> str:
    cmd = [sys.executable, str(DATA / "score.py"), *args]
    return subprocess.run(cmd, capture_output=True, text=True, check=True).stdout


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tier", default="quality", choices=["quality", "fast"])
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    res = run(args.tier)
    if args.json:
        print(json.dumps(res, indent=2))
        return
    print(f"reviewer expertise, {args.tier} embeddings, loss (lower is better); {res['seconds']} s")
    for name, r in res["ours_and_baselines"].items():  # type: ignore[union-attr]
        print(f"  {name:<22} {_mean(r):.4f}")
    print("  published (score.py --anchors):")
    for name, r in res["published"].items():  # type: ignore[union-attr]
        print(f"  {name:<22} {_mean(r):.4f}")


def _mean(r: object) -> float:
    if isinstance(r, dict):
        return float(r.get("mean_loss", "nan"))
    return float("nan")


if __name__ == "__main__":
    main()
