"""The default path embeds a profile's own papers (issue 11): `profile create --papers`,
`profile add FILE` and `recommend --among` embed the papers their files bring as `paperradar
import` does (the quality tier for up to `quality_import_max` new papers), so the ranking uses
those vectors without a `paperradar index` step. Real library, real models (`make models`)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from paperradar.embed import load_embedder, models_dir

TOPICS = [
    "protein folding with graph neural networks",
    "speech recognition for low-resource languages",
    "galaxy cluster lensing measurements",
    "reinforcement learning for robot grasping",
    "sparse attention for long documents",
    "quantum error correction codes",
]


@pytest.fixture
def big_library(cli, tmp_path, monkeypatch):
    """A library of 30 papers embedded by the fast tier (an import over quality_import_max = 10),
    ranked as a big one is (features built, nothing embedded inside a request)."""
    if not (models_dir() / "manifest.json").is_file():
        if os.environ.get("CI"):
            pytest.fail(f"no models in {models_dir()}: `make test` should have built them")
        pytest.skip("no embedding models: run `make models`")
    monkeypatch.setenv("PAPERRADAR_QUALITY_IMPORT_MAX", "10")
    monkeypatch.setattr("paperradar.rank.ready.INLINE_BELOW", 10)
    rows = [
        {
            "id": f"doi:10.5555/lib.{i}",
            "title": f"{TOPICS[i % 6].capitalize()}, study {i}",
            "abstract": _abstract(i),
        }
        for i in range(30)
    ]
    path = tmp_path / "lib.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    made = cli("import", str(path), "--json")
    assert made.exit_code == 0, made.output
    assert json.loads(made.stdout)["index"]["tier"] == "fast"
    return tmp_path


def _abstract(i: int) -> str:
    return f"We study {TOPICS[i % 6]} (case {i}) and compare {TOPICS[(i + 1) % 6]} baselines."


def _bib(path, prefix: str, n: int, topic: int) -> str:
    path.write_text(
        "".join(
            f"@article{{{prefix}{i}, title={{{TOPICS[topic].capitalize()}: {prefix} idea {i}}},"
            f" abstract={{{_abstract(topic + 6 * i)}}}, year={{2024}}, doi={{10.5555/{prefix}.{i}}}}}\n"
            for i in range(n)
        )
    )
    return str(path)


def _open(db_path):
    from paperradar.storage import open_library

    return open_library(db_path)


def _quality_rows(db_path, ids: list[str]) -> tuple[int, float]:
    """How many of these papers have a quality-tier vector, and the least cosine between the
    rows the ranking uses (rank.ready.features_for) and the quality tier's embedding of their text."""
    from paperradar.rank.features import _texts
    from paperradar.rank.ready import features_for

    quality = load_embedder("quality")
    lib = _open(db_path)
    try:
        pks = [lib.resolve(i) for i in ids]
        have = sum(pk in lib.embedding_hashes(quality.model_id) for pk in pks)
        feats = features_for(lib, pks)
        assert feats.dense is not None
        dense = np.asarray(feats.dense)[feats.rows(pks)]
        own = np.asarray(quality.embed_batch(_texts(lib, np.asarray(pks))), dtype=np.float32)
        own /= np.linalg.norm(own, axis=1, keepdims=True)
        return have, float((dense * own).sum(axis=1).min())
    finally:
        lib.close()


def test_profile_create_papers_get_quality_vectors_the_ranking_uses(cli, big_library, db_path):
    bib = _bib(big_library / "mine.bib", "mine", 4, 0)
    made = cli("profile", "create", "me", "--papers", bib, "--json")
    assert made.exit_code == 0, made.output
    ids = json.loads(made.stdout)["papers"]
    assert len(ids) == 4
    have, least = _quality_rows(db_path, ids)
    assert have == 4 and least > 0.99  # without the fix: no vector at all, zero rows


def test_recommend_among_ranks_the_file_by_quality_vectors(cli, big_library, db_path):
    assert (
        cli("profile", "create", "me", "--papers", _bib(big_library / "mine.bib", "mine", 4, 0)).exit_code
        == 0
    )
    among = _bib(big_library / "new.bib", "new", 5, 3)
    ranked = cli("recommend", "me", "--among", among, "--json", "--limit", "10")
    assert ranked.exit_code == 0, ranked.output
    ids = [r["id"] for r in json.loads(ranked.stdout)]
    assert len(ids) == 5
    have, least = _quality_rows(db_path, ids)
    assert have == 5 and least > 0.99


def test_profile_add_file_embeds_and_no_index_opts_out(cli, big_library, db_path):
    assert (
        cli("profile", "create", "me", "--papers", _bib(big_library / "mine.bib", "mine", 2, 0)).exit_code
        == 0
    )
    added = cli("profile", "add", "me", _bib(big_library / "more.bib", "more", 3, 1), "--json")
    assert added.exit_code == 0, added.output
    more = [i for i in json.loads(added.stdout)["papers"] if i.startswith("doi:10.5555/more.")]
    assert _quality_rows(db_path, more)[0] == 3
    skipped = cli("recommend", "me", "--among", _bib(big_library / "skip.bib", "skip", 3, 2), "--no-index")
    assert skipped.exit_code == 0, skipped.output
    lib = _open(db_path)
    try:
        pks = [lib.resolve(f"doi:10.5555/skip.{i}") for i in range(3)]
        assert not [pk for pk, _, _ in lib.any_vectors_of(pks)]  # --no-index: nothing embedded
    finally:
        lib.close()


def test_web_profile_from_an_uploaded_file_gets_quality_vectors(cli, big_library, db_path):
    from web_helpers import client_for

    client = client_for(db_path)
    bib = _bib(big_library / "upload.bib", "upload", 3, 4)
    r = client.post(
        "/profiles",
        data={"name": "web", "csrf_token": client.csrf()},
        files={"file": ("upload.bib", Path(bib).read_bytes(), "text/plain")},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    ids = client.get("/api/profiles/web").json()["profile"]["papers"]
    assert len(ids) == 3
    have, least = _quality_rows(db_path, ids)
    assert have == 3 and least > 0.99


def test_few_new_papers_in_a_big_fast_library_get_the_quality_tier_alone(cli, big_library, db_path):
    """The tier rule: quality for the papers no tier has embedded when they are at most
    quality_import_max (only those: the library's fast papers are left to `paperradar index`),
    the fast tier when they are more."""
    from paperradar.importers.base import Source
    from paperradar.index import index_new_papers
    from paperradar.ingest import import_source

    lib = _open(db_path)
    try:
        quality = load_embedder("quality").model_id
        import_source(lib, Source.from_file(_bib(big_library / "five.bib", "five", 5, 2)))
        report = index_new_papers(lib)
        assert report is not None and report["tier"] == "quality" and report["embedded"] == 5
        assert lib.embedding_models()[quality] == 5  # not the 30 fast-tier papers
        import_source(lib, Source.from_file(_bib(big_library / "many.bib", "many", 12, 5)))
        report = index_new_papers(lib)
        assert report is not None and report["tier"] == "fast"
        assert report["embedded"] == 12 + 5  # all the fast tier lacks, the five quality ones too
        assert lib.embedding_models()[quality] == 5
    finally:
        lib.close()
