"""Under load the requests have the cores first (issue 13's load run): the background worker that
readies a search's similar papers (web/warm.py) waits until pages have stopped asking for
QUIET_S seconds, then does the work. The wait is made unbounded here and the quiet moment is
made by hand, so nothing depends on the machine's speed."""

from __future__ import annotations

import time
from collections.abc import Callable

from paperradar.web import warm
from paperradar.web.papers import _SIMILAR
from web_helpers import client_for, demo_library


def until(condition: Callable[[], bool], seconds: float = 90.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the background work did not finish"
        time.sleep(0.05)


def test_similar_papers_wait_while_pages_are_asked_for_then_get_done(tmp_path, monkeypatch):
    monkeypatch.setattr(warm, "QUIET_S", 3600.0)  # a server that never goes quiet, until we say so
    path = demo_library(tmp_path / "lib.db")
    with client_for(path) as client:
        state = client.app.state  # type: ignore[attr-defined]
        until(lambda: state.warmer.tasks.empty())  # the start-up work is done
        top = client.get("/api/search", params={"q": "speculative decoding", "limit": 3}).json()["items"]
        with state.pool.use() as lib:
            pks = [lib.resolve(i["id"]) for i in top]
            state.warmer.similar_later(pks, only_if_idle=True)  # what each search page asks for
            ready = lambda: [_SIMILAR.has(lib, (lib.path, pk, None)) for pk in pks]  # noqa: E731
            until(lambda: state.warmer.tasks.qsize() < len(pks))  # the worker holds the first one
            time.sleep(0.5)
            assert not any(ready()), "similar papers were computed while pages were being asked for"
            state.warmer.last_asked = time.monotonic() - 7200  # the server goes quiet
            until(lambda: all(ready()))


def test_a_library_without_usable_vectors_is_not_recounted_per_search(tmp_path, monkeypatch):
    # the 118k benchmark library holds an older model's vectors: each search and each similar list
    # counted every vector again (~50 ms) to find none usable; now once per change of embeddings
    from paperradar.embed import load_embedder
    from paperradar.index import best_index, update_index
    from paperradar.storage import open_library
    from paperradar.storage.sqlite import SQLiteLibrary

    lib = open_library(demo_library(tmp_path / "lib.db"))
    counted = []
    count = SQLiteLibrary.embedding_models
    monkeypatch.setattr(SQLiteLibrary, "embedding_models", lambda self: counted.append(1) or count(self))
    assert best_index(lib) is None and best_index(lib) is None
    assert len(counted) == 1
    update_index(lib, load_embedder("fast"))  # `paperradar index`: semantic search works at once
    assert best_index(lib) is not None
    lib.close()
