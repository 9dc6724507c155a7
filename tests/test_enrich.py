"""Enrich pasted pages from arXiv by id, against a local server answering with saved arXiv entries.

examples/arxiv-author-listing.txt (a real pasted arXiv author listing) gives 10 papers with an
abstract, an arXiv id and a date but no title, authors or categories. The server knows the real
arXiv entries of 2407.08296 and 2410.09918 (tests/data/arxiv); the other 8 ids it does not know.
examples/abstract-list.txt gives papers without any id.
"""

from __future__ import annotations

from conftest import EXAMPLES
from delivery_fakes import NoSleep, api_server, closed_port  # noqa: F401 - fixtures
from paperradar.enrich import enrich
from paperradar.importers.base import Source
from paperradar.ingest import import_source
from paperradar.papers import get_paper


def run(lib, api, **kw):
    t = NoSleep()
    return enrich(lib, base_url=api.arxiv, sleep=t.sleep, clock=t.clock, **kw), t


def test_fills_titles_authors_categories_with_arxiv_provenance(lib, api):
    import_source(lib, Source.from_file(EXAMPLES / "arxiv-author-listing.txt"))
    before = get_paper(lib, "arxiv:2410.09918")
    assert before.title is None and before.authors == [] and before.categories == []
    report, _ = run(lib, api)
    paper = get_paper(lib, "arxiv:2410.09918")
    assert paper.title.startswith("Dualformer")
    assert paper.authors[0].name == "DiJia Su"
    assert "cs.AI" in paper.categories
    by_key = {s.key: s for s in paper.sources}
    assert by_key[paper.provenance["title"]].importer == "arxiv_atom"
    assert by_key[paper.provenance["authors"]].importer == "arxiv_atom"
    assert {s.importer for s in paper.sources} == {"page_arxiv_listing", "arxiv_atom"}
    assert report.enriched == 2 and report.filled["title"] == 2 and report.filled["categories"] == 2
    assert len(report.not_on_arxiv) == 8 and "arxiv:2405.04669" in report.not_on_arxiv
    assert lib.counts()["papers"] == 10  # filled in place, nothing doubled


def test_asks_in_batches_at_arxivs_pace(lib, api):
    import_source(lib, Source.from_file(EXAMPLES / "arxiv-author-listing.txt"))
    report, t = run(lib, api, batch=4)
    id_lists = [r["id_list"].split(",") for r in api.requests]
    assert [len(ids) for ids in id_lists] == [4, 4, 2]
    assert len({i for ids in id_lists for i in ids}) == 10
    assert t.sleeps == [3.0, 3.0]
    assert report.asked == 10 and report.requests == 3


def test_papers_without_an_id_stay_and_are_listed(lib, api):
    import_source(lib, Source.from_file(EXAMPLES / "abstract-list.txt"))
    pasted = lib.counts()["papers"]
    report, _ = run(lib, api)
    assert api.requests == []
    assert report.asked == 0 and len(report.no_id) == pasted
    assert report.no_id and all("title" in row["missing"] for row in report.no_id)
    assert lib.counts()["papers"] == pasted


def test_a_second_run_has_nothing_left_to_ask_for_the_found_ones(lib, api):
    import_source(lib, Source.from_file(EXAMPLES / "arxiv-author-listing.txt"))
    run(lib, api)
    api.requests.clear()
    report, _ = run(lib, api)
    asked = {i for r in api.requests for i in r["id_list"].split(",")}
    assert "2410.09918" not in asked and "2407.08296" not in asked and len(asked) == 8
    assert report.enriched == 0


def test_offline_changes_nothing(lib):
    import_source(lib, Source.from_file(EXAMPLES / "arxiv-author-listing.txt"))
    port = closed_port()
    report = enrich(lib, base_url=f"http://127.0.0.1:{port}/api/query", retries=0)
    assert report.error.startswith(f"cannot reach 127.0.0.1:{port}") and report.error.endswith(
        "are you offline?"
    )
    assert report.enriched == 0 and report.not_on_arxiv == []
    assert get_paper(lib, "arxiv:2410.09918").title is None
