"""Topics at any size: fit on a deterministic sample, assign every paper in streamed batches.
Does I/O (reads the library's vectors).

A big library is not clustered whole: `read_sample` keeps the vectors of about `size` papers chosen
by a hash of their pk (the same papers on every run, and a paper in the sample stays in it as the
library grows), and the words, k-means, labels and map axes are fitted on those. `assign_all` then
streams every paper's vector in batches of `BATCH` rows and gives it its topic (a sampled paper keeps
its k-means cluster, the others take the nearest centroid by vector, as `refresh_topics` does for a
newly imported paper), its score and its place on the map. Memory is the sample plus one batch plus
a few numbers per paper, never every vector at once. A library no bigger than `size` is read once:
its sample is the whole library and nobody is assigned by the nearest-centroid rule.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import islice

import numpy as np

from ..storage.base import Library
from . import cluster, layout

FIT_SAMPLE = 200_000  # above this many embedded papers, fit on a sample of about this many
BATCH = 65_536  # rows per streamed batch (384-d float32: about 100 MB)


@dataclass
class Sample:
    pks: np.ndarray  # sorted
    vectors: np.ndarray
    whole: bool  # the sample is the whole library


@dataclass
class Geometry:
    """What a paper is assigned and placed by: the fine topics' centroids, map positions and axes."""

    centroids: np.ndarray
    positions: np.ndarray
    axes: np.ndarray


@dataclass
class Placed:
    """Every paper's fine topic (index into the centroids), cosine to it, and map position, in pk order."""

    pks: np.ndarray
    topic: np.ndarray
    score: np.ndarray
    xy: np.ndarray


def in_sample(pks: np.ndarray, rate: float) -> np.ndarray:
    """Whether each pk is in the sample: a splitmix64 hash of the pk below `rate` of its range."""
    z = pks.astype(np.uint64) + np.uint64(0x9E3779B97F4A7C15)
    with np.errstate(over="ignore"):
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    z = z ^ (z >> np.uint64(31))
    return (z >> np.uint64(11)) < np.uint64(int(rate * (1 << 53)))


def best_vectors(lib: Library, models: Sequence[str]) -> Iterator[tuple[int, bytes]]:
    """(pk, vector) of every paper any of `models` embedded, in pk order, each from the first of
    `models` that has it (the best first, build.topic_models): the models' streams merged by pk."""
    streams = [_ranked(lib.vectors(m), rank) for rank, m in enumerate(models)]
    last = None
    for pk, _, blob in heapq.merge(*streams):
        if pk != last:
            yield pk, blob
            last = pk


def _ranked(rows: Iterable[tuple[int, bytes]], rank: int) -> Iterator[tuple[int, int, bytes]]:
    for pk, blob in rows:
        yield pk, rank, blob


def vector_batches(lib: Library, models: Sequence[str]) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """(pks, vectors) of each paper's best vector (`best_vectors`) in pk order, `BATCH` rows at a time."""
    rows = best_vectors(lib, models)
    while chunk := list(islice(rows, BATCH)):
        pks = np.fromiter((pk for pk, _ in chunk), dtype=np.int64, count=len(chunk))
        matrix = np.frombuffer(b"".join(b for _, b in chunk), dtype=np.float32).reshape(len(chunk), -1)
        yield pks, matrix


def read_sample(lib: Library, models: Sequence[str], papers: int, size: int) -> Sample:
    """The vectors of about `size` of the `papers` embedded papers (all of them when there are no
    more than `size`)."""
    rate = size / max(papers, 1)
    pks: list[np.ndarray] = []
    vectors: list[np.ndarray] = []
    for batch_pks, matrix in vector_batches(lib, models):
        keep = in_sample(batch_pks, rate) if rate < 1 else np.ones(len(batch_pks), dtype=bool)
        pks.append(batch_pks[keep])
        vectors.append(matrix[keep].copy() if rate < 1 else matrix)
    return Sample(np.concatenate(pks), np.concatenate(vectors), rate >= 1)


def in_memory(sample: Sample) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """The sample's own rows as batches (for a library read whole)."""
    for i in range(0, len(sample.pks), BATCH):
        yield sample.pks[i : i + BATCH], sample.vectors[i : i + BATCH]


def assign_all(
    batches: Iterable[tuple[np.ndarray, np.ndarray]], fitted: Sample, labels: np.ndarray, geometry: Geometry
) -> Placed:
    """Topic, score and map position of every paper in `batches`: a paper of the sample keeps its
    k-means `labels` entry, any other takes the nearest centroid."""
    parts: list[tuple[np.ndarray, ...]] = []
    for pks, vectors in batches:
        nearest, _ = cluster.assign(vectors, geometry.centroids)
        at = np.minimum(np.searchsorted(fitted.pks, pks), len(fitted.pks) - 1)
        sampled = fitted.pks[at] == pks
        topic = np.where(sampled, labels[at], nearest)
        score = np.einsum("nd,nd->n", vectors, geometry.centroids[topic]).astype(np.float32)
        xy = layout.place(vectors, geometry.centroids, geometry.positions, geometry.axes)
        parts.append((pks, topic, score, xy))
    return Placed(*(np.concatenate([p[i] for p in parts]) for i in range(4)))


def assigned_rows(placed: Placed, ids: np.ndarray, chunk: int = 100_000) -> Iterator[tuple]:
    """(pk, topic id, score, x, y) rows to store, made a chunk at a time (3M tuples at once is ~1 GB)."""
    for i in range(0, len(placed.pks), chunk):
        part = slice(i, i + chunk)
        yield from zip(
            placed.pks[part].tolist(),
            ids[placed.topic[part]].tolist(),
            placed.score[part].astype(float).tolist(),
            placed.xy[part, 0].tolist(),
            placed.xy[part, 1].tolist(),
            strict=True,
        )
