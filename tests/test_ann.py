"""The persisted ANN index (ann.py): built beside the library, kept in step with changed vectors,
never returning a paper that is gone, finding new papers before it is rebuilt. `ANN_MIN` is lowered
so a small library gets one. Does I/O (a temporary library and its index files)."""

from __future__ import annotations

import random

import numpy as np
import pytest

from paperradar import ann
from paperradar.ann import AnnIndex, sync_ann
from paperradar.index import VectorIndex, refresh_index, update_index
from paperradar.ingest import ImportReport, ingest_records
from paperradar.models import Record, SourceRef
from paperradar.papers import merge_papers
from test_index import HashingEmbedder

WORDS = [
    "cache",
    "attention",
    "transformer",
    "robot",
    "grasp",
    "tactile",
    "gradient",
    "projection",
    "memory",
    "sparse",
    "retrieval",
    "graph",
    "diffusion",
    "image",
    "video",
    "speech",
    "protein",
    "molecule",
    "reinforcement",
    "policy",
    "reward",
    "language",
    "vision",
    "audio",
]


def records(n: int, start: int = 0, seed: int = 0) -> list[Record]:
    rng = random.Random(seed)
    return [
        Record(
            source=SourceRef("bibtex", "t.bib", i),
            ids=[f"arxiv:2401.{i:05d}"],
            title=" ".join(rng.sample(WORDS, 4)) + f" study {i}",
            abstract=" ".join(rng.choices(WORDS, k=30)),
        )
        for i in range(start, start + n)
    ]


@pytest.fixture
def big(lib, monkeypatch):
    monkeypatch.setattr(ann, "ANN_MIN", 50)
    ingest_records(lib, records(300), ImportReport("t", "t"))
    emb = HashingEmbedder()
    update_index(lib, emb)
    return lib, emb


def test_index_files_are_built_beside_the_library_and_agree_with_exact_search(big):
    lib, emb = big
    assert sync_ann(lib, emb.model_id) == {"ann": "built", "vectors": 300}
    assert list(ann.ann_dir(lib.path).glob("*.usearch"))
    index = AnnIndex.open(lib, emb.model_id)
    exact = VectorIndex.load(lib, emb.model_id)
    assert len(index) == 300
    overlap = []
    for pk in range(1, 301, 10):
        q = exact.vector_of(pk)
        got, want = index.search(q, 10), exact.search(q, 10)
        assert got[0][0] == want[0][0] == pk  # a paper is its own nearest neighbour
        assert got[0][1] == pytest.approx(1.0, abs=1e-5)  # cosines come from the float32 vectors
        overlap.append(len({p for p, _ in got} & {p for p, _ in want}) / 10)
    assert np.mean(overlap) >= 0.9


def test_sync_is_idempotent_and_only_applies_what_changed(big):
    lib, emb = big
    sync_ann(lib, emb.model_id)
    assert sync_ann(lib, emb.model_id)["ann"] == "current"
    ingest_records(lib, records(20, start=300, seed=1), ImportReport("t", "t"))
    update_index(lib, emb)
    assert sync_ann(lib, emb.model_id) == {"ann": "updated", "vectors": 320}
    assert lib.embedding_changes(emb.model_id, 0) == []  # the log is pruned once applied


def test_a_small_import_leaves_the_file_behind_and_index_catches_it_up(big):
    lib, emb = big
    sync_ann(lib, emb.model_id)
    before = next(ann.ann_dir(lib.path).glob("*.usearch")).stat().st_mtime_ns
    ingest_records(lib, records(5, start=300, seed=3), ImportReport("t", "t"))
    update_index(lib, emb)
    assert sync_ann(lib, emb.model_id, defer_share=0.05)["ann"] == "behind"  # 5 of 305: not rewritten
    assert next(ann.ann_dir(lib.path).glob("*.usearch")).stat().st_mtime_ns == before
    newest = lib.resolve("arxiv:2401.00304")
    assert (
        AnnIndex.open(lib, emb.model_id).search(VectorIndex.load(lib, emb.model_id).vector_of(newest), 1)[0][
            0
        ]
        == newest
    )
    assert sync_ann(lib, emb.model_id)["ann"] == "updated"  # `paperradar index` applies them


def test_new_vectors_are_found_before_the_index_catches_up(big):
    lib, emb = big
    sync_ann(lib, emb.model_id)
    ingest_records(lib, records(5, start=300, seed=2), ImportReport("t", "t"))
    update_index(lib, emb)  # a fresh import, embedded, but the ANN file is not rebuilt
    index = AnnIndex.open(lib, emb.model_id)
    newest = lib.resolve("arxiv:2401.00304")
    q = VectorIndex.load(lib, emb.model_id).vector_of(newest)
    assert index.search(q, 3)[0][0] == newest
    assert len(index) == 305


def test_a_deleted_paper_never_comes_back(big):
    lib, emb = big
    sync_ann(lib, emb.model_id)
    gone = lib.resolve("arxiv:2401.00007")
    q = VectorIndex.load(lib, emb.model_id).vector_of(gone)
    merge_papers(lib, "arxiv:2401.00001", "arxiv:2401.00007")  # paper 7 is folded into paper 1
    index = AnnIndex.open(lib, emb.model_id)
    assert gone not in [pk for pk, _ in index.search(q, 20)]
    assert sync_ann(lib, emb.model_id)["ann"] == "updated"
    assert gone not in [pk for pk, _ in AnnIndex.open(lib, emb.model_id).search(q, 20)]


def test_exclude_and_small_libraries(big, monkeypatch):
    lib, emb = big
    sync_ann(lib, emb.model_id)
    index = AnnIndex.open(lib, emb.model_id)
    q = index.vector_of(1)
    assert 1 not in [pk for pk, _ in index.search(q, 5, exclude={1})]
    monkeypatch.setattr(ann, "ANN_MIN", 10_000)  # the library is now "small": exact search, no files
    assert sync_ann(lib, emb.model_id)["ann"] == "none"
    assert not list(ann.ann_dir(lib.path).glob("*.usearch"))
    assert AnnIndex.open(lib, emb.model_id) is None


def test_index_shows_the_vector_index_build_in_its_progress(lib, monkeypatch):
    """`paperradar index` (refresh_index) hands its progress bar to the ANN build, so a long build
    (or a resumed one) is not a silent wait after the embedding finished."""
    monkeypatch.setattr(ann, "ANN_MIN", 50)
    ingest_records(lib, records(120), ImportReport("t", "t"))
    seen: list[tuple[int, int | None, str]] = []
    report = refresh_index(lib, HashingEmbedder(), lambda d, t=None, m="": seen.append((d, t, m)))
    assert report["ann"] == "built"
    assert (120, 120, "building the vector index") in seen
