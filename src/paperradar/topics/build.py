"""Building topics over the library, and assigning papers imported since. Does I/O (the library).

`build_topics` clusters the embedded papers (two levels) on their vectors joined with their words
(topics/space.py), each paper by the best vector it has (`topic_models`: the quality tier's where
`paperradar index` or a small import made one, else the trained fast tier's, in the same space),
labels the topics, lays out the map, matches the new topics to the previous build's so their ids
are kept, and stores it all in one transaction. Up to 200,000 papers it fits on all of them; above,
on a fixed sample of that size, and then streams every paper's vector to assign it
(topics/sample.py), so memory stays bounded at millions of papers. `refresh_topics` gives each
newly embedded paper the nearest fine topic (by its best vector alone) and a place on the map,
touching nothing else, so ids and trends stay comparable between builds.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..embed import fast_agreement, text_for
from ..errors import BackendUnavailable, InvalidInput
from ..index import main_model, one_space_tiers
from ..ingest import now_iso
from ..progress import Progress, stages
from ..storage import topics as db
from ..storage.base import Library
from . import cluster, labels, layout, sample, space

LABEL_SAMPLE = 120  # papers per fine topic read for its label (all of a smaller topic)


@dataclass
class BuildReport:
    model_id: str
    papers: int
    fine: int
    broad: int
    kept_ids: int = 0
    models: tuple[str, ...] = ()  # the models read, best first (topic_models); refresh_topics reads them
    lexical_dims: int = 0  # dimensions of the lexical view clustered alongside the vectors (0: none)
    fitted_on: int = 0  # papers the topics were fitted on (the rest were assigned to the nearest)
    seconds: dict[str, float] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            "model": self.model_id,
            "papers": self.papers,
            "fine_topics": self.fine,
            "broad_topics": self.broad,
            "kept_ids": self.kept_ids,
            "models": list(self.models),
            "lexical_dims": self.lexical_dims,
            "fitted_on": self.fitted_on,
            "seconds": {k: round(v, 2) for k, v in self.seconds.items()},
        }


def topic_model(lib: Library) -> str:
    """The embedding model topics are built on: the library's main model (index.main_model, the
    same choice as semantic search's)."""
    chosen = main_model(lib.embedding_models())
    if chosen is None:
        raise BackendUnavailable("no embeddings yet: run `paperradar index --tier fast` first")
    return chosen


def topic_models(lib: Library) -> tuple[str, ...]:
    """The models whose vectors topics are built on, best first; each paper is read by the first
    that has embedded it. With both tiers built and stored in one space (the trained fast tier
    imitates the quality tier, embed/train.py): the quality tier's vector where a paper has one and
    the fast tier's for the rest, the best vector each paper has (as index.best_index ranks by).
    Otherwise the main model alone (`topic_model`): a fast tier from another space is not mixed in.
    A paper's score (its cosine to its topic, what "central" papers are ordered by) from a fast
    vector is divided by the tier's measured agreement, as index.MixedIndex scores, so the papers
    the quality tier embedded are not the most central for that alone."""
    pair = one_space_tiers(lib.embedding_models())
    if pair is not None:
        return pair[0].model_id, pair[1].model_id
    return (topic_model(lib),)


def _model_name(models: tuple[str, ...]) -> str:
    """The build's model as logged: the one model, or "best:<quality>+<fast>" (index.MixedIndex's name)."""
    return models[0] if len(models) == 1 else "best:" + "+".join(models)


def build_topics(
    lib: Library,
    fine: int | None = None,
    broad: int | None = None,
    progress: Progress | None = None,
    fit_sample: int | None = None,
) -> BuildReport:
    """Cluster, label and lay out the whole library; keeps the ids of topics that persist. Above
    `fit_sample` (default sample.FIT_SAMPLE) embedded papers, the topics are fitted on a
    deterministic sample of about that many and every paper is then assigned in streamed batches
    (topics/sample.py)."""
    say = stages(progress)
    clock = _Clock()
    models = topic_models(lib)
    have = lib.embedding_models()
    n = max(have[m] for m in models)  # at least this many papers have a vector (the sample's rate)
    fit = _fit(lib, models, n, _sizes(n, fine, broad), fit_sample or sample.FIT_SAMPLE, say, clock)
    say(f"assigning and placing {n:,} papers")
    batches = sample.in_memory(fit.fitted) if fit.fitted.whole else sample.vector_batches(lib, models)
    placed = sample.assign_all(batches, fit.fitted, fit.fine_of, fit.geometry)
    if len(models) > 1:
        placed.score[~np.isin(placed.pks, list(lib.embedding_hashes(models[0])))] /= fast_agreement()
    sizes = np.bincount(placed.topic, minlength=len(fit.geometry.centroids))
    clock.lap("assign")
    fine_ids, broad_ids, kept = _stable_ids(lib, placed.pks, placed.topic, fit.broad_of)
    g = fit.geometry
    rows = _topic_rows(
        fine_ids,
        broad_ids,
        fit.broad_of,
        sizes,
        fit.terms_fine,
        fit.terms_broad,
        g.centroids,
        g.positions,
        g.axes,
    )
    model_id = _model_name(models)
    report = BuildReport(model_id, len(placed.pks), len(g.centroids), int(fit.broad_of.max()) + 1, kept)
    report.lexical_dims, report.fitted_on = fit.lexical_dims, len(fit.fitted.pks)
    report.models = models
    with lib.transaction():
        db.replace_topics(lib, rows)
        db.add_assignments(lib, sample.assigned_rows(placed, np.asarray(fine_ids)))
        clock.lap("store")
        report.seconds = clock.laps
        db.log_build(lib, now_iso(), model_id, report.as_json())
    return report


@dataclass
class _Fit:
    fitted: sample.Sample  # the papers fitted on, with their vectors
    fine_of: np.ndarray  # the k-means cluster of each sampled paper
    broad_of: np.ndarray  # the broad topic of each fine one
    geometry: sample.Geometry
    terms_fine: list[list[str]]
    terms_broad: list[list[str]]
    lexical_dims: int


def _fit(
    lib: Library,
    models: tuple[str, ...],
    n: int,
    k: tuple[int, int],
    fit_sample: int,
    say: Callable[[str], None],
    clock: _Clock,
) -> _Fit:
    """The topics fitted on the sample (the whole library up to `fit_sample` papers): clusters,
    labels and the map's geometry."""
    say(f"reading the papers' vectors and words ({_fitting_on(n, fit_sample)})")
    fitted = sample.read_sample(lib, models, n, fit_sample)
    if len(fitted.pks) < 2:
        raise InvalidInput(f"a fitting sample of {fit_sample} papers is too small: use at least 2")
    texts = paper_texts(lib, fitted.pks)
    lexical = space.lexical_rows(texts)
    clock.lap("words")
    say(f"clustering {len(fitted.pks):,} papers into {k[0]} topics")
    fine_of, centroids = _cluster(fitted.vectors, lexical, k[0])
    broad_rows = space.joint_rows(fitted.vectors, lexical, space.BROAD_EMBED_WEIGHT)
    broad_of = cluster.broad_by_papers(broad_rows, fine_of, len(centroids), min(k[1], len(centroids)))
    del broad_rows
    clock.lap("cluster")
    say("labelling topics")
    terms = _label(texts, fine_of, broad_of, np.bincount(fine_of, minlength=len(centroids)))
    clock.lap("label")
    say("laying out the map")
    positions = layout.topic_positions(centroids)
    geometry = sample.Geometry(centroids, positions, layout.topic_axes(fitted.vectors, fine_of, centroids))
    clock.lap("layout")
    dims = 0 if lexical is None else lexical.shape[1]
    return _Fit(fitted, fine_of, broad_of, geometry, terms[0], terms[1], dims)


def _fitting_on(n: int, fit_sample: int) -> str:
    return f"all {n:,}" if n <= fit_sample else f"fitting on a sample of about {fit_sample:,}"


def _cluster(vectors: np.ndarray, lexical: np.ndarray | None, k: int) -> tuple[np.ndarray, np.ndarray]:
    """(fine topic of each paper, unit centroids in the embedding space): spherical k-means on the
    vectors joined with the lexical view (topics/space.py); the centroids are the members' mean
    vectors, the space later papers are assigned and the map is laid out in."""
    fine_of, joint_centroids = cluster.fine_clusters(space.joint_rows(vectors, lexical), k)
    return fine_of, space.member_centroids(vectors, fine_of, len(joint_centroids))


def _sizes(n: int, fine: int | None, broad: int | None) -> tuple[int, int]:
    if n < 2:
        raise InvalidInput(f"topics need at least 2 embedded papers; the library has {n}")
    if (fine is not None and fine < 2) or (broad is not None and broad < 1):
        raise InvalidInput("--fine must be at least 2 and --broad at least 1")
    k_fine = min(fine or cluster.default_sizes(n)[0], n)
    k_broad = broad or max(1, round(1.5 * k_fine**0.5))
    return k_fine, min(k_broad, k_fine)


class _Clock:
    def __init__(self) -> None:
        self.start = self.last = time.perf_counter()
        self.laps: dict[str, float] = {}

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.laps[name] = now - self.last
        self.laps["total"] = now - self.start
        self.last = now


def _label(
    texts: list[str], fine_of: np.ndarray, broad_of: np.ndarray, sizes: np.ndarray
) -> tuple[list[list[str]], list[list[str]]]:
    rng = np.random.default_rng(0)
    sample = np.concatenate(
        [rng.permutation(np.flatnonzero(fine_of == c))[:LABEL_SAMPLE] for c in range(len(sizes))]
    )
    x, vocab = labels.vectorize([texts[i] for i in sample])
    counts = labels.class_counts(x, fine_of[sample], len(sizes))
    sizes = np.bincount(fine_of[sample], minlength=len(sizes))
    n_broad = int(broad_of.max()) + 1
    broad_counts = np.zeros((n_broad, counts.shape[1]), dtype=np.float32)
    np.add.at(broad_counts, broad_of, counts)
    broad_sizes = np.bincount(broad_of, weights=sizes, minlength=n_broad)
    return labels.label_topics(counts, sizes, vocab), labels.label_topics(broad_counts, broad_sizes, vocab)


def paper_texts(lib: Library, pks: np.ndarray) -> list[str]:
    """Title + abstract of each paper, in the order of `pks`."""
    row = {int(pk): i for i, pk in enumerate(pks)}
    texts = [""] * len(pks)
    for pk, title, abstract in lib.paper_texts():
        i = row.get(pk)
        if i is not None:
            texts[i] = text_for(title, abstract)
    return texts


def _stable_ids(
    lib: Library, pks: np.ndarray, fine_of: np.ndarray, broad_of: np.ndarray
) -> tuple[list[int], list[int], int]:
    """Ids for the new fine and broad topics, kept from the previous build where members overlap."""
    old = db.assignments(lib)
    old_topics = db.topics(lib)
    parent = {t.id: t.parent for t in old_topics}
    had, of = np.unique(old.topic, return_inverse=True)
    up = np.array([parent.get(t) or -1 for t in had.tolist()], dtype=np.int64)[of]
    has_up = up >= 0
    next_id = max((t.id for t in old_topics), default=0) + 1
    old_fine, jac = cluster.label_jaccard(old.pk, old.topic, pks, fine_of, int(fine_of.max()) + 1)
    fine_ids, next_id = cluster.ids_by_overlap(old_fine, jac, next_id)
    n_broad = int(broad_of.max()) + 1
    old_broad, jac = cluster.label_jaccard(old.pk[has_up], up[has_up], pks, broad_of[fine_of], n_broad)
    broad_ids, _ = cluster.ids_by_overlap(old_broad, jac, next_id)
    kept = len(set(fine_ids) & set(old_fine)) + len(set(broad_ids) & set(old_broad))
    return fine_ids, broad_ids, kept


def _topic_rows(
    fine_ids: list[int],
    broad_ids: list[int],
    broad_of: np.ndarray,
    sizes: np.ndarray,
    terms_fine: list[list[str]],
    terms_broad: list[list[str]],
    centroids: np.ndarray,
    positions: np.ndarray,
    axes: np.ndarray,
) -> list[db.TopicRow]:
    rows = []
    for b, bid in enumerate(broad_ids):
        kids = np.flatnonzero(broad_of == b)
        w = sizes[kids].astype(np.float64)
        x, y = (positions[kids] * w[:, None]).sum(axis=0) / max(w.sum(), 1)
        rows.append(_row(bid, 1, None, terms_broad[b], int(w.sum()), None, float(x), float(y), None))
    for c, fid in enumerate(fine_ids):
        parent = broad_ids[int(broad_of[c])]
        x, y = positions[c]
        rows.append(
            _row(fid, 2, parent, terms_fine[c], int(sizes[c]), centroids[c], float(x), float(y), axes[c])
        )
    return rows


def _row(
    tid: int,
    level: int,
    parent: int | None,
    terms: list[str],
    size: int,
    centroid: np.ndarray | None,
    x: float,
    y: float,
    axes: np.ndarray | None,
) -> db.TopicRow:
    """A topic's row, labelled by its terms."""
    return db.TopicRow(tid, level, parent, labels.label_of(terms), terms, size, centroid, x, y, axes)


def _placing(fine: list[db.TopicRow]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The centroids, map positions and layout axes of the fine topics (every build stores them)."""
    centroids, positions, axes = [], [], []
    for t in fine:
        if t.centroid is None or t.axes is None or t.x is None or t.y is None:
            raise InvalidInput(f"topic {t.id} was stored without its centroid: run `paperradar topics build`")
        centroids.append(t.centroid)
        positions.append((t.x, t.y))
        axes.append(t.axes)
    return np.stack(centroids), np.array(positions, dtype=np.float32), np.stack(axes)


def _assignment_rows(pks: np.ndarray, topic: np.ndarray, scores: np.ndarray, xy: np.ndarray) -> list[tuple]:
    return list(
        zip(
            pks.tolist(),
            topic.tolist(),
            scores.astype(float).tolist(),
            xy[:, 0].tolist(),
            xy[:, 1].tolist(),
            strict=True,
        )
    )


def refresh_topics(lib: Library) -> int:
    """Give papers embedded since the last build their nearest fine topic and a map position, by
    the best vector each has of the models the build read. Returns how many were assigned (0 when
    there are no topics yet)."""
    build = db.last_build(lib)
    if build is None:
        return 0
    models = build.info.get("models") or [build.model_id]  # builds before "models" read one
    rows: dict[int, bytes] = {}
    scale: dict[int, float] = {}  # a fast vector's cosines divided by the tier's agreement (as a build)
    for rank, model_id in enumerate(models):
        if db.count_unassigned(lib, model_id):
            for pk, blob in db.unassigned_vectors(lib, model_id):
                if pk not in rows:
                    rows[pk] = blob
                    scale[pk] = 1.0 if rank == 0 else 1.0 / fast_agreement()
    if not rows:
        return 0
    fine = [t for t in db.topics(lib) if t.level == 2]
    centroids, positions, axes = _placing(fine)
    pks = np.array(sorted(rows), dtype=np.int64)
    vectors = np.frombuffer(b"".join(rows[int(pk)] for pk in pks), dtype=np.float32).reshape(len(pks), -1)
    nearest, scores = cluster.assign(vectors, centroids)
    scores *= np.array([scale[int(pk)] for pk in pks], dtype=np.float32)
    xy = layout.place(vectors, centroids, positions, axes)
    ids = np.array([t.id for t in fine])[nearest]
    with lib.transaction():
        db.put_assignments(lib, _assignment_rows(pks, ids, scores, xy))
        db.add_to_sizes(
            lib, {int(t): int(n) for t, n in zip(*np.unique(ids, return_counts=True), strict=True)}
        )
    return len(pks)
