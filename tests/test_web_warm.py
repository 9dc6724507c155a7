"""A first view finds its work done (issue 15, web/warm.py): when the server starts, Home's list of
each profile is computed in the background, then the similar papers of its cards; after the
library changes, the changed lists are recomputed before anyone asks. Each test waits for a
condition with a deadline, never for a fixed time."""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import pytest

import paperradar.recommend
from paperradar import profiles
from paperradar.importers.base import Source
from paperradar.ingest import import_source
from paperradar.storage import open_library
from paperradar.web.home import HOME_LIMIT, home_cache_of
from paperradar.web.papers import _SIMILAR
from web_helpers import client_for, demo_library

KEY = ("me", None, HOME_LIMIT)


def until(condition: Callable[[], bool], seconds: float = 90.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the background work did not finish"
        time.sleep(0.05)


@pytest.fixture(scope="module")
def started(tmp_path_factory):  # one start-up for the module: the import test comes last
    path = demo_library(tmp_path_factory.mktemp("warm") / "lib.db")
    lib = open_library(path)
    profiles.create_profile(lib, "me", author="Yuandong Tian", pick=1)
    lib.close()
    client = client_for(path)
    with client:  # runs the app's start-up, as `paperradar serve` does
        yield path, client


def test_home_is_computed_at_start_so_the_first_view_recomputes_nothing(started, monkeypatch):
    path, client = started
    state = client.app.state  # type: ignore[attr-defined]
    until(lambda: KEY in home_cache_of(state).entries)
    calls: list[int] = []
    real = paperradar.recommend.recommend
    monkeypatch.setattr(paperradar.recommend, "recommend", lambda *a, **k: calls.append(1) or real(*a, **k))
    body = client.get("/api/home", params={"profile": "me", "wait": "false"}).json()
    assert not body.get("preparing") and body["stale"] is False
    assert [i for g in body["groups"] for i in g["items"]], "the warmed list has cards"
    assert calls == []  # the first view was served from what the start-up computed


def test_the_cards_similar_papers_are_ready_before_they_are_opened(started):
    path, client = started
    state = client.app.state  # type: ignore[attr-defined]
    until(lambda: KEY in home_cache_of(state).entries)
    with state.pool.use() as lib:
        pks = [lib.resolve(r.paper.id) for r in home_cache_of(state).entries[KEY].value]
        assert pks
        until(lambda: all(_SIMILAR.has(lib, (lib.path, pk, None)) for pk in pks))
    first = home_cache_of(state).entries[KEY].value[0].paper.id
    assert client.get(f"/api/papers/{first}/similar").json()["items"] is not None


def test_a_search_page_readies_its_top_results_similar_papers(started):
    path, client = started
    state = client.app.state  # type: ignore[attr-defined]
    until(lambda: KEY in home_cache_of(state).entries and state.warmer.tasks.empty())
    top = client.get("/api/search", params={"q": "speculative decoding", "limit": 3}).json()["items"]
    assert top, "the demo library has papers on speculative decoding"
    with state.pool.use() as lib:
        pks = [lib.resolve(i["id"]) for i in top]
        assert client.get("/search", params={"q": "speculative decoding"}).status_code == 200
        until(lambda: all(_SIMILAR.has(lib, (lib.path, pk, None)) for pk in pks))


def test_after_an_import_home_is_recomputed_before_the_next_view(started):
    path, client = started
    state = client.app.state  # type: ignore[attr-defined]
    cache = home_cache_of(state)
    until(lambda: KEY in cache.entries)
    before = cache.entries[KEY]
    lib = open_library(path)
    new = {"id": "arxiv:2509.00009", "title": "Streaming attention sinks for long context", "abstract": "x"}
    import_source(lib, Source.from_text(json.dumps(new) + "\n", "new.jsonl"))
    with state.pool.use() as pooled:
        assert cache.is_stale(pooled, KEY)  # the library changed under the cached list
    state.warmer.tasks.put(("changed", None))  # what the worker does every WATCH_EVERY_S
    until(lambda: cache.entries[KEY] is not before)
    with state.pool.use() as pooled:
        assert not cache.is_stale(pooled, KEY)
    lib.close()
    body = client.get("/api/home", params={"profile": "me"}).json()
    assert body["stale"] is False  # fresh at the first view after the import
