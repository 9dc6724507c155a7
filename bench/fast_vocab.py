"""The fast tier with a vocabulary of whole words (issue 12): variants, scored where settings may be chosen.

    nice -n 5 .venv/bin/python bench/fast_vocab.py cache [--extra N]   # the teacher reads, once
    nice -n 5 .venv/bin/python bench/fast_vocab.py variants [--save DIR] [--chunks N ...]
    flock /tmp/p9/measure.lock .venv/bin/python bench/fast_vocab.py speed MODELS_DIR

`cache`: the quality tier (the teacher) reads the training texts in chunks of 2,000 and each chunk's
sums are kept in bench/out/fast-vocab/ (so variants never re-embed): per WordPiece id the sum and
count of its states (as train.py), and per whole word that WordPiece splits into two or more pieces
the sum over its occurrences of the mean of its pieces' states, its count and its number of pieces.
Training texts: the 3,800 `make models` trains on (the first of the id-hash order), then papers from
position 5,000 on of the same order (`--extra`), so the 1,200 held-out papers of
bench/fast_tier_variants.py (positions 3,800-4,999) stay unread. Their teacher vectors are cached too.
`variants`: each variant adds the words seen at least `min` times to the WordPiece vocabulary (the
tokenizer then matches a whole word in one piece, longest prefix first, and falls back to pieces
otherwise), the word's row being the mean of its occurrences' piece-state means, then every row is
SIF-weighted (a = 0.003) and, optionally, a word's row multiplied by its number of pieces (the
weight its pieces have in the teacher's mean). Scored as bench/fast_tier_variants.py scores: arXiv
held out (agree, top-10, q->fast top-10) and CSFCube dev queries of both folds.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from eval_csfcube import load, text  # noqa: E402
from eval_fast_tier import _score, _unit  # noqa: E402
from fast_tier_variants import ordered_texts, overlap  # noqa: E402
from paperradar.embed import load_embedder, models_dir  # noqa: E402
from paperradar.embed.onnx import load_tokenizer  # noqa: E402
from paperradar.embed.train import context_table, sif_weights, token_shares  # noqa: E402
from paperradar.embed.tune import HELD_OUT, alone_states  # noqa: E402

OUT = Path(__file__).parent / "out" / "fast-vocab"
TRAIN, HELD = 3800, 1200
CHUNK = 2000
VOCAB = 30522


def read_chunk(teacher, texts: list[str], path: Path) -> None:  # type: ignore[no-untyped-def]
    """One chunk's sums (pieces and multi-piece words) into path (.npz)."""
    tok = load_tokenizer(models_dir() / "onnx")  # as the teacher reads (256 tokens)
    words = [e.word_ids for e in tok.encode_batch(texts)]
    tokens = [e.tokens for e in tok.encode_batch(texts)]
    sums = np.zeros((VOCAB, 384), dtype=np.float64)
    counts = np.zeros(VOCAB)
    index: dict[str, int] = {}
    wsums: list[np.ndarray] = []
    wcounts: list[int] = []
    wpieces: list[int] = []
    for i, ids, states in teacher.token_states(texts):
        inner = np.asarray(ids[1:-1], dtype=np.int64)
        np.add.at(sums, inner, states[1:-1])
        np.add.at(counts, inner, 1.0)
        wid, toks = words[i], tokens[i]
        start = 1
        while start < len(ids) - 1:
            end = start + 1
            while end < len(ids) - 1 and wid[end] == wid[start]:
                end += 1
            if end - start >= 2 and "[UNK]" not in toks[start:end]:
                word = "".join(t.removeprefix("##") for t in toks[start:end])
                j = index.setdefault(word, len(index))
                if j == len(wsums):
                    wsums.append(np.zeros(384))
                    wcounts.append(0)
                    wpieces.append(end - start)
                wsums[j] += states[start:end].mean(axis=0)
                wcounts[j] += 1
            start = end
    np.savez(
        path,
        sums=sums.astype(np.float32),
        counts=counts,
        words=np.array(list(index), dtype=object),
        wsums=np.array(wsums, dtype=np.float32).reshape(-1, 384),
        wcounts=np.array(wcounts),
        wpieces=np.array(wpieces),
    )


def cache(extra: int) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    texts = ordered_texts(TRAIN + HELD + extra)
    train = texts[:TRAIN] + texts[TRAIN + HELD :]
    teacher = load_embedder("quality")
    held_path = OUT / "held-teacher.npy"
    if not held_path.is_file():
        np.save(held_path, teacher.embed_batch(texts[TRAIN : TRAIN + HELD]))
    for n, start in enumerate(range(0, len(train), CHUNK)):
        path = OUT / f"chunk-{n:02d}.npz"
        if path.is_file():
            continue
        began = time.perf_counter()
        read_chunk(teacher, train[start : start + CHUNK], path)
        print(
            f"{path.name}: {len(train[start : start + CHUNK])} texts, {time.perf_counter() - began:.0f} s",
            flush=True,
        )


def merged(n_chunks: int) -> tuple[np.ndarray, np.ndarray, dict[str, tuple[np.ndarray, int, int]], int]:
    sums = np.zeros((VOCAB, 384))
    counts = np.zeros(VOCAB)
    words: dict[str, list] = {}
    texts = 0
    for n in range(n_chunks):
        z = np.load(OUT / f"chunk-{n:02d}.npz", allow_pickle=True)
        sums += z["sums"]
        counts += z["counts"]
        for w, s, c, p in zip(z["words"], z["wsums"], z["wcounts"], z["wpieces"], strict=True):
            if w in words:
                words[w][0] = words[w][0] + s
                words[w][1] += int(c)
            else:
                words[w] = [s.astype(np.float64), int(c), int(p)]
        texts += CHUNK
    return sums, counts, {w: (v[0], v[1], v[2]) for w, v in words.items()}, texts


def tokenizer_with(words: list[str]):  # type: ignore[no-untyped-def]
    """The static tokenizer with `words` appended to the WordPiece vocabulary (ids 30522 on)."""
    from tokenizers import Tokenizer

    spec = json.loads((models_dir() / "onnx" / "tokenizer.json").read_text(encoding="utf-8"))
    vocab = spec["model"]["vocab"]
    for w in words:
        vocab.setdefault(w, len(vocab))
    spec["truncation"] = None
    spec["padding"] = None
    tok = Tokenizer.from_str(json.dumps(spec))
    tok.enable_truncation(512)
    return tok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("cache")
    c.add_argument("--extra", type=int, default=16200)
    v = sub.add_parser("variants")
    v.add_argument("--save", type=Path)
    v.add_argument("--chunks", type=int, nargs="*", default=None)
    v.add_argument("--min-counts", type=int, nargs="*", default=[2, 3, 5, 10, 20, 50])
    v.add_argument("--exponents", type=float, nargs="*", default=[1.0], help="a word's row x pieces^e")
    sp = sub.add_parser("speed")
    sp.add_argument("folder", type=Path, help="models folder of the fast tier with words")
    sp.add_argument("--limit", type=int, default=2000)
    args = parser.parse_args()
    if args.cmd == "cache":
        cache(args.extra)
    elif args.cmd == "speed":
        speed(args.folder, args.limit)
    else:
        run_variants(args)


def speed(folder: Path, limit: int) -> None:
    """Abstracts/s of the fast tier before (models/) and with words (folder), best of 3 runs each
    over the first `limit` CSFCube abstracts, and of the quality tier on a quarter of them."""
    from embed import abstracts
    from paperradar.embed.static import StaticEmbedder

    texts = abstracts(limit)
    tiers = {"before (models/)": models_dir() / "static", f"with words ({folder})": folder / "static"}
    rates = {}
    for name, where in tiers.items():
        fast = StaticEmbedder(where, "speed")
        fast.embed_batch(texts[:50])
        best = min(_timed(fast.embed_batch, texts) for _ in range(3))
        rates[name] = len(texts) / best
    quality = load_embedder("quality")
    quality.embed_batch(texts[:8])
    part = texts[: limit // 4]
    rates["quality tier"] = len(part) / _timed(quality.embed_batch, part)
    for name, rate in rates.items():
        print(f"{name}: {rate:,.0f} abstracts/s, {rate / rates['quality tier']:.0f}x the quality tier")


def _timed(embed, texts: list[str]) -> float:  # type: ignore[no-untyped-def]
    began = time.perf_counter()
    embed(texts)
    return time.perf_counter() - began


def run_variants(args: argparse.Namespace) -> None:
    teacher = load_embedder("quality")
    vocab_json = json.loads((models_dir() / "onnx" / "tokenizer.json").read_text(encoding="utf-8"))
    vocab = vocab_json["model"]["vocab"]
    alone = alone_states(teacher, len(vocab), vocab["[CLS]"], vocab["[SEP]"])
    unused = [i for t, i in vocab.items() if t.startswith("[unused")]
    texts = ordered_texts(TRAIN + HELD)
    train, held = texts[:TRAIN], texts[TRAIN:]
    teacher_held = np.load(OUT / "held-teacher.npy")
    corpus, qrels, _, splits = load()
    ids = list(corpus)
    csf = [text(corpus[p]) for p in ids]
    extra = teacher_held[HELD_OUT:]
    want = np.argsort(-_no_diag(extra @ extra.T), axis=1)[:, :10]
    available = len(list(OUT.glob("chunk-*.npz")))
    print("| variant | rows | agree | top-10 | q->fast top-10 | CSFCube dev fold 1 | dev fold 2 |")
    print("|---|---:|---:|---:|---:|---:|---:|", flush=True)
    del train
    for n_chunks in args.chunks or [2, available // 2, available]:
        sums, counts, words, n_texts = merged(n_chunks)
        from paperradar.embed.train import Contexts

        pieces = context_table(Contexts(sums, counts, n_texts), alone)
        pieces[unused] = 0.0
        grid: list[tuple[str, int | None, float]] = [("pieces only", None, 0.0)]
        for e in args.exponents:
            for m in args.min_counts:
                grid.append((f"words seen >= {m}, row x pieces^{e:g}", m, e))
        for name, m, scale in grid:
            chosen = sorted(w for w, (_, c, _) in words.items() if m is not None and c >= m)
            tok = tokenizer_with(chosen)
            rows = [pieces]
            wcount = np.array([words[w][1] for w in chosen], dtype=np.float64)
            if chosen:
                s = np.array([words[w][0] for w in chosen])
                # shrunk toward the mean of its pieces' rows by one occurrence, as tokens are
                prior = np.array([pieces[_piece_ids(w)].mean(axis=0) for w in chosen])
                rows.append(((s + prior) / (wcount + 1.0)[:, None]).astype(np.float32))
            table = np.concatenate(rows)
            all_counts = np.concatenate([counts, wcount])
            table = table * sif_weights(all_counts, 3e-3)[:, None].astype(np.float32)
            if chosen and scale:
                n_pieces = np.array([words[w][2] for w in chosen], dtype=np.float32)
                table[VOCAB:] *= (n_pieces**scale)[:, None]

            hs = _shares(tok, held, len(table))
            fast = _unit(np.asarray(hs @ table))
            agree = float(np.mean(np.sum(fast * teacher_held, axis=1)))
            t10 = overlap(want, fast[HELD_OUT:], fast[HELD_OUT:])
            mixed = overlap(want, extra, fast[HELD_OUT:])
            cm = np.asarray(_shares(tok, csf, len(table)) @ table)
            f1 = _score(cm, cm, ids, qrels, splits["fold1_dev"])
            f2 = _score(cm, cm, ids, qrels, splits["fold2_dev"])
            label = f"{name}, {n_texts} texts"
            print(
                f"| {label} | {len(table)} | {agree:.4f} | {t10:.4f} | {mixed:.4f} | {f1:.2f} | {f2:.2f} |",
                flush=True,
            )
            if args.save:
                d = args.save / f"c{n_chunks}-{m}-{scale:g}"
                d.mkdir(parents=True, exist_ok=True)
                np.save(d / "table.npy", table)
                tok.save(str(d / "tokenizer.json"))


_BASE = None


def _shares(tok, texts: list[str], rows: int) -> object:  # type: ignore[no-untyped-def]
    return token_shares([e.ids for e in tok.encode_batch_fast(texts, add_special_tokens=False)], rows)


def _piece_ids(word: str) -> list[int]:
    global _BASE
    if _BASE is None:
        _BASE = load_tokenizer(models_dir() / "onnx")
    return _BASE.encode(word, add_special_tokens=False).ids


def _no_diag(m: np.ndarray) -> np.ndarray:
    np.fill_diagonal(m, -np.inf)
    return m


if __name__ == "__main__":
    main()
