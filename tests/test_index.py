"""Embeddings kept in step with the library: incremental, resumable, never the same text twice."""

from __future__ import annotations

import re
import zlib

import numpy as np
import pytest

from paperradar.errors import BackendUnavailable
from paperradar.index import VectorIndex, text_of, update_index
from paperradar.ingest import ImportReport, ingest_records
from paperradar.models import Record, SourceRef


class HashingEmbedder:
    """A real (if simple) embedder: hashed bag of words. Counts every text it embeds."""

    model_id = "test-hashing-64"
    dim = 64

    def __init__(self, fail_after: int | None = None):
        self.seen: list[str] = []
        self.fail_after = fail_after

    def embed_batch(self, texts: list[str]) -> np.ndarray:
        if self.fail_after is not None and len(self.seen) >= self.fail_after:
            raise RuntimeError("power cut")
        self.seen.extend(texts)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"[a-z]+", text.lower()):
                out[row, zlib.crc32(word.encode()) % self.dim] += 1.0
        return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-9)


def add(lib, *papers: tuple[str, str, str]) -> None:
    records = [
        Record(source=SourceRef("bibtex", "t.bib", i), ids=[f"arxiv:2401.{i:05d}"], title=t, abstract=a)
        for i, (_, t, a) in enumerate(papers, start=1)
    ]
    ingest_records(lib, records, ImportReport("t", "t"))


PAPERS = [
    ("a", "KV cache compression for long context", "We compress the key value cache of transformers."),
    ("b", "Gradient low-rank projection", "Memory efficient training by projecting gradients to low rank."),
    ("c", "Robot grasping with tactile sensing", "A robot hand learns to grasp objects using touch."),
]


def test_first_run_embeds_everything_second_run_nothing(lib):
    add(lib, *PAPERS)
    emb = HashingEmbedder()
    first = update_index(lib, emb)
    assert (first.embedded, first.unchanged) == (3, 0)
    again = update_index(lib, emb)
    assert (again.embedded, again.unchanged) == (0, 3)
    assert len(emb.seen) == 3  # unchanged text is never embedded twice


def test_changed_text_is_embedded_again(lib):
    add(lib, *PAPERS)
    emb = HashingEmbedder()
    update_index(lib, emb)
    # a fuller abstract for paper b arrives from another source
    longer = PAPERS[1][2] + " We also prove convergence of the projected optimiser in the stochastic setting."
    ingest_records(
        lib,
        [
            Record(
                source=SourceRef("arxiv_atom", "api", 1),
                ids=["arxiv:2401.00002"],
                title=PAPERS[1][1],
                abstract=longer,
            )
        ],
        ImportReport("t", "t"),
    )
    report = update_index(lib, emb)
    assert (report.embedded, report.unchanged) == (1, 2)
    assert emb.seen[-1] == text_of(PAPERS[1][1], longer)


def test_interrupted_indexing_resumes_where_it_stopped(lib):
    add(
        lib,
        *[(str(i), f"Paper number {i} on topic {i % 7}", f"Abstract {i} words {i * 3}") for i in range(10)],
    )
    broken = HashingEmbedder(fail_after=4)
    with pytest.raises(RuntimeError):
        update_index(lib, broken, batch=2)
    assert sum(lib.embedding_models().values()) == 4  # two whole batches were committed
    healthy = HashingEmbedder()
    report = update_index(lib, healthy, batch=2)
    assert (report.embedded, report.unchanged) == (6, 4)


def test_vector_index_finds_the_nearest_paper(lib):
    add(lib, *PAPERS)
    emb = HashingEmbedder()
    update_index(lib, emb)
    index = VectorIndex.load(lib, emb.model_id)
    query = emb.embed_batch(["compressing the key value cache"])[0]
    (best_pk, best_score), *_ = index.search(query, 2)
    assert lib.paper_row(best_pk).title == PAPERS[0][1]
    assert best_score > 0.3
    rest = index.search(query, 2, exclude={best_pk})
    assert rest and all(pk != best_pk for pk, _ in rest)


def test_no_vectors_yet_says_how_to_build_them(lib):
    add(lib, *PAPERS)
    with pytest.raises(BackendUnavailable, match="paperradar index"):
        VectorIndex.load(lib, "some-model")


def test_rebuild_keeps_the_embeddings_of_unchanged_papers(tmp_path):
    from paperradar.papers import rebuild
    from paperradar.storage import open_library

    path = tmp_path / "lib.db"
    lib = open_library(path)
    add(lib, *PAPERS)
    update_index(lib, HashingEmbedder())
    assert rebuild(lib)["embeddings_kept"] == 3
    lib.close()
    lib = open_library(path)
    emb = HashingEmbedder()
    report = update_index(lib, emb)
    assert (report.embedded, report.unchanged) == (0, 3) and emb.seen == []  # nothing to embed again
    lib.close()


class _Failing:
    """The real quality tier, cut off after `after` texts (a stopped `paperradar index`)."""

    def __init__(self, inner, after: int):
        self.inner, self.after, self.done = inner, after, 0
        self.model_id, self.dim = inner.model_id, inner.dim

    def embed_batch(self, texts):
        if self.done >= self.after:
            raise KeyboardInterrupt
        self.done += len(texts)
        return self.inner.embed_batch(texts)


def test_an_interrupted_quality_upgrade_resumes_and_search_sees_every_paper(lib):
    import os

    from paperradar.embed import load_embedder, models_dir
    from paperradar.index import MixedIndex, best_index

    if not (models_dir() / "manifest.json").is_file():
        if os.environ.get("CI"):
            pytest.fail("no embedding models: `make test` builds them")
        pytest.skip("no embedding models: run `make models`")
    add(
        lib,
        *[(str(i), f"Paper {i} on graph neural networks for molecules", f"Abstract {i}.") for i in range(12)],
    )
    fast, quality = load_embedder("fast"), load_embedder("quality")
    update_index(lib, fast)
    with pytest.raises(KeyboardInterrupt):
        update_index(lib, _Failing(quality, after=4), batch=4)
    index, embedder = best_index(lib)
    assert isinstance(index, MixedIndex) and len(index) == 12 and index.fast_papers == 8
    assert embedder.model_id == quality.model_id  # queries by the quality tier
    report = update_index(lib, quality, batch=4)
    assert (report.embedded, report.unchanged) == (8, 4)  # only the rest
    assert best_index(lib)[0].fast_papers == 0
