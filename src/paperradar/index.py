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
    todo: list[tuple[int, str]] = []  # (pk, text hash): texts are read again per batch, so memory
    for pk, title, abstract in lib.paper_texts():  # stays small at a million papers
        text = text_of(title, abstract)
        if not text:
            report.empty += 1
            continue
        h = text_hash(text)
        if done.get(pk) == h:
            report.unchanged += 1
        else:
            todo.append((pk, h))
    del done
    for i in range(0, len(todo), batch):
        texts = {pk: text_of(t, a) for pk, t, a in lib.paper_texts_of([pk for pk, _ in todo[i : i + batch]])}
        chunk = [(pk, texts[pk], h) for pk, h in todo[i : i + batch] if pk in texts]
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


def refresh_index(
    lib: SQLiteLibrary,
    embedder: Embedder,
    progress: Callable[[int, int], None] | None = None,
    defer_share: float = 0.0,
) -> dict[str, object]:
    """`paperradar index` for one tier: embed what changed, then bring the ANN index (if the
    library is big enough to have one) up to date (see `ann.sync_ann` for `defer_share`). Idempotent."""
    from .ann import sync_ann

    report = update_index(lib, embedder, progress)
    started = time.perf_counter()
    ann = sync_ann(lib, embedder.model_id, defer_share=defer_share)
    return {**report.as_json(), **ann, "ann_seconds": round(time.perf_counter() - started, 2)}


def index_new_papers(
    lib: SQLiteLibrary, progress: Callable[[int, int], None] | None = None
) -> dict[str, object] | None:
    """After an import: embed the new papers with the fast tier (~2,000/s), so semantic and hybrid
    search find them at once; `paperradar index` later adds the quality tier. A small import leaves
    a big library's ANN file behind (searched exactly beside it) rather than rewriting it. None when
    the models are not built (search then stays keyword-only until they are)."""
    from .ann import DEFER_SHARE
    from .embed import load_embedder

    try:
        embedder = load_embedder("fast")
    except BackendUnavailable:
        return None
    return refresh_index(lib, embedder, progress, defer_share=DEFER_SHARE)


_CACHE: dict[str, tuple[int, SearchIndex, Embedder]] = {}
QUALITY_COVERAGE = 0.98  # the quality tier is used once it covers this share of what the fast tier does


class SearchIndex(Protocol):
    model_id: str

    def __len__(self) -> int: ...
    def vector_of(self, pk: int) -> np.ndarray | None: ...
    def search(
        self, query: np.ndarray, k: int, exclude: set[int] | None = None
    ) -> list[tuple[int, float]]: ...


def best_index(lib: SQLiteLibrary, tier: str | None = None) -> tuple[SearchIndex, Embedder] | None:
    """The vector index of the best embedding tier this library has vectors for, with its embedder
    (for embedding queries); None when there are none. The quality tier wins once it covers the
    library (98% of what the fast tier covers), so a fresh import embedded by the fast tier is found
    at once. `tier` asks for one tier only. Big libraries use the persisted ANN index (ann.py),
    small ones exact search.
    Cached per process until an embedding changes (`embedding_generation`, one cheap read)."""
    generation = lib.embedding_generation()
    key = f"{lib.path}#{tier or 'best'}"
    cached = _CACHE.get(key) if lib.path != ":memory:" else None
    if cached is not None and cached[0] == generation:
        return cached[1], cached[2]
    have = lib.embedding_models()
    embedder = _best_tier(have, tier)
    if embedder is None:
        return None
    from .ann import AnnIndex

    index: SearchIndex | None = AnnIndex.open(lib, embedder.model_id, have[embedder.model_id])
    if index is None:
        index = VectorIndex.load(lib, embedder.model_id)
    _CACHE[key] = (generation, index, embedder)
    return index, embedder


def _best_tier(have: dict[str, int], only: str | None = None) -> Embedder | None:
    from .embed import load_embedder

    counts: dict[str, tuple[int, Embedder]] = {}
    for tier in (only,) if only else ("quality", "fast"):
        try:
            embedder = load_embedder(tier)  # type: ignore[arg-type]
        except (ImportError, BackendUnavailable):
            continue
        if have.get(embedder.model_id):
            counts[tier] = (have[embedder.model_id], embedder)
    if "quality" in counts and counts["quality"][0] >= QUALITY_COVERAGE * counts.get("fast", (0,))[0]:
        return counts["quality"][1]
    best = max(counts.values(), key=lambda c: c[0], default=None)
    return None if best is None else best[1]


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
