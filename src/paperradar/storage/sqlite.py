"""The SQLite library: papers, their aliases, every source record, corrections, and an FTS5 index.

All SQL of the project lives in `storage/`. WAL mode; one writer at a time with
`BEGIN IMMEDIATE`; imports commit in batches, so a killed import leaves whole batches only.
Does I/O (the database file).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

from ..errors import InvalidInput
from . import bulk, fts
from .base import PaperRef, Table
from .common import CommonLibrary, _marks
from .migrations import migrate
from .rows import PaperValues


class SQLiteLibrary(CommonLibrary):
    """The default `Library` backend."""

    def __init__(self, path: str | Path):
        self.path = str(path)
        if self.path.startswith(("postgresql://", "postgres://")):
            raise InvalidInput(f"this works on SQLite library files only, not on {self.path.split('@')[-1]}")
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        try:
            self.conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        except sqlite3.OperationalError as e:
            raise InvalidInput(f"cannot open library {self.path}: {e}") from e
        self.conn.row_factory = sqlite3.Row
        self._lock = threading.RLock()
        try:
            # 16 KB pages keep a paper's row (title, abstract, JSON) on one page: 22% smaller than
            # the default 4 KB, whose overflow chains waste space. Only takes effect on a new file.
            self.conn.execute("PRAGMA page_size=16384")
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA synchronous=NORMAL")
            self.conn.execute("PRAGMA foreign_keys=ON")
            self.conn.execute("PRAGMA busy_timeout=10000")
            migrate(self.conn)
        except sqlite3.DatabaseError as e:
            self.conn.close()
            raise InvalidInput(f"{self.path} is not a paperradar library: {e}") from e
        self.fts_deferred = False  # in bulk mode (storage/bulk.py): new papers indexed at the end
        bulk.finish_interrupted(self)

    def close(self) -> None:
        self.conn.close()

    # ------------------------------------------------------------ transactions

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One write transaction (BEGIN IMMEDIATE ... COMMIT); rolled back on any error."""
        with self._lock:
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
            self.conn.execute("COMMIT")

    def bulk_import(self) -> AbstractContextManager[None]:
        """A big import's writes, with the full-text index built once at the end (storage/bulk.py)."""
        return bulk.bulk_mode(self)

    # ------------------------------------------------------------ lookups used by matching

    def text_candidates(self, words: list[str], limit: int = 10) -> list[int]:
        """Papers whose abstract shares the most of `words` (FTS5 BM25), for near-duplicate checks."""
        terms = " OR ".join('"' + w.replace('"', "") + '"' for w in words if w)
        if not terms:
            return []
        if self.fts_deferred:  # a bulk import's papers so far must be found too
            bulk.catch_up(self.conn, keep_pending=True)
        q = "SELECT rowid FROM papers_fts WHERE papers_fts MATCH ? ORDER BY rank LIMIT ?"
        return [r[0] for r in self.conn.execute(q, (f"abstract : ({terms})", limit))]

    # ------------------------------------------------------------ writes (inside a transaction)

    def insert_papers(self, rows: dict[int, PaperValues]) -> None:
        """Insert papers whose pk the caller chose (see `next_paper_pk`)."""
        params = [v.params(pk) for pk, v in rows.items()]
        self.conn.executemany(
            "INSERT INTO papers (pk, id, title, abstract, authors, title_key, year, date, weak, data,"
            " created_at, updated_at) VALUES (:pk, :id, :title, :abstract, :authors, :title_key, :year, :date, :weak,"
            " :data, :now, :now)",
            params,
        )
        if not self.fts_deferred:
            self.conn.executemany(
                "INSERT INTO papers_fts (rowid, title, abstract, authors) VALUES (:pk, :title, :abstract, :authors)",
                params,
            )
        self._put_categories(rows)
        self._mark_paper_pks(rows)

    def update_paper(self, pk: int, values: PaperValues) -> None:
        bulk.index_before_change(self.conn, pk)
        super().update_paper(pk, values)

    def delete_paper(self, pk: int) -> None:
        bulk.index_before_change(self.conn, pk)
        super().delete_paper(pk)

    def add_correction(self, kind: str, key_a: str, key_b: str, now: str) -> None:
        """Record a user's correction; one made again moves to the end (the latest one wins)."""
        self.conn.execute(
            "INSERT OR REPLACE INTO corrections (kind, record_a, record_b, created_at) VALUES (?, ?, ?, ?)",
            (kind, key_a, key_b, now),
        )

    # ------------------------------------------------------------ reading papers

    def list_pks(self, limit: int | None = None, offset: int = 0, order: str = "recent") -> list[int]:
        orders = {
            "recent": "date DESC NULLS LAST, pk DESC",
            "added": "pk DESC",
            "title": "title COLLATE NOCASE",
        }
        if order not in orders:
            raise InvalidInput(f"unknown sort order {order!r}; choose from {', '.join(orders)}")
        q = f"SELECT pk FROM papers ORDER BY {orders[order]} LIMIT ? OFFSET ?"
        return [r[0] for r in self.conn.execute(q, (-1 if limit is None else limit, offset))]

    def bm25_scores(
        self, terms: list[str], among: list[int] | None = None, limit: int = 100, exclude: int | None = None
    ) -> list[tuple[int, float]]:
        """Papers matching any of `terms` (each literal, stemmed like the index), by BM25 (higher is
        better; title counts 2x), optionally only among some papers."""
        quoted = " OR ".join('"' + t.replace('"', '""') + '"' for t in terms if t)
        if not quoted:
            return []
        where = "papers_fts MATCH ?"
        params: list[Any] = [f"{{title abstract}} : ({quoted})"]
        if among is not None:
            where += f" AND +rowid IN ({_marks(among)})"  # one pass over the matches, not a lookup per id
            params.extend(among)
        if exclude is not None:
            where += " AND rowid != ?"
            params.append(exclude)
        q = f"SELECT rowid, -bm25(papers_fts, 2.0, 1.0, 0.0) FROM papers_fts WHERE {where} ORDER BY 2 DESC LIMIT ?"
        return [(r[0], r[1]) for r in self.conn.execute(q, [*params, limit])]

    # ------------------------------------------------------------ embeddings

    def embedding_generation(self) -> int:
        """A number that changes whenever any embedding is added, replaced or deleted (cheap to read)."""
        row = self.conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'embedding_log'").fetchone()
        return int(row[0]) if row else 0

    # ------------------------------------------------------------ tables that refer to papers

    def paper_refs(self) -> list[PaperRef]:
        """Every (table, column) with a foreign key to papers(pk), and that table's primary key."""
        tables = self.conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
        ).fetchall()
        refs = []
        for (table,) in tables:
            info = self.conn.execute(f"PRAGMA table_info({table})").fetchall()
            key = tuple(r["name"] for r in sorted(info, key=lambda r: r["pk"]) if r["pk"])
            for fk in self.conn.execute(f"PRAGMA foreign_key_list({table})"):
                if fk["table"] == "papers":
                    refs.append(PaperRef(table, fk["from"], key))
        return refs

    def tables(self) -> dict[str, Table]:
        """Every table of the library (not the full-text index's own), by name."""
        names = self.conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            " AND name NOT LIKE 'papers_fts%' ORDER BY name"
        ).fetchall()
        out = {}
        for (name,) in names:
            info = self.conn.execute(f"PRAGMA table_info({name})").fetchall()
            key = tuple(r["name"] for r in sorted(info, key=lambda r: r["pk"]) if r["pk"])
            parents = {fk["table"] for fk in self.conn.execute(f"PRAGMA foreign_key_list({name})")}
            out[name] = Table(name, tuple(r["name"] for r in info), key, tuple(sorted(parents - {name})))
        return out

    def after_copy(self) -> None:
        """After rows were copied in by `db copy`: index the papers for full-text search."""
        with self.transaction():
            self.conn.execute("INSERT INTO papers_fts(papers_fts) VALUES ('rebuild')")

    # ------------------------------------------------------------ text search (the contract's)

    def text_ranked(
        self, terms: Sequence[fts.Term], excluded: Sequence[fts.Term], joiner: fts.Joiner,
        f: fts.Filters, limit: int, offset: int,
    ) -> list[tuple[int, float]]:  # fmt: skip
        """One page of matching papers, best first: (pk, score), higher is better (-bm25)."""
        match = fts.match_expression(terms, excluded, joiner)
        return [(pk, -score) for pk, score in fts.run_ranked(self.conn, match, f, limit, offset)]

    def text_count(
        self, terms: Sequence[fts.Term], excluded: Sequence[fts.Term], joiner: fts.Joiner, f: fts.Filters
    ) -> int:
        return fts.run_count(self.conn, fts.match_expression(terms, excluded, joiner), f)

    def text_marks(
        self, terms: Sequence[fts.Term], excluded: Sequence[fts.Term], joiner: fts.Joiner, pks: Sequence[int]
    ) -> dict[int, fts.Marks]:
        """Title and authors with every match marked, and the abstract's best fragment, marked."""
        return fts.run_marks(self.conn, fts.match_expression(terms, excluded, joiner), pks)

    def text_browse(
        self, f: fts.Filters, excluded: Sequence[fts.Term], limit: int, offset: int
    ) -> tuple[list[int], int]:
        """No terms: the newest papers passing the filters and matching none of `excluded`."""
        not_match = fts.match_expression(excluded, joiner="OR") if excluded else None
        return fts.run_browse(self.conn, f, not_match, limit, offset)

    def text_allowed(self, f: fts.Filters, pks: Sequence[int]) -> set[int]:
        return fts.run_allowed(self.conn, f, pks)

    def text_which(self, terms: Sequence[fts.Term], pks: Sequence[int]) -> dict[int, list[fts.Term]]:
        """pk -> the terms it contains."""
        return fts.run_which(self.conn, terms, pks)

    def checkpoint(self) -> None:
        """Fold the write-ahead log into the file (before the file is moved or copied)."""
        self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def check_integrity(self) -> list[str]:
        """Problems found (empty when consistent): SQLite's own check, orphans, FTS in step."""
        problems = [r[0] for r in self.conn.execute("PRAGMA integrity_check") if r[0] != "ok"]
        problems += self._record_problems()
        try:
            self.conn.execute("INSERT INTO papers_fts(papers_fts, rank) VALUES ('integrity-check', 1)")
        except sqlite3.DatabaseError as e:
            problems.append(f"full-text index out of step: {e}")
        return problems
