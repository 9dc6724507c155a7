"""The fast tier: a static embedding table distilled from all-MiniLM-L6-v2 (see build.py).

A text's vector is the mean of its WordPiece tokens' rows (no [CLS]/[SEP]), L2-normalised: no
neural network at run time, so thousands of abstracts per second on one core. A text with no tokens
gets a zero row. Reads model files (I/O); needs numpy, tokenizers and safetensors only.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from safetensors.numpy import load_file
from tokenizers import Tokenizer

from . import normalize_rows

MAX_TOKENS = 512
CHUNK = 32  # texts per gather


class StaticEmbedder:
    def __init__(self, folder: Path, digest: str):
        self._table = load_file(str(folder / "embeddings.safetensors"))["embeddings"].astype(np.float32)
        self._tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self._tokenizer.enable_truncation(MAX_TOKENS)
        self._tokenizer.no_padding()
        self.dim = int(self._table.shape[1])
        self.model_id = f"all-MiniLM-L6-v2/static-{self.dim}@{digest}"

    def embed_batch(self, texts: list[str]) -> np.ndarray:
        encodings = self._tokenizer.encode_batch_fast(texts, add_special_tokens=False)
        ids = [np.asarray(e.ids, dtype=np.int64) for e in encodings]
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for start in range(0, len(ids), CHUNK):
            out[start : start + CHUNK] = self._means(ids[start : start + CHUNK])
        return normalize_rows(out)

    def _means(self, ids: list[np.ndarray]) -> np.ndarray:
        """Mean row per text; a few dozen texts at a time keep the gathered rows in cache."""
        lengths = np.array([len(x) for x in ids])
        means = np.zeros((len(ids), self.dim), dtype=np.float32)
        nonempty = lengths > 0
        if nonempty.any():
            starts = np.concatenate(([0], np.cumsum(lengths[nonempty])[:-1]))
            sums = np.add.reduceat(self._table[np.concatenate(ids)], starts, axis=0)
            means[nonempty] = sums / lengths[nonempty, None]
        return means
