"""After `papers rebuild` (paper pks start again from 1), what is derived from the papers and keyed
by pk — the ANN index file, the ranking features and their caches in this process, the vector
index cache, the web pages' freshness — still names the right papers: semantic and hybrid search,
`similar` and `recommend` give what a fresh library built from the same records gives.

Both libraries stamp their records with one import time (`STAMP`): a paper's fields are chosen
from its records by importer rank, then by import time (dedupe.choose_fields), so two records of
one `import` that happen to be stamped a second apart pick another abstract than in a library
whose import ran within one second. The paper's text then differs, and with it the int8 vectors
of the 32 papers embedded in its batch (activations are scaled per batch): the fresh library was
not the same library (7 of 12 runs failed that way before both were stamped alike)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from conftest import EXAMPLES
from paperradar import ann
from paperradar.cli import app
from paperradar.ingest import parse

MERGED = ("paperradar:3598e93a3662", "paperradar:334f207c9769")  # papers 1 and 2
# split in two: the split-off paper is new (the highest pk) but its record is read early, so the
# rebuild gives it an early pk and every paper after it moves up one
SPLIT = "arxiv:2407.08296"
STAMP = "2026-11-30T12:00:00+00:00"


def _answers(cli) -> dict[str, list[str]]:
    """What a user sees from the searches that read derived state, by paper id."""

    def ids(*args: str) -> list[str]:
        out = cli(*args, "--json")
        assert out.exit_code == 0, out.output
        data = json.loads(out.output)
        hits = data["results"] if isinstance(data, dict) and "results" in data else data
        if isinstance(hits, dict):
            hits = hits.get("papers") or hits.get("recommendations") or hits
        return [h["id"] for h in hits]

    return {
        "semantic": ids(
            "search", "memory efficient training of large models", "--mode", "semantic", "--limit", "8"
        ),
        "hybrid": ids("search", "low rank gradient projection", "--mode", "hybrid", "--limit", "8"),
        "similar": ids("similar", "arxiv:2404.19737", "--limit", "6"),
        "recommend": ids("recommend", "me", "--since", "1990-01-01", "--limit", "6", "--no-mark"),
    }


def _library(cli, tmp_path: Path) -> None:
    assert cli("import", str(EXAMPLES)).exit_code == 0
    assert cli("papers", "merge", *MERGED).exit_code == 0
    sources = json.loads(cli("papers", "show", SPLIT, "--json").output)["sources"]
    assert cli("papers", "split", SPLIT, "--record", sources[-1]["key"][:12]).exit_code == 0
    (tmp_path / "mine.txt").write_text("arxiv:2404.19737\narxiv:2310.01801\n")
    assert cli("profile", "create", "me", "--papers", str(tmp_path / "mine.txt")).exit_code == 0
    assert cli("index").exit_code == 0  # the ANN file (ANN_MIN lowered) and the features


def _pks(db: str) -> dict[str, int]:
    from paperradar.storage import open_library

    lib = open_library(db)
    try:
        return {r[0]: r[1] for r in lib.conn.execute("SELECT id, pk FROM papers")}
    finally:
        lib.close()


def test_search_similar_recommend_after_rebuild_match_a_fresh_library(cli, db_path, tmp_path, monkeypatch):
    monkeypatch.setattr(ann, "ANN_MIN", 5)  # so `index` keeps an ANN file of the 177 papers
    monkeypatch.setattr(parse, "now_iso", lambda: STAMP)  # both libraries: see the module docstring
    _library(cli, tmp_path)
    before = _answers(cli)  # fills the ANN file, the features cache and this process's caches
    pk_of = _pks(db_path)
    out = cli("papers", "rebuild", "--json")
    assert out.exit_code == 0, out.output
    moved = {i for i, pk in _pks(db_path).items() if pk_of[i] != pk}
    assert len(moved) > 100  # pks really moved: a stale pk would name another paper
    after = _answers(cli)
    runner, other = CliRunner(), str(tmp_path / "fresh.db")

    def fresh_cli(*args: str):
        return runner.invoke(app, ["--db", other, *args], catch_exceptions=False)

    monkeypatch.setattr(ann, "ANN_MIN", 10**9)  # exact search: the ANN file was behind all along
    _library(fresh_cli, tmp_path)
    assert after == _answers(fresh_cli)  # the same papers in the same order, every list
    assert cli("index").exit_code == 0  # the ANN file is rebuilt on the new pks
    assert set(_answers(cli)["similar"][:3]) == set(before["similar"][:3])  # approximate both times


def test_rebuild_without_vectors_changes_what_page_caches_key_on(cli, tmp_path, db_path):
    """With no embeddings the pks still move: a profile's cached Home page must not survive."""
    from paperradar import freshness
    from paperradar.storage import open_library

    assert cli("import", str(EXAMPLES), "--no-index").exit_code == 0
    assert cli("papers", "merge", *MERGED).exit_code == 0
    (tmp_path / "mine.txt").write_text("arxiv:2404.19737\n")
    assert cli("profile", "create", "me", "--papers", str(tmp_path / "mine.txt")).exit_code == 0
    lib = open_library(db_path)
    pk = int(lib.conn.execute("SELECT pk FROM profiles").fetchone()[0])
    state, page = freshness.profile_state(lib, pk), freshness.library_state(lib)
    assert cli("papers", "rebuild").exit_code == 0
    assert freshness.profile_state(lib, pk) != state
    assert freshness.library_state(lib) != page
    lib.close()


def test_rebuild_in_the_second_of_the_last_change_refreshes_the_ranking_features(cli, db_path):
    """The features cache keys on (papers, newest pk, newest updated_at to the second). A
    rebuild in the very second of the last change (here: that change stamped later still, as a
    clock a second ahead would) must still change the key, or TF-IDF rows stay on old pks."""
    from paperradar.papers import merge_papers, split_paper
    from paperradar.rank import features as F
    from paperradar.storage import open_library

    assert cli("import", str(EXAMPLES), "--no-index").exit_code == 0
    lib = open_library(db_path)
    merged = merge_papers(lib, "arxiv:2310.01801", "arxiv:2407.08296")
    split_paper(lib, merged.id, [lib.records_of(lib.resolve(merged.id))[-1].key[:12]])  # renumbered
    with lib.transaction():
        lib.conn.execute("UPDATE papers SET updated_at = '2031-01-01T00:00:00+00:00'")
    policy = F.Policy(small=1)  # update rows in place, as a large library does, not refit
    before = F.load_features(lib, policy, dense=False)  # cached in this process and on disk
    pk_of = {r[0]: r[1] for r in lib.conn.execute("SELECT id, pk FROM papers")}
    assert cli("papers", "rebuild").exit_code == 0
    moved = [i for i, pk in lib.conn.execute("SELECT id, pk FROM papers") if pk_of[i] != pk]
    assert len(moved) == 2  # the split-off paper takes the merged one's pk, which moves down
    after = F.load_features(lib, policy, dense=False)
    assert after.key != before.key
    fresh = F._build(lib, F.library_key(lib), F.Policy())
    assert after.vocabulary.terms == fresh.vocabulary.terms and (after.pks == fresh.pks).all()
    assert abs(after.lexical - fresh.lexical).max() < 1e-6  # each row is its paper's text
    lib.close()
