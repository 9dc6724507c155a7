"""/api/library, /api/stats and /library: browsing, sorting, filtering, stats."""

from __future__ import annotations

import pytest

from web_helpers import client_for, demo_library, is_error


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    return client_for(demo_library(tmp_path_factory.mktemp("library") / "lib.db"))


def test_stats_count_the_library(client):
    s = client.get("/api/stats").json()
    assert s["ok"] and s["papers"] > 100 and s["records"] >= s["papers"]
    assert sum(s["records_by_importer"].values()) == s["records"]


def test_library_pages_through_every_paper_once(client):
    total = client.get("/api/stats").json()["papers"]
    seen, offset = [], 0
    while offset is not None:
        body = client.get("/api/library", params={"limit": 50, "offset": offset}).json()
        assert body["total"] == total
        seen += [p["id"] for p in body["items"]]
        offset = body["next_offset"]
    assert len(seen) == len(set(seen)) == total


def test_sort_by_title(client):
    items = client.get("/api/library", params={"sort": "title", "limit": 30}).json()["items"]
    titles = [p["title"].casefold() for p in items if p["title"]]
    assert titles == sorted(titles)


def test_newest_first_by_default(client):
    items = client.get("/api/library", params={"limit": 20}).json()["items"]
    dates = [max(p["dates"].values()) for p in items if p["dates"]]
    assert dates[0] >= dates[-1]


def test_filter_by_words_and_source(client):
    body = client.get("/api/library", params={"q": "Dualformer"}).json()
    assert body["total"] >= 1 and "Dualformer" in body["items"][0]["title"]
    body = client.get("/api/library", params={"source": "page_arxiv_listing", "limit": 200}).json()
    stats = client.get("/api/stats").json()["records_by_importer"]
    assert 0 < body["total"] <= stats["page_arxiv_listing"]


def test_bad_sort_and_paging(client):
    assert is_error(client.get("/api/library", params={"sort": "size"}), 422)
    assert is_error(client.get("/api/library", params={"limit": 100000}), 422)


def test_library_page_lists_and_offers_export(client):
    html = client.get("/library").text
    assert "Export selected" in html and 'name="ids"' in html and "source records" in html
    assert client.get("/library", params={"sort": "title", "page": 2}).status_code == 200
