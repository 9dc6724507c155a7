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
    Contexts,
    agreement,
    context_table,
    token_shares,
    weight_rows,
)

SAMPLE = 4000  # texts the teacher reads by default (~2 minutes on 2 cores)
HELD_OUT = 200  # of them, kept out of training to measure the agreement between the tiers


@dataclass(frozen=True)
class TuneReport:
    corpus: str
    sample: int  # texts given (the last HELD_OUT of them only measure the agreement)
    texts: int
    tokens_seen: int
    prior_weight: float
    sif_a: float  # the rows' SIF weighting, a / (a + p(token)) (train.py)
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
    teacher: Any, texts: list[str], vocab_size: int, progress: Progress | None = None
) -> Contexts:
    """The teacher's token states over the texts, summed per vocabulary id."""
    contexts = Contexts.empty(vocab_size, teacher.dim)
    for _, ids, states in teacher.token_states(texts):
        contexts.add(ids, states)
        if progress and contexts.texts % 64 == 0:
            progress(contexts.texts, len(texts), "reading the teacher's token states")
    return contexts


def train_table(
    teacher: Any, tokenizer_json: Path, texts: list[str], progress: Progress | None = None
) -> tuple[np.ndarray, Contexts]:
    """The fast tier's table trained on `texts` (may be empty: then every token's state alone),
    its rows weighted by how rare their tokens were in `texts`."""
    vocab: dict[str, int] = json.loads(tokenizer_json.read_text(encoding="utf-8"))["model"]["vocab"]
    alone = alone_states(teacher, len(vocab), vocab["[CLS]"], vocab["[SEP]"])
    contexts = learn_contexts(teacher, texts, len(vocab), progress)
    table = weight_rows(context_table(contexts, alone), contexts.counts)
    unused = [i for token, i in vocab.items() if token.startswith("[unused")]
    table[unused] = 0.0  # never produced by the tokenizer
    return table, contexts


def measure_agreement(teacher: Any, tokenizer_json: Path, table: np.ndarray, texts: list[str]) -> float:
    """Mean cosine between the teacher's vectors of `texts` and the fast tier's (1.0 without texts)."""
    if not texts:
        return 1.0
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(tokenizer_json))
    tokenizer.no_padding()
    tokenizer.enable_truncation(MAX_TOKENS)  # as the fast tier reads (the file itself says 128)
    ids = [e.ids for e in tokenizer.encode_batch_fast(texts, add_special_tokens=False)]
    return agreement(token_shares(ids, len(table)), table, teacher.embed_batch(texts))


def write_fast_tier(root: Path, table: np.ndarray, report: TuneReport) -> None:
    """static/embeddings.safetensors (float16) and the manifest's hashes and training record."""
    from safetensors.numpy import save_file

    from .build import sha256

    folder = root / TIER_DIRS["fast"]
    record = asdict(report) | {"seconds": None}  # no timings in the files: the build stays deterministic
    record["recipe"] = "contextual averaging, rows SIF-weighted (train.py)"
    # the record goes in the manifest only: safetensors writes its metadata in hash-map order, which
    # differs from run to run, so the same table would not give the same bytes
    save_file({"embeddings": table.astype(np.float16)}, str(folder / "embeddings.safetensors"))
    path = root / MANIFEST
    manifest = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    files = sorted(p for p in root.rglob("*") if p.is_file() and p.name != MANIFEST)
    manifest["files"] = {p.relative_to(root).as_posix(): sha256(p) for p in files}
    manifest["bytes"] = {p.relative_to(root).as_posix(): p.stat().st_size for p in files}
    manifest["fast_tier"] = record
    path.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def tune(
    root: Path, teacher: Any, corpus: str, texts: list[str], progress: Progress | None = None
) -> TuneReport:
    """Train the fast tier under `root` on `texts` with `teacher` and write it."""
    started = time.perf_counter()
    folder = root / TIER_DIRS["fast"]
    held = texts[-HELD_OUT:] if len(texts) >= 4 * HELD_OUT else []
    table, contexts = train_table(
        teacher, folder / "tokenizer.json", texts[: len(texts) - len(held)], progress
    )
    report = TuneReport(
        corpus=corpus,
        sample=len(texts),
        texts=contexts.texts,
        tokens_seen=int(np.count_nonzero(contexts.counts)),
        prior_weight=PRIOR_WEIGHT,
        sif_a=SIF_A,
        agreement=round(measure_agreement(teacher, folder / "tokenizer.json", table, held), 4),
        seconds=round(time.perf_counter() - started, 1),
    )
    write_fast_tier(root, table, report)
    return report
