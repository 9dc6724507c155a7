"""A request never builds the library's ranking features: a like or a ranking on a library that
changed since they were built uses them as they are (rows for new papers made on the spot), asks
for a build in the background, and picks the built ones up on the next request."""

from __future__ import annotations

import shutil

import pytest

from paperradar import profiles as P
from paperradar.rank import features as F
from paperradar.rank import model_cache, ready
from paperradar.recommend import recommend
from paperradar.storage import open_library
from test_profiles import make_papers


@pytest.fixture
def stale(lib, monkeypatch):
    """Features built (as import does at its end), then papers arrive: the features are stale.
    Records every build of the library's features and every background build asked for."""
    monkeypatch.setattr(ready, "INLINE_BELOW", 0)  # this small library stands in for a big one
    own = make_papers(lib, [("proteins", i, ["Ann Lee"], []) for i in range(6)])
    own += make_papers(lib, [("galaxies", i, ["Ann Lee"], []) for i in range(4)])
    make_papers(lib, [(t, 200 + i, ["Bo Ng"], []) for t in ("compilers", "graphs") for i in range(15)])
    F.forget()
    model_cache.forget()
    F.build_features(lib)
    P.create_profile(lib, "ann", papers=own)
    built_key = F.current_features(lib).key
    new = make_papers(lib, [("proteins", 100 + i, ["C D"], []) for i in range(3)])
    new += make_papers(lib, [("robots", 100 + i, ["C D"], []) for i in range(3)])
    builds: list[str] = []
    for name in ("_build", "_update"):
        real = getattr(F, name)
        monkeypatch.setattr(F, name, lambda *a, _n=name, _r=real, **k: builds.append(_n) or _r(*a, **k))
    asked: list[str] = []
    ready.set_builder(lib.path, lambda lib_: asked.append(lib_.path))
    yield lib, new, builds, asked, built_key
    ready.set_builder(lib.path, None)
    F.forget()
    model_cache.forget()


def ready_regrouper(lib):
    from paperradar.rank import regroup

    worker = regroup.worker_for(lib.path)
    assert worker is not None
    return worker


def on_disk_key(lib):
    return F._read_cache(lib).key


def test_a_like_on_stale_features_builds_nothing_and_asks_for_a_background_build(stale):
    lib, new, builds, asked, built_key = stale
    P.give_feedback(lib, "ann", new[0], "like")  # a write only: interests are regrouped later
    assert builds == [] and on_disk_key(lib) == built_key  # nothing built, nothing rewritten
    liked = lib.paper_row(new[0]).id
    recommend(lib, "ann", among=new, limit=3, mark_seen=False)  # no server: the next ranking regroups
    assert builds == [] and on_disk_key(lib) == built_key
    assert asked and set(asked) == {lib.path}
    assert any(liked in i.papers for i in P.get_profile(lib, "ann").interests)  # the like counted


def test_recommend_on_stale_features_ranks_the_papers_added_since(stale):
    lib, new, builds, _, _ = stale
    recs = recommend(lib, "ann", among=new, limit=6, mark_seen=False)
    assert builds == []
    assert len(recs) == 6
    top = {lib.resolve(r.paper.id) for r in recs[:3]}
    assert top == set(new[:3])  # the new protein papers, like the profile's own, come first


def test_without_any_features_a_request_ranks_on_a_sample_and_keeps_nothing(stale):
    lib, new, builds, asked, _ = stale
    shutil.rmtree(F.cache_dir(lib))
    F.forget()
    model_cache.forget()
    recs = recommend(lib, "ann", among=new, limit=6, mark_seen=False)
    assert builds == [] and asked
    assert {lib.resolve(r.paper.id) for r in recs[:3]} == set(new[:3])
    assert not F.cache_dir(lib).exists()  # what a request made for itself is not kept


def test_features_built_by_another_process_are_used_by_the_next_request(stale):
    lib, new, _, _, built_key = stale
    mine = F.current_features(lib)
    seen = F._SEEN[lib.path]
    other = open_library(lib.path)  # the background job's own connection
    try:
        F.build_features(other)
    finally:
        other.close()
    F._MEMORY[lib.path], F._SEEN[lib.path] = mine, seen  # this process still holds the stale ones
    feats = ready.features_for(lib, new)
    assert feats.key == F.library_key(lib) != built_key
    assert (feats.rows(new) >= 0).all()


def test_rows_made_for_papers_between_old_ones_land_in_pk_order():
    import numpy as np
    from scipy import sparse

    old = F.Features(
        ["k"],
        np.array([2, 4, 6]),
        sparse.csr_matrix(np.eye(3, dtype=np.float32)),
        F.Vocabulary([], np.zeros(3), 3),
        "",
    )
    old.hash_order = np.array([2, 0, 1])
    new = ready._merged(old, np.array([1, 5]), sparse.csr_matrix(np.full((2, 3), 7, dtype=np.float32)), None)
    assert new.pks.tolist() == [1, 2, 4, 5, 6]
    assert new.lexical.toarray()[[1, 2, 4]].tolist() == np.eye(3).tolist()
    assert (new.lexical.toarray()[[0, 3]] == 7).all()
    assert new.pks[new.hash_order].tolist() == [6, 2, 4, 1, 5]  # old order kept, new rows last


def test_the_servers_job_runner_rebuilds_stale_features_in_the_background(stale):
    from paperradar.jobs import JobRunner
    from paperradar.storage.jobs import get_job

    lib, new, _, _, built_key = stale
    runner = JobRunner(lib.path)  # as the web server makes it: it becomes the library's builder
    try:
        P.give_feedback(lib, "ann", new[0], "like")  # answers at once; regrouping its interests
        assert ready_regrouper(lib).wait_idle(60)  # (the server's worker) uses the stale features
        (job_id,) = runner.futures
        runner.futures[job_id].result(timeout=300)  # the job runs in its own process
        job = get_job(lib, job_id)
        assert job is not None and job.state == "done"
    finally:
        runner.close()
    assert F._read_cache(lib).key == F.library_key(lib) != built_key
    assert ready.features_for(lib, new).key == F.library_key(lib)  # the next request uses them
