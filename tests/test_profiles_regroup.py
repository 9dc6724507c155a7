"""A like answers at once: it never re-clusters the profile's interests in the request. The web
server's background worker re-clusters them, once however many likes came, and the ranking until
then counts the new likes as nearest-neighbour evidence; without a server the next ranking does
it, once. Undo restores both the interests and the ranking."""

from __future__ import annotations

import threading

import pytest

from paperradar import profiles as P
from paperradar.interests import regroup_if_stale
from paperradar.rank import interests, model_cache, regroup
from paperradar.recommend import recommend
from test_profiles import make_papers
from web_helpers import client_for


@pytest.fixture
def world(any_lib, monkeypatch):
    """On each backend: a profile of protein and galaxy papers; candidates on robots and
    compilers. Records the thread of every k-means clustering of interests."""
    lib = any_lib
    own = make_papers(lib, [("proteins", i, ["Ann Lee"], []) for i in range(6)])
    own += make_papers(lib, [("galaxies", i, ["Ann Lee"], []) for i in range(4)])
    robots = make_papers(lib, [("robots", 100 + i, ["C D"], []) for i in range(8)])
    compilers = make_papers(lib, [("compilers", 100 + i, ["E F"], []) for i in range(8)])
    model_cache.forget()
    P.create_profile(lib, "ann", papers=own)
    clustered: list[str] = []
    real = interests.cluster_rows
    monkeypatch.setattr(
        interests,
        "cluster_rows",
        lambda *a, **k: clustered.append(threading.current_thread().name) or real(*a, **k),
    )
    yield lib, robots, compilers, clustered
    regroup.stop_serving(lib.path)
    model_cache.forget()


def ranked(lib, among):
    recs = recommend(lib, "ann", among=among, limit=6, mark_seen=False)
    return [(lib.resolve(r.paper.id), r.interest) for r in recs]


def grouping(lib) -> list[list[str]]:
    return sorted(sorted(i.papers) for i in P.get_profile(lib, "ann").interests)


def test_likes_through_the_api_never_cluster_and_the_server_regroups_once(world):
    lib, robots, compilers, clustered = world
    gate = threading.Event()
    worker = regroup.serve(lib.path, lambda lib_, name: gate.wait(30) and regroup_if_stale(lib_, name), 0)
    client = client_for(lib.path)  # its job runner keeps the worker above
    before = grouping(lib)
    for pk in robots[:3]:
        r = client.post_csrf(
            "/api/profiles/ann/feedback", json={"paper": lib.paper_row(pk).id, "kind": "like"}
        )
        assert r.status_code == 200, r.text
    assert clustered == [] and grouping(lib) == before  # the likes were writes only

    # until the worker's pass lands, the new likes count as one more group of evidence
    early = ranked(lib, robots[3:] + compilers)
    assert {pk for pk, _ in early[:5]} == set(robots[3:]) and early[0][1] is None
    assert clustered == []

    gate.set()
    assert worker.wait_idle(30)
    assert clustered == ["paperradar-regroup"]  # three likes and a ranking: one k-means, off the request
    liked = sorted(lib.paper_row(pk).id for pk in robots[:3])
    assert liked in grouping(lib)  # the robots papers became an interest of their own

    late = ranked(lib, robots[3:] + compilers)
    name = next(i.name for i in P.get_profile(lib, "ann").interests if sorted(i.papers) == liked)
    assert {pk for pk, _ in late[:5]} == set(robots[3:]) and {n for _, n in late[:5]} == {name}


def test_without_a_server_the_next_ranking_regroups_once_and_undo_restores_everything(world):
    lib, robots, compilers, clustered = world
    pool = robots[3:] + compilers
    before, first = grouping(lib), ranked(lib, pool)
    for pk in robots[:3]:
        P.give_feedback(lib, "ann", pk, "like")
    assert clustered == []
    assert {pk for pk, _ in ranked(lib, pool)[:5]} == set(robots[3:])
    assert len(clustered) == 1 and grouping(lib) != before  # one k-means for three likes

    for _ in range(3):
        P.undo_feedback(lib, "ann")
    assert len(clustered) == 1  # undo is a write too
    assert ranked(lib, pool) == first and grouping(lib) == before
    assert len(clustered) == 2


def test_a_dislike_of_a_liked_paper_asks_the_worker_and_the_interests_drop_it(world):
    """Taking a paper out of the positives re-clusters like adding one does: the server's worker
    is asked, so the profile's interests stop holding the paper without waiting for a ranking."""
    lib, robots, compilers, _ = world
    asked: list[str] = []
    worker = regroup.serve(lib.path, lambda lib_, name: asked.append(name) or regroup_if_stale(lib_, name), 0)
    liked = lib.paper_row(robots[0]).id

    def held() -> bool:
        return any(liked in i.papers for i in P.get_profile(lib, "ann").interests)

    P.give_feedback(lib, "ann", robots[0], "like")
    assert worker.wait_idle(30) and asked == ["ann"] and held()
    P.give_feedback(lib, "ann", compilers[0], "dislike")  # never a positive: nothing to re-cluster
    assert worker.wait_idle(30) and asked == ["ann"]
    P.give_feedback(lib, "ann", robots[0], "dislike")
    assert worker.wait_idle(30) and asked == ["ann", "ann"] and not held()
    P.undo_feedback(lib, "ann")  # the like counts again
    assert worker.wait_idle(30) and asked == ["ann", "ann", "ann"] and held()
