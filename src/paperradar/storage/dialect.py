"""The SQL dialect layer: the storage modules write SQL once, in the SQLite dialect they always
used, and `to_postgres` rewrites a statement for PostgreSQL (pure; cached per statement text).

What it rewrites, and nothing more (a statement needing anything else gets a method of its own in
postgres.py): `?` and `:name` placeholders; `INSERT OR IGNORE` (ON CONFLICT DO NOTHING);
`INSERT OR REPLACE` into the tables of `UPSERT_KEYS` (ON CONFLICT ... DO UPDATE); `COLLATE NOCASE`
(PostgreSQL's profile names are citext); `json_extract`; `group_concat`; `ifnull`; the
`sqlite_sequence` counter of the embedding log; and `RETURNING` of the new key for one-row INSERTs
into the tables of `SERIAL_KEYS`, so `cursor.lastrowid` works on both. No I/O.
"""

from __future__ import annotations

import re
from functools import lru_cache

# the conflict target of `INSERT OR REPLACE` per table (its primary key)
UPSERT_KEYS: dict[str, tuple[str, ...]] = {
    "embeddings": ("paper_pk", "model_id"),
    "paper_topics": ("paper_pk",),
}

# tables whose key PostgreSQL makes (identity columns): a one-row INSERT returns it as lastrowid
SERIAL_KEYS: dict[str, str] = {
    "profiles": "pk",
    "feedback": "pk",
    "digests": "pk",
    "jobs": "id",
    "topic_builds": "pk",
    "imports": "pk",
    "corrections": "pk",
    "records": "pk",
    "users": "pk",
}

_LITERAL = re.compile(r"'(?:[^']|'')*'")
_NAMED = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")
_JSON_CMP = re.compile(r"json_extract\(([\w.]+), '\$\.(\w+)'\) = ([01])")
_JSON = re.compile(r"json_extract\(([\w.]+), '\$\.([\w.\[\]]+)'\)")
_GROUP_CONCAT = re.compile(r"group_concat\(([^,()]+(?:\([^()]*\))?)(?:,\s*('[^']*'))?\)")
_SEQUENCE = "(SELECT seq FROM sqlite_sequence WHERE name = 'embedding_log')"
_PG_SEQUENCE = "(SELECT CASE WHEN is_called THEN last_value END FROM embedding_log_seq_seq)"


@lru_cache(maxsize=2048)
def to_postgres(sql: str, many: bool = False) -> str:
    """`sql` (SQLite dialect) as PostgreSQL. `many`: for executemany (no RETURNING added)."""
    sql = sql.replace(_SEQUENCE, _PG_SEQUENCE)
    sql = _JSON_CMP.sub(_json_cmp, sql)
    sql = _JSON.sub(_json_path, sql)
    sql = _GROUP_CONCAT.sub(lambda m: f"string_agg({m.group(1)}, {m.group(2) or repr(',')})", sql)
    sql = re.sub(r"\bifnull\(", "coalesce(", sql)
    sql = sql.replace(" COLLATE NOCASE", "")
    sql = _inserts(sql, many)
    return _placeholders(sql)


def _json_cmp(m: re.Match[str]) -> str:
    """`json_extract(d, '$.k') = 1`: SQLite reads JSON true as 1; PostgreSQL's text is 'true'."""
    words = "('1', 'true')" if m.group(3) == "1" else "('0', 'false')"
    return f"({m.group(1)} #>> '{{{m.group(2)}}}') IN {words}"


def _json_path(m: re.Match[str]) -> str:
    path = m.group(2).replace("[", ".").replace("]", "")
    return f"({m.group(1)} #>> '{{{','.join(path.split('.'))}}}')"


def _inserts(sql: str, many: bool) -> str:
    m = re.match(r"\s*INSERT\s+OR\s+(IGNORE|REPLACE)\s+INTO\s+(\w+)\s*\(([^)]*)\)", sql, re.I)
    if m:
        table, cols = m.group(2), [c.strip() for c in m.group(3).split(",")]
        sql = sql[: m.start()] + f"INSERT INTO {table} ({', '.join(cols)})" + sql[m.end() :]
        sql = sql.rstrip().rstrip(";") + _conflict(m.group(1).upper(), table, cols)
    m = re.match(r"\s*INSERT\s+INTO\s+(\w+)\b", sql, re.I)
    if m and not many and m.group(1) in SERIAL_KEYS and "RETURNING" not in sql.upper():
        sql = sql.rstrip().rstrip(";") + f" RETURNING {SERIAL_KEYS[m.group(1)]}"
    return sql


def _conflict(kind: str, table: str, cols: list[str]) -> str:
    if kind == "IGNORE":
        return " ON CONFLICT DO NOTHING"
    keys = UPSERT_KEYS.get(table)
    if keys is None:
        raise ValueError(f"INSERT OR REPLACE INTO {table}: add its key to dialect.UPSERT_KEYS")
    sets = ", ".join(f"{c} = excluded.{c}" for c in cols if c not in keys)
    return f" ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {sets}"


def _placeholders(sql: str) -> str:
    """`?` -> `%s`, `:name` -> `%(name)s`, `%` -> `%%`, leaving string literals alone."""
    out: list[str] = []
    pos = 0
    for lit in _LITERAL.finditer(sql):
        out.append(_marks(sql[pos : lit.start()]))
        out.append(lit.group(0).replace("%", "%%"))
        pos = lit.end()
    out.append(_marks(sql[pos:]))
    return "".join(out)


def _marks(code: str) -> str:
    code = code.replace("%", "%%").replace("?", "%s")
    return _NAMED.sub(r"%(\1)s", code)
