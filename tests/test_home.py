"""Home is fast after the first view and reflects feedback at once: recommendations are cached per
profile and library state, served (minus the papers acted on) while a fresh list is computed in
the background, and each card carries its key sentences."""

from __future__ import annotations

import time

import pytest

import paperradar.recommend
from web_helpers import client_for, demo_library


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    c = client_for(demo_library(tmp_path_factory.mktemp("home") / "lib.db"))
    r = c.post_csrf("/api/profiles", json={"name": "me", "author": "Yuandong Tian", "pick": 1})
    assert r.status_code == 200, r.text
    return c


def _ids(body) -> list[str]:  # type: ignore[no-untyped-def]
    return [i["id"] for g in body["groups"] for i in g["items"]]


def _fresh(client) -> dict:  # type: ignore[no-untyped-def,type-arg]
    """/api/home once the background refresh has caught up."""
    deadline = time.monotonic() + 60
    while True:
        body = client.get("/api/home", params={"profile": "me"}).json()
        if not body["stale"] or time.monotonic() > deadline:
            return body
        time.sleep(0.1)


def test_a_second_view_is_served_from_the_cache(client, monkeypatch):
    first = _fresh(client)
    calls = []
    real = paperradar.recommend.recommend
    monkeypatch.setattr(paperradar.recommend, "recommend", lambda *a, **k: calls.append(1) or real(*a, **k))
    again = client.get("/api/home", params={"profile": "me"}).json()
    assert _ids(again) == _ids(first) and again["stale"] is False
    assert client.get("/", params={"profile": "me"}).status_code == 200
    assert calls == []  # nothing recomputed: nothing changed


def test_feedback_shows_at_once_and_the_fresh_list_follows(client):
    before = _ids(_fresh(client))
    r = client.post_csrf("/api/profiles/me/feedback", json={"paper": before[0], "kind": "dislike"})
    assert r.status_code == 200
    right_after = client.get("/api/home", params={"profile": "me"}).json()
    assert before[0] not in _ids(right_after)  # even while the refit runs
    page = client.get("/", params={"profile": "me"}).text
    assert before[0] not in page or "Updating these recommendations" in page
    fresh = _fresh(client)
    assert fresh["stale"] is False and before[0] not in _ids(fresh)
    assert len(_ids(fresh)) >= 1


def test_cards_carry_the_key_sentences_and_a_pdf_link(client):
    body = _fresh(client)
    items = [i for g in body["groups"] for i in g["items"]]
    with_idea = [i for i in items if i["highlights"]["idea"]]
    assert with_idea, "recommended papers with abstracts get an idea sentence"
    assert with_idea and all(i["highlights"]["idea"] != i["highlights"]["result"] for i in with_idea)
    page = client.get("/", params={"profile": "me"}).text
    assert 'class="key-sentences"' in page and ">PDF</a>" in page


def test_the_first_view_never_waits_and_shows_the_list_when_ready(tmp_path, monkeypatch):
    import paperradar.web.cache

    monkeypatch.setattr(paperradar.web.cache, "FIRST_WAIT_S", 0.0)  # as on a big library
    c = client_for(demo_library(tmp_path / "lib.db"))
    assert (
        c.post_csrf("/api/profiles", json={"name": "me", "author": "Yuandong Tian", "pick": 1}).status_code
        == 200
    )
    page = c.get("/", params={"profile": "me"}).text
    assert "Preparing your recommendations" in page and 'data-poll="/api/home?profile=me&wait=false"' in page
    deadline = time.monotonic() + 60
    while c.get("/api/home", params={"profile": "me", "wait": "false"}).json().get("preparing"):
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert 'class="card result rec"' in c.get("/", params={"profile": "me"}).text


def test_a_profile_that_cannot_be_ranked_says_why_instead_of_preparing_forever(tmp_path):
    c = client_for(demo_library(tmp_path / "lib.db"))
    c.post_csrf("/api/profiles", json={"name": "ids", "papers": ["arxiv:2410.09918"]})
    c.post_csrf("/api/profiles/ids/papers/remove", json={"papers": ["arxiv:2410.09918"]})
    deadline = time.monotonic() + 60
    while "Preparing" in (page := c.get("/", params={"profile": "ids"}).text):
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert 'role="alert"' in page or "Nothing new" in page
