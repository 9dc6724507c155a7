"""A big library's ranking features hold rows for what rankings use (rank/working_set.py), not for
every paper, and rank the same: here a small library stands in for a big one (the thresholds are
lowered), and its recommendations are compared with those of features with a row per paper."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from paperradar import profiles as P
from paperradar.embed import load_embedder
from paperradar.index import update_index
from paperradar.rank import features as F
from paperradar.rank import learner, model_cache, ready
from paperradar.rank import working_set as W
from paperradar.recommend import recommend
from test_profiles import make_papers

TOPICS = ("proteins", "graphs", "galaxies", "compilers")


@pytest.fixture
def big(lib, monkeypatch):
    """240 papers of four topics with fast-tier vectors, a profile of 8 protein papers; a working
    set of 60 papers first by id hash and the 10 newest; the learner samples 30 negatives."""
    pks = make_papers(lib, [(t, i, [f"Author {t}"], []) for t in TOPICS for i in range(60)])
    update_index(lib, load_embedder("fast"))
    P.create_profile(lib, "p", papers=pks[:8])
    monkeypatch.setattr(ready, "INLINE_BELOW", 0)
    monkeypatch.setattr(F, "FIT_SAMPLE", 50)
    monkeypatch.setattr(W, "HASH_ROWS", 60)
    monkeypatch.setattr(W, "RECENT", 10)
    cfg = learner.LearnerConfig(negatives=30, reference=10)
    fit = model_cache.fit_profile
    monkeypatch.setattr(model_cache, "fit_profile", lambda *a, **k: fit(*a, **k, cfg=cfg))
    yield lib, pks
    F.forget()
    model_cache.forget()


def _build(lib, monkeypatch, working: bool) -> F.Features:
    monkeypatch.setattr(W, "WORKING_SET_FROM", 1 if working else 10**9)
    shutil.rmtree(F.cache_dir(lib), ignore_errors=True)  # built from nothing (the profile made some)
    F.forget()
    model_cache.forget()
    return F.load_features(lib)


def _ranked(lib, among: list[int]) -> list[tuple[str, float, float]]:
    recs = recommend(lib, "p", among=among, limit=15, mark_seen=False)
    return [(r.paper.id, round(r.score, 9), round(r.strength, 6)) for r in recs]


def test_first_by_hash_is_the_start_of_id_hash_order(big):
    lib, pks = big
    ids = lib.paper_ids()
    everything = F._all_pks(lib)
    full = F.id_hash_order([ids[int(p)] for p in everything])
    assert np.array_equal(W.hash_first_pks(lib, 37), everything[full[:37]])
    keys = np.asarray([5, 1, 5, 3, 1, 5], dtype=np.uint64)  # ties keep index order, as a stable sort
    assert W.first_by_hash(keys, 4).tolist() == [1, 4, 3, 0]


def test_a_working_set_ranks_exactly_as_rows_for_every_paper(big, monkeypatch):
    lib, pks = big
    among = pks[8::3]  # 78 candidates, most of them outside the working set
    full = _build(lib, monkeypatch, working=False)
    assert full.scope == "library" and len(full.pks) == len(pks) and full.dense is not None
    expected = _ranked(lib, among)
    part = _build(lib, monkeypatch, working=True)
    assert part.scope == "working" and len(part.pks) < len(pks) // 2
    assert part.dense is not None and set(pks[:8]) <= set(part.pks.tolist())  # the profile's papers
    assert set(pks[-10:]) <= set(part.pks.tolist())  # the newest
    assert _ranked(lib, among) == expected
    made = F.current_features(lib)
    assert made is not None and set(among) <= set(made.pks.tolist())  # rows made once, kept
    F.forget()  # a new process: the working set is read from the cache folder, not built
    monkeypatch.setattr(F, "_build", lambda *a, **k: pytest.fail("built again"))
    assert F.current_features(lib).scope == "working"
    assert _ranked(lib, among) == expected


def test_a_new_paper_joins_the_working_set_without_a_refit(big, monkeypatch):
    lib, pks = big
    before = _build(lib, monkeypatch, working=True)
    new = make_papers(lib, [("graphs", 500, ["Someone"], [])])[0]
    after = F.load_features(lib)
    assert after.vocabulary is before.vocabulary and after.scope == "working"
    assert after.rows([new])[0] >= 0 and after.lexical[after.rows([new])[0]].nnz > 0


def test_rows_made_on_the_spot_are_not_kept_past_the_bound(big, monkeypatch):
    lib, pks = big
    feats = _build(lib, monkeypatch, working=True)
    monkeypatch.setattr(ready, "KEEP_MADE_ROWS", 5)
    outside = [p for p in pks if feats.rows([p])[0] < 0]
    got = ready.features_for(lib, outside[:20])
    assert (got.rows(outside[:20]) >= 0).all()  # the request has its rows
    assert F.current_features(lib) is feats  # but memory keeps only the working set


def test_a_first_digest_after_a_bulk_import_ranks_the_newest_window(big, monkeypatch):
    from paperradar import recommend as R
    from paperradar.digest.service import Window, candidates

    lib, pks = big
    monkeypatch.setattr(R, "MAX_WINDOW", 25)
    got = candidates(lib, "p", Window())  # every paper is new: all 240 were added just now
    assert got == pks[-25:]  # the newest 25, not all 240 (3M after a bulk import)
