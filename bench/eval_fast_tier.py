"""The fast tier against the quality tier it imitates, dense only, on CSFCube's dev or test folds.

    .venv/bin/python bench/eval_fast_tier.py [--folds dev|test] [TABLE.npy ...]

Each query's judged pool is ranked by cosine of whole-paper vectors (title + abstract), NDCG@20 on
the graded labels (bench/eval_csfcube.py's protocol, without the library: the vectors come straight
from the embedders). CSFCube's folds are a two-way split of the 50 queries: fold 1's dev queries are
fold 2's test queries and the other way round, so a setting is chosen on one fold's dev queries and
judged on that fold's test queries; both folds are printed, and "all" is their 50 queries together.
Rows: the quality tier (MiniLM, ONNX int8; its vectors cached in bench/out/ per model id), the built
fast tier (models/), and any other fast-tier tables given as .npy files (one row per WordPiece id,
read by the teacher's tokenizer; or, where a tokenizer.json lies beside the .npy, one row per id of
that tokenizer, as bench/fast_vocab.py saves tables with whole words), e.g. variants of the recipe. Column "q->fast": the query paper embedded by the quality tier,
its pool by the fast one, as a library with both tiers ranks (index.MixedIndex). The fast tier is
trained on arXiv papers only (embed/train.py), never on CSFCube.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from eval_csfcube import load, ndcg_at, text  # noqa: E402

OUT = Path(__file__).parent / "out"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--folds", choices=("dev", "test"), default="test")
    parser.add_argument("tables", nargs="*", type=Path, help="fast-tier tables (.npy) to score too")
    args = parser.parse_args()
    from tokenizers import Tokenizer

    from paperradar.embed import load_embedder, models_dir
    from paperradar.embed.train import token_shares

    corpus, qrels, _, splits = load()
    ids = list(corpus)
    texts = [text(corpus[p]) for p in ids]

    def shares(tokenizer_json: Path, rows: int) -> object:
        tokenizer = Tokenizer.from_file(str(tokenizer_json))
        tokenizer.no_padding()
        tokenizer.enable_truncation(512)  # as the fast tier reads a text (static.py)
        return token_shares(
            [e.ids for e in tokenizer.encode_batch_fast(texts, add_special_tokens=False)], rows
        )

    quality = _quality_vectors(load_embedder("quality"), texts)
    rows = {"quality tier (MiniLM, ONNX int8)": quality, "fast tier (models/)": None}
    rows["fast tier (models/)"] = load_embedder("fast").embed_batch(texts)
    for path in args.tables:
        table = np.load(path)
        beside = path.parent / "tokenizer.json"
        reader = beside if beside.is_file() else models_dir() / "onnx" / "tokenizer.json"
        rows[str(path)] = np.asarray(shares(reader, len(table)) @ table)  # type: ignore[operator]
    folds = [splits[f"fold1_{args.folds}"], splits[f"fold2_{args.folds}"]]
    everything = folds[0] + folds[1]
    print(f"NDCG@20, CSFCube {args.folds} queries, dense only\n")
    print("| vectors | fold 1 | fold 2 | all | q->fast, all |\n|---|---:|---:|---:|---:|")
    for name, m in rows.items():
        scores = [_score(m, m, ids, qrels, q) for q in (*folds, everything)]
        mixed = "" if m is quality else f"{_score(quality, m, ids, qrels, everything):.2f}"
        print(f"| {name} | " + " | ".join(f"{s:.2f}" for s in scores) + f" | {mixed} |")


def _quality_vectors(embedder: object, texts: list[str]) -> np.ndarray:
    """The quality tier's vectors of the corpus, from bench/out/ when this model made them before."""
    path = OUT / f"csfcube-{re.sub(r'[^A-Za-z0-9.@-]+', '_', str(embedder.model_id))}.npy"  # type: ignore[attr-defined]
    if path.is_file():
        return np.load(path)
    m: np.ndarray = embedder.embed_batch(texts)  # type: ignore[attr-defined]
    OUT.mkdir(exist_ok=True)
    np.save(path, m)
    return m


def _unit(m: np.ndarray) -> np.ndarray:
    return m / np.maximum(np.linalg.norm(m, axis=1, keepdims=True), 1e-12)


def _score(queries: np.ndarray, pools: np.ndarray, ids: list[str], qrels: dict, qids: list[str]) -> float:
    """Mean NDCG@20 of qids, each query paper's row of `queries` against its pool's rows of `pools`."""
    queries, pools = _unit(queries), _unit(pools)
    row = {p: i for i, p in enumerate(ids)}
    out = []
    for q in qids:
        pool = sorted(qrels[q])
        s = pools[[row[p] for p in pool]] @ queries[row[q.split("_")[0]]]
        out.append(ndcg_at([pool[i] for i in np.argsort(-s, kind="stable")], qrels[q]))
    return 100 * float(np.mean(out))


if __name__ == "__main__":
    main()
