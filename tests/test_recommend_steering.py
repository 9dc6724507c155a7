"""Steering a profile and what a user sees of it: followed authors surface first, kept keyword
rules, a threshold that can leave a day empty, undo bringing a paper back, rate-these-10 cold
start, structured reasons, the same ranking on every run, and reset."""

from __future__ import annotations

import pytest

from paperradar import profiles as P
from paperradar import steering as S
from paperradar.errors import InvalidInput
from paperradar.rank import features, model_cache
from paperradar.rank.reasons import KINDS, Reason, reason_text
from paperradar.recommend import papers_to_rate, rate, recommend, recommendation_json
from test_profiles import make_papers


@pytest.fixture
def world(lib):
    own = make_papers(lib, [("proteins", i, ["Ann Lee"], []) for i in range(6)])
    own += make_papers(lib, [("galaxies", i, ["Ann Lee"], []) for i in range(4)])
    make_papers(lib, [(t, 200 + i, ["Bo Ng"], []) for t in ("compilers", "graphs") for i in range(15)])
    cands = {
        "proteins": make_papers(lib, [("proteins", 100 + i, ["C D"], []) for i in range(6)]),
        "robots": make_papers(lib, [("robots", 100 + i, ["C D"], []) for i in range(5)]),
        "robots_by_ada": make_papers(lib, [("robots", 150, ["Ada Byron", "C D"], [])]),
    }
    P.create_profile(lib, "ann", papers=own)
    return lib, own, cands


def ranked(lib, pool, **kw):
    return recommend(lib, "ann", among=pool, limit=len(pool), mark_seen=False, **kw)


def pks(lib, recs):
    return [lib.resolve(r.paper.id) for r in recs]


def test_a_followed_authors_paper_comes_first_and_says_why(world):
    lib, _, cands = world
    pool = cands["proteins"] + cands["robots"] + cands["robots_by_ada"]
    ada = cands["robots_by_ada"][0]
    assert pks(lib, ranked(lib, pool))[0] != ada  # off-topic: not first on its own merits
    S.follow(lib, "ann", "Ada Byron")
    recs = ranked(lib, pool)
    assert pks(lib, recs)[0] == ada and recs[0].followed
    assert recs[0].why[0] == Reason("followed_author", {"author": "Ada Byron"})
    assert "Ada Byron, whom you follow" in recs[0].reasons[0]
    S.unfollow(lib, "ann", "Ada Byron")
    assert pks(lib, ranked(lib, pool))[0] != ada


def test_keyword_rules_are_kept_with_the_profile(world):
    lib, _, cands = world
    pool = cands["proteins"] + cands["robots"]
    S.add_rule(lib, "ann", "exclude", "protein")
    kept = ranked(lib, pool)
    assert set(cands["robots"]) <= set(pks(lib, kept))
    assert kept and all("protein" not in (r.paper.title + r.paper.abstract).lower() for r in kept)
    S.remove_rule(lib, "ann", "exclude", "protein")
    S.add_rule(lib, "ann", "must", "gripper")
    recs = ranked(lib, pool)
    assert recs and all("gripper" in (r.paper.title + r.paper.abstract).lower() for r in recs)
    assert any(r.kind == "keyword_rule" and r.values["word"] == "gripper" for r in recs[0].why)
    with pytest.raises(InvalidInput):
        S.add_rule(lib, "ann", "maybe", "x")


def test_a_threshold_can_say_nothing_good_today(world):
    lib, _, cands = world
    robots, proteins = cands["robots"], cands["proteins"]
    assert ranked(lib, robots)  # without a threshold something is always shown
    bar = (max(r.score for r in ranked(lib, robots)) + max(r.score for r in ranked(lib, proteins))) / 2
    S.set_threshold(lib, "ann", bar)
    assert ranked(lib, robots) == []  # nothing on topic today
    assert ranked(lib, proteins) and all(r.score >= bar for r in ranked(lib, proteins))
    with pytest.raises(InvalidInput):
        S.set_threshold(lib, "ann", 1.5)


def test_scores_say_how_much_of_the_library_a_paper_beats(world):
    lib, _, cands = world
    recs = ranked(lib, cands["proteins"] + cands["robots"])
    on_topic = [r.score for r in recs if lib.resolve(r.paper.id) in cands["proteins"]]
    off_topic = [r.score for r in recs if lib.resolve(r.paper.id) in cands["robots"]]
    assert (on_topic + off_topic) and all(0 <= s < 1 for s in on_topic + off_topic)
    assert min(on_topic) > max(off_topic)  # not every score the same
    assert recs[0].strength > recs[-1].strength


def test_undo_brings_the_paper_back(world):
    lib, _, cands = world
    paper = cands["proteins"][0]
    P.give_feedback(lib, "ann", paper, "dislike")
    assert paper not in pks(lib, recommend(lib, "ann", since="2000", limit=50, mark_seen=False))
    P.undo_feedback(lib, "ann")
    assert paper in pks(lib, recommend(lib, "ann", since="2000", limit=50, mark_seen=False))


def test_reasons_are_structured_and_rendered_in_one_place(world):
    lib, own, cands = world
    rec = ranked(lib, cands["proteins"])[0]
    kinds = [r.kind for r in rec.why]
    assert set(kinds) <= set(KINDS) and {"interest", "nearest_paper", "terms"} <= set(kinds)
    near = next(r for r in rec.why if r.kind == "nearest_paper")
    assert lib.resolve(near.values["paper"]) in own and 0 < near.values["similarity"] <= 1
    data = recommendation_json(rec)
    assert [w["kind"] for w in data["why"]] == kinds
    assert data["reasons"] == [reason_text(w) for w in data["why"]]  # the JSON form renders the same


def test_the_same_ranking_on_every_run(world):
    lib, _, cands = world
    pool = cands["proteins"] + cands["robots"]
    first = [(r.paper.id, r.score) for r in ranked(lib, pool)]
    model_cache.forget()
    features.forget()  # a new process: features read back from disk, the model fitted again
    assert [(r.paper.id, r.score) for r in ranked(lib, pool)] == first


def test_rate_these_ten_offers_new_diverse_papers_and_learns_at_once(world):
    lib, _, cands = world
    P.create_profile(lib, "new")  # an empty profile: nothing to rank with yet
    with pytest.raises(InvalidInput, match="profile rate"):
        recommend(lib, "new", among=cands["robots"], mark_seen=False)
    offered = papers_to_rate(lib, "new", 4)
    assert len(offered) == 4 and len({p.id for p in offered}) == 4
    topics = {p.title.split()[0] for p in offered}
    assert len(topics) > 1  # spread out, not four of one kind
    rate(lib, "new", {offered[0].id: "like", offered[1].id: "dislike"})
    assert recommend(lib, "new", among=cands["robots"] + cands["proteins"], mark_seen=False)
    again = {p.id for p in papers_to_rate(lib, "new", 4)}
    assert not again & {offered[0].id, offered[1].id}  # rated papers are not offered again


def test_reset_forgets_what_was_learned(world):
    lib, _, cands = world
    P.give_feedback(lib, "ann", cands["robots"][0], "like")
    S.follow(lib, "ann", "Ada Byron")
    S.add_rule(lib, "ann", "exclude", "telescope")
    S.set_threshold(lib, "ann", 0.5)
    profile = S.reset_profile(lib, "ann", ["feedback", "follows", "rules", "threshold"])
    assert not profile.feedback and not profile.follows and profile.rules == {"must": [], "exclude": []}
    assert profile.threshold is None and len(profile.papers) == 10
    assert cands["robots"][0] in pks(lib, recommend(lib, "ann", since="2000", limit=50, mark_seen=False))
