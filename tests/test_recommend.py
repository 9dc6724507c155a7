"""Recommendations: ranking by topic, reasons, feedback that changes the next ranking, never
repeating a seen or dismissed paper, spreading across interests, filters."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import sparse

from paperradar import profiles as P
from paperradar.errors import InvalidInput
from paperradar.rank import learner
from paperradar.rank.interests import spread
from paperradar.recommend import recommend, recommendation_json
from test_profiles import TOPICS, make_papers


@pytest.fixture
def world(lib):
    """A profile about proteins (6 papers) and galaxies (4); a library of other topics; and
    candidates: 6 protein, 3 galaxy, 6 compiler and 6 robot papers."""
    own = make_papers(lib, [("proteins", i, ["Ann Lee"], []) for i in range(6)])
    own += make_papers(lib, [("galaxies", i, ["Ann Lee"], []) for i in range(4)])
    make_papers(
        lib, [(t, 200 + i, ["Bo Ng"], []) for t in ("compilers", "robots", "graphs") for i in range(15)]
    )
    cands = {
        t: make_papers(lib, [(t, 100 + i, ["C D"], []) for i in range(n)])
        for t, n in (("proteins", 6), ("galaxies", 3), ("compilers", 6), ("robots", 6))
    }
    P.create_profile(lib, "ann", papers=own)
    return lib, own, cands


def ranked(lib, pool, **kw):
    return recommend(lib, "ann", among=pool, limit=len(pool), mark_seen=False, **kw)


def topic_of(cands, pk):
    return next(t for t, pks in cands.items() if pk in pks)


def test_on_topic_papers_come_first_with_their_reasons(world):
    lib, own, cands = world
    pool = [pk for pks in cands.values() for pk in pks]
    recs = ranked(lib, pool)
    top = [topic_of(cands, lib.resolve(r.paper.id)) for r in recs[:9]]
    assert sorted(set(top)) == ["galaxies", "proteins"]  # all 9 on-topic papers above the 12 others
    first = recs[0]
    own_ids = {lib.paper_row(pk).id for pk in own}
    assert first.interest and first.nearest and set(first.nearest) <= own_ids
    text = (first.paper.title + " " + first.paper.abstract).lower()
    assert first.terms and all(all(w in text for w in t.split()) for t in first.terms)
    assert any(r.startswith("serves your interest") for r in first.reasons)
    assert recs[0].strength >= recs[-1].strength and 0 <= recs[-1].score < recs[0].score < 1


def test_results_are_spread_across_interests(world):
    lib, _, cands = world
    pool = [pk for pks in cands.values() for pk in pks]
    recs = recommend(lib, "ann", among=pool, limit=4, mark_seen=False)
    topics = [topic_of(cands, lib.resolve(r.paper.id)) for r in recs]
    assert "galaxies" in topics and "proteins" in topics  # the smaller interest is not crowded out
    assert len({r.interest for r in recs}) == 2


def test_spread_takes_turns_between_groups():
    assert spread([0.9, 0.8, 0.7, 0.1], [0, 0, 0, 1], limit=2) == [0, 3]
    assert spread([0.9, 0.8, 0.7, 0.1], [0, 0, 0, 1], limit=4) == [0, 3, 1, 2]


def test_dislike_changes_the_next_ranking(world):
    lib, _, cands = world
    pool = cands["proteins"] + cands["robots"]
    before = {lib.resolve(r.paper.id): r.strength for r in ranked(lib, pool)}
    P.give_feedback(lib, "ann", cands["proteins"][0], "dislike")
    P.give_feedback(lib, "ann", cands["proteins"][1], "dislike")
    after = {lib.resolve(r.paper.id): r.strength for r in ranked(lib, pool)}
    assert cands["proteins"][0] not in after and cands["proteins"][1] not in after  # dismissed: gone
    rest = cands["proteins"][2:]
    # papers like the disliked ones dropped, on the whole, and dropped below the robots' best
    assert np.mean([after[pk] for pk in rest]) < np.mean([before[pk] for pk in rest])
    P.undo_feedback(lib, "ann")
    assert cands["proteins"][1] in {lib.resolve(r.paper.id) for r in ranked(lib, pool)}


def test_like_pulls_a_new_topic_up(world):
    lib, _, cands = world
    pool = cands["robots"][1:] + cands["compilers"]
    robots = set(cands["robots"])

    def robot_margin() -> float:
        scores = {lib.resolve(r.paper.id): r.strength for r in ranked(lib, pool)}
        return min(s for pk, s in scores.items() if pk in robots) - max(
            s for pk, s in scores.items() if pk not in robots
        )

    before = robot_margin()
    P.give_feedback(lib, "ann", cands["robots"][0], "like")
    after = robot_margin()
    assert after > 0 > before or after > before + 0.05
    assert after > 0  # now every robot paper scores above every compiler paper


def test_seen_and_dismissed_papers_never_come_back(world):
    lib, own, cands = world
    first = recommend(lib, "ann", limit=5)  # default window: papers added lately, own papers excluded
    shown = {lib.resolve(r.paper.id) for r in first}
    assert len(shown) == 5 and not shown & set(own)
    again = recommend(lib, "ann", since="2000", limit=100)
    assert not shown & {lib.resolve(r.paper.id) for r in again}
    assert recommend(lib, "ann", since="2000", limit=100) == []  # everything has been seen now
    gone = cands["compilers"][0]
    P.give_feedback(lib, "ann", gone, "not_interested")
    listed = ranked(lib, [gone, cands["robots"][0]])
    assert [lib.resolve(r.paper.id) for r in listed] == [cands["robots"][0]]
    assert P.get_profile(lib, "ann").seen >= 5


def test_include_exclude_and_threshold(world):
    lib, _, cands = world
    pool = [pk for pks in cands.values() for pk in pks]
    only = ranked(lib, pool, include=["telescope", "gripper"])
    assert {topic_of(cands, lib.resolve(r.paper.id)) for r in only} <= {"galaxies", "robots"}
    assert only and all("telescope" in r.paper.abstract or "gripper" in r.paper.abstract for r in only)
    without = ranked(lib, pool, exclude=["protein"])
    assert without and all("protein" not in (r.paper.title + r.paper.abstract).lower() for r in without)
    scores = sorted(r.score for r in ranked(lib, pool))
    bar = scores[len(scores) // 2]
    above = ranked(lib, pool, threshold=bar)
    assert above and all(r.score >= bar for r in above)


def test_json_shape(world):
    lib, _, cands = world
    rec = ranked(lib, cands["galaxies"])[0]
    data = recommendation_json(rec)
    assert {"id", "ids", "title", "score", "reasons", "interest", "nearest", "terms"} <= set(data)
    assert data["id"] in data["ids"] and isinstance(data["score"], float)


def test_bad_arguments(world):
    lib, _, _ = world
    with pytest.raises(InvalidInput, match="--since"):
        recommend(lib, "ann", since="last week")
    with pytest.raises(InvalidInput, match="not both"):
        recommend(lib, "ann", since="2024", days=3)


def test_learner_separates_and_weights_negatives():
    rng = np.random.default_rng(0)
    pos = sparse.csr_matrix(rng.normal(1, 0.3, (10, 4)).clip(0))
    rand = sparse.csr_matrix(rng.normal(0, 0.3, (50, 4)).clip(0))
    none = sparse.csr_matrix((0, 4))
    data = learner.TrainingSet(pos, np.ones(10), rand, none, rand)
    model = learner.fit(data)
    assert model.lexical(pos).mean() > model.lexical(rand).mean()
    alone = learner.fit(learner.TrainingSet(pos, np.ones(10), none, none, none))  # nothing to contrast
    assert np.allclose(alone.coef, np.asarray(pos.mean(axis=0)).ravel())


def test_topic_words_are_what_the_fixture_says():
    assert "telescope" in TOPICS["galaxies"] and "gripper" in TOPICS["robots"]
