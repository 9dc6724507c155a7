"""Variants of the fast tier's training recipe, scored where settings may be chosen.

    nice -n 10 .venv/bin/python bench/fast_tier_variants.py [--save DIR]

Trains the fast tier as `make models` does (embed/train.py: the quality tier reads the same 3,800
arXiv papers; ~5 minutes on 2 loaded cores), then scores the unweighted table and variants of it
(row weights, common-component removal, PCA, whitening), each folded into the rows:
- arXiv, held out: the 200 papers tune.py holds out plus the next 1,000 of the same hash order
  (never trained on). "agree": mean cosine to the teacher's vector of the same paper (what
  index.MixedIndex scales by); "top-10": for each of the 1,000, the share of the teacher's 10 nearest
  papers among the 1,000 that the fast tier also puts in its 10 nearest; "q->fast top-10": the same
  with the query paper embedded by the teacher and the others by the fast tier (a mixed library).
- CSFCube dev queries of fold 1 and fold 2, dense NDCG@20 (bench/eval_fast_tier.py). The dev
  queries of one fold are the test queries of the other, so these are no untouched test number.
`--save DIR` writes each variant as DIR/<n>.npy for `bench/eval_fast_tier.py`. Nothing is trained
on CSFCube; the variants' settings are a fixed grid.
"""

from __future__ import annotations

import argparse
import json
import lzma
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from eval_csfcube import load, text  # noqa: E402
from eval_fast_tier import _score, _unit  # noqa: E402
from paperradar.embed import load_embedder, models_dir, text_for  # noqa: E402
from paperradar.embed.build import default_corpus  # noqa: E402
from paperradar.embed.train import SIF_A, context_table, sif_weights, token_shares  # noqa: E402
from paperradar.embed.tune import HELD_OUT, alone_states, learn_contexts, sample  # noqa: E402

TRAIN = 3800  # as `make models`: the 4,000 smallest id hashes, the last HELD_OUT held out


def ordered_texts(n: int) -> list[str]:
    """The arXiv corpus's first `n` texts in the id-hash order `make models` samples by."""
    path = default_corpus()
    if path is None:
        raise SystemExit("needs ../shared/corpora/arxiv-118k")
    with lzma.open(path, "rt", encoding="utf-8") as f:
        rows = (json.loads(line) for line in f if line.strip())
        pairs = [(d["id"], " ".join(text_for(d.get("title"), d.get("abstract")).split())) for d in rows]
    return sample(pairs, n)


def arxiv_texts() -> tuple[list[str], list[str]]:
    """The training texts and 1,200 held-out ones (tune.py's 200, then the next 1,000)."""
    texts = ordered_texts(TRAIN + HELD_OUT + 1000)
    return texts[:TRAIN], texts[TRAIN:]


def train_plain(teacher: object, tokenizer_json: Path, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """The unweighted contextual table (unused tokens zeroed, as tune.py does) and its token counts."""
    vocab: dict[str, int] = json.loads(tokenizer_json.read_text(encoding="utf-8"))["model"]["vocab"]
    alone = alone_states(teacher, len(vocab), vocab["[CLS]"], vocab["[SEP]"])
    contexts, _ = learn_contexts(teacher, texts, len(vocab))
    table = context_table(contexts, alone)
    table[[i for token, i in vocab.items() if token.startswith("[unused")]] = 0.0
    return table, contexts.counts


def variants(plain: np.ndarray, counts: np.ndarray, train_shares: object) -> dict[str, np.ndarray]:
    """The grid: name -> table (rows of float32, any width)."""
    out = {"unweighted (the tier before)": plain}
    for a in (1e-2, 3e-3, 1e-3, 3e-4, 1e-4):
        out[f"SIF a={a:g}, p from the training tokens"] = _scaled(plain, sif_weights(counts, a))
    zipf = 1.0 / np.arange(2, len(plain) + 2)  # model2vec: p by Zipf's law over the vocabulary order
    for a in (1e-4, 3e-5):
        out[f"SIF a={a:g}, p by Zipf over vocabulary rank (model2vec)"] = _scaled(
            plain, a / (a + zipf / zipf.sum())
        )
    sif = _scaled(plain, sif_weights(counts, SIF_A))
    raw = np.asarray(train_shares @ sif)  # type: ignore[operator]
    mu = raw.mean(axis=0)
    _, s, vt = np.linalg.svd(raw - mu, full_matrices=False)
    top = vt[:1].T
    out[f"SIF {SIF_A:g}, top principal component removed"] = sif - (sif @ top) @ top.T
    out[f"SIF {SIF_A:g}, centred (training mean subtracted)"] = sif - mu
    out[f"SIF {SIF_A:g}, PCA to 256 dims"] = (sif - mu) @ vt[:256].T
    out[f"SIF {SIF_A:g}, whitened (PCA scaled by s^-0.25)"] = (sif - mu) @ (vt.T * (s / s[0]) ** -0.25) @ vt
    unseen = sif.copy()
    unseen[counts == 0] *= 0.5
    out[f"SIF {SIF_A:g}, tokens unseen in training x0.5"] = unseen
    return {k: v.astype(np.float32) for k, v in out.items()}


def _scaled(table: np.ndarray, weights: np.ndarray) -> np.ndarray:
    return table * weights[:, None].astype(np.float32)


def overlap(want: np.ndarray, queries: np.ndarray, pool: np.ndarray, k: int = 10) -> float:
    """Mean share of each row's k nearest in `want` that queries @ pool's k nearest also hold."""
    sims = queries @ pool.T
    np.fill_diagonal(sims, -np.inf)
    got = np.argsort(-sims, axis=1)[:, :k]
    return float(np.mean([len(set(a) & set(b)) / k for a, b in zip(want, got, strict=True)]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--save", type=Path, help="write each variant's table as DIR/<n>.npy")
    args = parser.parse_args()
    from tokenizers import Tokenizer

    teacher = load_embedder("quality")
    tokenizer_json = models_dir() / "onnx" / "tokenizer.json"  # WordPiece alone: these tables have no words
    tokenizer = Tokenizer.from_file(str(tokenizer_json))
    tokenizer.no_padding()
    tokenizer.enable_truncation(512)  # as the fast tier reads (static.py)

    def shares(texts: list[str]) -> object:
        return token_shares(
            [e.ids for e in tokenizer.encode_batch_fast(texts, add_special_tokens=False)], 30522
        )

    train, held = arxiv_texts()
    plain, counts = train_plain(teacher, tokenizer_json, train)
    teacher_held = teacher.embed_batch(held)
    corpus, qrels, _, splits = load()
    ids = list(corpus)
    scorers = _scorers(shares(held), teacher_held, shares([text(corpus[p]) for p in ids]), ids, qrels, splits)
    print("| variant | agree | top-10 | q->fast top-10 | CSFCube dev fold 1 | dev fold 2 |")
    print("|---|---:|---:|---:|---:|---:|")
    for n, (name, table) in enumerate(variants(plain, counts, shares(train)).items()):
        print(f"| {name} | " + " | ".join(f(table) for f in scorers) + " |", flush=True)
        if args.save:
            args.save.mkdir(parents=True, exist_ok=True)
            np.save(args.save / f"{n}.npy", table)


def _scorers(held_shares, teacher_held, csf_shares, ids, qrels, splits) -> list[Callable[[np.ndarray], str]]:  # type: ignore[no-untyped-def]
    extra = teacher_held[HELD_OUT:]
    want = np.argsort(-_diag_out(extra @ extra.T), axis=1)[:, :10]

    def same_space(t: np.ndarray) -> bool:
        return t.shape[1] == teacher_held.shape[1]

    def agree(t: np.ndarray) -> str:
        ok = same_space(t)
        return (
            f"{np.mean(np.sum(_unit(np.asarray(held_shares @ t)) * teacher_held, axis=1)):.4f}" if ok else "-"
        )

    def top10(t: np.ndarray) -> str:
        fast = _unit(np.asarray(held_shares @ t))[HELD_OUT:]
        return f"{overlap(want, fast, fast):.4f}"

    def mixed(t: np.ndarray) -> str:
        fast = _unit(np.asarray(held_shares @ t))[HELD_OUT:]
        return f"{overlap(want, extra, fast):.4f}" if same_space(t) else "-"

    def fold(name: str) -> Callable[[np.ndarray], str]:
        return lambda t: (
            f"{_score(np.asarray(csf_shares @ t), np.asarray(csf_shares @ t), ids, qrels, splits[name]):.2f}"
        )

    return [agree, top10, mixed, fold("fold1_dev"), fold("fold2_dev")]


def _diag_out(m: np.ndarray) -> np.ndarray:
    np.fill_diagonal(m, -np.inf)
    return m


if __name__ == "__main__":
    main()
