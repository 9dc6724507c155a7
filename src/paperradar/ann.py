"""The approximate (HNSW) vector index for big libraries, persisted beside the library.

Exact search (`index.VectorIndex`) answers while a library is small; from `ANN_MIN` vectors of a
model on, `paperradar index` also keeps a usearch HNSW index of them in `<library>.ann/`
(int8 vectors, cosine), chosen over hnswlib and faiss by `bench/ann.py` on the library's own vectors
(docs/benchmarks.md). The file is memory-mapped read-only by searches, so many processes share it
and RSS stays small.

The library's `embedding_log` (migration 8) records every vector added, replaced or deleted; the
index file remembers the log position it includes. `sync_ann` (a writer, run by `paperradar index`)
applies what changed since, or rebuilds when most of it did. A reader opening an index that is
behind (say a fresh import embedded by the fast tier a moment ago) searches the changed papers
exactly beside the file, so results are never stale. Does I/O: the library and the index files.
"""

from __future__ import annotations

import json
import logging
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .progress import Progress
from .storage import open_vector_reader
from .storage.base import Library, VectorSource

if TYPE_CHECKING:  # usearch is imported where an index is built or read
    from usearch.index import Index

log = logging.getLogger(__name__)

ANN_MIN = 200_000  # below this many vectors exact search is fast enough (docs/benchmarks.md)
REBUILD_SHARE = 0.3  # rebuild instead of patching when this share of the vectors changed
DEFER_SHARE = 0.05  # after an import, leave the index behind by up to this share (see sync_ann)
CONNECTIVITY = 16
EXPANSION_ADD = 128
EXPANSION_SEARCH = 128
DTYPE = "i8"
CHUNK = 50_000
SEED = 1_000  # vectors added on one thread before the others join (see _build)
RESCORE = 2  # candidates from the int8 graph per result wanted, re-ordered by their float32 vectors


def ann_dir(lib_path: str) -> Path | None:
    from .storage import side_path  # beside a SQLite file; in the data folder for PostgreSQL

    return side_path(lib_path, ".ann")


def _files(lib_path: str, model_id: str) -> tuple[Path, Path] | None:
    folder = ann_dir(lib_path)
    if folder is None:
        return None
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", model_id)
    return folder / f"{stem}.usearch", folder / f"{stem}.json"


def _new_index(dim: int) -> Index:
    from usearch.index import Index

    return Index(
        ndim=dim,
        metric="cos",
        dtype=DTYPE,
        connectivity=CONNECTIVITY,
        expansion_add=EXPANSION_ADD,
        expansion_search=EXPANSION_SEARCH,
    )


def _read_meta(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def sync_ann(
    lib: Library,
    model_id: str,
    progress: Progress | None = None,
    defer_share: float = 0.0,
) -> dict[str, object]:
    """Bring the persisted index of `model_id` up to date with the library (build, patch or drop it).
    With `defer_share`, an existing index that is behind by at most that share of the vectors is
    left as it is: searches cover the difference exactly, and rewriting a 400 MB file for a small
    import is not worth it. Returns {"ann": "built" | "updated" | "current" | "behind" | "none",
    "vectors": n}."""
    files = _files(lib.path, model_id)
    count = lib.embedding_models().get(model_id, 0)
    if files is None or count < ANN_MIN:
        return _drop(lib, model_id, files, count)
    index_file, meta_file = files
    meta = _read_meta(meta_file)
    upto = lib.embedding_generation()  # read first: changes made while we work are applied next time
    changed = lib.embedding_changes(model_id, meta["seq"]) if meta and index_file.exists() else None
    if changed is not None and not changed:
        return {"ann": "current", "vectors": count}
    if changed is not None and len(changed) <= defer_share * count:
        return {"ann": "behind", "vectors": count}
    if changed is None or len(changed) > REBUILD_SHARE * count:
        index, action = _build(lib, model_id, count, progress), "built"
    else:
        index, action = _patch(lib, model_id, index_file, changed), "updated"
    if index is None:  # the vectors went while they were read
        return _drop(lib, model_id, files, 0)
    _save(index, index_file, meta_file, {"model_id": model_id, "seq": upto, "vectors": len(index)})
    lib.forget_embedding_changes(model_id, upto)
    return {"ann": action, "vectors": len(index)}


def _drop(lib: Library, model_id: str, files: tuple[Path, Path] | None, count: int) -> dict[str, object]:
    """No index for this model (too few vectors, or an in-memory library): its files go."""
    for f in files or ():
        f.unlink(missing_ok=True)
    lib.forget_embedding_changes(model_id, lib.embedding_generation())
    return {"ann": "none", "vectors": count}


def _build(lib: Library, model_id: str, count: int, progress: Progress | None) -> Index | None:
    """A new index of the model's vectors (None when it has none), built CHUNK vectors at a time."""
    index: Index | None = None
    keys: list[int] = []
    blobs: list[bytes] = []
    done = 0

    def flush() -> None:
        nonlocal index, done
        matrix = np.frombuffer(b"".join(blobs), dtype=np.float32).reshape(len(keys), -1)
        ids = np.asarray(keys, dtype=np.uint64)
        if index is None:
            index = _new_index(matrix.shape[1])
            # Threads adding to a near-empty graph can leave a node unreachable (a paper then never
            # finds itself; seen in 2 of 5 builds of 300 papers), so the first SEED go in one by one.
            index.add(ids[:SEED], matrix[:SEED], threads=1)
            ids, matrix = ids[SEED:], matrix[SEED:]
        if len(ids):
            index.add(ids, matrix, threads=os.cpu_count() or 1)
        done += len(keys)
        keys.clear()
        blobs.clear()
        if progress:
            progress(done, count, "building the vector index")

    for pk, blob in lib.vectors(model_id):
        keys.append(pk)
        blobs.append(blob)
        if len(keys) == CHUNK:
            flush()
    if keys:
        flush()
    return index


def _patch(lib: Library, model_id: str, index_file: Path, changed: list[int]) -> Index | None:
    from usearch.index import Index

    index = Index.restore(str(index_file), view=False)
    if index is None:  # an unreadable file: build it again
        return _build(lib, model_id, lib.embedding_models().get(model_id, 0), None)
    gone = np.asarray(changed, dtype=np.uint64)
    index.remove(gone[np.asarray(index.contains(gone), dtype=bool)])
    rows = list(lib.vectors_of(model_id, changed))
    if rows:
        matrix = np.frombuffer(b"".join(b for _, b in rows), dtype=np.float32).reshape(len(rows), -1)
        index.add(np.asarray([pk for pk, _ in rows], dtype=np.uint64), matrix)
    return index


def _save(index: Index, index_file: Path, meta_file: Path, meta: dict[str, object]) -> None:
    """Write both files through temporary names: a crash leaves the old pair or the new one."""
    index_file.parent.mkdir(parents=True, exist_ok=True)
    tmp = index_file.with_name(index_file.name + ".tmp")
    index.save(str(tmp))
    os.replace(tmp, index_file)
    tmp_meta = meta_file.with_name(meta_file.name + ".tmp")
    tmp_meta.write_text(json.dumps(meta), encoding="utf-8")
    os.replace(tmp_meta, meta_file)


class AnnIndex:
    """The persisted HNSW index of one model, plus exact search over what changed since it was saved.
    Same interface as `index.VectorIndex`: `search`, `vector_of`, `len`, `model_id`."""

    def __init__(
        self,
        lib_path: str,
        model_id: str,
        view: Index,
        seq: int,
        delta_pks: np.ndarray,
        delta: np.ndarray,
        stale: set[int],
        size: int,
    ) -> None:
        self.model_id = model_id
        self._view = view
        self._lib_path = lib_path
        self._seq = seq
        self._delta_pks = delta_pks
        self._delta = delta
        self._stale = stale
        self._size = size
        self._reader: VectorSource | None = None

    @classmethod
    def open(cls, lib: Library, model_id: str, count: int | None = None) -> AnnIndex | None:
        """The index of `model_id` if one was built, caught up with the library; None when there is none.
        `count`: the model's number of vectors, when the caller has already counted them."""
        files = _files(lib.path, model_id)
        if files is None or not files[0].exists():
            return None
        meta = _read_meta(files[1])
        if not meta or meta.get("model_id") != model_id:
            return None
        from usearch.index import Index

        view = Index.restore(str(files[0]), view=True)
        if view is None:  # unreadable: exact search until `paperradar index` builds it again
            log.warning("cannot read %s; searching exactly", files[0])
            return None
        view.expansion_search = EXPANSION_SEARCH  # type: ignore[misc]
        changed = lib.embedding_changes(model_id, int(meta["seq"]))
        rows = list(lib.vectors_of(model_id, changed)) if changed else []
        delta = np.frombuffer(b"".join(b for _, b in rows), dtype=np.float32).reshape(len(rows), view.ndim)
        size = count if count is not None else lib.embedding_models().get(model_id, 0)
        pks = np.asarray([pk for pk, _ in rows], dtype=np.int64)
        return cls(lib.path, model_id, view, int(meta["seq"]), pks, delta, set(changed), size)

    def __len__(self) -> int:
        return self._size

    def search(self, query: np.ndarray, k: int, exclude: set[int] | None = None) -> list[tuple[int, float]]:
        """The k nearest papers to a query vector: [(pk, cosine)], best first. The int8 graph proposes
        RESCORE times more candidates than asked; their float32 vectors (from the library) order them."""
        query = query.astype(np.float32)
        skip = (exclude or set()) | self._stale
        want = min(len(self._view), RESCORE * k + len(exclude or ()) + min(len(self._stale), 4 * k))
        keys: list[int] = []
        if want > 0:
            matches = self._view.search(query, want, threads=1)
            keys = [int(key) for key in matches.keys if int(key) not in skip]
        found = [(pk, float(v @ query)) for pk, v in self._vectors(keys)]
        if len(self._delta_pks):
            scores = self._delta @ query
            found += [
                (int(pk), float(s))
                for pk, s in zip(self._delta_pks, scores, strict=True)
                if int(pk) not in (exclude or ())
            ]
        found.sort(key=lambda t: -t[1])
        return found[:k]

    def _vectors(self, pks: list[int]) -> list[tuple[int, np.ndarray]]:
        if not pks:
            return []
        if self._reader is None:
            self._reader = open_vector_reader(self._lib_path)
        return [
            (pk, np.frombuffer(blob, dtype=np.float32))
            for pk, blob in self._reader.vectors_of(self.model_id, pks)
        ]

    def vector_of(self, pk: int) -> np.ndarray | None:
        found = self._vectors([pk])
        return found[0][1] if found else None
