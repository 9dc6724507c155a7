"""The features a request ranks with: the newest that exist, never built inside the request.

Building a big library's features (rank/features.py) takes minutes, so a request (a like, the
home page, a digest, `recommend`) never does it. It takes the features in memory or in the cache
folder even when the library changed since (stale but usable), asks the host for a build in the
background (`set_builder`: the web server queues a job; the CLI builds at the end of import,
index and sync), and makes rows on the spot for the few papers it needs that the stale features
lack (the vocabulary in force, their stored vectors). With no features at all it ranks on
features of the papers it needs plus a fixed sample of the library (`partial`), and logs so.
Libraries under `INLINE_BELOW` papers are brought up to date inline: that takes well under a
second. Does I/O: reads the library and the cache folder.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from scipy import sparse
from sklearn.preprocessing import normalize

from ..progress import Progress
from ..storage.base import Library
from . import features as F

log = logging.getLogger(__name__)

INLINE_BELOW = 2000  # papers: a smaller library is brought up to date inside the request
EXTEND_AT_MOST = 20_000  # rows made on the spot for papers the stale features lack, at most
KEEP_MADE_ROWS = 100_000  # rows made on the spot kept in memory beside a working set, at most
PARTIAL_SAMPLE = 1000  # library papers (a fixed sample) beside the needed ones, without features

Builder = Callable[[Library], None]
_BUILDERS: dict[str, Builder] = {}  # library path -> who builds its features in the background


def set_builder(lib_path: str, builder: Builder | None) -> None:
    """Who builds fresh features of the library at `lib_path` when a request finds them stale:
    the web server's job runner. None (the default): nobody; the log says to run `paperradar index`."""
    if builder is None:
        _BUILDERS.pop(lib_path, None)
    else:
        _BUILDERS[lib_path] = builder


def features_for(lib: Library, pks: Sequence[int], sample: int = PARTIAL_SAMPLE) -> F.Features:
    """Features with a row for each of `pks` that is in the library, without building the
    library's features (except for a small library, see INLINE_BELOW). `sample`: library papers
    added when there are no features at all (0 for work on `pks` alone, such as naming interests)."""
    key = F.library_key(lib)
    if int(str(key[0])) < INLINE_BELOW or lib.path == ":memory:":
        return F.load_features(lib)
    feats = F.current_features(lib)
    if feats is None or feats.key != key:
        _ask_for_build(lib, feats, key)
    if feats is None:
        return partial(lib, pks, sample)
    return extended(lib, feats, pks)


def _ask_for_build(lib: Library, feats: F.Features | None, key: list[object]) -> None:
    had = "none" if feats is None else f"features of {len(feats.pks):,} papers"
    builder = _BUILDERS.get(lib.path)
    if builder is None:
        log.warning(
            "ranking features are out of date (%s; library %s papers): run `paperradar index`", had, key[0]
        )
        return
    log.info("ranking features are out of date (%s); ranking with them while a build runs", had)
    try:
        builder(lib)
    except Exception:  # the ranking goes on with what exists; the next request asks again
        log.exception("could not start a features build")


# ---------------------------------------------------------------- rows made on the spot


def extended(lib: Library, feats: F.Features, pks: Sequence[int]) -> F.Features:
    """`feats` plus rows for those of `pks` it lacks (kept in memory for the next request)."""
    want = np.unique(np.asarray(list(pks), dtype=np.int64))
    if not (feats.rows(want) < 0).any():
        return feats
    missing = _missing(lib, feats, want)
    if not len(missing):
        return feats
    why = "not in the working set" if feats.scope == "working" else "the features are stale"
    log.info("ranking features: %d papers made on the spot (%s)", len(missing), why)
    lexical = feats.vocabulary.transform(F._texts(lib, missing)) if feats.vocabulary.terms else None
    if lexical is None:
        lexical = sparse.csr_matrix((len(missing), feats.lexical.shape[1]), dtype=np.float32)
    dense = None
    if feats.dense is not None:
        dense = stored_vectors(lib, missing.tolist(), feats.dense.shape[1], _model_of(feats))
    out = _merged(feats, missing, lexical, dense)
    if feats.scope != "working" or out.made <= KEEP_MADE_ROWS:  # memory stays bounded
        F.remember_extended(lib, feats, out)
    return out


def _missing(lib: Library, feats: F.Features, want: np.ndarray) -> np.ndarray:
    """The papers to make rows for: those of `want` the features lack; for a whole-library
    feature set, every paper it lacks while few (later requests reuse them). A working set
    (rank/working_set.py) never scans the library: only the wanted papers."""
    if feats.scope == "working":
        lacking = want[feats.rows(want) < 0]
        return np.asarray(sorted(lib.existing_pks(lacking.tolist())), dtype=np.int64)[:EXTEND_AT_MOST]
    library = F._all_pks(lib)
    missing = library[feats.rows(library) < 0]
    if len(missing) > EXTEND_AT_MOST:
        missing = np.intersect1d(missing, want)[:EXTEND_AT_MOST]
    return missing


def _existing(lib: Library, pks: list[int]) -> list[int]:
    got = lib.existing_pks(pks)
    return [p for p in pks if p in got]


def _model_of(feats: F.Features) -> str | None:
    return str(feats.dense_key[0]) if feats.dense_key else None


def _merged(
    feats: F.Features, new_pks: np.ndarray, lexical: sparse.csr_matrix, dense: np.ndarray | None
) -> F.Features:
    """Old and new rows in pk order; the id-hash order keeps the old rows' order (the new rows
    go last, so the sampled negatives stay what they were)."""
    if not len(feats.pks) or new_pks.min() > feats.pks.max():
        return _appended(feats, new_pks, lexical, dense)
    pks = np.concatenate([feats.pks, new_pks])
    order = np.argsort(pks, kind="stable")
    where = np.empty(len(pks), dtype=np.int64)
    where[order] = np.arange(len(pks))
    old_order = feats.hash_order if feats.hash_order is not None else np.arange(len(feats.pks))
    hash_order = np.concatenate([where[old_order], where[len(feats.pks) :]])
    stacked = sparse.vstack([feats.lexical, lexical], format="csr")[order]
    rows = None
    if feats.dense is not None and dense is not None:
        rows = np.concatenate([np.asarray(feats.dense), dense])[order]
    return F.Features(
        feats.key,
        pks[order],
        stacked,
        feats.vocabulary,
        feats.stamp,
        feats.changed,
        dense=rows,
        dense_key=feats.dense_key,
        hash_order=hash_order,
        scope=feats.scope,
        made=feats.made + len(new_pks),
    )


def _appended(
    feats: F.Features, new_pks: np.ndarray, lexical: sparse.csr_matrix, dense: np.ndarray | None
) -> F.Features:
    """New papers (higher row ids than every old one, the usual case) go after the old rows:
    the arrays are joined, nothing is reordered."""
    old, new = feats.lexical, lexical.tocsr()
    stacked = sparse.csr_matrix(
        (
            np.concatenate([old.data, new.data]),
            np.concatenate([old.indices, new.indices]),
            np.concatenate([old.indptr, new.indptr[1:] + old.indptr[-1]]),
        ),
        shape=(old.shape[0] + new.shape[0], old.shape[1]),
    )
    old_order = feats.hash_order if feats.hash_order is not None else np.arange(len(feats.pks))
    rows = None
    if feats.dense is not None and dense is not None:
        rows = np.concatenate([np.asarray(feats.dense), dense])
    return F.Features(
        feats.key,
        np.concatenate([feats.pks, new_pks]),
        stacked,
        feats.vocabulary,
        feats.stamp,
        feats.changed,
        dense=rows,
        dense_key=feats.dense_key,
        hash_order=np.concatenate([old_order, np.arange(len(feats.pks), len(feats.pks) + len(new_pks))]),
        scope=feats.scope,
        made=feats.made + len(new_pks),
    )


def stored_vectors(lib: Library, pks: list[int], dim: int, prefer: str | None) -> np.ndarray:
    """A unit row per paper from the vectors already stored (the `prefer` model's, else any of
    this width); zero rows for papers with none. Nothing is embedded here."""
    out = np.zeros((len(pks), dim), dtype=np.float32)
    at = {pk: i for i, pk in enumerate(pks)}
    best: dict[int, bool] = {}
    for pk, model_id, blob in lib.any_vectors_of(pks):
        v = np.frombuffer(blob, dtype=np.float32)
        if len(v) != dim or best.get(pk):
            continue
        out[at[pk]] = v
        best[pk] = model_id == prefer
    return normalize(out).astype(np.float32)


# ---------------------------------------------------------------- no features at all


def partial(lib: Library, pks: Sequence[int], size: int = PARTIAL_SAMPLE) -> F.Features:
    """Features of `pks` and a fixed sample of `size` library papers (by a hash of the row id,
    the same on every run), with a vocabulary fitted on them: enough until the build is done."""
    sample = lib.sample_pks(size) if size else []
    all_pks = np.asarray(
        sorted(set(_existing(lib, list(pks))[:EXTEND_AT_MOST]) | set(sample)), dtype=np.int64
    )
    texts = F._texts(lib, all_pks)
    vocab = F.fit_vocabulary(texts)
    order = F.id_hash_order([str(p) for p in all_pks.tolist()])
    feats = F.Features(
        ["partial", len(all_pks)], all_pks, F._transform(vocab, texts), vocab, "", partial=True
    )
    feats.hash_order = order
    dense = _partial_dense(lib, all_pks)
    if dense is not None:
        feats.dense, feats.dense_key = dense, ["partial"]
    log.warning(
        "ranking features: none built yet; ranked on %d papers' features (a build was asked for)",
        len(all_pks),
    )
    return feats


def _partial_dense(lib: Library, pks: np.ndarray) -> np.ndarray | None:
    model = lib.main_vector_model()
    if model is None:
        return None
    return stored_vectors(lib, pks.tolist(), model.dim, model.model_id)


# ---------------------------------------------------------------- the web server's builder


class JobBuilder:
    """A builder for the web server: queues one features job at a time on its JobRunner."""

    def __init__(self, runner: Any):
        self.runner = runner
        self.pending: int | None = None
        self._lock = threading.Lock()

    def __call__(self, lib: Library) -> None:
        with self._lock:
            future = self.runner.futures.get(self.pending) if self.pending is not None else None
            if future is not None and not future.done():
                return
            self.pending = self.runner.submit(lib, "features", build_job)


def build_job(lib: Library, progress: Progress) -> dict[str, Any]:
    """The background job (in the server's worker process): build the library's features."""
    return F.build_features(lib)
