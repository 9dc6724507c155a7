"""Semantic and hybrid search, and similar papers, with the real embedding models (`make models`)."""

from __future__ import annotations

import json
import os

import pytest

from conftest import EXAMPLES
from paperradar.embed import load_embedder, models_dir
from paperradar.importers.base import Source
from paperradar.index import best_index, update_index
from paperradar.ingest import import_source
from paperradar.search import search
from paperradar.storage.fts import Filters


@pytest.fixture(scope="module")
def indexed(tmp_path_factory):
    if not (models_dir() / "manifest.json").is_file():
        if os.environ.get("CI"):
            pytest.fail(f"no models in {models_dir()}: `make test` should have built them")
        pytest.skip("no embedding models: run `make models`")
    from paperradar.storage import open_library

    lib = open_library(tmp_path_factory.mktemp("dense") / "lib.db")
    for f in sorted(EXAMPLES.iterdir()):
        import_source(lib, Source.from_file(f))
    update_index(lib, load_embedder("quality"))
    yield lib
    lib.close()


def titles(result):
    return [h.paper.title or "" for h in result.hits]


def test_semantic_search_finds_meaning_without_the_words(indexed):
    # none of these words is in the paper's title, and "phones"/"cheaper" are not in its abstract
    result = search(indexed, "making language models cheaper to run on phones", mode="semantic", limit=3)
    assert any(t.startswith("MobileLLM") for t in titles(result)), titles(result)
    assert result.hits and all(any("close in meaning" in r for r in h.reasons) for h in result.hits)


def test_hybrid_keeps_exact_matches_on_top_and_explains_both(indexed):
    result = search(indexed, "KV cache compression", mode="hybrid", limit=5)
    assert titles(result)[0].startswith("GEAR")
    top = result.hits[0]
    assert any("keyword rank" in r for r in top.reasons) and any("cosine" in r for r in top.reasons)


def test_semantic_search_respects_filters(indexed):
    result = search(
        indexed, "efficient inference", mode="semantic", limit=10, filters=Filters(categories=("cs.CL",))
    )
    assert result.hits and all("cs.CL" in h.paper.categories for h in result.hits)


def test_best_index_prefers_the_quality_tier(indexed):
    index, embedder = best_index(indexed)
    assert embedder.model_id.startswith("all-MiniLM-L6-v2/onnx-int8@") and len(index) == 177


def test_cli_hybrid_json(indexed, cli, db_path):
    # the CLI on its own library: import, index (fast tier only, quick), search
    assert cli("import", str(EXAMPLES)).exit_code == 0
    assert cli("index", "--tier", "fast").exit_code == 0
    out = cli("search", "low-rank gradient projection", "--mode", "hybrid", "--limit", "3", "--json")
    hits = json.loads(out.output)
    assert len(hits) == 3 and all({"id", "title", "score", "reasons"} <= set(h) for h in hits)
    assert any("GaLore" in (h["title"] or "") for h in hits)


def _octopus_records(n: int, start: int = 1):
    from paperradar.models import Record, SourceRef

    return [
        Record(
            source=SourceRef("bibtex", "new.bib", i),
            ids=[f"arxiv:2611.{i:05d}"],
            title=f"Octopus arm control with soft actuators, part {i}",
            abstract="Soft robotic tentacles learn to grasp with distributed control.",
        )
        for i in range(start, start + n)
    ]


def test_a_mixed_tier_library_searches_each_paper_by_its_best_vector(tmp_path):
    """Papers a big import embedded with the fast tier are found at once beside those the quality
    tier embedded: one index of the best vector each paper has, queries by the quality tier."""
    from paperradar.index import MixedIndex
    from paperradar.ingest import ImportReport, ingest_records
    from paperradar.storage import open_library

    lib = open_library(tmp_path / "lib.db")
    import_source(lib, Source.from_file(EXAMPLES / "hf-daily-papers-search.txt"))
    fast, quality = load_embedder("fast"), load_embedder("quality")
    update_index(lib, quality)
    ingest_records(lib, _octopus_records(10), ImportReport("new.bib", "bibtex"))
    update_index(lib, fast)  # a big import: the fast tier only
    index, embedder = best_index(lib)
    assert isinstance(index, MixedIndex) and embedder.model_id == quality.model_id
    assert index.fast_papers == 10 and len(index) == lib.counts()["papers"]
    top = search(lib, "soft robot tentacle grasping", mode="semantic", limit=3)
    assert top.hits and all("Octopus" in (h.paper.title or "") for h in top.hits)
    update_index(lib, quality)  # `paperradar index` upgrades them
    index, _ = best_index(lib)
    assert index.fast_papers == 0
    lib.close()


def test_mixed_tiers_favour_neither_tier(tmp_path):
    """The same text embedded by the quality tier in one paper and by the fast tier in another
    scores alike for a query: the fast tier's cosines are rescaled by its measured agreement."""
    from paperradar.ingest import ImportReport, ingest_records
    from paperradar.models import Record, SourceRef
    from paperradar.storage import open_library

    lib = open_library(tmp_path / "lib.db")
    import_source(lib, Source.from_file(EXAMPLES / "hf-daily-papers-search.txt"))
    abstract = "Soft robotic tentacles learn to grasp with distributed control."
    twin = lambda i, t: Record(  # noqa: E731
        source=SourceRef("bibtex", "t.bib", i), ids=[f"arxiv:2612.0000{i}"], title=t, abstract=abstract
    )
    ingest_records(lib, [twin(1, "Octopus arms that grasp")], ImportReport("t.bib", "bibtex"))
    update_index(lib, load_embedder("quality"))
    ingest_records(lib, [twin(2, "Octopus arms which grasp")], ImportReport("t.bib", "bibtex"))
    update_index(lib, load_embedder("fast"))
    hits = search(lib, "octopus arms grasping with soft tentacles", mode="semantic", limit=5).hits
    assert {h.paper.title for h in hits[:2]} == {"Octopus arms that grasp", "Octopus arms which grasp"}
    # unscaled, the fast twin's cosine is 0.69 against the quality twin's 0.87; scaled, the gap narrows
    # (the agreement is an average over abstracts, so it is not exact for one short text)
    assert abs(hits[0].score - hits[1].score) < 0.15
    lib.close()


def test_a_small_import_gets_the_quality_tier_a_big_one_the_fast(tmp_path, monkeypatch):
    from paperradar.index import import_tier, index_new_papers
    from paperradar.ingest import ImportReport, ingest_records
    from paperradar.storage import open_library

    monkeypatch.setenv("PAPERRADAR_QUALITY_IMPORT_MAX", "20")
    lib = open_library(tmp_path / "lib.db")
    ingest_records(lib, _octopus_records(12), ImportReport("new.bib", "bibtex"))
    report = index_new_papers(lib)
    assert report is not None and report["tier"] == "quality" and report["embedded"] == 12
    ingest_records(lib, _octopus_records(30, start=100), ImportReport("more.bib", "bibtex"))
    assert import_tier(lib)[0] == "fast"  # 30 new papers > 20
    lib.close()
