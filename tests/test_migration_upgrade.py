"""A library made by any earlier paperradar opens with the current one (issue 18 item 7; llm's
tests/test_migrate.py is the pattern): for every earlier schema version N, on SQLite and on
PostgreSQL, a library migrated only up to N is filled with representative rows (papers with
their aliases, source records and categories, an embedding, a profile with its papers and
feedback), then opened with the current code. The upgrade must reach the latest version, keep
every row, and leave a library whose integrity check passes and whose search finds the papers.

The rows are written by the current code into a scratch library first and copied, column by
column, into the old one (the columns version N has), so they are the rows real imports make."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
import pytest

from paperradar import profiles
from paperradar.importers.base import Source
from paperradar.ingest import import_source
from paperradar.papers import load_paper
from paperradar.search import Filters, search
from paperradar.storage import migrations as sqlite_migrations
from paperradar.storage import open_library, pg_migrations

PAPERS = [
    {
        "id": "arxiv:2410.09918",
        "title": "Dualformer: controllable fast and slow thinking",
        "abstract": "Randomized reasoning traces teach a transformer when to think slowly.",
        "authors": ["Ada Lovelace", "Alan Turing"],
        "categories": ["cs.AI", "cs.LG"],
        "published": "2024-10-13",
    },
    {
        "id": "arxiv:2502.01234",
        "title": "Compressing the key value cache of long contexts",
        "abstract": "Eviction of cached keys keeps long context inference within memory.",
        "authors": ["Grace Hopper"],
        "categories": ["cs.CL"],
        "published": "2025-02",
    },
]
# the tables copied into an old library (in foreign-key order), when version N has them
TABLES = [
    "papers",
    "aliases",
    "records",
    "paper_categories",
    "embeddings",
    "profiles",
    "profile_papers",
    "feedback",
]
GENERATED = {"tsv"}  # PostgreSQL computes it


@pytest.fixture(scope="module")
def scratch(tmp_path_factory) -> dict[str, list[dict[str, Any]]]:
    """The rows of a current library holding PAPERS, a fake embedding and a profile with feedback."""
    import json

    import numpy as np

    path = tmp_path_factory.mktemp("scratch") / "lib.db"
    lib = open_library(path)
    try:
        import_source(lib, Source.from_text("".join(json.dumps(p) + "\n" for p in PAPERS), "papers.jsonl"))
        pk = lib.resolve(PAPERS[0]["id"])
        lib.put_embeddings("test-model", [(pk, "hash", (np.ones(4, dtype=np.float32) / 2).tobytes())])
        profiles.create_profile(lib, "reader", papers=[PAPERS[0]["id"]])
        profiles.give_feedback(lib, "reader", PAPERS[1]["id"], "dislike")
        cursors = {t: lib.conn.execute(f"SELECT * FROM {t}") for t in TABLES}
        return {
            t: [dict(zip([d[0] for d in c.description], r, strict=True)) for r in c]
            for t, c in cursors.items()
        }
    finally:
        lib.close()


def fill(
    execute: Callable[[str, tuple[Any, ...]], Any], columns_of: Callable[[str], set[str]], rows
) -> set[str]:
    """Copy the scratch rows into the old library (each table it has, the columns it has): the
    tables copied."""
    copied = set()
    for table in TABLES:
        have = columns_of(table)
        for row in rows[table] if have else []:
            names = [c for c in row if c in have and c not in GENERATED]
            marks = ", ".join("?" for _ in names)
            execute(
                f"INSERT INTO {table} ({', '.join(names)}) VALUES ({marks})", tuple(row[c] for c in names)
            )
            copied.add(table)
    return copied


def old_sqlite(path: str, version: int, rows) -> set[str]:
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        assert sqlite_migrations.migrate(conn, upto=version) == version
        assert conn.execute("PRAGMA user_version").fetchone()[0] == version

        def columns_of(table: str) -> set[str]:
            return {r[1] for r in conn.execute(f"PRAGMA table_info({table})")}

        conn.execute("BEGIN")
        copied = fill(conn.execute, columns_of, rows)
        # the full-text index is written by the library's inserts, not by a trigger
        conn.execute(
            "INSERT INTO papers_fts (rowid, title, abstract, authors) SELECT pk, title, abstract, authors FROM papers"
        )
        conn.execute("COMMIT")
        return copied
    finally:
        conn.close()


def old_postgres(url: str, version: int, rows) -> set[str]:
    with psycopg.connect(url, autocommit=True) as conn:
        assert pg_migrations.migrate(conn, upto=version) == version

        def columns_of(table: str) -> set[str]:
            q = "SELECT column_name FROM information_schema.columns WHERE table_name = %s"
            return {r[0] for r in conn.execute(q, (table,))}

        def execute(sql: str, params: tuple[Any, ...]) -> Any:
            return conn.execute(sql.replace("?", "%s"), params)  # type: ignore[arg-type]

        with conn.transaction():
            return fill(execute, columns_of, rows)


@contextmanager
def postgres_database() -> Iterator[str]:
    """An empty database on the test server (dropped after)."""
    import os

    from conftest import postgres_url
    from pg_databases import drop_database, with_database

    url = postgres_url()
    name = f"paperradar_upgrade_{os.getpid()}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')  # type: ignore[arg-type]
        conn.execute(f'CREATE DATABASE "{name}"')  # type: ignore[arg-type]
    try:
        yield with_database(url, name)
    finally:
        drop_database(url, name)


def check_upgraded(
    location: str, copied: set[str], latest_version: Callable[[str], int], latest: int
) -> None:
    lib = open_library(location)
    try:
        assert latest_version(location) == latest
        assert lib.check_integrity() == []
        for p in PAPERS:
            paper = load_paper(lib, lib.resolve(p["id"]))
            assert (paper.title, [a.name for a in paper.authors]) == (p["title"], p["authors"])
            assert paper.sources and paper.sources[0].importer
        hits = search(lib, "key value cache").hits
        assert hits and hits[0].paper.id == PAPERS[1]["id"]
        in_cl = search(lib, "cache OR thinking", filters=Filters(categories=("cs.CL",))).hits
        assert [h.paper.id for h in in_cl] == [PAPERS[1]["id"]]  # categories survived as rows
        if "embeddings" in copied:
            assert lib.embedding_hashes("test-model") == {lib.resolve(PAPERS[0]["id"]): "hash"}
        if "profiles" in copied:
            profile = profiles.get_profile(lib, "reader")
            assert profile.papers == [PAPERS[0]["id"]]
            assert [(f.paper, f.kind) for f in profile.feedback] == [(PAPERS[1]["id"], "dislike")]
    finally:
        lib.close()


def sqlite_version(path: str) -> int:
    conn = sqlite3.connect(path)
    try:
        return int(conn.execute("PRAGMA user_version").fetchone()[0])
    finally:
        conn.close()


def postgres_version(url: str) -> int:
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute("SELECT max(version) FROM schema_version").fetchone()
        assert row is not None
        return int(row[0])


@pytest.mark.parametrize("version", range(1, len(sqlite_migrations.MIGRATIONS)))
def test_sqlite_library_upgrades_from_every_earlier_version(version, scratch, tmp_path):
    path = str(tmp_path / "old.db")
    copied = old_sqlite(path, version, scratch)
    assert {"papers", "aliases", "records"} <= copied and ("profiles" in copied) == (version >= 4)
    check_upgraded(path, copied, sqlite_version, len(sqlite_migrations.MIGRATIONS))


@pytest.mark.parametrize("version", range(1, len(pg_migrations.MIGRATIONS)))
def test_postgres_library_upgrades_from_every_earlier_version(version, scratch):
    with postgres_database() as url:
        copied = old_postgres(url, version, scratch)
        assert set(TABLES) == copied  # PostgreSQL's first version has every table of these
        check_upgraded(url, copied, postgres_version, len(pg_migrations.MIGRATIONS))


def test_there_are_earlier_versions_to_upgrade_from():
    assert len(sqlite_migrations.MIGRATIONS) >= 13 and len(pg_migrations.MIGRATIONS) >= 3
