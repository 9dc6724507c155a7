"""/api/search and /search: results, filters, paging, notes, and bad input in the one error shape."""

from __future__ import annotations

import pytest

from web_helpers import client_for, demo_library, is_error


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    return client_for(demo_library(tmp_path_factory.mktemp("search") / "lib.db"))


def test_search_finds_papers_with_highlights(client):
    r = client.get("/api/search", params={"q": "KV cache", "limit": 5})
    body = r.json()
    assert r.status_code == 200 and body["ok"] is True
    assert body["total"] >= 5 and len(body["items"]) == 5
    first = body["items"][0]
    start, end = first["highlights"][0]
    assert first["snippet"][start:end].lower() in {"kv", "cache", "caching", "caches"}
    assert body["took_ms"] >= 0 and body["mode"] == "keyword"


def test_pages_do_not_overlap_and_end(client):
    one = client.get("/api/search", params={"q": "KV cache", "limit": 4}).json()
    two = client.get("/api/search", params={"q": "KV cache", "limit": 4, "offset": 4}).json()
    assert one["next_offset"] == 4
    assert not {i["id"] for i in one["items"]} & {i["id"] for i in two["items"]}
    last = client.get("/api/search", params={"q": "KV cache", "limit": 4, "offset": one["total"] - 1}).json()
    assert len(last["items"]) == 1 and last["next_offset"] is None


def test_filters_narrow_the_results(client):
    every = client.get("/api/search", params={"q": "language models"}).json()
    since = client.get("/api/search", params={"q": "language models", "since": "2025"}).json()
    assert 0 < since["total"] < every["total"]
    assert since["items"] and all(i["date"] >= "2025" for i in since["items"])
    coded = client.get("/api/search", params={"q": "", "has_code": "true", "limit": 200}).json()
    assert coded["total"] > 0
    for item in coded["items"][:5]:
        assert client.get(f"/api/papers/{item['id']}").json()["paper"]["has_code"] is True


def test_category_and_author_filters(client):
    r = client.get("/api/search", params={"q": "", "category": "cs.CL", "limit": 100}).json()
    assert (
        r["total"] > 0
        and r["items"]
        and all(any(c.lower() == "cs.cl" for c in i["categories"]) for i in r["items"])
    )
    r = client.get("/api/search", params={"q": "", "author": "Yuandong Tian", "limit": 100}).json()
    assert r["total"] > 0 and r["items"] and all(any("Tian" in a for a in i["authors"]) for i in r["items"])


def test_no_words_lists_the_newest(client):
    r = client.get("/api/search", params={"q": "", "limit": 3}).json()
    dates = [i["date"] for i in r["items"]]
    assert dates == sorted(dates, reverse=True)


def test_bad_input_answers_in_the_error_shape(client):
    assert is_error(client.get("/api/search", params={"q": "x", "mode": "magic"}), 422)
    assert is_error(client.get("/api/search", params={"q": "x", "since": "last week"}), 422)
    assert is_error(client.get("/api/search", params={"q": "x", "limit": 0}), 422)
    assert is_error(client.get("/api/search", params={"q": "x", "limit": "many"}), 422)
    assert is_error(client.get("/api/search", params={"q": "x", "offset": -1}), 422)
    assert is_error(client.get("/api/search", params={"q": "x" * 3000}), 422)


def test_semantic_without_embeddings_says_how_to_get_them(client):
    r = client.get("/api/search", params={"q": "attention", "mode": "semantic"})
    assert r.status_code in (400, 503) and "paperradar index" in r.json()["error"]


def test_query_syntax_is_never_an_error(client):
    for q in ['"unclosed', "AND OR NOT", "title:(x", "-", "***", "\u0000"]:
        r = client.get("/api/search", params={"q": q})
        assert r.status_code == 200, q


def test_search_page_shows_count_time_and_marks(client):
    html = client.get("/search", params={"q": "KV cache"}).text
    assert "<mark>" in html and " ms" in html and "papers" in html
    bad = client.get("/search", params={"q": "x", "since": "soon"}, headers={"accept": "text/html"})
    assert bad.status_code == 422 and "since: wants a date like 2024" in bad.text


def test_search_page_pagination_links(client):
    html = client.get("/search", params={"q": "language", "page": 2}).text
    assert 'rel="prev"' in html and "page=1" in html
