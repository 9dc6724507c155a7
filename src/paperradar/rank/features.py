"""Library-wide ranking features, computed once per library generation.

Every paper gets a lexical row (TF-IDF over words and word pairs with one library-wide
vocabulary, as arxiv-sanity-lite does) and, where the library has embeddings, a dense row (the
best vector each paper has). Ranking a profile is then matrix work on ready rows.

The vocabulary is refitted only when the library changed a lot since it was fitted
(`Policy.refit_share`); otherwise a changed or new paper is transformed with the vocabulary in
force and only its row is replaced, and a deleted paper's row is dropped. Rows and vocabulary are
kept in memory per process and on disk beside the library (`<library>.features/`), so a new
process reads them instead of refitting. `load_features` brings them up to date (minutes at 100k
papers: import, index, sync and background jobs call it, see `build_features`); a request takes
`current_features`, the newest that exist, and never builds (rank/ready.py). From 200,000 papers
the rows are only those rankings use (rank/working_set.py: the same rankings). Pure functions plus
those, which do I/O (the library and the cache folder).
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
from sklearn.preprocessing import normalize

from ..embed import text_for
from ..progress import Progress
from ..storage.base import Library
from . import working_set

if TYPE_CHECKING:
    from ..index import Embedder

log = logging.getLogger(__name__)
# bump when the files' meaning changes: older caches are rebuilt (2: the 300,000-term cap; 3: the
# vocabulary fitted on up to 120,000 papers)
FORMAT = 3
TOKENS = r"(?u)\b[a-zA-Z_][a-zA-Z0-9_]+\b"  # arxiv-sanity-lite's token pattern
# papers the vocabulary is fitted on at most (a fixed sample by id hash). 120,000 rather than
# 60,000: on arXiv-118k the fit on every paper keeps rarer terms (min_df 5 of more papers; the
# 300,000-term cap then binds) and lifted recall@50 by 1.03x and nDCG@50 by 1.02x on the dev
# authors of both dev cuts (bench/eval_holdout.py round 12, docs/evaluation.md); fitting 118k
# papers took 47 s instead of 34 s. A working-set library (rank/working_set.py) fits on the
# HASH_ROWS papers it holds rows for, at most.
FIT_SAMPLE = 120_000
EMBED_ON_THE_FLY = 2000  # papers without a vector embedded at once at most (else zero rows)


@dataclass(frozen=True)
class Policy:
    """When the vocabulary is refitted rather than reused."""

    refit_share: float = 0.25  # papers changed since the fit, as a share of those it was fitted on
    small: int = 2000  # below this many papers every change refits (it is cheap, and words matter)
    # arxiv-sanity-lite caps its vocabulary at 20,000 terms; an author's later papers share rare terms
    # (method and data-set names) with their earlier ones, and keeping them lifted recall@50 on the
    # dev authors by 1.19x with dense weight 0.25 (bench/eval_holdout.py rounds 9-10,
    # docs/evaluation.md). 300,000 keeps every term a 60,000-paper fit finds (~225,000 at min_df 5)
    # while bounding the rows' size; a fit on 118,000 papers finds more, and keeps the 300,000 most
    # frequent.
    max_features: int = 300_000
    # arxiv-sanity-lite's cut-offs (min_df 5, max_df 0.1, best of round 11) loosened for small
    # libraries (fit_vocabulary); a value here replaces them (a dev round's, bench/eval_holdout.py)
    min_df: int | None = None
    max_df: float | None = None


@dataclass
class Vocabulary:
    """Terms and their inverse document frequencies: sublinear tf x idf, rows L2-normalised."""

    terms: list[str]
    idf: np.ndarray
    fitted_on: int  # papers in the library when it was fitted

    def transform(self, texts: Sequence[str]) -> sparse.csr_matrix:
        counts = _counter({t: i for i, t in enumerate(self.terms)}).transform(texts).astype(np.float32)
        counts.data = 1.0 + np.log(counts.data)
        return normalize(counts @ sparse.diags(self.idf.astype(np.float32)), copy=False).tocsr()


def _counter(vocabulary: dict[str, int] | None = None, max_features: int | None = None) -> CountVectorizer:
    return CountVectorizer(
        strip_accents="unicode",
        stop_words="english",
        token_pattern=TOKENS,
        ngram_range=(1, 2),
        vocabulary=vocabulary,
        max_features=max_features,
        dtype=np.float32,
    )


def fit_vocabulary(texts: Sequence[str], policy: Policy = Policy()) -> Vocabulary:
    """arxiv-sanity-lite's settings (1-2 grams, sublinear tf, max_df 0.1, min_df 5), loosened for
    small libraries where those cut-offs would leave nothing."""
    n = len(texts)
    vec = TfidfVectorizer(
        strip_accents="unicode",
        stop_words="english",
        token_pattern=TOKENS,
        ngram_range=(1, 2),
        max_features=policy.max_features,
        sublinear_tf=True,
        max_df=policy.max_df or (0.1 if n >= 5000 else (0.5 if n >= 50 else 1.0)),
        min_df=policy.min_df or (5 if n >= 5000 else (2 if n >= 50 else 1)),
        dtype=np.float32,
    )
    try:
        vec.fit(texts)
    except ValueError:  # no usable words at all
        return Vocabulary([], np.zeros(0, dtype=np.float32), n)
    return Vocabulary([str(t) for t in vec.get_feature_names_out()], vec.idf_.astype(np.float32), n)


@dataclass
class Features:
    """The rows of every paper of one library generation."""

    key: list[object]  # what the library looked like: count, newest pk, newest update
    pks: np.ndarray  # int64, ascending
    lexical: sparse.csr_matrix  # one L2-normalised row per paper
    vocabulary: Vocabulary
    stamp: str  # the newest updated_at the rows reflect
    changed: int = 0  # papers transformed since the vocabulary was fitted
    dense: np.ndarray | None = None  # unit rows (zero where a paper has no vector)
    dense_key: list[object] = field(default_factory=list)
    hash_order: np.ndarray | None = None  # row indices ordered by a hash of the paper id
    partial: bool = False  # built for one request over some papers only (rank/ready.py): never kept
    scope: str = "library"  # "library": a row per paper; "working": rank/working_set.py's papers
    made: int = 0  # rows made on the spot for a request since these were built (rank/ready.py)

    def rows(self, pks: Sequence[int] | np.ndarray) -> np.ndarray:
        """Row indices of these papers (-1 for a paper not in the features)."""
        want = np.asarray(pks, dtype=np.int64)
        if not len(self.pks):
            return np.full(len(want), -1, dtype=np.int64)
        at = np.minimum(np.searchsorted(self.pks, want), len(self.pks) - 1)
        return np.where(self.pks[at] == want, at, -1)

    @property
    def names(self) -> np.ndarray:
        return np.asarray(self.vocabulary.terms, dtype=object)


_MEMORY: dict[str, Features] = {}
_SEEN: dict[str, tuple[int, ...]] = {}  # the cache folder's files as they were when _MEMORY was set
_LOCK = threading.Lock()


def library_key(lib: Library) -> list[object]:
    """A cheap fingerprint of the papers table: it changes whenever a paper is added, changed
    (its updated_at moves) or deleted."""
    return list(_key_row(lib))


def _key_row(lib: Library) -> tuple[int, int, str]:
    s = lib.papers_stamp()
    return s.count, s.max_pk, s.max_updated_at


def load_features(lib: Library, policy: Policy = Policy(), dense: bool = True) -> Features:
    """The library's features, brought up to date: from memory, else from the cache folder,
    else built; a changed library updates only the rows that changed (or refits, see Policy)."""
    key = list(_key_row(lib))
    with _LOCK:
        feats = _MEMORY.get(lib.path) or _read_cache(lib)
        if feats is None:
            feats = _build(lib, key, policy)
        elif feats.key != key or feats.scope != working_set.scope_of(key):
            feats = _update(lib, feats, key, policy)
        if dense:
            _attach_dense(lib, feats)
        if lib.path != ":memory:":
            _remember(lib, feats)
    return feats


def build_features(lib: Library, progress: Progress | None = None) -> dict[str, object]:
    """Bring the library's features up to date (after import, index, sync; in a background job):
    what a request then ranks with. Returns what was built, for the CLI and the job's result."""
    if progress is not None:
        progress(0, None, "building the ranking features")
    feats = load_features(lib)
    return {"papers": len(feats.pks), "terms": len(feats.vocabulary.terms), "dense": feats.dense is not None}


def current_features(lib: Library) -> Features | None:
    """The newest features that exist (in memory, or newer ones another process left in the
    cache folder), whatever the library looks like now: never builds. None when there are none.
    Dense rows come along when they were made for these very rows."""
    if lib.path == ":memory:":
        return None
    with _LOCK:
        mem, stamp = _MEMORY.get(lib.path), _files_stamp(lib)
        if mem is not None and _SEEN.get(lib.path) == stamp:
            return mem
        disk = _read_cache(lib)
        if disk is None:
            return mem
        if mem is not None and mem.key == disk.key and mem.dense is not None:
            _SEEN[lib.path] = stamp
            return mem
        disk.dense, disk.dense_key = _read_dense_for(lib, disk.key)
        _remember(lib, disk)
        return disk


def _remember(lib: Library, feats: Features) -> None:
    _MEMORY[lib.path] = feats
    _SEEN[lib.path] = _files_stamp(lib)


def remember_extended(lib: Library, old: Features, new: Features) -> None:
    """Keep `new` (old's rows plus rows made for a request) in memory in place of `old`."""
    with _LOCK:
        if _MEMORY.get(lib.path) is old:
            _MEMORY[lib.path] = new


def _files_stamp(lib: Library) -> tuple[int, ...]:
    """Which versions of the cache folder's files are there (each write is a new file)."""
    folder = cache_dir(lib)
    out: list[int] = []
    for name in ("meta.json", "dense.json"):
        try:
            st = os.stat(folder / name) if folder else None
            out += [st.st_ino, st.st_mtime_ns] if st else [0, 0]
        except OSError:
            out += [0, 0]
    return tuple(out)


def forget(lib: Library | None = None) -> None:
    """Drop the in-memory features (of one library, or all): the next load reads the disk cache."""
    with _LOCK:
        if lib is None:
            _MEMORY.clear()
            _SEEN.clear()
        else:
            _MEMORY.pop(lib.path, None)
            _SEEN.pop(lib.path, None)


def _all_pks(lib: Library) -> np.ndarray:
    return np.fromiter(lib.all_pks(), dtype=np.int64)


def _texts(lib: Library, pks: Sequence[int] | np.ndarray) -> list[str]:
    got: dict[int, str] = {}
    for i in range(0, len(pks), 5000):
        for pk, title, abstract in lib.paper_texts_of([int(p) for p in pks[i : i + 5000]]):
            got[pk] = text_for(title, abstract)
    return [got.get(int(pk), "") for pk in pks]


def _ids(lib: Library, pks: np.ndarray) -> list[str]:
    got = lib.paper_ids()
    return [got.get(int(pk), "") for pk in pks]


def id_hash_order(ids: Sequence[str], seed: str = "negatives") -> np.ndarray:
    """Row indices ordered by a hash of each paper's id: a random order that depends only on the
    ids, never on row numbers or insertion order (the same on every machine and rebuild)."""
    return np.argsort(working_set.hash_keys(ids, seed), kind="stable").astype(np.int64)


def _build(lib: Library, key: list[object], policy: Policy) -> Features:
    scope = working_set.scope_of(key)
    if scope == "working":
        pks, order = working_set.working_set(lib)
    else:
        pks = _all_pks(lib)
        order = id_hash_order(_ids(lib, pks))
    texts = _texts(lib, pks)
    sample = [texts[i] for i in sorted(order[:FIT_SAMPLE])]
    vocab = fit_vocabulary(sample, policy)
    vocab.fitted_on = int(str(key[0]))
    lexical = _transform(vocab, texts)
    log.info(
        "features: fitted %d terms on %d papers; %d rows (%s)", len(vocab.terms), len(sample), len(pks), scope
    )
    feats = Features(key, pks, lexical, vocab, str(key[2]), hash_order=order, scope=scope)
    _write_cache(lib, feats)
    return feats


def _transform(vocab: Vocabulary, texts: Sequence[str]) -> sparse.csr_matrix:
    if not vocab.terms:
        return sparse.csr_matrix((len(texts), 0), dtype=np.float32)
    parts = [vocab.transform(texts[i : i + 20_000]) for i in range(0, len(texts), 20_000)]
    return sparse.vstack(parts, format="csr") if parts else sparse.csr_matrix((0, len(vocab.terms)))


def _update(lib: Library, old: Features, key: list[object], policy: Policy) -> Features:
    """Replace the rows of changed papers, add new ones, drop deleted ones; refit when the
    library changed a lot since the vocabulary was fitted."""
    if old.scope != working_set.scope_of(key):
        return _build(lib, key, policy)
    if old.scope == "working":
        return _update_working(lib, old, key, policy)
    pks = _all_pks(lib)
    touched = lib.papers_updated_after(old.stamp)
    fresh = set(pks.tolist()) - set(old.pks.tolist())
    todo = sorted(touched | fresh)
    changed = old.changed + len(todo) + (len(old.pks) - (len(pks) - len(fresh)))
    if len(pks) < policy.small or changed > policy.refit_share * max(old.vocabulary.fitted_on, 1):
        log.info("features: %d papers changed since the fit; refitting", changed)
        return _build(lib, key, policy)
    keep = old.rows(pks)
    keep[np.isin(pks, np.asarray(todo, dtype=np.int64))] = -1
    lexical = _merge_rows(old.lexical, keep, _transform(old.vocabulary, _texts(lib, pks[keep < 0])))
    order = id_hash_order(_ids(lib, pks)) if len(pks) != len(old.pks) or fresh else old.hash_order
    feats = Features(key, pks, lexical, old.vocabulary, str(key[2]), changed, hash_order=order)
    _write_cache(lib, feats)
    return feats


def _update_working(lib: Library, old: Features, key: list[object], policy: Policy) -> Features:
    """_update for a working set: the set is chosen again (new papers, new profile papers), rows
    of papers changed since are made again, the others kept; a big change refits."""
    touched = lib.papers_updated_after(old.stamp)
    added = sum(1 for pk in touched if pk > int(str(old.key[1])))
    deleted = max(0, int(str(old.key[0])) + added - int(str(key[0])))
    changed = old.changed + len(touched) + deleted
    if changed > policy.refit_share * max(old.vocabulary.fitted_on, 1):
        log.info("features: %d papers changed since the fit; refitting", changed)
        return _build(lib, key, policy)
    pks, order = working_set.working_set(lib)
    keep = old.rows(pks)
    keep[np.isin(pks, np.fromiter(touched, dtype=np.int64, count=len(touched)))] = -1
    lexical = _merge_rows(old.lexical, keep, _transform(old.vocabulary, _texts(lib, pks[keep < 0])))
    feats = Features(
        key, pks, lexical, old.vocabulary, str(key[2]), changed, hash_order=order, scope="working"
    )
    _write_cache(lib, feats)
    return feats


def _merge_rows(old: sparse.csr_matrix, keep: np.ndarray, new_rows: sparse.csr_matrix) -> sparse.csr_matrix:
    """Rows in the new order: old row keep[i] where keep[i] >= 0, else the next of `new_rows`."""
    stacked = sparse.vstack([old, new_rows], format="csr")
    pick = keep.copy()
    pick[keep < 0] = old.shape[0] + np.arange(int((keep < 0).sum()))
    return stacked[pick]


# ---------------------------------------------------------------- dense rows


def _attach_dense(lib: Library, feats: Features) -> None:
    """The best vector each paper has (index.best_index's tier), one unit row per paper."""
    embedder = _main_embedder(lib) if feats.scope == "working" else _best_embedder(lib)
    if embedder is None:
        feats.dense, feats.dense_key = None, []
        return
    key: list[object] = [embedder.model_id, lib.embedding_generation(), feats.key]
    if feats.dense is not None and feats.dense_key == key:
        return
    cached = _read_dense(lib, key, len(feats.pks))
    if cached is None:
        cached = _dense_matrix(lib, feats, embedder)
        _write_dense(lib, key, cached)
    feats.dense, feats.dense_key = cached, key


def _main_embedder(lib: Library) -> Embedder | None:
    from ..index import main_embedder

    return main_embedder(lib)


def _best_embedder(lib: Library) -> Embedder | None:
    from ..index import best_index

    found = best_index(lib)
    return None if found is None else found[1]


def _dense_matrix(lib: Library, feats: Features, embedder: Embedder) -> np.ndarray:
    """The best vector each paper has (index.best_vectors: the quality tier's where there is one,
    else the fast tier's); papers with none are embedded now when few, else left as zero rows."""
    from ..index import best_vectors

    if feats.scope == "working":
        got: tuple[np.ndarray, np.ndarray] | None = working_set.model_vectors(lib, feats.pks, embedder)
    else:
        got = best_vectors(lib, feats.pks.tolist())
    if got is None:
        out = np.zeros((len(feats.pks), int(embedder.dim)), dtype=np.float32)
        have = np.zeros(len(feats.pks), dtype=bool)
    else:
        out, have = got
    missing = np.flatnonzero(~have)
    if 0 < len(missing) <= EMBED_ON_THE_FLY:
        texts = _texts(lib, feats.pks[missing])
        out[missing] = np.asarray(embedder.embed_batch(texts), dtype=np.float32)
    return normalize(out).astype(np.float32)


# ---------------------------------------------------------------- the cache folder


def cache_dir(lib: Library) -> Path | None:
    """Where a library's features are kept: `<library>.features/` (None for an in-memory one)."""
    from ..storage import side_path  # beside a SQLite file; in the data folder for PostgreSQL

    return side_path(lib.path, ".features")


def _write_cache(lib: Library, feats: Features) -> None:
    folder = cache_dir(lib)
    if folder is None:
        return
    try:
        folder.mkdir(exist_ok=True)
        meta = {
            "format": FORMAT,
            "key": feats.key,
            "stamp": feats.stamp,
            "changed": feats.changed,
            "fitted_on": feats.vocabulary.fitted_on,
            "terms": feats.vocabulary.terms,
            "scope": feats.scope,
        }
        _atomic(folder / "idf.npy", lambda f: np.save(f, feats.vocabulary.idf))
        _atomic(folder / "pks.npy", lambda f: np.save(f, feats.pks))
        _atomic(folder / "order.npy", lambda f: np.save(f, _order(feats)))
        _atomic(folder / "lexical.npz", lambda f: sparse.save_npz(f, feats.lexical, compressed=False))
        _atomic(folder / "meta.json", lambda f: f.write(json.dumps(meta).encode()))
    except OSError as e:  # a read-only folder: features still work, only from memory
        log.warning("features: cannot write %s: %s", folder, e)


def _order(feats: Features) -> np.ndarray:
    return feats.hash_order if feats.hash_order is not None else np.arange(len(feats.pks))


def _atomic(path: Path, write: object) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)  # type: ignore[operator]
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _read_cache(lib: Library) -> Features | None:
    folder = cache_dir(lib)
    if folder is None or not (folder / "meta.json").is_file():
        return None
    try:
        meta = json.loads((folder / "meta.json").read_text())
        if meta.get("format") != FORMAT:
            return None
        vocab = Vocabulary(meta["terms"], np.load(folder / "idf.npy"), int(meta["fitted_on"]))
        lexical = sparse.load_npz(folder / "lexical.npz").tocsr()
        pks = np.load(folder / "pks.npy")
        order = np.load(folder / "order.npy")
    except (OSError, ValueError, KeyError) as e:
        log.warning("features: unreadable cache in %s (%s); rebuilding", folder, e)
        return None
    scope = str(meta.get("scope", "library"))
    if lexical.shape[0] != len(pks) or (
        len(order) != len(pks) if scope == "library" else len(order) > len(pks)
    ):
        return None
    return Features(
        meta["key"], pks, lexical, vocab, meta["stamp"], int(meta["changed"]), hash_order=order, scope=scope
    )


def _read_dense(lib: Library, key: list[object], n: int) -> np.ndarray | None:
    folder = cache_dir(lib)
    if folder is None or not (folder / "dense.json").is_file():
        return None
    try:
        if json.loads((folder / "dense.json").read_text()) != json.loads(json.dumps(key)):
            return None
        m = np.load(folder / "dense.npy")
    except (OSError, ValueError):
        return None
    return m if m.shape[0] == n else None


def _read_dense_for(lib: Library, rows_key: list[object]) -> tuple[np.ndarray | None, list[object]]:
    """The cached dense rows if they were made for these rows (whatever vectors changed since)."""
    folder = cache_dir(lib)
    try:
        key = json.loads((folder / "dense.json").read_text()) if folder else None
        if not key or key[2] != json.loads(json.dumps(rows_key)):
            return None, []
        return np.load(folder / "dense.npy", mmap_mode="r"), key  # type: ignore[operator]
    except (OSError, ValueError, IndexError, TypeError):
        return None, []


def _write_dense(lib: Library, key: list[object], m: np.ndarray) -> None:
    folder = cache_dir(lib)
    if folder is None:
        return
    try:
        folder.mkdir(exist_ok=True)
        _atomic(folder / "dense.npy", lambda f: np.save(f, m))
        _atomic(folder / "dense.json", lambda f: f.write(json.dumps(key).encode()))
    except OSError as e:
        log.warning("features: cannot write %s: %s", folder, e)
