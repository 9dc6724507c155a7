"""Keeping embeddings in step with the library, and searching them.

`update_index` embeds every paper whose text changed since it was last embedded by that model
(or was never embedded): incremental, resumable (each batch is committed), and it never
embeds unchanged text twice. `VectorIndex` is an exact (brute-force) cosine index over one
model's vectors, loaded from the library. Does I/O through the library and the embedder.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from .embed import TIER_DIRS, TIERS, Embedder, Tier
from .embed import text_for as text_of
from .errors import BackendUnavailable
from .progress import Progress
from .storage.base import Library

BATCH = 256


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
    lib: Library,
    embedder: Embedder,
    progress: Progress | None = None,
    batch: int = BATCH,
    only: Collection[int] | None = None,
) -> IndexReport:
    """Embed what is new or changed (of the papers `only`, when given: then only their texts and
    hashes are read); each batch is its own transaction, so a stop loses at most one."""
    start = time.perf_counter()
    report = IndexReport(embedder.model_id)
    todo: list[tuple[int, str]] = []  # (pk, text hash): texts are read again per batch, so memory
    for pk, h in _hashed(lib, embedder.model_id, only):  # stays small at a million papers
        if h is None:
            report.empty += 1
        elif isinstance(h, str):
            todo.append((pk, h))
        else:
            report.unchanged += 1
    for i in range(0, len(todo), batch):
        texts = {pk: text_of(t, a) for pk, t, a in lib.paper_texts_of([pk for pk, _ in todo[i : i + batch]])}
        chunk = [(pk, texts[pk], h) for pk, h in todo[i : i + batch] if pk in texts]
        vectors = np.asarray(embedder.embed_batch([t for _, t, _ in chunk]), dtype=np.float32)
        with lib.transaction():
            lib.put_embeddings(
                embedder.model_id,
                [(pk, h, v.tobytes()) for (pk, _, h), v in zip(chunk, vectors, strict=True)],
            )
            _recheck_changed(lib, {pk: h for pk, _, h in chunk})
        report.embedded += len(chunk)
        if progress:
            progress(report.embedded, len(todo), "embedding papers")
    report.seconds = time.perf_counter() - start
    return report


def _hashed(
    lib: Library, model_id: str, only: Collection[int] | None
) -> Iterator[tuple[int, str | bool | None]]:
    """Each paper's (of `only`'s) text hash where `model_id` has not embedded its text as it now
    reads; True where it has, None where the paper has no text. All papers: one pass over every
    text; `only`: their texts and hashes alone, 10,000 at a time."""
    if only is None:
        done = lib.embedding_hashes(model_id)
        for pk, title, abstract in lib.paper_texts():
            yield pk, _state_of(_hash_or_none(title, abstract), done.get(pk))
        return
    pks = sorted(only)
    for i in range(0, len(pks), 10_000):
        hashes = lib.vector_hashes_of(pks[i : i + 10_000])
        for pk, title, abstract in lib.paper_texts_of(pks[i : i + 10_000]):
            yield pk, _state_of(_hash_or_none(title, abstract), hashes.get(pk, {}).get(model_id))


def _state_of(h: str | None, stored: str | None) -> str | bool | None:
    return True if h is not None and stored == h else h


def _recheck_changed(lib: Library, embedded: dict[int, str]) -> None:
    """Inside the transaction that stores vectors: a paper whose text changed while it was being
    embedded goes on the text_checks list, so `lacking` sees its vector does not match."""
    changed = [pk for pk, t, a in lib.paper_texts_of(sorted(embedded)) if embedded[pk] != _hash_or_none(t, a)]
    if changed:
        lib.add_text_checks(changed)


def _hash_or_none(title: str | None, abstract: str | None) -> str | None:
    text = text_of(title, abstract)
    return text_hash(text) if text else None


def refresh_index(
    lib: Library,
    embedder: Embedder,
    progress: Progress | None = None,
    defer_share: float = 0.0,
    batch: int = BATCH,
    only: Collection[int] | None = None,
) -> dict[str, object]:
    """`paperradar index` for one tier: embed what changed (of `only`, when given), then bring the
    ANN index (if the library is big enough to have one) up to date (see `ann.sync_ann` for
    `defer_share`). Idempotent."""
    from .ann import sync_ann

    report = update_index(lib, embedder, progress, batch, only)
    started = time.perf_counter()
    ann = sync_ann(lib, embedder.model_id, progress, defer_share=defer_share)
    return {**report.as_json(), **ann, "ann_seconds": round(time.perf_counter() - started, 2)}


def quality_import_max() -> int:
    """New papers up to which an import is embedded by the quality tier (setting quality_import_max,
    default 2,000: a day's arXiv listing, about a minute on 2 cores).

    Read here, not handed in (tests/test_settings.py DEEP_READS): `index_new_papers` runs after
    every import and sync (CLI, web, watch), and this tuning knob is its only setting."""
    from .config import load_settings

    return load_settings().quality_import_max


@dataclass
class TextState:
    """What `lacking` needs to know of the library's texts without reading them all: the papers
    whose text changed since their vectors were checked and still differs from some vector of
    theirs (pk -> (text hash, {model id: its vector's hash})), the weak papers (no title or no
    id: few, indexed) and those of them without text (only a paper without a title can lack text:
    titles are stored cleaned, a blank one as none)."""

    changed: dict[int, tuple[str, dict[str, str]]]
    weak: set[int]
    empty: set[int]


def text_state(lib: Library) -> TextState:
    """Read the texts of the papers on the text_checks list (migration 16) and of the weak papers,
    and take off the list each paper whose vectors all match its text (or that has no text or no
    vector). The list is read and trimmed under the write lock, so a change committed meanwhile
    stays listed."""
    changed: dict[int, tuple[str, dict[str, str]]] = {}
    if lib.text_checks():
        with lib.transaction():
            queued = lib.text_checks()
            done: list[int] = []
            for i in range(0, len(queued), 10_000):
                hashes = lib.vector_hashes_of(queued[i : i + 10_000])
                for pk, title, abstract in lib.paper_texts_of(queued[i : i + 10_000]):
                    h, theirs = _hash_or_none(title, abstract), hashes.get(pk, {})
                    if h is None or all(v == h for v in theirs.values()):
                        done.append(pk)
                    else:
                        changed[pk] = (h, theirs)
            lib.drop_text_checks(done)
    weak = lib.weak_papers()
    empty = {pk for pk, t, a in lib.paper_texts_of(weak) if not text_of(t, a)}
    return TextState(changed, set(weak), empty)


def _vectorless(lib: Library, model_id: str, state: TextState) -> tuple[int, set[int]]:
    """The papers without a vector of `model_id`: how many of them are not weak (papers less
    vectors less weak papers without one: every vector's paper exists), and which weak papers with
    text are among them (looked up: they are few)."""
    hashes = lib.vector_hashes_of(sorted(state.weak))
    weak = {pk for pk in state.weak if model_id not in hashes.get(pk, {})}
    return lib.papers_stamp().count - lib.vector_count(model_id) - len(weak), weak - state.empty


def _vectorless_pks(lib: Library, model_id: str, state: TextState) -> set[int]:
    """Every paper with text and no vector of `model_id`: the count says how many of the papers
    that are not weak to read from the newest pk down (after an import: its new papers)."""
    others, weak = _vectorless(lib, model_id, state)
    return set(lib.vectorless_papers(model_id, others)) | weak


def lacking(
    lib: Library, model_id: str, others: list[str], at_most: int, state: TextState | None = None
) -> tuple[int, list[int]]:
    """How many papers `model_id` lacks (text it has not embedded as it now reads), and up to
    `at_most` of those, lowest pk first, that none of `others` has embedded either (new papers,
    or changed text). Reads no text but `text_state`'s: the count is the papers with text and no
    vector of the model plus those whose vector no longer matches; the new ones are the papers
    without a vector of the best-covered model (read from the newest pk down, as many as its
    count says) that have none of the others' either, and the changed ones no model has
    embedded as they now read."""
    state = state or text_state(lib)
    unweak, weak = _vectorless(lib, model_id, state)
    missing = unweak + len(weak)
    stale = sum(1 for h, theirs in state.changed.values() if theirs.get(model_id, h) != h)
    if at_most <= 0:
        return missing + stale, []
    models = [model_id, *others]
    widest = max(models, key=lib.vector_count)  # the fewest papers without its vector
    candidates = sorted(_vectorless_pks(lib, widest, state))
    hashes = lib.vector_hashes_of(candidates)
    new = {pk for pk in candidates if not any(m in hashes.get(pk, {}) for m in models)}
    new |= {pk for pk, (h, theirs) in state.changed.items() if all(theirs.get(m) != h for m in models)}
    return missing + stale, sorted(new)[:at_most]


def lacking_pks(lib: Library, model_id: str, state: TextState | None = None) -> list[int]:
    """Every paper `model_id` lacks (new, or text changed since it was embedded), by pk."""
    state = state or text_state(lib)
    found = _vectorless_pks(lib, model_id, state)
    found |= {pk for pk, (h, theirs) in state.changed.items() if theirs.get(model_id) != h}
    return sorted(found)


def import_tier(lib: Library) -> tuple[str, Embedder, list[int]] | None:
    """The tier that embeds an import's new papers, and which papers. The quality tier when what
    it lacks is few (up to `quality_import_max()`, a day's listing); else, when the papers no tier
    has embedded (the import's new ones) are that few, the quality tier for those alone: a
    profile's file or a day's listing in a big fast-tier library gets the vectors it is ranked by.
    The fast tier (~2,000/s) when many; None without models. Reads the texts of changed papers
    only (`lacking`), never every paper's."""
    limit = quality_import_max()
    quality = _embedder("quality") if limit > 0 else None
    fast = _embedder("fast")
    if quality is None and fast is None:
        return None
    state = text_state(lib)
    if quality is not None:
        others = [fast.model_id] if fast is not None else []
        count, new = lacking(lib, quality.model_id, others, limit + 1, state)
        if count <= limit:
            return "quality", quality, lacking_pks(lib, quality.model_id, state)
        if len(new) <= limit:
            return "quality", quality, new
    return None if fast is None else ("fast", fast, lacking_pks(lib, fast.model_id, state))


def _embedder(tier: Tier) -> Embedder | None:
    from .embed import load_embedder

    try:
        return load_embedder(tier)
    except BackendUnavailable:
        return None


def index_new_papers(lib: Library, progress: Progress | None = None) -> dict[str, object] | None:
    """After an import, sync or a profile's file: embed the new papers with `import_tier`'s tier,
    so semantic and hybrid search and the ranking find them at once; `paperradar index` later
    upgrades the rest to the quality tier. A small import leaves a big library's ANN file behind
    (searched exactly beside it) rather than rewriting it. None when the models are not built
    (search stays keyword-only until then)."""
    from .ann import DEFER_SHARE

    chosen = import_tier(lib)
    if chosen is None:
        return None
    tier, embedder, only = chosen
    return {"tier": tier, **refresh_index(lib, embedder, progress, defer_share=DEFER_SHARE, only=only)}


_CACHE: dict[str, tuple[int, SearchIndex, Embedder]] = {}
_NO_INDEX: dict[str, int] = {}  # the generation at which a library had no usable vectors (issue 13)


class SearchIndex(Protocol):
    model_id: str

    def __len__(self) -> int: ...
    def vector_of(self, pk: int) -> np.ndarray | None: ...
    def search(
        self, query: np.ndarray, k: int, exclude: set[int] | None = None
    ) -> list[tuple[int, float]]: ...


def best_index(lib: Library, tier: str | None = None) -> tuple[SearchIndex, Embedder] | None:
    """The index of the best vector each paper has, with the embedder for queries; None when the
    library has no vectors. The trained fast tier lives in the quality tier's space (embed/train.py),
    so a paper the quality tier has embedded is searched by that vector and every other paper by its
    fast one (scores of fast vectors divided by the tier's measured agreement, so neither tier is
    favoured), and queries are embedded by the quality tier. `tier` asks for one tier only. A
    library with vectors of a fast tier from another space (built before the trained tier) uses one
    tier for all: the quality tier once it covers 98% of what the fast tier covers.
    Big libraries use the persisted ANN index (ann.py) of their main tier, small ones exact search.
    Cached per process until an embedding changes (`embedding_generation`, one cheap read)."""
    generation = lib.embedding_generation()
    key = f"{lib.path}#{tier or 'best'}"
    cached = _CACHE.get(key) if lib.path != ":memory:" else None
    if cached is not None and cached[0] == generation:
        return cached[1], cached[2]
    if lib.path != ":memory:" and _NO_INDEX.get(key) == generation:
        return None  # known: no vectors of a model we have (counting them cost every search ~50 ms)
    have = lib.embedding_models()
    tiers = _tiers_with_vectors(have, tier)
    found = _mixed(lib, tiers) or _single(lib, tiers, have)
    if found is None:
        _NO_INDEX[key] = generation
        return None
    _CACHE[key] = (generation, *found)
    return found


def best_vectors(lib: Library, pks: list[int]) -> tuple[np.ndarray, np.ndarray] | None:
    """The best vector each of these papers has (one unit row each, zero where it has none) and a
    mask of those that have one; None when the library has no vectors at all. For ranking code."""
    found = best_index(lib)
    if found is None:
        return None
    index, embedder = found
    out = np.zeros((len(pks), embedder.dim), dtype=np.float32)
    have = np.zeros(len(pks), dtype=bool)
    for i, pk in enumerate(pks):
        v = index.vector_of(pk)
        if v is not None and len(v) == embedder.dim:
            out[i], have[i] = v, True
    return out, have


def _tiers_with_vectors(have: dict[str, int], only: str | None) -> dict[str, tuple[int, Embedder]]:
    from .embed import load_embedder

    found: dict[str, tuple[int, Embedder]] = {}
    for tier in (only,) if only else sorted(TIERS, key=lambda t: t != "quality"):
        try:
            embedder = load_embedder(tier)  # type: ignore[arg-type]
        except (ImportError, BackendUnavailable):
            continue
        if have.get(embedder.model_id):
            found[tier] = (have[embedder.model_id], embedder)
    return found


def one_space_tiers(have: dict[str, int]) -> tuple[Embedder, Embedder] | None:
    """(quality, fast) when both tiers are built, both have vectors in the library (`have`: vectors
    per model id) and they share one space (the trained fast tier); else None. What reads the best
    vector each paper has (search, topics) mixes the tiers only then."""
    tiers = _tiers_with_vectors(have, None)
    return _one_space(tiers)


def _one_space(tiers: dict[str, tuple[int, Embedder]]) -> tuple[Embedder, Embedder] | None:
    if len(tiers) < 2:
        return None
    (_, quality), (_, fast) = tiers["quality"], tiers["fast"]
    return (quality, fast) if quality.dim == fast.dim else None


def _mixed(lib: Library, tiers: dict[str, tuple[int, Embedder]]) -> tuple[SearchIndex, Embedder] | None:
    """Both tiers in one space and few enough vectors for exact search: one index, best per paper."""
    from .ann import ANN_MIN
    from .embed import fast_agreement

    pair = _one_space(tiers)
    if pair is None or max(n for n, _ in tiers.values()) >= ANN_MIN:
        return None
    quality, fast = pair
    return MixedIndex.load_mixed(lib, quality.model_id, fast.model_id, fast_agreement()), quality


def _single(
    lib: Library, tiers: dict[str, tuple[int, Embedder]], have: dict[str, int]
) -> tuple[SearchIndex, Embedder] | None:
    by_model = {embedder.model_id: embedder for _, embedder in tiers.values()}
    chosen = main_model({m: have[m] for m in by_model})
    if chosen is None:
        return None
    embedder = by_model[chosen]
    from .ann import AnnIndex

    index: SearchIndex | None = AnnIndex.open(lib, embedder.model_id, have[embedder.model_id])
    return (index or VectorIndex.load(lib, embedder.model_id)), embedder


def main_embedder(lib: Library) -> Embedder | None:
    """The embedder of the library's main model (`_single`'s choice for a one-tier index), found
    without opening an index: the dense rows of a big library's ranking features (rank/working_set.py)."""
    have = lib.embedding_models()
    by_model = {e.model_id: e for _, e in _tiers_with_vectors(have, None).values()}
    chosen = main_model({m: have[m] for m in by_model})
    return None if chosen is None else by_model[chosen]


def is_fast_model(model_id: str) -> bool:
    """Whether a stored model id is the fast tier's (its files live in TIER_DIRS["fast"])."""
    return f"/{TIER_DIRS['fast']}-" in model_id


def main_model(have: dict[str, int]) -> str | None:
    """The one model choice for whole-library work (topics, a one-tier search index), from how many
    papers each stored model covers: a quality-tier model once it covers QUALITY_COVERAGE of what
    the best-covered model does, else the model covering the most papers; None without vectors."""
    if not have:
        return None
    most = max(have, key=lambda m: (have[m], not is_fast_model(m)))
    quality = [m for m in have if not is_fast_model(m)]
    best_quality = max(quality, key=lambda m: have[m]) if quality else None
    if best_quality is not None and have[best_quality] >= QUALITY_COVERAGE * have[most]:
        return best_quality
    return most


QUALITY_COVERAGE = 0.98


class VectorIndex:
    """Exact cosine search over one model's vectors (rows are L2-normalised, so a dot product)."""

    def __init__(self, pks: np.ndarray, matrix: np.ndarray, model_id: str):
        self.pks = pks
        self.matrix = matrix
        self.model_id = model_id
        self._row = {int(pk): i for i, pk in enumerate(pks)}

    @classmethod
    def load(cls, lib: Library, model_id: str) -> VectorIndex:
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

    def _scores(self, query: np.ndarray) -> np.ndarray:
        return self.matrix @ query.astype(np.float32)

    def search(self, query: np.ndarray, k: int, exclude: set[int] | None = None) -> list[tuple[int, float]]:
        """The k nearest papers to a query vector: [(pk, cosine)], best first."""
        scores = self._scores(query)
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


class MixedIndex(VectorIndex):
    """Exact search over the best vector of each paper: the quality tier's where it has one, else
    the fast tier's, whose scores are divided by `agreement` (the mean cosine between the two tiers'
    vectors of the same text: a fast vector's cosines to anything come out that much smaller)."""

    def __init__(
        self, pks: np.ndarray, matrix: np.ndarray, model_id: str, scale: np.ndarray, fast_papers: int
    ):
        super().__init__(pks, matrix, model_id)
        self.scale = scale
        self.fast_papers = fast_papers  # papers searched by their fast vector (no quality one yet)

    @classmethod
    def load_mixed(cls, lib: Library, quality_id: str, fast_id: str, agreement: float) -> MixedIndex:
        rows: dict[int, bytes] = dict(lib.vectors(fast_id))
        fast_only = set(rows)
        for pk, blob in lib.vectors(quality_id):
            rows[pk] = blob
            fast_only.discard(pk)
        pks = np.asarray(sorted(rows), dtype=np.int64)
        matrix = np.frombuffer(b"".join(rows[int(pk)] for pk in pks), dtype=np.float32).reshape(len(pks), -1)
        scale = np.asarray([1 / agreement if int(pk) in fast_only else 1.0 for pk in pks], dtype=np.float32)
        return cls(pks, matrix, f"best:{quality_id}+{fast_id}", scale, len(fast_only))

    def _scores(self, query: np.ndarray) -> np.ndarray:
        return (self.matrix @ query.astype(np.float32)) * self.scale

    def weight_of(self, pk: int) -> float:
        i = self._row.get(pk)
        return 1.0 if i is None else float(self.scale[i])
