"""Keeping embeddings in step with the library, and searching them.

`update_index` embeds every paper whose text changed since it was last embedded by that model
(or was never embedded): incremental, resumable (each batch is committed), and it never
embeds unchanged text twice. `VectorIndex` is an exact (brute-force) cosine index over one
model's vectors, loaded from the library. Does I/O through the library and the embedder.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from .embed import text_for as text_of
from .errors import BackendUnavailable
from .storage.sqlite import SQLiteLibrary

BATCH = 256


class Embedder(Protocol):
    model_id: str
    dim: int

    def embed_batch(self, texts: list[str]) -> np.ndarray: ...


def text_hash(text: str) -> str:
    return hashlib.blake2b(text.encode(), digest_size=12).hexdigest()


@dataclass
class IndexReport:
    model_id: str
    embedded: int = 0
    unchanged: int = 0
    empty: int = 0
    seconds: float = 0.0

    def as_json(self) -> dict[str, object]:
        return {
            "model": self.model_id,
            "embedded": self.embedded,
            "unchanged": self.unchanged,
            "without_text": self.empty,
            "seconds": round(self.seconds, 2),
        }


def update_index(
    lib: SQLiteLibrary,
    embedder: Embedder,
    progress: Callable[[int, int], None] | None = None,
    batch: int = BATCH,
) -> IndexReport:
    """Embed what is new or changed; each batch is its own transaction, so a stop loses at most one."""
    start = time.perf_counter()
    report = IndexReport(embedder.model_id)
    done = lib.embedding_hashes(embedder.model_id)
    todo: list[tuple[int, str, str]] = []
    for pk, title, abstract in lib.paper_texts():
        text = text_of(title, abstract)
        if not text:
            report.empty += 1
            continue
        h = text_hash(text)
        if done.get(pk) == h:
            report.unchanged += 1
        else:
            todo.append((pk, text, h))
    for i in range(0, len(todo), batch):
        chunk = todo[i : i + batch]
        vectors = np.asarray(embedder.embed_batch([t for _, t, _ in chunk]), dtype=np.float32)
        with lib.transaction():
            lib.put_embeddings(
                embedder.model_id,
                [(pk, h, v.tobytes()) for (pk, _, h), v in zip(chunk, vectors, strict=True)],
            )
        report.embedded += len(chunk)
        if progress:
            progress(report.embedded, len(todo))
    report.seconds = time.perf_counter() - start
    return report


_CACHE: dict[tuple[str, str], tuple[int, VectorIndex]] = {}


def best_index(lib: SQLiteLibrary) -> tuple[VectorIndex, Embedder] | None:
    """The vector index of the best embedding tier this library has vectors for, with its embedder
    (for embedding queries); None when there are none. Indexes are cached per process and
    reloaded when the number of vectors changes."""
    have = lib.embedding_models()
    for tier in ("quality", "fast"):
        try:
            from .embed import load_embedder

            embedder = load_embedder(tier)  # type: ignore[arg-type]
        except (ImportError, BackendUnavailable):
            continue
        count = have.get(embedder.model_id)
        if not count:
            continue
        key = (lib.path, embedder.model_id)
        cached = _CACHE.get(key)
        if cached is None or cached[0] != count:
            _CACHE[key] = (count, VectorIndex.load(lib, embedder.model_id))
        return _CACHE[key][1], embedder
    return None


class VectorIndex:
    """Exact cosine search over one model's vectors (rows are L2-normalised, so a dot product)."""

    def __init__(self, pks: np.ndarray, matrix: np.ndarray, model_id: str):
        self.pks = pks
        self.matrix = matrix
        self.model_id = model_id
        self._row = {int(pk): i for i, pk in enumerate(pks)}

    @classmethod
    def load(cls, lib: SQLiteLibrary, model_id: str) -> VectorIndex:
        pks: list[int] = []
        blobs: list[bytes] = []
        for pk, blob in lib.vectors(model_id):
            pks.append(pk)
            blobs.append(blob)
        if not pks:
            raise BackendUnavailable(f"no embeddings from {model_id} yet: run `paperradar index`")
        matrix = np.frombuffer(b"".join(blobs), dtype=np.float32).reshape(len(pks), -1)
        return cls(np.asarray(pks, dtype=np.int64), matrix, model_id)

    def __len__(self) -> int:
        return len(self.pks)

    def vector_of(self, pk: int) -> np.ndarray | None:
        i = self._row.get(pk)
        return None if i is None else self.matrix[i]

    def search(self, query: np.ndarray, k: int, exclude: set[int] | None = None) -> list[tuple[int, float]]:
        """The k nearest papers to a query vector: [(pk, cosine)], best first."""
        scores = self.matrix @ query.astype(np.float32)
        want = min(len(scores), k + len(exclude or ()))
        if want <= 0:
            return []
        top = np.argpartition(-scores, want - 1)[:want]
        top = top[np.argsort(-scores[top])]
        out = [
            (int(self.pks[i]), float(scores[i]))
            for i in top
            if not exclude or int(self.pks[i]) not in exclude
        ]
        return out[:k]
