"""The storage contract: every test here runs on SQLite and on PostgreSQL (the `any_lib` fixture),
and the two backends must agree on what a user sees: papers, merges, search with highlights,
vectors, profiles and feedback, topics, delivery, and writers at once."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Callable, Iterator

import numpy as np
import pytest

from conftest import EXAMPLES, postgres_url
from paperradar import profiles as P
from paperradar.importers.base import Source
from paperradar.papers import export_papers, get_paper, list_papers, merge_papers, split_paper
from paperradar.search import search
from paperradar.storage import cursors, delivery, fts, open_library, settings
from paperradar.storage import topics as T
from paperradar.storage.base import Library
from paperradar.storage.postgres import close_pool
from pg_databases import copy_database, drop_database


def import_examples(lib) -> None:
    """The examples, each file at a fixed import time (so both backends choose the same fields)."""
    from paperradar.ingest import ImportReport, ingest_records

    ingest_records(lib, examples_at_fixed_times(), ImportReport("examples", "test"))


def exported(lib) -> str:
    return export_papers(list_papers(lib, limit=None, order="added"), "jsonl")


@pytest.fixture(scope="session")
def demo_file(tmp_path_factory) -> str:
    """The examples imported once into a SQLite file; each test gets a copy."""
    path = str(tmp_path_factory.mktemp("demo") / "demo.db")
    lib = open_library(path)
    import_examples(lib)
    lib.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    lib.close()
    return path


@pytest.fixture(scope="session")
def demo_template(pg_template) -> Iterator[str]:
    """The examples imported once into a PostgreSQL database; each test gets a copy."""
    url = postgres_url()
    name, address = copy_database(url, pg_template)
    lib = open_library(address)
    import_examples(lib)
    lib.close()
    close_pool(address)
    yield name
    drop_database(url, name)


@pytest.fixture(params=["sqlite", "postgresql"])
def demo(request, tmp_path) -> Iterator[Library]:
    """The examples library on each backend in turn."""
    if request.param == "sqlite":
        location = str(tmp_path / "demo.db")
        shutil.copy(request.getfixturevalue("demo_file"), location)
    else:
        location = request.getfixturevalue("pg_url_from")(request.getfixturevalue("demo_template"))
    lib = open_library(location)
    yield lib
    lib.close()


@pytest.fixture
def pg_url_from() -> Iterator[Callable[[str], str]]:
    """A fresh database copied from a template (dropped after the test)."""
    made: list[str] = []

    def make(template: str) -> str:
        name, address = copy_database(postgres_url(), template)
        made.append(name)
        return address

    yield make
    for name in made:
        drop_database(postgres_url(), name)


def test_both_backends_satisfy_the_library_protocol(any_lib):
    lib: Library = any_lib  # mypy checks the assignment; at run time every method must be there
    for name in ("text_ranked", "text_marks", "paper_refs", "move_paper_refs", "put_embeddings", "resolve"):
        assert callable(getattr(lib, name))


def test_import_gives_the_same_papers_and_merges(demo):
    counts = demo.counts()
    assert counts["papers"] == 177 and counts["records"] == 185 and counts["merged_papers"] == 8
    assert demo.check_integrity() == []
    p = get_paper(demo, "2405.12532")  # a bare arXiv id resolves through its alias
    assert p.id == "arxiv:2405.12532"


def examples_at_fixed_times() -> list:
    """The examples' records, each file's stamped with its own fixed import time: which source
    wins a field depends on import times (dedupe prefers the later import), so a comparison of two
    imports must not depend on the clock."""
    from dataclasses import replace

    from paperradar import importers
    from paperradar.models import Record

    out = []
    for n, f in enumerate(sorted(EXAMPLES.iterdir())):
        source = Source.from_file(f)
        for item in importers.detect(source).parse(source):
            if isinstance(item, Record):
                at = f"2024-01-01T00:00:{n:02d}+00:00"
                out.append(replace(item, source=replace(item.source, fetched_at=at)))
    return out


def test_exported_jsonl_is_identical_on_both_backends(tmp_path, pg_url):
    libs = [open_library(tmp_path / "a.db"), open_library(pg_url)]
    try:
        for lib in libs:
            import_examples(lib)
        texts = [exported(lib) for lib in libs]
    finally:
        for lib in libs:
            lib.close()
    lines = [[_no_times(line) for line in t.splitlines()] for t in texts]
    assert len(lines[0]) == 177
    assert lines[0] == lines[1]


def _no_times(line: str) -> str:
    """A JSONL line without the times of the import (they differ between runs)."""
    import json

    row = json.loads(line)
    for key in ("added", "updated", "created_at", "updated_at"):
        row.pop(key, None)
    return json.dumps(row, sort_keys=True)


def test_merge_carries_profiles_feedback_and_seen_marks(demo):
    P.create_profile(demo, "me", papers=["arxiv:2405.12532"])
    P.give_feedback(demo, "me", "arxiv:2310.01801", "like")
    P.mark_seen(demo, "me", [demo.resolve("arxiv:2310.01801")])
    merged = merge_papers(demo, "arxiv:2405.12532", "arxiv:2310.01801")
    prof = P.get_profile(demo, "ME")  # profile names are case-insensitive on both
    assert prof.papers == [merged.id]
    assert [(m.paper, m.kind) for m in prof.feedback] == [(merged.id, "like")]
    assert prof.seen == 1
    assert demo.corrections() and demo.check_integrity() == []
    a, b = split_paper(demo, merged.id, [demo.records_of(demo.resolve(merged.id))[-1].key[:12]])
    assert a.id != b.id and demo.counts()["papers"] == 177


def test_every_table_that_refers_to_a_paper_is_found(any_lib):
    refs = {(r.table, r.column) for r in any_lib.paper_refs()}
    for table in ("profile_papers", "feedback", "seen", "paper_topics", "embeddings", "aliases", "records"):
        assert (table, "paper_pk") in refs


def test_many_papers_read_at_once_are_the_papers_read_one_by_one(demo):
    """A page of hits is read in one query: the same papers as one query each, missing ones left out."""
    pks = demo.list_pks(30)
    assert len(pks) == 30
    rows = demo.paper_rows([*pks, pks[0], 10**9])
    assert sorted(rows) == sorted(pks)
    assert pks and all(rows[pk] == demo.paper_row(pk) for pk in pks)
    assert [p.id for p in list_papers(demo, 30)] == [demo.paper_row(pk).id for pk in pks]


def test_keyword_search_finds_and_marks_the_words(demo):
    result = search(demo, "KV cache compression", limit=5)
    assert result.total >= 5
    top = result.hits[0]
    marked = [text.lower() for text, hit in top.snippet if hit]
    assert "compression" in marked and "cache" in marked
    ids = [h.paper.id for h in result.hits]
    assert "arxiv:2310.01801" in ids  # "adaptive KV cache compression"
    assert (
        search(demo, '"KV cache" -compression', limit=50).total < search(demo, '"KV cache"', limit=50).total
    )


def test_text_marks_on_the_contract(demo):
    terms = [fts.Term("galore")]
    pk = demo.text_ranked(terms, [], "AND", fts.Filters(), 1, 0)[0][0]
    title, abstract, _ = demo.text_marks(terms, [], "AND", [pk])[pk]
    assert fts.MARK_OPEN + "GaLore" in abstract or fts.MARK_OPEN + "GaLore" in title
    assert demo.text_count(terms, [], "AND", fts.Filters()) == len(
        demo.text_ranked(terms, [], "AND", fts.Filters(), 50, 0)
    )


def test_filters_narrow_a_search(demo):
    everything = search(demo, "language models", limit=200).total
    recent = search(demo, "language models", limit=200, filters=fts.Filters(since="2024-06")).total
    assert 0 < recent < everything
    by_author = search(demo, "", limit=50, filters=fts.Filters(author="Yuandong Tian"))
    assert by_author.total >= 9


def test_vectors_round_trip_and_log_changes(demo):
    pks = demo.list_pks(3, order="added")
    vecs = [np.full(4, i, dtype=np.float32) for i in range(3)]
    before = demo.embedding_generation()
    with demo.transaction():
        demo.put_embeddings(
            "m", [(pk, f"h{i}", v.tobytes()) for i, (pk, v) in enumerate(zip(pks, vecs, strict=True))]
        )
    assert demo.embedding_hashes("m") == {pk: f"h{i}" for i, pk in enumerate(pks)}
    got = {pk: np.frombuffer(v, dtype=np.float32) for pk, v in demo.vectors("m")}
    assert pks and all(np.array_equal(got[pk], vecs[i]) for i, pk in enumerate(pks))
    mid = demo.embedding_generation()
    assert mid > before
    with demo.transaction():
        demo.put_embeddings("m", [(pks[0], "h9", vecs[2].tobytes())])  # replaced: logged too
        demo.drop_embeddings("m", [pks[1]])
    assert set(demo.embedding_changes("m", mid)) == {pks[0], pks[1]}
    assert demo.embedding_models() == {"m": 2}


def test_topics_store_arrays(demo):
    pks = demo.list_pks(2, order="added")
    centroid = np.arange(4, dtype=np.float32)
    with demo.transaction():
        T.replace_topics(
            demo,
            [
                T.TopicRow(1, 1, None, "broad", ["a"], 2, None, None, None, None),
                T.TopicRow(2, 2, 1, "fine", ["a", "b"], 2, centroid, 0.5, 0.25, None),
            ],
        )  # fmt: skip
        T.put_assignments(demo, [(pks[0], 2, 0.9, 0.1, 0.2), (pks[1], 2, 0.8, 0.3, 0.4)])
        T.put_assignments(demo, [(pks[1], 2, 0.7, 0.3, 0.4)])  # replaces
        T.log_build(demo, "2024-01-01T00:00:00", "m", {"papers": 2})
    fine = [t for t in T.topics(demo) if t.level == 2][0]
    assert np.array_equal(fine.centroid, centroid) and fine.terms == ["a", "b"] and fine.x == 0.5
    assert T.topics_of(demo, pks) == {pks[0]: 2, pks[1]: 2}
    assert T.topic_papers(demo, [2], 5) == [pks[0], pks[1]]
    build = T.last_build(demo)
    assert build is not None and build.model_id == "m" and build.info == {"papers": 2}


def test_delivery_cursors_digests_and_settings(demo):
    cursors.save_cursor(demo, "arxiv:cs.CL", cursors.Cursor(start=5), "2024-01-01T00:00:00", None)
    cursors.save_cursor(demo, "arxiv:cs.CL", cursors.Cursor(start=9), "2024-01-02T00:00:00", "timeout")
    state = cursors.sync_states(demo)[0]
    assert state.cursor == cursors.Cursor(start=9) and state.last_ok == "2024-01-01T00:00:00"
    assert state.last_error == "timeout"
    with demo.transaction():
        pk = delivery.create_digest(
            demo, "me", created_at="2024-01-03T00:00:00", since=None, last_paper_pk=10, message_id="<m@x>",
            items=[delivery.DigestItemRow(1, "arxiv:2405.12532", 0.5, "rag", ("cites rag",))],
        )  # fmt: skip
    pending = delivery.pending_digest(demo, "me")
    assert pending is not None and pending.status == "pending" and pending.last_paper_pk == 10
    assert pending.items == (delivery.DigestItemRow(1, "arxiv:2405.12532", 0.5, "rag", ("cites rag",)),)
    with demo.transaction():
        delivery.mark_sent(demo, pk, "me@example.org", "2024-01-03T00:00:01")
    assert delivery.sent_pks(demo, "me") == {demo.resolve("arxiv:2405.12532")}
    assert delivery.last_sent(demo, "me") == delivery.LastSent("2024-01-03T00:00:00", 10)
    assert delivery.digests_of(demo, "me")[0].as_json()["items"] == [
        {"rank": 1, "paper_id": "arxiv:2405.12532", "score": 0.5, "interest": "rag", "reasons": ["cites rag"]}
    ]
    assert settings.put_setting_once(demo, "secret", "a") == "a"
    assert settings.put_setting_once(demo, "secret", "b") == "a"
    settings.set_setting(demo, "secret", "c")
    assert settings.get_setting(demo, "secret") == "c" and settings.get_setting(demo, "nothing") is None


def test_writers_at_once_lose_nothing(any_lib, request):
    """Four threads, each with its own library, each adding 10 papers one transaction at a time:
    40 papers with 40 distinct keys (SQLite: BEGIN IMMEDIATE; PostgreSQL: the advisory lock)."""
    from paperradar.ingest import ImportReport, ingest_records
    from paperradar.models import Record, SourceRef

    def write(worker: int) -> None:
        lib = open_library(any_lib.path)
        try:
            for n in range(10):
                rec = Record(
                    source=SourceRef("t", f"w{worker}", n + 1),
                    ids=[f"doi:10.1/{worker}.{n}"],
                    title=f"T {worker} {n}",
                )
                ingest_records(lib, [rec], ImportReport("t", "t"))
        finally:
            lib.close()

    threads = [threading.Thread(target=write, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert any_lib.counts()["papers"] == 40
    assert len(set(any_lib.list_pks(None))) == 40


def test_schemas_have_the_same_tables_and_columns(tmp_path, pg_url):
    sqlite_lib, pg_lib = open_library(tmp_path / "s.db"), open_library(pg_url)
    try:
        lite = {
            (t, c[1])
            for (t,) in sqlite_lib.conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
                " AND name NOT LIKE 'papers_fts%'"
            ).fetchall()
            for c in sqlite_lib.conn.execute(f"PRAGMA table_info({t})")
        }
        pg = {
            (r[0], r[1])
            for r in pg_lib.conn.execute(
                "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'public'"
                " AND table_name != 'schema_version' AND column_name != 'tsv'"
            )
        }
    finally:
        sqlite_lib.close()
        pg_lib.close()
    assert lite == pg


def test_the_web_app_serves_a_postgresql_library(pg_url):
    """`paperradar --db postgresql://... serve`: search, a paper, a profile and a like through the API."""
    from web_helpers import client_for

    lib = open_library(pg_url)
    import_examples(lib)
    lib.close()
    with client_for(pg_url) as client:
        hits = client.get("/api/search", params={"q": "KV cache compression"}).json()["items"]
        assert hits and client.get(f"/api/papers/{hits[0]['id']}").status_code == 200
        assert client.get("/search", params={"q": "GaLore"}).status_code == 200
        r = client.post_csrf("/api/profiles", json={"name": "lab", "papers": ["arxiv:2405.12532"]})
        assert r.status_code == 200, r.text
        r = client.post_csrf("/api/profiles/lab/feedback", json={"paper": "arxiv:2310.01801", "kind": "like"})
        assert r.json()["feedback"]["kind"] == "like"
    lib = open_library(pg_url)
    assert [m.kind for m in P.get_profile(lib, "lab").feedback] == ["like"]  # the like is in PostgreSQL
    lib.close()


def test_an_older_postgresql_library_is_upgraded(pg_url_from):
    """A database made by an older paperradar (schema 1) gets the newer migrations when opened."""
    import psycopg

    from paperradar.storage import pg_migrations

    url = pg_url_from("template0")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(pg_migrations.MIGRATIONS[0])
        conn.execute(
            "CREATE TABLE schema_version (version INTEGER NOT NULL); INSERT INTO schema_version VALUES (1)"
        )
    lib = open_library(url)
    try:
        assert "users" in lib.tables() and "user_pk" in lib.tables()["profiles"].columns
        version = lib.conn.execute("SELECT max(version) FROM schema_version").fetchone()[0]
        assert version == len(pg_migrations.MIGRATIONS)
    finally:
        lib.close()


def test_two_users_on_postgresql_see_only_their_own_profiles(pg_url):
    """Accounts on the PostgreSQL backend: each user, with their API token, creates a profile and
    lists only their own; the other's profile is not found."""
    from typer.testing import CliRunner

    from paperradar.cli import app, register_commands
    from web_helpers import client_for

    lib = open_library(pg_url)
    import_examples(lib)
    lib.close()
    register_commands()
    runner, tokens = CliRunner(), {}
    for name in ("ada", "grace"):
        assert (
            runner.invoke(app, ["--db", pg_url, "users", "add", name], input="a long password\n").exit_code
            == 0
        )
        result = runner.invoke(app, ["--db", pg_url, "users", "token", name])
        tokens[name] = next(w for w in result.stdout.split() if w.startswith("prt_"))
    with client_for(pg_url) as client:
        for name, token in tokens.items():
            auth = {"Authorization": f"Bearer {token}"}
            r = client.post(
                "/api/profiles", json={"name": f"{name}-p", "papers": ["arxiv:2405.12532"]}, headers=auth
            )
            assert r.status_code == 200, r.text
        for name, token in tokens.items():
            auth = {"Authorization": f"Bearer {token}"}
            listed = [p["name"] for p in client.get("/api/profiles", headers=auth).json()["items"]]
            other = "grace-p" if name == "ada" else "ada-p"
            assert listed == [f"{name}-p"]
            assert client.get(f"/api/profiles/{other}", headers=auth).status_code == 404


def test_pages_of_a_long_ranking_agree_with_one_long_page(demo, monkeypatch):
    """Paging through a common word shows each paper once, in the order of one long page, with the
    same count (on PostgreSQL across its two ranking stages, the second cut to 7 papers here)."""
    from paperradar.storage import postgres

    monkeypatch.setattr(postgres, "RERANK", 7)
    terms, f = [fts.Term("model")], fts.Filters()
    whole = demo.text_ranked(terms, [], "AND", f, 1000, 0)
    paged = [pk for off in range(0, len(whole), 5) for pk, _ in demo.text_ranked(terms, [], "AND", f, 5, off)]
    assert len(whole) > 15
    assert paged == [pk for pk, _ in whole]
    assert len(set(paged)) == len(paged)
    assert [s for _, s in whole] == sorted((s for _, s in whole), reverse=True)
    assert demo.text_count(terms, [], "AND", f) == len(whole) == search(demo, "model", limit=5).total


def test_a_stopword_in_the_query_does_not_make_every_word_optional(demo):
    """Stopwords ("for", "through") are not in PostgreSQL's English index: they must not turn the
    query into "any of these words" there, while FTS5 (which keeps them) finds them."""
    result = search(demo, "language models for", limit=5)
    assert result.total > 0 and not result.relaxed
    words = search(demo, "language models", limit=5).total
    assert result.total <= words
