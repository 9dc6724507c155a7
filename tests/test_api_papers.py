"""/api/papers/{id}, /paper/{id} and exports: the merged record, sources, similar papers, files."""

from __future__ import annotations

import json

import pytest

from web_helpers import client_for, demo_library, is_error


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    return client_for(demo_library(tmp_path_factory.mktemp("papers") / "lib.db"))


def test_paper_by_any_id(client):
    a = client.get("/api/papers/arxiv:2410.09918").json()
    b = client.get("/api/papers/2410.09918v1").json()
    assert a["ok"] and a["paper"]["id"] == b["paper"]["id"]
    assert "Dualformer" in a["paper"]["title"]
    assert a["links"]["abs"] == "https://arxiv.org/abs/2410.09918"


def test_paper_has_sources_with_provenance_and_similar(client):
    body = client.get("/api/papers/arxiv:2410.09918").json()
    keys = {s["key"] for s in body["paper"]["sources"]}
    assert keys and set(body["paper"]["provenance"].values()) <= keys
    assert body["similar"] and all(s["id"] != body["paper"]["id"] for s in body["similar"])
    assert body["similar"] and all(s["reasons"] for s in body["similar"])


def test_unknown_paper_is_404_in_the_error_shape(client):
    r = client.get("/api/papers/arxiv:9999.99999")
    assert is_error(r, 404) and "9999.99999" in r.json()["error"]
    page = client.get("/paper/arxiv:9999.99999", headers={"accept": "text/html"})
    assert page.status_code == 404 and "9999.99999" in page.text


def test_paper_page_shows_the_record(client):
    html = client.get("/paper/arxiv:2410.09918").text
    assert "Dualformer" in html and "Similar papers" in html and "Sources" in html
    assert 'href="/api/export?ids=arxiv%3A2410.09918&amp;format=bibtex"' in html


@pytest.mark.parametrize(
    ("fmt", "media", "start"),
    [("bibtex", "application/x-bibtex", "@"), ("ris", "application/x-research-info-systems", "TY  -")],
)
def test_export_one_paper(client, fmt, media, start):
    r = client.get("/api/export", params={"ids": "arxiv:2410.09918", "format": fmt})
    assert r.status_code == 200 and r.headers["content-type"].startswith(media)
    assert "attachment" in r.headers["content-disposition"]
    assert r.text.lstrip().startswith(start) and "2410.09918" in r.text


def test_export_csljson_is_json(client):
    r = client.get(
        "/api/export", params={"ids": ["arxiv:2410.09918", "arxiv:2409.20370"], "format": "csljson"}
    )
    assert len(json.loads(r.text)) == 2


def test_export_errors(client):
    assert is_error(client.get("/api/export", params={"ids": "nope", "format": "bibtex"}), 404)
    assert is_error(client.get("/api/export", params={"ids": "arxiv:2410.09918", "format": "docx"}), 422)
    assert is_error(client.get("/api/export", params={"format": "bibtex"}), 422)


def test_export_post_needs_csrf_and_works_with_it(client):
    data = {"ids": ["arxiv:2410.09918", "arxiv:2409.20370"], "format": "bibtex"}
    assert is_error(client.post("/api/export", data=data), 403)
    r = client.post_csrf("/api/export", data=data)
    assert r.status_code == 200 and r.text.count("@") == 2


UNTITLED = {
    "id": "arxiv:2403.03507",
    "abstract": "Training **large** language modelsrequires memory. We propose GaLore.",
}


@pytest.fixture
def untitled(tmp_path, monkeypatch):
    from conftest import http_server
    from delivery_fakes import FakeAPI, _handler
    from paperradar.importers.base import Source
    from paperradar.ingest import import_source
    from paperradar.storage import open_library

    path = tmp_path / "lib.db"
    lib = open_library(path)
    other = {"id": "doi:10.1000/no-arxiv", "abstract": "A paper known only by its DOI. It has two sentences."}
    text = json.dumps(UNTITLED) + "\n" + json.dumps(other) + "\n"
    import_source(lib, Source.from_text(text, "pasted.jsonl"))
    lib.close()
    fake = FakeAPI()
    with http_server(_handler(fake)) as base:
        fake.base = base
        monkeypatch.setenv("PAPERRADAR_ARXIV_API", fake.arxiv)
        monkeypatch.setenv("PAPERRADAR_ARXIV_DELAY", "0")
        yield client_for(str(path)), fake


def test_untitled_paper_with_an_arxiv_id_is_named_by_it_and_fetched_on_request(untitled):
    client, arxiv = untitled
    html = client.get("/paper/arxiv:2403.03507").text
    assert "arXiv 2403.03507 (title not fetched yet)" in html
    assert "Training large language models requires memory." in html  # no ** marks, no glued words
    assert "Fetch title and authors from arXiv" in html
    r = client.post_csrf("/api/papers/arxiv:2403.03507/fetch")
    assert r.status_code == 200, r.text
    assert r.json()["found"] is True and r.json()["paper"]["title"].startswith("GaLore")
    assert [q.get("id_list") for q in arxiv.requests] == ["2403.03507"]
    html = client.get("/paper/arxiv:2403.03507").text
    assert "GaLore: Memory-Efficient LLM Training" in html and "Fetch title and authors" not in html


def test_fetching_a_paper_without_an_arxiv_id_says_why(untitled):
    client, arxiv = untitled
    r = client.post_csrf("/api/papers/doi:10.1000/no-arxiv/fetch")
    assert is_error(r, 400) and "no arXiv id" in r.json()["error"]
    assert "Fetch title and authors" not in client.get("/paper/doi:10.1000/no-arxiv").text
    assert is_error(client.post_csrf("/api/papers/arxiv:9999.99999/fetch"), 404)
    assert arxiv.requests == []


def test_paper_page_does_not_wait_for_similar_papers(tmp_path):
    client = client_for(demo_library(tmp_path / "lib.db"))
    first = client.get("/paper/arxiv:2410.09918").text
    assert 'data-similar-src="/api/papers/arxiv%3A2410.09918/similar"' in first  # fetched after
    assert "?similar=1" in first  # the no-script way
    similar = client.get("/api/papers/arxiv:2410.09918/similar").json()
    assert similar["ok"] and similar["id"] == "arxiv:2410.09918" and similar["items"]
    again = client.get("/paper/arxiv:2410.09918").text  # now known: shown inline
    assert "data-similar-src" not in again and similar["items"][0]["label"] in again
    assert is_error(client.get("/api/papers/arxiv:9999.99999/similar"), 404)
