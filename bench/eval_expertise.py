"""Reviewer expertise (Stelmakh et al. 2023): rank each participant's judged papers for their profile.

    nice -n 5 .venv/bin/python bench/eval_expertise.py [--tier quality|fast ...] [--json]

`--tier` takes one tier or several (`--tier quality fast`): every system runs once per tier, and the
output is one table, a row per system and a column per tier (`--json`: {"tiers": {tier: that tier's
full result}, "table": {system: {tier: loss}}}; with one tier the JSON is that tier's result alone,
as before). The published rows read no vectors and are the same in every column.

For each participant and fold 1-10 the profile is the fold's profile papers; every judged paper is
scored; the package's own `score.py` computes the weighted pairwise loss per fold (lower is
better). Text is title + abstract. Embeddings are computed once and cached in bench/out/.

Vectors: `--tier quality` (the default) is what the default path gives a reviewer's papers once it
gives them vectors at all. `profile create --papers FILE` and `recommend --among FILE` import their
files without embedding (only `paperradar import`/`sync` embed); at ranking time a library under
2,000 papers (rank/ready.py INLINE_BELOW) embeds the missing papers with the library's query tier,
the quality tier once the library has quality vectors (any import of <= quality_import_max papers);
a library of 2,000+ papers gives them zero dense rows (lexical evidence only, the "lexical only"
row) until `paperradar index` embeds them with the quality tier. docs/evaluation.md has the check.

- ours (cross-validated): the recommender's learner (rank/learner.py) over rank/features.py's
  TF-IDF of the package and the tier's embeddings, the profile's papers split into interests by
  rank/interests.py as `profile create` splits them; negatives and reference papers by id hash, as
  in `recommend`. Every setting (C, dense weight, knn, centroid weight) is chosen by 10-fold
  cross-validation: for each fold, the setting with the lowest mean loss on the other 9 folds is
  scored on that fold; the reported loss is the mean of those 10 held-out fold losses. Variants,
  each cross-validated the same way: one interest per profile; lexical evidence only.
- the recommender's defaults (LearnerConfig(), not tuned here): what `recommend` does out of the box.
- baselines in the same run: mean, max and top-3-mean cosine of the tier's embeddings to the
  profile papers; TF-IDF mean cosine; the published algorithms (`score.py --anchors`).
"""

from __future__ import annotations

import argparse
import dataclasses
import gzip
import importlib.util
import itertools
import json
import os
import subprocess
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.preprocessing import normalize

from paperradar.embed import load_embedder, text_for
from paperradar.rank import features as F
from paperradar.rank import interests, learner, model_cache

HERE = Path(__file__).resolve().parent
DATA = HERE.parent.parent / "shared" / "eval" / "reviewer-expertise"
OUT = HERE / "out"
# The learner's knobs that matter here (no feedback, so no rejection weights; the package's ~2,500
# other papers are all the negatives there are). Issue 11's earlier fast-tier runs chose knn at
# their grids' edges (3, 5, 8) until knn went to 20 (chose 12); dense weight 8 of 1-16. This
# grid was widened once after its first quality-tier run (docs/evaluation.md): that run chose
# C 0.03, dense weight 64 and centroid 0 or 2, each at an edge of C 0.03-1, dense 2-64, centroid
# 0/2. knn 20 is every paper of any profile here (2-20 papers), so knn cannot go further.
AXES: dict[str, tuple[float, ...]] = {
    "C": (0.003, 0.01, 0.03, 0.1, 0.3, 1.0),
    "dense_weight": (2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 1024.0),
    "knn": (1, 2, 3, 5, 8, 12, 20),
    "centroid_weight": (0.0, 1.0, 2.0, 4.0, 8.0),
}
LEXICAL_AXES = {
    "C": AXES["C"],
    "dense_weight": (0.0,),
    "knn": (2,),
    "centroid_weight": AXES["centroid_weight"],
}
FAMILIES = {
    "ours (interests as profile create makes them)": ("clustered", AXES),
    "ours, one interest per profile": ("one", AXES),
    "ours, lexical evidence only (a 2,000+ paper library before `paperradar index`)": ("one", LEXICAL_AXES),
}
TOP3 = "dense mean of the 3 highest cosines (top-3 baseline)"
Setting = tuple[float, float, int, float]  # C, dense weight, knn, centroid weight


def settings(axes: dict[str, tuple[float, ...]]) -> list[Setting]:
    return [(c, w, int(k), cw) for c, w, k, cw in itertools.product(*axes.values())]


def load() -> tuple[dict[str, str], list[dict[str, Any]], dict[str, list[str]]]:
    with gzip.open(DATA / "papers.jsonl.gz", "rt") as f:
        papers = {p["paperId"]: text_for(p.get("title"), p.get("abstract")) for p in map(json.loads, f)}
    with gzip.open(DATA / "profiles.jsonl.gz", "rt") as f:
        profiles = [json.loads(line) for line in f]
    judged: dict[str, list[str]] = defaultdict(list)
    for line in (DATA / "expertise_judgments.jsonl").read_text().splitlines():
        d = json.loads(line)
        judged[str(d["participant_id"])].append(d["paper_id"])
    return papers, profiles, judged


def embeddings(texts: list[str], tier: str) -> np.ndarray:
    emb = load_embedder(tier)  # type: ignore[arg-type]
    cache = OUT / f"expertise-{emb.model_id.replace('/', '_')}.npy"
    if cache.exists():
        return np.load(cache)
    m = np.vstack([emb.embed_batch(texts[i : i + 64]) for i in range(0, len(texts), 64)])
    OUT.mkdir(exist_ok=True)
    np.save(cache, m)
    return m


def score_module() -> Any:
    spec = importlib.util.spec_from_file_location("expertise_score", DATA / "score.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def features(tier: str) -> tuple[list[str], F.Features]:
    papers, _, _ = load()
    ids = sorted(papers)
    texts = [papers[i] for i in ids]
    dense = normalize(embeddings(texts, tier))
    vocab = F.fit_vocabulary(texts)
    lex = F._transform(vocab, texts)
    feats = F.Features([], np.arange(len(ids)), lex, vocab, "", dense=dense, hash_order=F.id_hash_order(ids))
    return ids, feats


def run(tier: str) -> dict[str, Any]:
    ids, feats = features(tier)
    _, profiles, judged = load()
    at = {pid: i for i, pid in enumerate(ids)}
    done: dict[tuple[str, tuple[int, ...]], dict[Any, np.ndarray]] = {}
    keys: dict[int, dict[str, tuple[str, tuple[int, ...]]]] = defaultdict(dict)  # fold -> pid -> key
    for prof in profiles:
        pid, fold = str(prof["participant_id"]), int(prof["fold"])
        pos = [at[p] for p in prof["profile_paper_ids"]]
        key = (pid, tuple(sorted(pos)))
        if key not in done:
            done[key] = _scores(feats, pos, [at[p] for p in judged[pid]], check=not done)
        keys[fold][pid] = key
    score = score_module()
    truth = score.load_judgments()
    per = {}
    for name in next(iter(done.values())):
        by_fold = {
            f: {p: dict(zip(judged[p], done[k][name].tolist(), strict=True)) for p, k in ks.items()}
            for f, ks in keys.items()
        }
        per[name] = _fold_losses(by_fold, truth, score)
    fixed = {n: f for n, f in per.items() if isinstance(n, str)}
    result: dict[str, Any] = {"tier": tier, "model": load_embedder(tier).model_id}  # type: ignore[arg-type]
    result["loss"] = {n: round(float(np.mean(list(f.values()))), 4) for n, f in fixed.items()}
    result["per_fold"] = {n: {k: round(v, 4) for k, v in f.items()} for n, f in fixed.items()}
    result["cross_validated"] = {}
    part = Participants(done, keys, judged, truth, score)
    for family, (grouping, axes) in FAMILIES.items():
        cv = _cross_validate({s: per[(grouping, s)] for s in settings(axes)}, axes)
        picked = {f: (grouping, tuple(c.values())) for f, c in cv["chosen"].items()}
        cv["minus top-3 baseline"] = part.paired_bootstrap(picked, TOP3)
        result["loss"][family] = cv["loss"]
        result["cross_validated"][family] = cv
    result["published"] = _anchors()
    return result


@dataclasses.dataclass
class Participants:
    """Each participant's loss per fold, for a paired bootstrap over participants."""

    done: dict[tuple[str, tuple[int, ...]], dict[Any, np.ndarray]]
    keys: dict[int, dict[str, tuple[str, tuple[int, ...]]]]
    judged: dict[str, list[str]]
    truth: dict[str, dict[str, float]]
    score: Any

    def losses(self, system: dict[int, Any]) -> tuple[np.ndarray, np.ndarray]:
        """(loss, max loss) per fold x participant; `system`: the scores' name in each fold."""
        pids = sorted({p for ks in self.keys.values() for p in ks})
        out = np.zeros((2, len(self.keys), len(pids)))
        for i, (fold, ks) in enumerate(sorted(self.keys.items())):
            for j, pid in enumerate(pids):
                scores = dict(zip(self.judged[pid], self.done[ks[pid]][system[fold]].tolist(), strict=True))
                out[:, i, j] = self.score.fold_loss({pid: self.truth[pid]}, {pid: scores})
        return out[0], out[1]

    def paired_bootstrap(self, a: dict[int, Any], b: str, n: int = 2000) -> dict[str, Any]:
        """Mean loss of a minus b with a 95% interval, resampling participants (seed 0)."""
        (la, ma), (lb, mb) = self.losses(a), self.losses(dict.fromkeys(a, b))
        rng = np.random.default_rng(0)
        w = np.stack(
            [np.bincount(rng.integers(0, la.shape[1], la.shape[1]), minlength=la.shape[1]) for _ in range(n)]
        )
        diff = ((w @ la.T) / (w @ ma.T)).mean(axis=1) - ((w @ lb.T) / (w @ mb.T)).mean(axis=1)
        full = (la.sum(1) / ma.sum(1)).mean() - (lb.sum(1) / mb.sum(1)).mean()
        lo, hi = np.percentile(diff, [2.5, 97.5])
        return {"difference": round(float(full), 4), "ci95": [round(float(lo), 4), round(float(hi), 4)]}


def _fold_losses(
    by_fold: dict[int, dict[str, dict[str, float]]], truth: dict[str, dict[str, float]], score: Any
) -> dict[int, float]:
    out = {}
    for fold, scores in sorted(by_fold.items()):
        loss, top = score.fold_loss(truth, scores)
        out[fold] = loss / top
    return out


def _anchors() -> Any:
    proc = subprocess.run(
        [sys.executable, str(DATA / "score.py"), "--anchors", "--json"],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(proc.stdout)


def _scores(feats: F.Features, pos: list[int], cand: list[int], check: bool = False) -> dict[Any, np.ndarray]:
    """Every system's scores of the candidates for one profile: the fixed rows by name, the
    learner's by (grouping, setting)."""
    d = feats.dense
    assert d is not None
    groups = {"one": np.zeros(len(pos), dtype=int), "clustered": interests.cluster_rows(normalize(d[pos]))}
    ref, neg = model_cache.sample_rows(feats, set(pos) | set(cand), learner.LearnerConfig())
    out: dict[Any, np.ndarray] = {}
    for grouping, g in groups.items():
        data = learner.TrainingSet(
            pos_lex=feats.lexical[pos],
            pos_weights=np.ones(len(pos)),  # the package has no dates for the profile papers
            neg_lex=feats.lexical[neg],
            rej_lex=feats.lexical[[]],
            ref_lex=feats.lexical[ref],
            pos_dense=d[pos],
            pos_groups=g,
            rej_dense=d[[]],
            ref_dense=d[ref],
        )
        for s, v in _setting_scores(data, feats.lexical[cand], d[cand]).items():
            out[(grouping, s)] = v
        if check:  # the shortcut below gives learner.fit's own scores (a few settings, first profile)
            _check(data, feats.lexical[cand], d[cand], out, grouping)
        if grouping == "clustered":
            evidence = learner.fit(data, learner.LearnerConfig()).evidence(feats.lexical[cand], d[cand])
            out["the recommender's defaults (LearnerConfig(), not tuned here)"] = evidence.score
    sims = d[cand] @ d[pos].T
    out["dense mean cosine"] = sims.mean(axis=1)
    out["dense max cosine"] = sims.max(axis=1)
    out[TOP3] = np.sort(sims, axis=1)[:, -3:].mean(axis=1)
    out["TF-IDF mean cosine"] = np.asarray((feats.lexical[cand] @ feats.lexical[pos].T).mean(axis=1)).ravel()
    return out


def _setting_scores(data: learner.TrainingSet, lex: Any, dense: np.ndarray) -> dict[Setting, np.ndarray]:
    """learner.fit's scores for every setting of AXES, with one SVM fit per C: the lexical and
    centroid z-scores do not depend on the other knobs, and each knn's dense z is scaled on the
    same reference papers as fit() scales it. Without feedback the score is the weighted sum."""
    out: dict[Setting, np.ndarray] = {}
    for c in AXES["C"]:
        cfg = learner.LearnerConfig(C=c, centroid_weight=1.0)
        model = learner.fit(data, cfg)
        lex_z = model.lexical_z(lex)
        (_, cent_z), *_ = model.extra(lex)
        for k in map(int, AXES["knn"]):
            near = dataclasses.replace(model, cfg=dataclasses.replace(cfg, knn=k))
            assert data.ref_dense is not None
            scale = learner._scale(near.dense(data.ref_dense, data.ref_dense.shape[0])[0])
            dense_z = learner._z(near.dense(dense, len(dense))[0], scale)
            for w, cw in itertools.product(AXES["dense_weight"], AXES["centroid_weight"]):
                out[(c, w, k, cw)] = lex_z + w * dense_z + cw * cent_z
        for cw in AXES["centroid_weight"]:
            out[(c, 0.0, 2, cw)] = lex_z + cw * cent_z
    return out


def _check(
    data: learner.TrainingSet, lex: Any, dense: np.ndarray, out: dict[Any, np.ndarray], grouping: str
) -> None:
    for c, w, k, cw in [
        (0.1, 8.0, 12, 0.0),
        (1.0, 2.0, 1, 2.0),
        (0.03, 64.0, 20, 2.0),
        (0.3, 0.0, 2, 2.0),
        (0.003, 1024.0, 3, 8.0),
    ]:
        cfg = learner.LearnerConfig(C=c, dense_weight=w, knn=k, centroid_weight=cw)
        want = learner.fit(data, cfg).evidence(lex, dense).score
        assert np.allclose(out[(grouping, (c, w, k, cw))], want, atol=1e-4), (grouping, c, w, k, cw)


def _cross_validate(
    per: dict[Setting, dict[int, float]], axes: dict[str, tuple[float, ...]]
) -> dict[str, Any]:
    """For each fold: the setting best on the other folds, and its loss on this fold."""
    folds = sorted(next(iter(per.values())))
    chosen, held = {}, {}
    for f in folds:
        best = min(per, key=lambda s: (np.mean([per[s][g] for g in folds if g != f]), s))
        chosen[f] = dict(zip(axes, best, strict=True))
        held[f] = round(per[best][f], 4)
    edges = sorted(
        {
            name
            for c in chosen.values()
            for name, v in c.items()
            if len(axes[name]) > 1 and v in (min(axes[name]), max(axes[name]))
        }
    )
    return {
        "loss": round(float(np.mean(list(held.values()))), 4),
        "held_out": held,
        "chosen": chosen,
        "at_grid_edge": edges,
    }


# ---------------------------------------------------------------- which vectors the default path gives


def default_path_vectors(home: Path, library_papers: int, index: bool = False) -> dict[str, Any]:
    """Run the real CLI on a new library in `home`: `import` of `library_papers` other package papers (0:
    none), then `profile create --papers` and `recommend --among` with BibTeX files of fold 1's
    first participant (with `index`: then `paperradar index` and the same `recommend` again), and
    report which vectors `features_for` (what recommend ranks on) gives those papers: zero rows,
    and each row's least cosine to the quality and the fast tier's embedding of its text."""
    from paperradar.rank.ready import features_for
    from paperradar.storage import open_library

    with gzip.open(DATA / "papers.jsonl.gz", "rt") as f:
        papers = {p["paperId"]: p for p in map(json.loads, f)}
    with gzip.open(DATA / "profiles.jsonl.gz", "rt") as f:
        prof = json.loads(f.readline())
    judged = load()[2][str(prof["participant_id"])]
    others = sorted(set(papers) - set(prof["profile_paper_ids"]) - set(judged))[:library_papers]
    if others:
        lines = [
            json.dumps({"id": f"s2:{i}", "title": papers[i]["title"], "abstract": papers[i].get("abstract")})
            for i in others
        ]
        (home / "lib.jsonl").write_text("\n".join(lines) + "\n")
        _cli(home, "import", str(home / "lib.jsonl"))
    _bibtex(home / "profile.bib", [papers[i] for i in prof["profile_paper_ids"]])
    _bibtex(home / "judged.bib", [papers[i] for i in judged])
    _cli(home, "profile", "create", "r", "--papers", str(home / "profile.bib"))
    among = ["recommend", "r", "--among", str(home / "judged.bib"), "--json", "--limit", "1000"]
    ranked = json.loads(_cli(home, *among))
    if index:  # the judged papers are in the library now (the first --among imported them)
        _cli(home, "index")
        ranked = json.loads(_cli(home, *among))
    lib = open_library(home / "lib.db")
    own = [lib.resolve(i) for i in json.loads(_cli(home, "profile", "show", "r", "--json"))["papers"]]
    cand = [lib.resolve(r["id"]) for r in ranked]
    feats = features_for(lib, [*own, *cand])
    return {
        "library papers before": len(others),
        "paperradar index before recommend": index,
        "dense model": feats.dense_key[0] if feats.dense_key else None,
        "profile papers": _which(feats, lib, own),
        "judged papers": _which(feats, lib, cand),
    }


def _in_temp_folder(library_papers: int, index: bool) -> dict[str, Any]:
    import tempfile

    with tempfile.TemporaryDirectory(prefix="expertise-path-") as home:
        return default_path_vectors(Path(home), library_papers, index)


def _cli(home: Path, *args: str) -> str:
    """The real `paperradar` command on the library in `home`; its stdout."""
    exe = str(Path(sys.executable).parent / "paperradar")
    env = {**os.environ, "PAPERRADAR_HOME": str(home)}
    cmd = [exe, "--db", str(home / "lib.db"), *args]
    return subprocess.run(cmd, env=env, check=True, capture_output=True, text=True).stdout


def _bibtex(path: Path, papers: list[dict[str, Any]]) -> None:
    entries = [
        f"@article{{p{n},\n  title = {{{p['title']}}},\n  abstract = {{{p.get('abstract') or ''}}},\n  year = {{2020}}\n}}\n"
        for n, p in enumerate(papers)
    ]
    path.write_text("\n".join(entries))


def _which(feats: F.Features, lib: Any, pks: list[int]) -> dict[str, Any]:
    """How many rows are zero, and the least cosine of the others to each tier's own vector."""
    rows = feats.rows(pks)
    if feats.dense is None:
        return {"papers": len(pks), "dense rows": "none (lexical only)"}
    dense = np.asarray(feats.dense)[rows[rows >= 0]]
    texts = F._texts(lib, np.asarray(pks)[rows >= 0])
    zero = np.linalg.norm(dense, axis=1) == 0
    out: dict[str, Any] = {"papers": len(pks), "zero rows": int(zero.sum())}
    for tier in ("quality", "fast"):
        own = normalize(load_embedder(tier).embed_batch(texts))  # type: ignore[arg-type]
        cos = (dense * own).sum(axis=1)[~zero]
        out[f"least cosine to the {tier} tier"] = round(float(cos.min()), 4) if len(cos) else None
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument(
        "--tier",
        nargs="+",
        default=["quality"],
        choices=["quality", "fast"],
        help="one tier or several: each tier's column in one table (default: quality)",
    )
    ap.add_argument("--json", action="store_true")
    ap.add_argument(
        "--which-vectors",
        action="store_true",
        help="instead: which vectors the default path gives a reviewer's papers (libraries of 0, 300, 2,400 papers)",
    )
    args = ap.parse_args()
    if args.which_vectors:
        cases = [(0, False), (300, False), (2400, False), (2400, True)]
        print(json.dumps([_in_temp_folder(n, index) for n, index in cases], indent=2))
        return
    tiers = list(dict.fromkeys(args.tier))  # each tier once, in the order given
    runs = {tier: run(tier) for tier in tiers}
    if args.json:
        one = len(tiers) == 1
        print(json.dumps(runs[tiers[0]] if one else {"tiers": runs, "table": table(runs)}, indent=2))
        return
    print(_text(runs))


def table(runs: dict[str, dict[str, Any]]) -> dict[str, dict[str, float]]:
    """{system: {tier: loss}}: every system of the runs (ordered by the first tier's loss), then the
    published algorithms (the same in every tier: they read no vectors)."""
    first = next(iter(runs.values()))
    out = {
        name: {tier: r["loss"][name] for tier, r in runs.items()}
        for name in sorted(first["loss"], key=lambda n: first["loss"][n])
    }
    for name, r in first["published"].items():
        loss = round(float(r["mean_loss"]), 4) if isinstance(r, dict) and "mean_loss" in r else None
        if loss is not None:
            out[f"published: {name} (score.py --anchors)"] = dict.fromkeys(runs, loss)
    return out


def _text(runs: dict[str, dict[str, Any]]) -> str:
    head = " ".join(f"{tier:>8}" for tier in runs)
    models = ", ".join(f"{t} {r['model']}" for t, r in runs.items())
    lines = [f"reviewer expertise, loss (lower is better); models: {models}", f"  {'system':<82} {head}"]
    for name, losses in table(runs).items():
        lines.append(f"  {name[:82]:<82} " + " ".join(f"{losses[t]:>8.4f}" for t in runs))
    for tier, r in runs.items():
        for family, cv in r["cross_validated"].items():
            edge, diff = cv["at_grid_edge"], cv["minus top-3 baseline"]
            lines.append(
                f"  {tier}, {family}: chosen {cv['chosen']}; at a grid edge: {edge}; minus top-3 {diff}"
            )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
