"""Training the fast tier from the quality tier on a corpus, and writing it where the models live.

Used by `make models` (build.py: a fixed sample of the arXiv corpus when the checkout has it) and by
`paperradar models tune` (a sample of the user's own library, so the fast tier speaks its field).
The teacher is the quality tier itself (ONNX, onnxruntime): no torch. The recipe is in train.py.
Does I/O: runs the quality model, writes static/embeddings.safetensors and updates manifest.json.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..progress import Progress
from . import MANIFEST, TIER_DIRS
from .train import (
    MAX_TOKENS,
    PRIOR_WEIGHT,
    SIF_A,
    WORD_MIN_COUNT,
    WORD_WEIGHT,
    Contexts,
    Words,
    agreement,
    context_table,
    token_shares,
    weight_rows,
    with_words,
    word_rows,
)

SAMPLE = 4000  # texts the teacher reads by default (~2 minutes on 2 cores)
# Whole words (train.Words): measured better on held-out arXiv papers and CSFCube (docs/evaluation.md,
# 2026-12-03), built by `python -m paperradar.embed.build --words` and tune(words=True), but not yet
# the default: switching it re-embeds every library's fast vectors and shifts every dense number,
# so that is the lead's call (this constant, then `make models`).
WHOLE_WORDS = False
WORDS_SAMPLE = 20000  # texts the teacher reads for them (~12 minutes on 2 cores): words need more
HELD_OUT = 200  # of them, kept out of training to measure the agreement between the tiers


@dataclass(frozen=True)
class TuneReport:
    corpus: str
    sample: int  # texts given (the last HELD_OUT of them only measure the agreement)
    texts: int
    tokens_seen: int
    prior_weight: float
    sif_a: float  # the rows' SIF weighting, a / (a + p(token)) (train.py)
    words: int  # whole words given their own row (appended to the WordPiece vocabulary); 0: none
    word_min_count: int | None  # occurrences a split word needed for it (None: no words)
    word_weight: float | None  # its row x its number of pieces to this power
    vocabulary_sha256: str | None  # of the words, one a line, in row order
    agreement: float  # mean cosine, fast vs quality tier, on HELD_OUT texts left out of training
    seconds: float


def sample(items: Iterable[tuple[str, str]], n: int) -> list[str]:
    """A fixed sample of n texts from (key, text) pairs: the n smallest hashes of the keys."""
    keyed = sorted((hashlib.blake2b(k.encode(), digest_size=8).digest(), t) for k, t in items if t)
    return [t for _, t in keyed[:n]]


_ALONE: dict[tuple[str, int], np.ndarray] = {}  # per teacher model: the same rows every time


def alone_states(teacher: Any, vocab_size: int, cls: int, sep: int, batch: int = 512) -> np.ndarray:
    """Each token's state when it is the whole text (`[CLS] t [SEP]`): the start for every token.
    Remembered per teacher model id for the process."""
    key = (str(teacher.model_id), vocab_size)
    if key not in _ALONE:
        _ALONE[key] = _alone_states(teacher, vocab_size, cls, sep, batch)
    return _ALONE[key].copy()


def _alone_states(teacher: Any, vocab_size: int, cls: int, sep: int, batch: int) -> np.ndarray:
    rows = np.zeros((vocab_size, teacher.dim), dtype=np.float32)
    for start in range(0, vocab_size, batch):
        ids = range(start, min(vocab_size, start + batch))
        rows[start : start + len(ids)] = [h[1] for h in teacher.states_of([[cls, t, sep] for t in ids])]
    return rows


def learn_contexts(
    teacher: Any,
    texts: list[str],
    vocab_size: int,
    progress: Progress | None = None,
    names: list[str] | None = None,
) -> tuple[Contexts, Words]:
    """The teacher's token states over the texts, summed per vocabulary id and, given `names` (the
    token of each id), per word that WordPiece splits."""
    contexts = Contexts.empty(vocab_size, teacher.dim)
    words = Words.empty()
    for _, ids, states in teacher.token_states(texts):
        contexts.add(ids, states)
        if names is not None:
            words.add(ids, states, names)
        if progress and contexts.texts % 64 == 0:
            progress(contexts.texts, len(texts), "reading the teacher's token states")
    return contexts, words


@dataclass
class Trained:
    table: np.ndarray  # one row per WordPiece id, then one per word of `words`
    words: list[str]  # appended to the vocabulary, in row order
    contexts: Contexts
    tokenizer_json: str  # the tokenizer that reads them (train.with_words)


def train_table(
    teacher: Any,
    tokenizer_json: Path,
    texts: list[str],
    progress: Progress | None = None,
    word_min_count: int | None = None,
) -> Trained:
    """The fast tier trained on `texts` (may be empty: then every token's state alone, no words):
    rows for the WordPiece vocabulary of `tokenizer_json` (the teacher's own) and, given
    word_min_count, for the split words seen at least that often, weighted by how rare their tokens
    were in `texts`. Without words the tokenizer is `tokenizer_json`'s text, unchanged."""
    base = tokenizer_json.read_text(encoding="utf-8")
    vocab: dict[str, int] = json.loads(base)["model"]["vocab"]
    names = [""] * len(vocab)
    for token, i in vocab.items():
        names[i] = token
    alone = alone_states(teacher, len(vocab), vocab["[CLS]"], vocab["[SEP]"])
    contexts, words = learn_contexts(
        teacher, texts, len(vocab), progress, names if word_min_count is not None else None
    )
    pieces = context_table(contexts, alone)
    unused = [i for token, i in vocab.items() if token.startswith("[unused")]
    pieces[unused] = 0.0  # never produced by the tokenizer
    if word_min_count is None:
        return Trained(weight_rows(pieces, contexts.counts), [], contexts, base)
    chosen, rows, counts = word_rows(words, pieces, word_min_count)
    table = weight_rows(np.concatenate([pieces, rows]), np.concatenate([contexts.counts, counts]))
    return Trained(table, chosen, contexts, with_words(base, chosen))


def measure_agreement(teacher: Any, tokenizer_json: Path | str, table: np.ndarray, texts: list[str]) -> float:
    """Mean cosine between the teacher's vectors of `texts` and the fast tier's (1.0 without texts);
    the tokenizer as a file or as its JSON text."""
    if not texts:
        return 1.0
    from tokenizers import Tokenizer

    tokenizer = (
        Tokenizer.from_str(tokenizer_json)
        if isinstance(tokenizer_json, str)
        else Tokenizer.from_file(str(tokenizer_json))
    )
    tokenizer.no_padding()
    tokenizer.enable_truncation(MAX_TOKENS)  # as the fast tier reads (the file itself says 128)
    ids = [e.ids for e in tokenizer.encode_batch_fast(texts, add_special_tokens=False)]
    return agreement(token_shares(ids, len(table)), table, teacher.embed_batch(texts))


def write_fast_tier(root: Path, trained: Trained, report: TuneReport) -> None:
    """static/embeddings.safetensors (float16), static/tokenizer.json (the teacher's with the words
    appended) and the manifest's hashes and training record."""
    from safetensors.numpy import save_file

    from .build import sha256

    folder = root / TIER_DIRS["fast"]
    record = asdict(report) | {"seconds": None}  # no timings in the files: the build stays deterministic
    words = ", whole-word rows" if trained.words else ""
    record["recipe"] = f"contextual averaging{words}, rows SIF-weighted (train.py)"
    # the record goes in the manifest only: safetensors writes its metadata in hash-map order, which
    # differs from run to run, so the same table would not give the same bytes
    save_file({"embeddings": trained.table.astype(np.float16)}, str(folder / "embeddings.safetensors"))
    (folder / "tokenizer.json").write_bytes(trained.tokenizer_json.encode("utf-8"))
    path = root / MANIFEST
    manifest = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    files = sorted(p for p in root.rglob("*") if p.is_file() and p.name != MANIFEST)
    manifest["files"] = {p.relative_to(root).as_posix(): sha256(p) for p in files}
    manifest["bytes"] = {p.relative_to(root).as_posix(): p.stat().st_size for p in files}
    manifest["fast_tier"] = record
    path.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def tune(
    root: Path,
    teacher: Any,
    corpus: str,
    texts: list[str],
    progress: Progress | None = None,
    words: bool = WHOLE_WORDS,
) -> TuneReport:
    """Train the fast tier under `root` on `texts` with `teacher` and write it, with whole words or
    without. The vocabulary starts from the quality tier's tokenizer (the fast tier's own may carry
    the words of an earlier run)."""
    started = time.perf_counter()
    held = texts[-HELD_OUT:] if len(texts) >= 4 * HELD_OUT else []
    min_count = WORD_MIN_COUNT if words else None
    trained = train_table(
        teacher,
        root / TIER_DIRS["quality"] / "tokenizer.json",
        texts[: len(texts) - len(held)],
        progress,
        min_count,
    )
    listing = "".join(w + "\n" for w in trained.words).encode("utf-8")
    report = TuneReport(
        corpus=corpus,
        sample=len(texts),
        texts=trained.contexts.texts,
        tokens_seen=int(np.count_nonzero(trained.contexts.counts)),
        prior_weight=PRIOR_WEIGHT,
        sif_a=SIF_A,
        words=len(trained.words),
        word_min_count=min_count,
        word_weight=WORD_WEIGHT if words else None,
        vocabulary_sha256=hashlib.sha256(listing).hexdigest() if words else None,
        agreement=round(measure_agreement(teacher, trained.tokenizer_json, trained.table, held), 4),
        seconds=round(time.perf_counter() - started, 1),
    )
    write_fast_tier(root, trained, report)
    return report
