"""A resumable ANN build (ann.py, issue 17): a build killed part way goes on from its checkpoint at
the next `sync_ann`, reads only the vectors it had not added, applies what changed in between, and
answers like a build from scratch; a checkpoint that does not fit is discarded; a finished build
leaves no checkpoint behind. The killed build is a real process ended by SIGKILL, over a real
SQLite library and real usearch files. Does I/O (a temporary library, its index files, a child
process)."""

from __future__ import annotations

import json
import logging
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest

from paperradar import ann
from paperradar.ann import AnnIndex, sync_ann
from paperradar.ingest import ImportReport, ingest_records
from test_ann import records

MODEL = "random-48"
DIM = 48
PAPERS = 2_000
CHUNK = 200

# The child builds with a checkpoint after every chunk and kills itself (SIGKILL: no cleanup, no
# finally) once 60% of the vectors are in and a checkpoint is on disk.
CHILD = f"""
import os, signal, sys
from paperradar import ann
from paperradar.storage import open_library

ann.ANN_MIN, ann.CHUNK, ann.CHECKPOINT_SECONDS, ann.CHECKPOINT_COST, ann.THREADS = 100, {CHUNK}, 0.0, 0, 1
lib = open_library(sys.argv[1])
folder = ann.ann_dir(lib.path)

def progress(done, total=None, message=""):
    if total and done >= 0.6 * total and list(folder.glob("*.checkpoint.json")):
        os.kill(os.getpid(), signal.SIGKILL)

ann.sync_ann(lib, sys.argv[2], progress)
"""


def unit(rng: np.random.Generator, n: int) -> np.ndarray:
    v = rng.standard_normal((n, DIM)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def put(lib, pks: list[int], vectors: np.ndarray) -> None:
    with lib.transaction():
        lib.put_embeddings(MODEL, [(pk, f"h{pk}", v.tobytes()) for pk, v in zip(pks, vectors, strict=True)])


@pytest.fixture
def library(lib, monkeypatch):
    """A library of PAPERS papers, each with a random unit vector of MODEL; checkpoints after every
    chunk in this process too. Built on one thread (ann.THREADS: concurrent adds can strand a node,
    which the checks that every paper finds itself would see now and then, resumed or not)."""
    settings = {"ANN_MIN": 100, "CHUNK": CHUNK, "CHECKPOINT_SECONDS": 0.0, "CHECKPOINT_COST": 0, "THREADS": 1}
    for name, value in settings.items():
        monkeypatch.setattr(ann, name, value)
    ingest_records(lib, records(PAPERS + 200), ImportReport("t", "t"))
    pks = sorted(lib.all_pks())
    put(lib, pks[:PAPERS], unit(np.random.default_rng(1), PAPERS))
    return lib


def kill_a_build(lib) -> dict:
    """Run the build in a child process that SIGKILLs itself after a checkpoint; the checkpoint's
    description."""
    done = subprocess.run([sys.executable, "-c", CHILD, lib.path, MODEL], capture_output=True, text=True)
    assert done.returncode == -signal.SIGKILL, done.stderr
    assert not list(ann.ann_dir(lib.path).glob("*.usearch")), "the killed build saved a finished index"
    return json.loads(next(ann.ann_dir(lib.path).glob("*.checkpoint.json")).read_text())


@contextmanager
def counting_reads(lib) -> Iterator[dict[str, int]]:
    """Counts the vectors read through the library's real reads (each is still made) while open."""
    counts = {"vectors": 0, "vectors_after": 0}

    def counting(name):
        read = getattr(lib, name)

        def wrapper(*args):
            for row in read(*args):
                counts[name] += 1
                yield row

        return wrapper

    for name in counts:
        setattr(lib, name, counting(name))
    try:
        yield counts
    finally:
        for name in counts:
            delattr(lib, name)


def checkpoint_files(lib) -> list[Path]:
    folder = ann.ann_dir(lib.path)
    return [f for f in folder.iterdir() if ".checkpoint" in f.name] if folder.exists() else []


def all_vectors(lib) -> tuple[np.ndarray, np.ndarray]:
    rows = list(lib.vectors(MODEL))
    return np.array([pk for pk, _ in rows]), np.stack([np.frombuffer(b, dtype=np.float32) for _, b in rows])


def recall_at_10(lib) -> float:
    """Recall@10 of the persisted index against exact search, for 300 random query vectors."""
    index = AnnIndex.open(lib, MODEL)
    pks, matrix = all_vectors(lib)
    hits = 0
    queries = unit(np.random.default_rng(7), 300)
    for q in queries:
        want = set(pks[np.argsort(-(matrix @ q))[:10]].tolist())
        hits += len(want & {pk for pk, _ in index.search(q, 10)})
    return hits / (10 * len(queries))


def assert_every_paper_finds_itself(lib) -> None:
    index = AnnIndex.open(lib, MODEL)
    pks, matrix = all_vectors(lib)
    lost = [int(pk) for pk, v in zip(pks, matrix, strict=True) if index.search(v, 1)[0][0] != pk]
    assert not lost, f"{len(lost)} papers do not find themselves, e.g. {lost[:5]}"


def test_a_killed_build_resumes_from_its_checkpoint_and_answers_like_a_build_from_scratch(library):
    meta = kill_a_build(library)
    assert 0 < meta["vectors"] < PAPERS and meta["vectors"] % CHUNK == 0
    folder = ann.ann_dir(library.path)
    # a kill while writing the next checkpoint leaves a half-written temporary file: harmless
    (folder / (meta["file"].split(".checkpoint-")[0] + ".checkpoint-99999.part.tmp")).write_bytes(b"half")
    seen: list[str] = []
    with counting_reads(library) as counts:
        result = sync_ann(library, MODEL, lambda done, total=None, message="": seen.append(message))
    assert result == {"ann": "built", "vectors": PAPERS}
    assert counts == {"vectors": 0, "vectors_after": PAPERS - meta["vectors"]}  # none read twice
    assert seen[0] == f"resuming the vector index at {meta['vectors']:,} of {PAPERS:,}"
    assert checkpoint_files(library) == []
    assert_every_paper_finds_itself(library)
    resumed = recall_at_10(library)

    for f in folder.iterdir():
        f.unlink()
    assert sync_ann(library, MODEL)["ann"] == "built"  # from scratch
    assert resumed >= 0.95 and recall_at_10(library) >= 0.95


@pytest.mark.parametrize("spoil", ["other model", "truncated part", "unreadable description"])
def test_a_checkpoint_that_does_not_fit_is_discarded_and_the_build_starts_over(library, caplog, spoil):
    meta = kill_a_build(library)
    folder = ann.ann_dir(library.path)
    description = next(folder.glob("*.checkpoint.json"))
    if spoil == "other model":
        description.write_text(json.dumps({**meta, "model_id": "another-model"}))
    elif spoil == "truncated part":
        part = folder / meta["file"]
        part.write_bytes(part.read_bytes()[: part.stat().st_size // 2])
    else:
        description.write_text('{"format": 1, "model_id": ')
    seen: list[str] = []
    with caplog.at_level(logging.WARNING, logger="paperradar.ann"), counting_reads(library) as counts:
        result = sync_ann(library, MODEL, lambda done, total=None, message="": seen.append(message))
    assert result == {"ann": "built", "vectors": PAPERS}
    assert counts == {"vectors": PAPERS, "vectors_after": 0}  # a full build
    assert "discarding the vector index checkpoint" in caplog.text
    assert seen[0].startswith("checkpoint discarded (")
    assert checkpoint_files(library) == []
    assert_every_paper_finds_itself(library)


def test_papers_embedded_changed_or_removed_after_the_kill_are_in_the_resumed_index(library):
    meta = kill_a_build(library)
    last = meta["last_pk"]
    rng = np.random.default_rng(3)
    pks = sorted(library.all_pks())
    vectored = sorted(pk for pk, _ in library.vectors(MODEL))
    before = [pk for pk in vectored if pk <= last]  # in the checkpoint
    gone = before[:20] + [pk for pk in vectored if pk > last][:10]
    changed = before[50:70]
    new = pks[PAPERS:]  # the 200 papers with no vector yet, above every vectored pk
    with library.transaction():
        library.drop_embeddings(MODEL, gone)
    put(library, changed, unit(rng, len(changed)))
    put(library, new, unit(rng, len(new)))
    with counting_reads(library) as counts:
        assert sync_ann(library, MODEL) == {"ann": "built", "vectors": PAPERS - len(gone) + len(new)}
    above = len([pk for pk in vectored if pk > last])
    assert counts == {"vectors": 0, "vectors_after": above - 10 + len(new)}

    assert_every_paper_finds_itself(library)  # the changed by their new vectors, the new ones too
    index = AnnIndex.open(library, MODEL)
    for _, blob in library.vectors_of(MODEL, changed):
        assert index.search(np.frombuffer(blob, dtype=np.float32), 1)[0][1] == pytest.approx(1.0, abs=1e-5)
    found = {pk for q in unit(rng, 200) for pk, _ in index.search(q, 20)}
    assert not found & set(gone)
    assert len(index._view) == PAPERS - len(gone) + len(new)  # no stale node left in the file


def test_an_ordinary_build_checkpoints_as_it_goes_and_leaves_no_checkpoint_behind(library):
    during: list[int] = []

    def progress(done, total=None, message=""):
        during.append(len(checkpoint_files(library)))

    assert sync_ann(library, MODEL, progress) == {"ann": "built", "vectors": PAPERS}
    assert max(during) > 0  # checkpoints were written while it built
    assert checkpoint_files(library) == []
    assert [f.suffix for f in sorted(ann.ann_dir(library.path).iterdir())] == [".json", ".usearch"]


def test_an_unreadable_finished_index_is_searched_exactly_and_rebuilt_at_the_next_change(library, caplog):
    assert sync_ann(library, MODEL)["ann"] == "built"
    index_file = next(ann.ann_dir(library.path).glob("*.usearch"))
    index_file.write_bytes(index_file.read_bytes()[: index_file.stat().st_size // 2])  # a torn copy
    with caplog.at_level(logging.WARNING, logger="paperradar.ann"):
        assert AnnIndex.open(library, MODEL) is None  # the caller searches exactly; it used to raise
    assert "cannot read" in caplog.text
    pks = sorted(library.all_pks())
    put(library, pks[PAPERS : PAPERS + 10], unit(np.random.default_rng(5), 10))
    assert sync_ann(library, MODEL) == {"ann": "built", "vectors": PAPERS + 10}  # not a patch of it
    assert_every_paper_finds_itself(library)


def test_a_torn_index_is_rebuilt_by_the_next_index_even_with_no_change(library, caplog):
    assert sync_ann(library, MODEL)["ann"] == "built"
    index_file = next(ann.ann_dir(library.path).glob("*.usearch"))
    whole = index_file.read_bytes()
    index_file.write_bytes(whole[: len(whole) - 4096])  # a copy cut short by a full disk
    with caplog.at_level(logging.WARNING, logger="paperradar.ann"):
        assert AnnIndex.open(library, MODEL) is None  # searched exactly meanwhile
    assert sync_ann(library, MODEL) == {"ann": "built", "vectors": PAPERS}  # it used to say "current"
    assert index_file.stat().st_size == len(whole)
    assert_every_paper_finds_itself(library)


def test_an_index_described_without_its_size_is_still_trusted_when_it_opens(library):
    assert sync_ann(library, MODEL)["ann"] == "built"
    meta_file = next(ann.ann_dir(library.path).glob("*.json"))
    meta = json.loads(meta_file.read_text())
    assert meta["bytes"] == next(ann.ann_dir(library.path).glob("*.usearch")).stat().st_size
    del meta["bytes"]  # as an index saved before sizes were recorded
    meta_file.write_text(json.dumps(meta))
    assert sync_ann(library, MODEL) == {"ann": "current", "vectors": PAPERS}
    assert AnnIndex.open(library, MODEL) is not None
