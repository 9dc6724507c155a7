"""The SQL dialect layer (storage/dialect.py) and the tsquery builder: pure rewrites, no database."""

from __future__ import annotations

import pytest

from paperradar.storage import fts
from paperradar.storage.dialect import to_postgres
from paperradar.storage.postgres import tsquery


def test_placeholders_become_psycopg_ones_but_not_inside_strings():
    assert to_postgres("SELECT a FROM t WHERE b = ? AND c = :name AND d LIKE 'x?%'") == (
        "SELECT a FROM t WHERE b = %s AND c = %(name)s AND d LIKE 'x?%%'"
    )
    assert to_postgres("SELECT x::jsonb FROM t") == "SELECT x::jsonb FROM t"


def test_insert_or_ignore_and_or_replace_become_on_conflict():
    assert to_postgres("INSERT OR IGNORE INTO seen (profile_pk, paper_pk) VALUES (?, ?)").endswith(
        "VALUES (%s, %s) ON CONFLICT DO NOTHING"
    )
    sql = to_postgres(
        "INSERT OR REPLACE INTO embeddings (paper_pk, model_id, text_hash, vector) VALUES (?, ?, ?, ?)"
    )
    assert sql.endswith(
        "ON CONFLICT (paper_pk, model_id) DO UPDATE SET text_hash = excluded.text_hash, vector = excluded.vector"
    )
    with pytest.raises(ValueError, match="UPSERT_KEYS"):
        to_postgres("INSERT OR REPLACE INTO mystery (a) VALUES (?)")


def test_one_row_inserts_return_their_new_key():
    assert to_postgres("INSERT INTO profiles (name) VALUES (?)").endswith("RETURNING pk")
    assert "RETURNING" not in to_postgres("INSERT INTO profiles (name) VALUES (?)", many=True)
    assert "RETURNING" not in to_postgres("INSERT INTO aliases (alias, paper_pk) VALUES (?, ?)")


def test_sqlite_functions_become_postgresql_ones():
    sql = to_postgres("SELECT json_extract(data, '$.categories[0]'), group_concat(author, '|'), ifnull(x, 0)")
    assert sql == "SELECT (data #>> '{categories,0}'), string_agg(author, '|'), coalesce(x, 0)"
    assert to_postgres("SELECT 1 WHERE json_extract(p.data, '$.has_code') = 1") == (
        "SELECT 1 WHERE (p.data #>> '{has_code}') IN ('1', 'true')"
    )
    assert (
        to_postgres("SELECT name FROM profiles ORDER BY name COLLATE NOCASE")
        == "SELECT name FROM profiles ORDER BY name"
    )


def test_tsquery_keeps_user_text_out_of_the_syntax():
    q = fts.parse_query('kv-cache "low rank" transform* -survey & | ! :*')
    sql, params = tsquery(q.terms, q.excluded)
    assert "&&" in sql and "!!" in sql
    assert "kv-cache" in params and "low rank" in params and "'transform':*" in params
    assert params and all("survey" not in p or p == "survey" for p in params)


def test_a_match_expression_parses_back_into_its_terms():
    terms = [fts.Term("kv"), fts.Term('say "hi"', phrase=True), fts.Term("trans", prefix=True)]
    excluded = [fts.Term("survey")]
    for joiner in ("AND", "OR"):
        got = fts.parse_match(fts.match_expression(terms, excluded, joiner))
        assert got == (terms, excluded, joiner)
