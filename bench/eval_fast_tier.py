"""The fast tier against the quality tier it imitates, dense only, on CSFCube's test folds.

    .venv/bin/python bench/eval_fast_tier.py [TABLE.npy ...]

Each query's judged pool is ranked by cosine of whole-paper vectors (title + abstract), NDCG@20 on
the graded labels, all 50 test-fold queries (bench/eval_csfcube.py's protocol, without the
library: the vectors come straight from the embedders). Rows: the quality tier (MiniLM, ONNX
int8), the built fast tier (models/), and any other fast-tier tables given as .npy files (one row
per WordPiece id), e.g. variants of the training recipe. Nothing here is tuned; the fast tier is
trained on arXiv papers only (embed/train.py), never on CSFCube.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from eval_csfcube import load, ndcg_at, text  # noqa: E402


def main() -> None:
    from tokenizers import Tokenizer

    from paperradar.embed import load_embedder, models_dir
    from paperradar.embed.train import token_shares

    corpus, qrels, _, splits = load()
    ids = list(corpus)
    texts = [text(corpus[p]) for p in ids]
    tokenizer = Tokenizer.from_file(str(models_dir() / "static" / "tokenizer.json"))
    tokenizer.no_padding()
    shares = token_shares(
        [e.ids for e in tokenizer.encode_batch_fast(texts, add_special_tokens=False)], 30522
    )
    rows = {
        "quality tier (MiniLM, ONNX int8)": load_embedder("quality").embed_batch(texts),
        "fast tier (models/)": load_embedder("fast").embed_batch(texts),
    }
    for path in sys.argv[1:]:
        rows[path] = np.asarray(shares @ np.load(path))
    test = splits["fold1_test"] + splits["fold2_test"]
    print("| vectors | NDCG@20 (test folds, dense only) |\n|---|---:|")
    for name, m in rows.items():
        print(f"| {name} | {_score(m, ids, qrels, test):.2f} |")


def _score(m: np.ndarray, ids: list[str], qrels: dict, qids: list[str]) -> float:
    m = m / np.maximum(np.linalg.norm(m, axis=1, keepdims=True), 1e-12)
    row = {p: i for i, p in enumerate(ids)}
    out = []
    for q in qids:
        pool = sorted(qrels[q])
        s = m[[row[p] for p in pool]] @ m[row[q.split("_")[0]]]
        out.append(ndcg_at([pool[i] for i in np.argsort(-s, kind="stable")], qrels[q]))
    return 100 * float(np.mean(out))


if __name__ == "__main__":
    main()
