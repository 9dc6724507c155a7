"""The SQLite library: papers, their aliases, every source record, corrections, and an FTS5 index.

All SQL of the project lives in `storage/`. WAL mode; one writer at a time with
`BEGIN IMMEDIATE`; imports commit in batches, so a killed import leaves whole batches only.
Does I/O (the database file).
"""

from __future__ import annotations

import json
import sqlite3
import threading
import zlib
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson

from ..errors import InvalidInput, NotFound
from . import fts
from .base import PaperRef, Table
from .migrations import migrate
from .queries import PaperQueries

# tables the library remakes itself when papers merge or are rebuilt: every other table that
# refers to a paper is carried by `move_paper_refs` and `carry_user_data`, found by `paper_refs`
REMADE = frozenset(
    {"papers", "aliases", "records", "corrections", "embeddings", "paper_categories", "embedding_log"}
)


def dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


class SQLiteLibrary(PaperQueries):
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

    # ------------------------------------------------------------ lookups used by matching

    def existing_record_keys(self, keys: list[str]) -> set[str]:
        out: set[str] = set()
        for chunk in _chunks(keys, 500):
            q = f"SELECT key FROM records WHERE key IN ({_marks(chunk)})"
            out.update(r[0] for r in self.conn.execute(q, chunk))
        return out

    def papers_by_alias(self, aliases: list[str]) -> dict[str, int]:
        out: dict[str, int] = {}
        for chunk in _chunks(aliases, 500):
            q = f"SELECT alias, paper_pk FROM aliases WHERE alias IN ({_marks(chunk)})"
            out.update((r[0], r[1]) for r in self.conn.execute(q, chunk))
        return out

    def papers_by_title_key(self, keys: list[str]) -> dict[str, list[int]]:
        out: dict[str, list[int]] = {}
        for chunk in _chunks([k for k in keys if k], 500):
            q = f"SELECT title_key, pk FROM papers WHERE title_key IN ({_marks(chunk)})"
            for r in self.conn.execute(q, chunk):
                out.setdefault(r[0], []).append(r[1])
        return out

    def match_view(self, pks: Iterable[int]) -> list[dict[str, Any]]:
        """What matching needs of some papers: ids, title key, author names, year, abstract."""
        pks = list(pks)
        rows: list[dict[str, Any]] = []
        for chunk in _chunks(pks, 500):
            q = f"SELECT pk, title_key, year, abstract, data FROM papers WHERE pk IN ({_marks(chunk)})"
            for r in self.conn.execute(q, chunk):
                data = json.loads(r["data"])
                rows.append(
                    {
                        "pk": r["pk"],
                        "ids": data.get("ids", []),
                        "title_key": r["title_key"] or "",
                        "authors": [a["name"] for a in data.get("authors", [])],
                        "year": r["year"],
                        "abstract": r["abstract"],
                        "dates": data.get("dates", {}),
                    }
                )
        return rows

    def weak_papers(self) -> list[int]:
        """Papers that lack a title or any id (matched by abstract only)."""
        return [r[0] for r in self.conn.execute("SELECT pk FROM papers WHERE weak = 1")]

    def text_candidates(self, words: list[str], limit: int = 10) -> list[int]:
        """Papers whose abstract shares the most of `words` (FTS5 BM25), for near-duplicate checks."""
        terms = " OR ".join('"' + w.replace('"', "") + '"' for w in words if w)
        if not terms:
            return []
        q = "SELECT rowid FROM papers_fts WHERE papers_fts MATCH ? ORDER BY rank LIMIT ?"
        return [r[0] for r in self.conn.execute(q, (f"abstract : ({terms})", limit))]

    def records_of(self, pk: int) -> list[dict[str, Any]]:
        q = "SELECT key, importer, path, line, imported_at, fields FROM records WHERE paper_pk = ? ORDER BY pk"
        return [
            {
                "key": r["key"],
                "importer": r["importer"],
                "path": r["path"],
                "line": r["line"],
                "imported_at": r["imported_at"],
                "fields": json.loads(r["fields"]),
            }
            for r in self.conn.execute(q, (pk,))
        ]

    # ------------------------------------------------------------ writes (inside a transaction)

    def insert_paper(self, row: dict[str, Any]) -> int:
        pk = self.max_paper_pk() + 1
        self.insert_papers([{**row, "pk": pk}])
        return pk

    def insert_papers(self, rows: list[dict[str, Any]]) -> None:
        """Insert papers whose pk the caller chose (see `max_paper_pk`)."""
        self.conn.executemany(
            "INSERT INTO papers (pk, id, title, abstract, authors, title_key, year, date, weak, data,"
            " created_at, updated_at) VALUES (:pk, :id, :title, :abstract, :authors, :title_key, :year, :date, :weak,"
            " :data, :now, :now)",
            rows,
        )
        self.conn.executemany(
            "INSERT INTO papers_fts (rowid, title, abstract, authors) VALUES (:pk, :title, :abstract, :authors)",
            rows,
        )
        self._put_categories(rows)

    def _put_categories(self, rows: list[dict[str, Any]]) -> None:
        """Each paper's categories as rows (lowercased), for category filters."""
        self.conn.executemany(
            "INSERT OR IGNORE INTO paper_categories (category, paper_pk) VALUES (?, ?)",
            [(c.lower(), r["pk"]) for r in rows for c in r.get("categories") or ()],
        )

    def max_paper_pk(self) -> int:
        return int(self.conn.execute("SELECT coalesce(max(pk), 0) FROM papers").fetchone()[0])

    def update_paper(self, pk: int, row: dict[str, Any]) -> None:
        self.conn.execute(
            "UPDATE papers SET id=:id, title=:title, abstract=:abstract, authors=:authors, title_key=:title_key,"
            " year=:year, date=:date, weak=:weak, data=:data, updated_at=:now WHERE pk=:pk",
            {**row, "pk": pk},
        )
        self.conn.execute("DELETE FROM paper_categories WHERE paper_pk = ?", (pk,))
        self._put_categories([{**row, "pk": pk}])

    def delete_paper(self, pk: int) -> None:
        self.delete_aliases(pk)
        self.conn.execute("DELETE FROM papers WHERE pk = ?", (pk,))

    def delete_aliases(self, pk: int) -> None:
        self.conn.execute("DELETE FROM aliases WHERE paper_pk = ?", (pk,))

    def add_aliases(self, pk: int, aliases: Iterable[str]) -> None:
        self.add_alias_pairs([(a, pk) for a in aliases])

    def add_alias_pairs(self, pairs: list[tuple[str, int]]) -> None:
        self.conn.executemany(
            "INSERT INTO aliases (alias, paper_pk) VALUES (?, ?)"
            " ON CONFLICT(alias) DO UPDATE SET paper_pk = excluded.paper_pk",
            pairs,
        )

    def add_records(self, rows: list[dict[str, Any]]) -> None:
        self.conn.executemany(
            "INSERT INTO records (key, paper_pk, importer, path, line, imported_at, fields, raw)"
            " VALUES (:key, :paper_pk, :importer, :path, :line, :imported_at, :fields, :raw)",
            [{**r, "raw": zlib.compress(r["raw"].encode(), 1)} for r in rows],
        )

    def move_aliases(self, from_pk: int, to_pk: int) -> None:
        self.conn.execute("UPDATE aliases SET paper_pk = ? WHERE paper_pk = ?", (to_pk, from_pk))

    def move_records(self, keys: list[str], pk: int) -> None:
        for chunk in _chunks(keys, 500):
            self.conn.execute(f"UPDATE records SET paper_pk = ? WHERE key IN ({_marks(chunk)})", [pk, *chunk])

    def add_correction(self, kind: str, key_a: str, key_b: str, now: str) -> None:
        """Record a user's correction; one made again moves to the end (the latest one wins)."""
        self.conn.execute(
            "INSERT OR REPLACE INTO corrections (kind, record_a, record_b, created_at) VALUES (?, ?, ?, ?)",
            (kind, key_a, key_b, now),
        )

    def corrections(self) -> list[tuple[str, str, str]]:
        q = "SELECT kind, record_a, record_b FROM corrections ORDER BY pk"
        return [(r[0], r[1], r[2]) for r in self.conn.execute(q)]

    def log_import(self, report: dict[str, Any]) -> None:
        self.conn.execute(
            "INSERT INTO imports (path, importer, started_at, finished_at, counts) VALUES (?, ?, ?, ?, ?)",
            (
                report["path"],
                report["importer"],
                report["started_at"],
                report["finished_at"],
                dumps(report["counts"]),
            ),
        )

    # ------------------------------------------------------------ reading papers

    def resolve(self, ref: str) -> int:
        """A paper's pk from any of its ids or aliases (bare arXiv ids and DOIs accepted)."""
        from ..normalize import ids_from_text

        candidates = [ref, *ids_from_text(ref)]
        row = self.conn.execute(
            f"SELECT pk FROM papers WHERE id IN ({_marks(candidates)})", candidates
        ).fetchone()
        if row:
            return int(row[0])
        hit = self.papers_by_alias(candidates)
        if hit:
            return next(iter(hit.values()))
        raise NotFound(f"no paper with id {ref!r} in the library")

    def paper_row(self, pk: int) -> dict[str, Any]:
        q = "SELECT pk, id, title, abstract, data, created_at, updated_at FROM papers WHERE pk = ?"
        r = self.conn.execute(q, (pk,)).fetchone()
        if r is None:
            raise NotFound(f"no paper with pk {pk}")
        data = json.loads(r["data"])
        data.update(title=r["title"], abstract=r["abstract"])
        return {"pk": r["pk"], "id": r["id"], "data": data, "updated_at": r["updated_at"]}

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

    def counts(self) -> dict[str, int]:
        one = lambda q: int(self.conn.execute(q).fetchone()[0])  # noqa: E731
        return {
            "papers": one("SELECT count(*) FROM papers"),
            "records": one("SELECT count(*) FROM records"),
            "aliases": one("SELECT count(*) FROM aliases"),
            "merged_papers": one(
                "SELECT count(*) FROM (SELECT paper_pk FROM records GROUP BY 1 HAVING count(*) > 1) AS m"
            ),
            "corrections": one("SELECT count(*) FROM corrections"),
            "imports": one("SELECT count(*) FROM imports"),
        }

    def source_counts(self) -> dict[str, int]:
        q = "SELECT importer, count(*) FROM records GROUP BY 1 ORDER BY 2 DESC"
        return {r[0]: r[1] for r in self.conn.execute(q)}

    def raw_of(self, key: str) -> str:
        r = self.conn.execute("SELECT raw FROM records WHERE key = ?", (key,)).fetchone()
        if r is None:
            raise NotFound(f"no source record {key!r}")
        return zlib.decompress(r[0]).decode()  # stored compressed: read rarely, and half the size

    def paper_of_record(self, key: str) -> int:
        r = self.conn.execute("SELECT paper_pk FROM records WHERE key = ?", (key,)).fetchone()
        if r is None:
            raise NotFound(f"no source record {key!r}")
        return int(r[0])

    def all_records(self) -> Iterator[dict[str, Any]]:
        q = "SELECT key, importer, path, line, imported_at, fields FROM records ORDER BY pk"
        for r in self.conn.execute(q):
            yield {**dict(r), "fields": json.loads(r["fields"])}

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

    def paper_texts(self) -> Iterator[tuple[int, str | None, str | None]]:
        """(pk, title, abstract) of every paper, in pk order (streamed)."""
        yield from self.conn.execute("SELECT pk, title, abstract FROM papers ORDER BY pk")

    def paper_texts_of(self, pks: list[int]) -> list[tuple[int, str | None, str | None]]:
        out: list[tuple[int, str | None, str | None]] = []
        for chunk in _chunks(pks, 500):
            q = f"SELECT pk, title, abstract FROM papers WHERE pk IN ({_marks(chunk)})"
            out += [(r[0], r[1], r[2]) for r in self.conn.execute(q, chunk)]
        return out

    def embedding_hashes(self, model_id: str) -> dict[int, str]:
        q = "SELECT paper_pk, text_hash FROM embeddings WHERE model_id = ?"
        return {r[0]: r[1] for r in self.conn.execute(q, (model_id,))}

    def put_embeddings(self, model_id: str, rows: list[tuple[int, str, bytes]]) -> None:
        """Store (paper pk, text hash, float32 vector bytes) rows, replacing older ones."""
        self.conn.executemany(
            "INSERT OR REPLACE INTO embeddings (paper_pk, model_id, text_hash, vector) VALUES (?, ?, ?, ?)",
            [(pk, model_id, h, v) for pk, h, v in rows],
        )

    def drop_embeddings(self, model_id: str, pks: list[int]) -> None:
        for chunk in _chunks(pks, 500):
            self.conn.execute(
                f"DELETE FROM embeddings WHERE model_id = ? AND paper_pk IN ({_marks(chunk)})",
                [model_id, *chunk],
            )

    def vectors(self, model_id: str) -> Iterator[tuple[int, bytes]]:
        q = "SELECT paper_pk, vector FROM embeddings WHERE model_id = ? ORDER BY paper_pk"
        yield from self.conn.execute(q, (model_id,))

    def vectors_of(self, model_id: str, pks: list[int]) -> Iterator[tuple[int, bytes]]:
        for chunk in _chunks(pks, 500):
            q = f"SELECT paper_pk, vector FROM embeddings WHERE model_id = ? AND paper_pk IN ({_marks(chunk)})"
            yield from self.conn.execute(q, [model_id, *chunk])

    def embedding_generation(self) -> int:
        """A number that changes whenever any embedding is added, replaced or deleted (cheap to read)."""
        row = self.conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'embedding_log'").fetchone()
        return int(row[0]) if row else 0

    def embedding_changes(self, model_id: str, after: int) -> list[int]:
        """Papers whose `model_id` vector changed (added, replaced, deleted) since log position `after`."""
        q = "SELECT DISTINCT paper_pk FROM embedding_log WHERE model_id = ? AND seq > ?"
        return [r[0] for r in self.conn.execute(q, (model_id, after))]

    def forget_embedding_changes(self, model_id: str, upto: int) -> None:
        self.conn.execute("DELETE FROM embedding_log WHERE model_id = ? AND seq <= ?", (model_id, upto))

    def embedding_models(self) -> dict[str, int]:
        q = "SELECT model_id, count(*) FROM embeddings GROUP BY 1"
        return {r[0]: r[1] for r in self.conn.execute(q)}

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

    def move_paper_refs(self, from_pk: int, to_pk: int) -> None:
        """When two papers merge: every row that refers to `from_pk` (profiles' papers, feedback,
        seen marks, topics, and any table added later) follows to `to_pk`; where `to_pk` already
        has the same row, `to_pk`'s is kept. Inside the caller's transaction."""
        for ref in self.paper_refs():
            if ref.table in REMADE:
                continue
            if ref.column in ref.key:
                others = [k for k in ref.key if k != ref.column]
                same = "".join(f" AND t2.{k} = {ref.table}.{k}" for k in others)
                self.conn.execute(
                    f"DELETE FROM {ref.table} WHERE {ref.column} = ? AND EXISTS"
                    f" (SELECT 1 FROM {ref.table} t2 WHERE t2.{ref.column} = ?{same})",
                    (from_pk, to_pk),
                )
            self.conn.execute(
                f"UPDATE {ref.table} SET {ref.column} = ? WHERE {ref.column} = ?", (to_pk, from_pk)
            )

    def carry_user_data(self, old_path: str) -> dict[str, int]:
        """After a rebuild into this (fresh) library: copy every table of the old library that the
        rebuild does not make itself (profiles, feedback, topics, digests, settings, ...), with each
        reference to a paper (`paper_refs`) mapped to the new paper that holds the same source record.
        Rows whose paper is gone, or that would collide after two papers became one, are dropped.
        Returns rows per table."""
        refs = {r.table: r.column for r in self.paper_refs()}
        self.conn.execute("ATTACH DATABASE ? AS old", (old_path,))
        try:
            tables = [
                r[0]
                for r in self.conn.execute(
                    "SELECT name FROM old.sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
                    "AND name NOT LIKE 'papers_fts%' ORDER BY rowid"
                )
                if r[0] not in REMADE
            ]
            copied: dict[str, int] = {}
            with self.transaction():
                self.conn.execute(
                    "CREATE TEMP TABLE pk_map AS SELECT o.paper_pk AS old_pk, min(n.paper_pk) AS new_pk "
                    "FROM old.records o JOIN main.records n ON n.key = o.key GROUP BY o.paper_pk"
                )
                for table in tables:
                    copied[table] = self._carry_table(table, refs.get(table))
                self.conn.execute("DROP TABLE temp.pk_map")
        finally:
            self.conn.execute("DETACH DATABASE old")
        return copied

    def _carry_table(self, table: str, ref: str | None) -> int:
        cols = [r[1] for r in self.conn.execute(f"PRAGMA old.table_info({table})")]
        select = ", ".join("m.new_pk" if c == ref else f"t.{c}" for c in cols)
        join = f" JOIN pk_map m ON m.old_pk = t.{ref}" if ref else ""
        cur = self.conn.execute(
            f"INSERT OR IGNORE INTO main.{table} ({', '.join(cols)}) SELECT {select} FROM old.{table} t{join}"
        )
        return cur.rowcount

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

    def _record_problems(self) -> list[str]:
        """Orphan records and papers without records (the same SQL on both backends)."""
        problems = []
        orphans = self.conn.execute(
            "SELECT count(*) FROM records r WHERE NOT EXISTS (SELECT 1 FROM papers p WHERE p.pk = r.paper_pk)"
        ).fetchone()[0]
        if orphans:
            problems.append(f"{orphans} records belong to no paper")
        empty = self.conn.execute(
            "SELECT count(*) FROM papers p WHERE NOT EXISTS (SELECT 1 FROM records r WHERE r.paper_pk = p.pk)"
        ).fetchone()[0]
        if empty:
            problems.append(f"{empty} papers have no source record")
        return problems

    def check_integrity(self) -> list[str]:
        """Problems found (empty when consistent): SQLite's own check, orphans, FTS in step."""
        problems = [r[0] for r in self.conn.execute("PRAGMA integrity_check") if r[0] != "ok"]
        problems += self._record_problems()
        try:
            self.conn.execute("INSERT INTO papers_fts(papers_fts, rank) VALUES ('integrity-check', 1)")
        except sqlite3.DatabaseError as e:
            problems.append(f"full-text index out of step: {e}")
        return problems


def _marks(items: list[Any]) -> str:
    return ",".join("?" * len(items))


def _chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]
