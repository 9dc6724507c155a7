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
exactly beside the file, so results are never stale.

A build is resumable: every `CHECKPOINT_SECONDS` or so it saves the partial index as a checkpoint
(`<model>.checkpoint-<last pk>.part` and `<model>.checkpoint.json`, naming the model, the log
position the build started from and the last pk added; vectors are read in pk order). A build
killed part way (Ctrl-C, out of memory, a reboot) goes on from its checkpoint at the next
`paperradar index`: it reads only the vectors above that pk and applies the changes logged since.
A checkpoint that does not fit (another model or settings, an unreadable file, a library whose
log is behind it, too many changes since) is discarded with a warning. Does I/O: the library and
the index files.
"""

from __future__ import annotations

import glob
import json
import logging
import os
import re
import time
from collections.abc import Callable
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
SEED = 1_000  # vectors added on one thread before the others join (see _Builder._flush)
# Threads adding at once can still strand a node now and then (usearch issue #735: about 1 build in 40
# of 2,000 random vectors lost 2 papers); tests that need every paper found build on one thread.
THREADS = os.cpu_count() or 1
RESCORE = 2  # candidates from the int8 graph per result wanted, re-ordered by their float32 vectors
# A build saves a checkpoint when this much time has passed since the last one (a kill loses at most
# about this much work) and at least CHECKPOINT_COST times as long as writing the last one took, so
# the writes cost at most 1/CHECKPOINT_COST of the build even where the disk is slow. By time, not
# by vectors: each write saves the whole partial index, so a fixed number of vectors between them
# would make the writes grow with the square of the library (docs/benchmarks.md, "Resumable ANN build").
CHECKPOINT_SECONDS = 300.0
CHECKPOINT_COST = 20
CHECKPOINT_FORMAT = 1


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
    changed = lib.embedding_changes(model_id, meta["seq"]) if meta and _sound(index_file, meta) else None
    if changed is not None and not changed:
        return {"ann": "current", "vectors": count}
    if changed is not None and len(changed) <= defer_share * count:
        return {"ann": "behind", "vectors": count}
    if changed is None or len(changed) > REBUILD_SHARE * count:
        index, action = _build(lib, model_id, count, upto, index_file, progress), "built"
    else:
        index, action = _patch(lib, model_id, index_file, changed, upto)
    if index is None:  # the vectors went while they were read
        return _drop(lib, model_id, files, 0)
    _save(index, index_file, meta_file, {"model_id": model_id, "seq": upto, "vectors": len(index)})
    _clear_checkpoints(index_file)
    lib.forget_embedding_changes(model_id, upto)
    return {"ann": action, "vectors": len(index)}


def _drop(lib: Library, model_id: str, files: tuple[Path, Path] | None, count: int) -> dict[str, object]:
    """No index for this model (too few vectors, or an in-memory library): its files go."""
    for f in files or ():
        f.unlink(missing_ok=True)
    if files:
        _clear_checkpoints(files[0])
    lib.forget_embedding_changes(model_id, lib.embedding_generation())
    return {"ann": "none", "vectors": count}


def _build(
    lib: Library, model_id: str, count: int, upto: int, index_file: Path, progress: Progress | None
) -> Index | None:
    """A new index of the model's vectors (None when it has none), built CHUNK vectors at a time in
    pk order and checkpointed as it goes; resumed from the checkpoint of an interrupted build of the
    same model when there is a sound one. `upto`: the log position read before any vector."""
    resumed = _resume(lib, model_id, index_file, count, progress)
    builder = _Builder(model_id, count, upto, index_file, progress, resumed)
    rows = lib.vectors_after(model_id, resumed[1]) if resumed else lib.vectors(model_id)
    for pk, blob in rows:
        builder.take(pk, blob)
    return builder.finish()


class _Builder:
    """Adds vectors to a growing index CHUNK at a time, and saves it as a checkpoint when it is
    time to (see CHECKPOINT_SECONDS)."""

    def __init__(
        self,
        model_id: str,
        count: int,
        upto: int,
        index_file: Path,
        progress: Progress | None,
        resumed: tuple[Index, int] | None,
    ) -> None:
        self.model_id, self.count, self.upto, self.progress = model_id, count, upto, progress
        self.index_file = index_file
        self.index: Index | None = resumed[0] if resumed else None
        self.last_pk = resumed[1] if resumed else 0
        self.done = len(self.index) if self.index is not None else 0
        self.keys: list[int] = []
        self.blobs: list[bytes] = []
        self.saved_at, self.save_seconds = time.monotonic(), 0.0

    def take(self, pk: int, blob: bytes) -> None:
        self.keys.append(pk)
        self.blobs.append(blob)
        if len(self.keys) == CHUNK:
            self._flush()
            self._checkpoint()

    def finish(self) -> Index | None:
        if self.keys:
            self._flush()
        return self.index

    def _flush(self) -> None:
        matrix = np.frombuffer(b"".join(self.blobs), dtype=np.float32).reshape(len(self.keys), -1)
        ids = np.asarray(self.keys, dtype=np.uint64)
        if self.index is None:
            self.index = _new_index(matrix.shape[1])
        # Threads adding to a near-empty graph can leave a node unreachable (a paper then never
        # finds itself; seen in 2 of 5 builds of 300 papers), so the first SEED go in one by one.
        head = max(0, SEED - len(self.index))
        if head:
            self.index.add(ids[:head], matrix[:head], threads=1)
        if len(ids) > head:
            self.index.add(ids[head:], matrix[head:], threads=THREADS)
        self.done += len(self.keys)
        self.last_pk = self.keys[-1]
        self.keys.clear()
        self.blobs.clear()
        if self.progress:
            self.progress(self.done, self.count, "building the vector index")

    def _checkpoint(self) -> None:
        waited = time.monotonic() - self.saved_at
        if self.index is None or waited < max(CHECKPOINT_SECONDS, CHECKPOINT_COST * self.save_seconds):
            return
        start = time.monotonic()
        _write_checkpoint(
            self.index,
            self.index_file,
            {
                **_checkpoint_kind(self.model_id),
                "dim": int(self.index.ndim),
                "seq": self.upto,
                "last_pk": self.last_pk,
                "vectors": len(self.index),
            },
        )
        self.saved_at = time.monotonic()
        self.save_seconds = self.saved_at - start
        log.debug("checkpoint of %s at pk %d (%.1f s)", self.index_file.name, self.last_pk, self.save_seconds)


def _checkpoint_kind(model_id: str) -> dict[str, object]:
    """What a checkpoint must have been made with to be resumed."""
    return {"format": CHECKPOINT_FORMAT, "model_id": model_id, "dtype": DTYPE, "connectivity": CONNECTIVITY}


def _checkpoint_meta(index_file: Path) -> Path:
    return index_file.with_name(index_file.stem + ".checkpoint.json")


def _checkpoint_part(index_file: Path, last_pk: int) -> Path:
    return index_file.with_name(f"{index_file.stem}.checkpoint-{last_pk}.part")


def _checkpoint_files(index_file: Path) -> list[Path]:
    """Every checkpoint file of this index: the description, the parts, and temporary files a kill
    during a write left behind."""
    stem = glob.escape(index_file.stem)
    folder = index_file.parent
    return [*folder.glob(f"{stem}.checkpoint.json*"), *folder.glob(f"{stem}.checkpoint-*.part*")]


def _clear_checkpoints(index_file: Path, keep: tuple[Path, ...] = ()) -> None:
    for f in _checkpoint_files(index_file):
        if f not in keep:
            f.unlink(missing_ok=True)


def _write_checkpoint(index: Index, index_file: Path, meta: dict[str, object]) -> None:
    """The partial index under a new name, then the description naming it, then the previous part
    goes; each file is written whole under a temporary name and renamed, so a kill at any moment
    leaves a description that names a complete part."""
    part = _checkpoint_part(index_file, int(str(meta["last_pk"])))
    meta_file = _checkpoint_meta(index_file)
    index_file.parent.mkdir(parents=True, exist_ok=True)
    _replace(part, lambda tmp: index.save(str(tmp)))
    _replace(meta_file, lambda tmp: tmp.write_text(json.dumps({**meta, "file": part.name}), encoding="utf-8"))
    _clear_checkpoints(index_file, keep=(part, meta_file))


def _replace(path: Path, write: Callable[[Path], object]) -> None:
    """Write `path` through a temporary name, flushed to disk before the rename (so a reboot cannot
    leave the new name on a file whose data never reached the disk)."""
    tmp = path.with_name(path.name + ".tmp")
    write(tmp)
    fd = os.open(tmp, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)


def _resume(
    lib: Library, model_id: str, index_file: Path, count: int, progress: Progress | None
) -> tuple[Index, int] | None:
    """The partial index of an interrupted build and the last pk it holds, brought up to date with
    the changes logged since it started; None when there is no checkpoint, or one not to trust
    (then it is removed, and a warning says why)."""
    files = _checkpoint_files(index_file)
    if not files:
        return None
    loaded = _load_checkpoint(lib, model_id, index_file, count)
    if isinstance(loaded, str):
        log.warning("discarding the vector index checkpoint of %s: %s", model_id, loaded)
        if progress:
            progress(0, count, f"checkpoint discarded ({loaded}); building the vector index anew")
        _clear_checkpoints(index_file)
        return None
    index, last_pk, changed = loaded
    _apply_changes(lib, model_id, index, [pk for pk in changed if pk <= last_pk])  # above: read next
    log.info("resuming the vector index of %s at %d of %d vectors", model_id, len(index), count)
    if progress:
        progress(len(index), count, f"resuming the vector index at {len(index):,} of {count:,}")
    return index, last_pk


def _load_checkpoint(
    lib: Library, model_id: str, index_file: Path, count: int
) -> tuple[Index, int, list[int]] | str:
    """The checkpoint's index, last pk, and the papers whose vectors changed since its build began;
    or the reason not to use it."""
    meta = _read_meta(_checkpoint_meta(index_file))
    if not isinstance(meta, dict):
        return "its description is missing or unreadable"
    for key, want in _checkpoint_kind(model_id).items():
        if meta.get(key) != want:
            return f"it was made with {key} {meta.get(key)!r}, not {want!r}"
    try:
        seq, last_pk, dim, size = (int(meta[k]) for k in ("seq", "last_pk", "dim", "vectors"))
        part = _checkpoint_part(index_file, last_pk)
        if meta.get("file") != part.name:
            return f"its description names {meta.get('file')!r}, not {part.name}"
    except (KeyError, TypeError, ValueError) as e:
        return f"its description is incomplete ({type(e).__name__}: {e})"
    index = _restore(part, view=False)
    if index is None:
        return f"cannot read {part.name}"
    if index.ndim != dim or len(index) != size or not index.contains(last_pk):
        return f"{part.name} does not hold the {size:,} vectors of dimension {dim} its description says"
    if index.connectivity != CONNECTIVITY:
        return f"{part.name} has connectivity {index.connectivity}, not {CONNECTIVITY}"
    generation = lib.embedding_generation()
    if seq > generation:
        return (
            f"the library's change log ends at {generation}, before the checkpoint's {seq}: another library?"
        )
    changed = lib.embedding_changes(model_id, seq)
    if len(changed) > REBUILD_SHARE * count:
        return f"{len(changed):,} vectors changed since it was saved: building anew is quicker"
    return index, last_pk, changed


def _patch(
    lib: Library, model_id: str, index_file: Path, changed: list[int], upto: int
) -> tuple[Index | None, str]:
    """The saved index with the changed papers' vectors applied ("updated"), or a new one
    ("built") when the file cannot be read."""
    index = _restore(index_file, view=False)
    if index is None:
        return _build(lib, model_id, lib.embedding_models().get(model_id, 0), upto, index_file, None), "built"
    _apply_changes(lib, model_id, index, changed)
    return index, "updated"


def _sound(index_file: Path, meta: dict) -> bool:
    """Whether the index file is the one `meta` describes: a torn or replaced file is rebuilt even when
    no vector changed since. A description from before sizes were recorded: a file usearch opens."""
    if "bytes" in meta:
        return _size_fits(index_file, meta)
    return index_file.exists() and _restore(index_file, view=True) is not None


def _size_fits(index_file: Path, meta: dict) -> bool:
    """The file's size is the one saved (true where the description records none)."""
    try:
        return "bytes" not in meta or index_file.stat().st_size == meta["bytes"]
    except OSError:
        return False


def _restore(path: Path, view: bool) -> Index | None:
    """The index in `path`, or None when it cannot be read (usearch raises on a truncated or foreign
    file: "File is corrupted and can't fit all the nodes", "Not a dense USearch index!")."""
    from usearch.index import Index

    try:
        return Index.restore(str(path), view=view)
    except (ValueError, RuntimeError, OSError) as e:
        log.warning("cannot read %s: %s", path, e)
        return None


def _apply_changes(lib: Library, model_id: str, index: Index, changed: list[int]) -> None:
    """Each changed paper's old vector out of the index, its current one (if it has one) in."""
    gone = np.asarray(changed, dtype=np.uint64)
    index.remove(gone[np.asarray(index.contains(gone), dtype=bool)])
    rows = list(lib.vectors_of(model_id, changed))
    if rows:
        matrix = np.frombuffer(b"".join(b for _, b in rows), dtype=np.float32).reshape(len(rows), -1)
        index.add(np.asarray([pk for pk, _ in rows], dtype=np.uint64), matrix)


def _save(index: Index, index_file: Path, meta_file: Path, meta: dict[str, object]) -> None:
    """Write both files through temporary names: a crash leaves the old pair or the new one."""
    index_file.parent.mkdir(parents=True, exist_ok=True)
    tmp = index_file.with_name(index_file.name + ".tmp")
    index.save(str(tmp))
    meta = {**meta, "bytes": tmp.stat().st_size}
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
        view = _restore(files[0], view=True) if _size_fits(files[0], meta) else None
        if view is None:  # torn or unreadable: exact search until `paperradar index` builds it again
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
