"""The PostgreSQL library, chosen by a `postgresql://` location: the team backend.

It shares the SQL of `common.CommonLibrary` (and of the storage modules that take a library) through
`dialect.to_postgres`, and adds only what differs: full-text search (a generated tsvector with
ts_rank_cd and ts_headline instead of FTS5 and bm25), the write lock (a transaction-level advisory
lock, so several processes and threads write one at a time, as SQLite's BEGIN IMMEDIATE did),
corrections, integrity checks and the embedding-change counter. Connections come from one
psycopg_pool pool per address; each open library holds one of them. Does I/O (the database).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from ..errors import InvalidInput
from . import fts, without_password
from .base import Library, PaperRef, Table
from .common import CommonLibrary, _chunks
from .dialect import to_postgres
from .pg_migrations import migrate
from .rows import PaperValues
from .sqlite import SQLiteLibrary

WRITE_LOCK = 16_0002  # the advisory lock every write transaction takes
_POOLS: dict[str, Any] = {}
_POOLS_LOCK = threading.Lock()

# ts_rank_cd weights, in PostgreSQL's order {D, C, B, A}: authors (C), abstract (B), title (A),
# the same proportions as FTS5's bm25 column weights in fts.py (scaled into 0..1, as it requires)
_TOP = max(fts.W_TITLE, fts.W_ABSTRACT, fts.W_AUTHORS)
_WEIGHTS = f"'{{0, {fts.W_AUTHORS / _TOP}, {fts.W_ABSTRACT / _TOP}, {fts.W_TITLE / _TOP}}}'"
# keyword ranking's second stage: the best RERANK matches by ts_rank are ranked again by ts_rank_cd;
# their scores are 1 + ts_rank_cd, the others' ts_rank / (1 + ts_rank), so they stay above the others
RERANK = 200
COUNT_KEPT_S = 5.0  # how long text_ranked's count of a query answers text_count for it
_HEADLINE_ALL = f"StartSel={fts.MARK_OPEN}, StopSel={fts.MARK_CLOSE}, HighlightAll=true"
_HEADLINE_FRAGMENT = (
    f"StartSel={fts.MARK_OPEN}, StopSel={fts.MARK_CLOSE}, MaxFragments=1,"
    f" MaxWords={fts.SNIPPET_TOKENS}, MinWords=8, FragmentDelimiter={fts.ELLIPSIS}"
)


class Row(tuple):  # type: ignore[type-arg]
    """A result row readable by position and by column name, like sqlite3.Row."""

    names: tuple[str, ...] = ()

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            return tuple.__getitem__(self, self.names.index(key))
        return tuple.__getitem__(self, key)

    def keys(self) -> list[str]:
        return list(self.names)


def _row_factory(cursor: Any) -> Any:
    names = tuple(c.name for c in cursor.description or ())
    kind = type("Row", (Row,), {"names": names})
    return lambda values: kind(values)


class Cursor:
    """What a statement gave back: rows, rowcount and lastrowid, like a sqlite3.Cursor."""

    def __init__(self, cur: Any, returning_key: bool):
        self._cur = cur
        self.rowcount = cur.rowcount
        self.lastrowid = None
        if returning_key and cur.description:
            first = cur.fetchone()
            self.lastrowid = first[0] if first else None

    def fetchone(self) -> Any:
        return self._cur.fetchone() if self._cur.description else None

    def fetchall(self) -> list[Any]:
        return self._cur.fetchall() if self._cur.description else []

    def __iter__(self) -> Iterator[Any]:
        return iter(self.fetchall())


class Connection:
    """A psycopg connection that takes the storage modules' SQLite-dialect SQL (see dialect.py)."""

    def __init__(self, raw: Any, library: PostgresLibrary):
        self.raw = raw
        self.library = library  # fts.run_* hand keyword search to it

    def execute(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> Cursor:
        text = to_postgres(sql)
        cur = self.raw.cursor()
        cur.execute(text, params)
        return Cursor(cur, text.endswith(" RETURNING pk") or text.endswith(" RETURNING id"))

    def executemany(self, sql: str, rows: Any) -> Cursor:
        rows = list(rows)
        cur = self.raw.cursor()
        if rows:
            cur.executemany(to_postgres(sql, many=True), rows)
        return Cursor(cur, False)


def _pool(url: str) -> Any:
    import psycopg
    from psycopg import ClientCursor
    from psycopg.types.string import TextLoader
    from psycopg_pool import ConnectionPool

    def configure(conn: Any) -> None:
        conn.adapters.register_loader("jsonb", TextLoader)  # JSON reads as text, as in SQLite

    with _POOLS_LOCK:
        if url not in _POOLS:
            psycopg.connect(url, connect_timeout=10).close()  # a wrong address fails now, and says why
            _POOLS[url] = ConnectionPool(
                url,
                min_size=1,
                max_size=64,
                kwargs={"autocommit": True, "cursor_factory": ClientCursor, "row_factory": _row_factory},
                configure=configure,
                open=True,
            )
        return _POOLS[url]


def close_pool(url: str) -> None:
    """Close the pool of this address (its libraries must be closed first)."""
    with _POOLS_LOCK:
        pool = _POOLS.pop(url, None)
    if pool is not None:
        pool.close()


class PostgresLibrary(CommonLibrary):
    """The `Library` on PostgreSQL (same behaviour as SQLiteLibrary; the contract tests run both)."""

    def __init__(self, url: str):  # not super().__init__, which opens a SQLite file
        self.path = url
        try:
            self._pool = _pool(url)
            raw = self._pool.getconn(timeout=30)
        except Exception as e:
            raise InvalidInput(f"cannot open library {without_password(url)}: {e}") from e
        self.conn = Connection(raw, self)  # type: ignore[assignment]
        self._lock = threading.RLock()
        self._refs: list[PaperRef] | None = None
        self._totals: dict[str, tuple[float, int]] = {}  # text_ranked's counts, for text_count
        migrate(raw)

    def close(self) -> None:
        if self.conn is not None:
            self._pool.putconn(self.conn.raw)  # type: ignore[attr-defined]
            self.conn = None  # type: ignore[assignment]

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One write transaction, holding the library's write lock until it ends."""
        with self._lock:
            raw = self.conn.raw  # type: ignore[attr-defined]
            raw.execute("BEGIN")
            try:
                raw.execute("SELECT pg_advisory_xact_lock(%s)", (WRITE_LOCK,))
                yield
            except BaseException:
                raw.execute("ROLLBACK")
                raise
            raw.execute("COMMIT")

    # ------------------------------------------------------------ what differs from SQLite

    def insert_papers(self, rows: dict[int, PaperValues]) -> None:
        """Insert papers whose pk the caller chose; the tsvector column indexes them itself."""
        self.conn.executemany(
            "INSERT INTO papers (pk, id, title, abstract, authors, title_key, year, date, weak, data,"
            " created_at, updated_at) VALUES (:pk, :id, :title, :abstract, :authors, :title_key, :year, :date, :weak,"
            " :data, :now, :now)",
            [v.params(pk) for pk, v in rows.items()],
        )
        self._put_categories(rows)
        self._mark_paper_pks(rows)

    def add_correction(self, kind: str, key_a: str, key_b: str, now: str) -> None:
        """Record a user's correction; one made again moves to the end (the latest one wins)."""
        q = "DELETE FROM corrections WHERE kind = ? AND record_a = ? AND record_b = ?"
        self.conn.execute(q, (kind, key_a, key_b))
        self.conn.execute(
            "INSERT INTO corrections (kind, record_a, record_b, created_at) VALUES (?, ?, ?, ?)",
            (kind, key_a, key_b, now),
        )

    def list_pks(self, limit: int | None = None, offset: int = 0, order: str = "recent") -> list[int]:
        orders = {"recent": "date DESC NULLS LAST, pk DESC", "added": "pk DESC", "title": "lower(title)"}
        if order not in orders:
            raise InvalidInput(f"unknown sort order {order!r}; choose from {', '.join(orders)}")
        q = f"SELECT pk FROM papers ORDER BY {orders[order]} LIMIT ? OFFSET ?"
        return [r[0] for r in self.conn.execute(q, (limit, offset))]

    def text_candidates(self, words: list[str], limit: int = 10) -> list[int]:
        """Papers whose abstract shares the most of `words`, for near-duplicate checks."""
        query, params = _any_words([w for w in words if w])
        if not query:
            return []
        q = (
            f"SELECT pk FROM papers, (SELECT {query} AS q) tq WHERE tsv @@ q AND ts_filter(tsv, '{{b}}') @@ q"
            " ORDER BY ts_rank_cd(ts_filter(tsv, '{b}'), q) DESC, pk LIMIT ?"
        )
        return [r[0] for r in self.conn.execute(q, [*params, limit])]

    def bm25_scores(
        self, terms: list[str], among: list[int] | None = None, limit: int = 100, exclude: int | None = None
    ) -> list[tuple[int, float]]:
        """Papers matching any of `terms`, by ts_rank_cd over title (2x) and abstract."""
        query, params = _any_words([t for t in terms if t])
        if not query:
            return []
        where = "tsv @@ q"
        if among is not None:
            where += " AND pk = ANY(?)"
            params.append(list(among))
        if exclude is not None:
            where += " AND pk != ?"
            params.append(exclude)
        q = (
            f"SELECT pk, ts_rank_cd('{{0, 0, 0.5, 1}}', tsv, q) AS s FROM papers, (SELECT {query} AS q) tq WHERE {where}"
            " ORDER BY s DESC, pk LIMIT ?"
        )
        return [(r[0], float(r[1])) for r in self.conn.execute(q, [*params, limit])]

    def embedding_generation(self) -> int:
        q = "SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM embedding_log_seq_seq"
        return int(self.conn.execute(q).fetchone()[0])

    def paper_refs(self) -> list[PaperRef]:
        """Every (table, column) with a foreign key to papers(pk), and that table's primary key."""
        if self._refs is None:
            q = """SELECT c.conrelid::regclass::text, a.attname,
                       coalesce((SELECT array_agg(k.attname::text ORDER BY k.attnum) FROM pg_index i
                                 JOIN pg_attribute k ON k.attrelid = i.indrelid AND k.attnum = ANY(i.indkey)
                                 WHERE i.indrelid = c.conrelid AND i.indisprimary), '{}')
                   FROM pg_constraint c
                   JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
                   WHERE c.contype = 'f' AND c.confrelid = 'papers'::regclass ORDER BY 1, 2"""
            self._refs = [PaperRef(r[0], r[1], tuple(r[2])) for r in self.conn.execute(q)]
        return list(self._refs)

    def tables(self) -> dict[str, Table]:
        """Every table of the library (not the migration bookkeeping), by name; columns in order,
        without the generated tsvector."""
        q = """SELECT c.relname,
                   (SELECT array_agg(a.attname::text ORDER BY a.attnum) FROM pg_attribute a
                    WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''),
                   coalesce((SELECT array_agg(k.attname::text ORDER BY array_position(i.indkey, k.attnum))
                             FROM pg_index i JOIN pg_attribute k ON k.attrelid = i.indrelid
                             AND k.attnum = ANY(i.indkey) WHERE i.indrelid = c.oid AND i.indisprimary), '{}'),
                   coalesce((SELECT array_agg(DISTINCT f.confrelid::regclass::text) FROM pg_constraint f
                             WHERE f.conrelid = c.oid AND f.contype = 'f' AND f.confrelid != c.oid), '{}')
               FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
               WHERE c.relkind = 'r' AND n.nspname = current_schema() AND c.relname != 'schema_version'
               ORDER BY 1"""
        return {
            r[0]: Table(r[0], tuple(r[1]), tuple(r[2]), tuple(sorted(r[3]))) for r in self.conn.execute(q)
        }

    def after_copy(self) -> None:
        """After rows were copied in by `db copy`: identity columns continue after the copied keys."""
        with self.transaction():
            for t in self.tables().values():
                if len(t.key) != 1:
                    continue
                seq = self.conn.execute("SELECT pg_get_serial_sequence(?, ?)", (t.name, t.key[0])).fetchone()
                if seq and seq[0]:
                    self.conn.execute(
                        f"SELECT setval(?, coalesce((SELECT max({t.key[0]}) FROM {t.name}), 0) + 1, false)",
                        (seq[0],),
                    )

    def check_integrity(self) -> list[str]:
        """Problems found (empty when consistent): orphan records, papers without records."""
        return self._record_problems()

    # ------------------------------------------------------------ text search (the contract's)

    def text_ranked(
        self, terms: Sequence[fts.Term], excluded: Sequence[fts.Term], joiner: fts.Joiner,
        f: fts.Filters, limit: int, offset: int,
    ) -> list[tuple[int, float]]:  # fmt: skip
        """One page of matching papers, best first: (pk, score), higher is better.

        Two stages, so a common word costs one pass over its matches: every match is ranked by the
        cheap `ts_rank` (and counted in the same pass, for `text_count`), and only the best
        `RERANK` of them by `ts_rank_cd`, which rewards terms found close together. Papers past
        the first `RERANK` keep their cheap order, below all of those (pages stay consistent)."""
        query, params = tsquery(terms, excluded, joiner)
        where, fparams = pg_filters(f)
        # the tsquery written out where it is used (not joined from a CTE), so the planner knows
        # how many papers match and picks a sequential or a bitmap scan accordingly
        matches = (  # materialized: (pk, cheap) rows only, counted and sorted without their tsvectors
            f"SELECT p.pk, ts_rank({_WEIGHTS}, p.tsv, {query}) AS cheap"
            f" FROM papers p WHERE p.tsv @@ {query}{''.join(' AND ' + w for w in where)}"
        )
        head = f"WITH m AS MATERIALIZED ({matches})"
        args, rows = [*params, *params, *fparams], []
        if offset < RERANK:
            q = (
                f"{head}, top AS (SELECT pk FROM m ORDER BY cheap DESC, pk LIMIT {RERANK})"
                f" SELECT top.pk, ts_rank_cd({_WEIGHTS}, p.tsv, {query}) AS s, (SELECT count(*) FROM m)"
                " FROM top JOIN papers p ON p.pk = top.pk ORDER BY s DESC, top.pk LIMIT ? OFFSET ?"
            )
            rows = [
                (int(r[0]), 1.0 + float(r[1]), int(r[2]))
                for r in self.conn.execute(q, [*args, *params, min(limit, RERANK - offset), offset])
            ]
        if offset + limit > RERANK and (offset >= RERANK or len(rows) == RERANK - offset):
            start = max(offset, RERANK)
            q = f"{head} SELECT pk, cheap, (SELECT count(*) FROM m) FROM m ORDER BY cheap DESC, pk LIMIT ? OFFSET ?"
            rows += [
                (int(r[0]), float(r[1]) / (1.0 + float(r[1])), int(r[2]))
                for r in self.conn.execute(q, [*args, offset + limit - start, start])
            ]
        if len(self._totals) > 64:
            self._totals.clear()
        if rows:
            self._totals[_key(terms, excluded, joiner, f)] = (time.monotonic(), rows[0][2])
        return [(pk, score) for pk, score, _ in rows]

    def text_count(
        self, terms: Sequence[fts.Term], excluded: Sequence[fts.Term], joiner: fts.Joiner, f: fts.Filters
    ) -> int:
        """How many papers match; the count `text_ranked` just made for the same query, if any."""
        known = self._totals.pop(_key(terms, excluded, joiner, f), None)
        if known is not None and time.monotonic() - known[0] < COUNT_KEPT_S:
            return known[1]
        query, params = tsquery(terms, excluded, joiner)
        where, fparams = pg_filters(f)
        q = f"SELECT count(*) FROM papers p, (SELECT {query} AS q) tq WHERE p.tsv @@ q" + "".join(
            " AND " + w for w in where
        )
        return int(self.conn.execute(q, [*params, *fparams]).fetchone()[0])

    def text_marks(
        self, terms: Sequence[fts.Term], excluded: Sequence[fts.Term], joiner: fts.Joiner, pks: Sequence[int]
    ) -> dict[int, fts.Marks]:
        """Title and authors with every match marked, and the abstract's best fragment, marked."""
        if not pks:
            return {}
        query, params = tsquery(terms, excluded, joiner)
        q = (
            f"SELECT p.pk, ts_headline('english', coalesce(p.title, ''), q, '{_HEADLINE_ALL}'),"
            f" ts_headline('english', coalesce(p.abstract, ''), q, '{_HEADLINE_FRAGMENT}'),"
            f" ts_headline('simple', coalesce(p.authors, ''), q, '{_HEADLINE_ALL}')"
            f" FROM papers p, (SELECT {query} AS q) tq WHERE p.pk = ANY(?) AND p.tsv @@ q"
        )
        rows = self.conn.execute(q, [*params, list(pks)])
        return {int(r[0]): (r[1] or "", r[2] or "", r[3] or "") for r in rows}

    def text_browse(
        self, f: fts.Filters, excluded: Sequence[fts.Term], limit: int, offset: int
    ) -> tuple[list[int], int]:
        """No terms: the newest papers passing the filters and matching none of `excluded`."""
        where, params = pg_filters(f)
        if excluded:
            query, qparams = tsquery(excluded, (), "OR")
            where.append(f"NOT p.tsv @@ {query}")
            params += qparams
        cond = (" WHERE " + " AND ".join(where)) if where else ""
        q = f"SELECT p.pk FROM papers p{cond} ORDER BY p.date DESC NULLS LAST, p.pk DESC LIMIT ? OFFSET ?"
        pks = [int(r[0]) for r in self.conn.execute(q, [*params, limit, offset])]
        total = int(self.conn.execute(f"SELECT count(*) FROM papers p{cond}", params).fetchone()[0])
        return pks, total

    def text_which(self, terms: Sequence[fts.Term], pks: Sequence[int]) -> dict[int, list[fts.Term]]:
        """pk -> the terms it contains."""
        out: dict[int, list[fts.Term]] = {pk: [] for pk in pks}
        for term in terms if pks else ():
            query, params = tsquery([term])
            q = f"SELECT pk FROM papers WHERE pk = ANY(?) AND tsv @@ {query}"
            for r in self.conn.execute(q, [list(pks), *params]):
                out[int(r[0])].append(term)
        return out

    def text_allowed(self, f: fts.Filters, pks: Sequence[int]) -> set[int]:
        where, params = pg_filters(f)
        cond = "".join(" AND " + w for w in where)
        out: set[int] = set()
        for chunk in _chunks(list(pks), 500):
            q = f"SELECT p.pk FROM papers p WHERE p.pk = ANY(?){cond}"
            out.update(int(r[0]) for r in self.conn.execute(q, [chunk, *params]))
        return out

    def checkpoint(self) -> None:
        """Nothing to fold: PostgreSQL keeps its own write-ahead log (SQLite's is folded before a move)."""


def tsquery(
    terms: Sequence[fts.Term], excluded: Sequence[fts.Term] = (), joiner: fts.Joiner = "AND"
) -> tuple[str, list[Any]]:
    """A tsquery SQL expression for the grammar of fts.py, and its parameters (pure). Each term is
    parsed by PostgreSQL itself (phraseto_tsquery), so no user text is ever tsquery syntax."""
    if not terms:
        raise InvalidInput("a search needs at least one word")
    parts, params = [], []
    for t in terms:
        sql, p = _term(t)
        parts.append(sql)
        params += p
    expr = "(" + (" && " if joiner == "AND" else " || ").join(parts) + ")"
    if excluded:
        sub, p = tsquery(excluded, (), "OR")
        expr = f"({expr} && !!{sub})"
        params += p
    return expr, params


def _term(t: fts.Term) -> tuple[str, list[Any]]:
    """One term: a phrase of its words (title and abstract stemmed as English, authors not). A
    term that is only English stopwords ("through", "but") is empty, and an empty operand drops
    out of `&&` and `||`: the English index has no stopwords, so requiring one (as authors'
    unstemmed words) would make every paper fail an AND and the search fall back to any word."""
    if t.prefix:
        words = [w for w in "".join(c if c.isalnum() else " " for c in t.text).split() if w]
        if words:
            q = " <-> ".join(f"'{w.lower()}'" for w in words[:-1])
            last = f"'{words[-1].lower()}':*"
            text = f"{q} <-> {last}" if q else last
            return "(to_tsquery('simple', ?))", [text]
    sql = (
        "(phraseto_tsquery('english', ?) || CASE WHEN numnode(phraseto_tsquery('english', ?)) > 0"
        " THEN phraseto_tsquery('simple', ?) ELSE ''::tsquery END)"
    )
    return sql, [t.text, t.text, t.text]


def _key(terms: Sequence[fts.Term], excluded: Sequence[fts.Term], joiner: str, f: fts.Filters) -> str:
    """The memo key of one keyword query: its terms, how they join, its filters."""
    return repr((tuple(terms), tuple(excluded), joiner, f))


def _any_words(words: list[str]) -> tuple[str, list[Any]]:
    """Papers with any of these literal words (stemmed like the index)."""
    if not words:
        return "", []
    return tsquery([fts.Term(w) for w in words], (), "OR")


def pg_filters(f: fts.Filters) -> tuple[list[str], list[Any]]:
    """fts.filter_sql's WHERE clauses over `papers p`, in PostgreSQL (the author filter by words)."""
    where, params = fts.filter_sql(fts.Filters(f.since, f.until, f.categories, None, False, f.source))
    if f.has_code:
        where.append("(p.data #>> '{has_code}') IN ('1', 'true')")
    if f.author:
        name = fts.author_expression(f.author)[len('authors : "') : -2]
        where.append("to_tsvector('simple', coalesce(p.authors, '')) @@ (to_tsquery('simple', ?))")
        words = ["'" + w.lower() + "'" for w in "".join(c if c.isalnum() else " " for c in name).split()]
        params.append(" <-> ".join(words[:-1] + [words[-1] + ":*"]))
    return where, params


def _contract(a: SQLiteLibrary, b: PostgresLibrary) -> tuple[Library, Library]:
    """Never called: mypy checks here that both backends satisfy the `Library` protocol."""
    return a, b
