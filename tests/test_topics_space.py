"""The space topics are clustered in (topics/space.py): the papers' words join their vectors, and a
build is the same every time. Uses the real fast embedding tier (`make models`) on the planted
corpus of test_topics.py, and real scikit-learn for the lexical view."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from scipy import sparse

from paperradar.embed import load_embedder
from paperradar.importers.base import Source
from paperradar.index import update_index
from paperradar.ingest import import_source
from paperradar.storage import open_library
from paperradar.storage import topics as db
from paperradar.topics import build_topics, cluster, space
from test_topics import need_models, write_corpus


def two_vocabularies(n: int, rng: np.random.Generator) -> tuple[sparse.csr_matrix, np.ndarray]:
    """TF-IDF-like unit rows: the first half of the papers use words 0-49, the rest words 50-99."""
    truth = (np.arange(n) >= n // 2).astype(int)
    rows = np.repeat(np.arange(n), 8)
    cols = np.concatenate([50 * t + rng.choice(50, 8, replace=False) for t in truth])
    m = sparse.csr_matrix((np.ones(len(rows), dtype=np.float32), (rows, cols)), shape=(n, 100))
    return sparse.csr_matrix(space.unit_rows(m.toarray())), truth


def agreement(found: np.ndarray, truth: np.ndarray) -> float:
    """Share of papers in their cluster's majority group."""
    return sum(np.bincount(truth[found == c]).max() for c in np.unique(found)) / len(truth)


def test_the_words_separate_what_the_vectors_blur():
    rng = np.random.default_rng(1)
    lexical, truth = two_vocabularies(200, rng)
    vectors = rng.normal(size=(200, 64)).astype(np.float32)  # no theme in the vectors at all
    alone, _ = cluster.fine_clusters(space.joint_rows(vectors, None), 2)
    joined, _ = cluster.fine_clusters(space.joint_rows(vectors, space.lsa_rows(lexical, dims=8)), 2)
    assert agreement(joined, truth) == 1.0
    assert agreement(alone, truth) < 0.8


def test_joint_rows_weigh_both_cosines():
    rng = np.random.default_rng(2)
    a, b = space.unit_rows(rng.normal(size=(2, 12))), space.unit_rows(rng.normal(size=(2, 5)))
    joint = space.joint_rows(a, b, weight=0.7)
    assert np.allclose(np.linalg.norm(joint, axis=1), 1.0, atol=1e-5)
    assert joint[0] @ joint[1] == pytest.approx(0.7 * (a[0] @ a[1]) + 0.3 * (b[0] @ b[1]), abs=1e-5)
    with pytest.raises(ValueError, match="3 lexical rows for 2 vectors"):
        space.joint_rows(a, np.ones((3, 5)))


@pytest.fixture(scope="module")
def planted_db(tmp_path_factory):
    need_models()
    root = tmp_path_factory.mktemp("space")
    write_corpus(root / "corpus.jsonl")
    lib = open_library(root / "base.db")
    import_source(lib, Source.from_file(root / "corpus.jsonl"))
    update_index(lib, load_embedder("fast"))
    lib.checkpoint()
    lib.close()
    return root / "base.db"


def built(planted_db, path):  # type: ignore[no-untyped-def]
    shutil.copy(planted_db, path)
    lib = open_library(path)
    try:
        report = build_topics(lib, fine=4, broad=2)
        a = db.assignments(lib)
        labels = sorted((t.id, t.label) for t in db.topics(lib))
        return report, dict(zip(a.pk.tolist(), a.topic.tolist(), strict=True)), labels
    finally:
        lib.close()


def test_a_build_uses_the_words_and_is_the_same_every_time(planted_db, tmp_path):
    first, topics_1, labels_1 = built(planted_db, tmp_path / "one.db")
    second, topics_2, labels_2 = built(planted_db, tmp_path / "two.db")
    assert first.lexical_dims > 0
    assert first.as_json()["lexical_dims"] == first.lexical_dims
    assert topics_1 == topics_2
    assert labels_1 == labels_2
