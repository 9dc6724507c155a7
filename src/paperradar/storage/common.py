"""What both library backends share: the papers, aliases, source records, corrections and vectors
repositories, written once in the SQLite dialect (PostgreSQL's connection rewrites each statement,
see dialect.py). `SQLiteLibrary` (sqlite.py) and `PostgresLibrary` (postgres.py) both subclass
`CommonLibrary` and add what differs: connections and transactions, full-text search, the schema
catalogue, integrity checks. Does I/O (through `self.conn`).
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, nullcontext
from typing import Any

from ..errors import NotFound
from .base import PaperRef
from .queries import PaperQueries
from .rebuild import REMADE, Rebuilds
from .rows import (
    ImportLog,
    MatchRow,
    NewRecord,
    PaperRow,
    PaperValues,
    RecordRow,
    dumps,
    match_row_of,
    pack_raw,
    paper_row_of,
    record_row_of,
)


def _marks(items: list[Any]) -> str:
    return ",".join("?" * len(items))


def _chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _packed(raw: str | bytes) -> bytes:
    """A record's source text as stored (`pack_raw`), unless it comes packed already."""
    return pack_raw(raw) if isinstance(raw, str) else raw


class CommonLibrary(Rebuilds, PaperQueries):
    """The shared repositories (and rebuild.py's steps); a backend supplies `conn`, `insert_papers`,
    `paper_refs` and `tables`.

    `REMADE` (rebuild.py) names the tables the library remakes itself when papers merge or are
    rebuilt; every other table that refers to a paper (`paper_refs`) is carried by
    `move_paper_refs` and the rebuild."""

    conn: Any

    def insert_papers(self, rows: dict[int, PaperValues]) -> None:
        raise NotImplementedError

    def bulk_import(self) -> AbstractContextManager[None]:
        """A big import's writes; the same as any import's here (SQLite's defers its full-text index)."""
        return nullcontext()

    def paper_refs(self) -> list[PaperRef]:
        raise NotImplementedError

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

    def match_view(self, pks: Iterable[int]) -> list[MatchRow]:
        """What matching needs of some papers: ids, title key, author names, year, abstract."""
        rows: list[MatchRow] = []
        for chunk in _chunks(list(pks), 500):
            q = f"SELECT pk, title_key, year, abstract, data FROM papers WHERE pk IN ({_marks(chunk)})"
            rows += [match_row_of(r) for r in self.conn.execute(q, chunk)]
        return rows

    def weak_papers(self) -> list[int]:
        """Papers that lack a title or any id (matched by abstract only)."""
        return [r[0] for r in self.conn.execute("SELECT pk FROM papers WHERE weak = 1")]

    def records_of(self, pk: int) -> list[RecordRow]:
        q = "SELECT key, importer, path, line, imported_at, fields FROM records WHERE paper_pk = ? ORDER BY pk"
        return [record_row_of(r) for r in self.conn.execute(q, (pk,))]

    def insert_paper(self, values: PaperValues) -> int:
        pk = self.next_paper_pk()
        self.insert_papers({pk: values})
        return pk

    def next_paper_pk(self) -> int:
        """The pk a new paper gets: one past every pk a paper has ever had, so a pk freed by a
        merge is never given again (`last_keys`, migration 15). `papers rebuild` numbers anew."""
        q = "SELECT (SELECT last FROM last_keys WHERE name = 'papers'), (SELECT max(pk) FROM papers)"
        last, top = self.conn.execute(q).fetchone()
        return max(int(last or 0), int(top or 0)) + 1

    def _mark_paper_pks(self, pks: Iterable[int]) -> None:
        """Remember the highest pk given (each backend's `insert_papers` calls it)."""
        top = max(pks, default=None)
        if top is not None:
            self.conn.execute(
                "INSERT INTO last_keys (name, last) VALUES ('papers', ?) ON CONFLICT (name) DO UPDATE"
                " SET last = CASE WHEN excluded.last > last_keys.last THEN excluded.last ELSE last_keys.last END",
                (top,),
            )

    def _put_categories(self, rows: dict[int, PaperValues]) -> None:
        """Each paper's categories as rows (lowercased), for category filters."""
        self.conn.executemany(
            "INSERT OR IGNORE INTO paper_categories (category, paper_pk) VALUES (?, ?)",
            [(c.lower(), pk) for pk, v in rows.items() for c in v.categories],
        )

    def max_paper_pk(self) -> int:
        return int(self.conn.execute("SELECT coalesce(max(pk), 0) FROM papers").fetchone()[0])

    def update_paper(self, pk: int, values: PaperValues) -> None:
        self.conn.execute(
            "UPDATE papers SET id=:id, title=:title, abstract=:abstract, authors=:authors, title_key=:title_key,"
            " year=:year, date=:date, weak=:weak, data=:data, updated_at=:now WHERE pk=:pk",
            values.params(pk),
        )
        self.conn.execute("DELETE FROM paper_categories WHERE paper_pk = ?", (pk,))
        self._put_categories({pk: values})

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

    def add_records(self, rows: list[NewRecord]) -> None:
        self.conn.executemany(
            "INSERT INTO records (key, paper_pk, importer, path, line, imported_at, fields, raw)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [(*n.params(), _packed(n.raw)) for n in rows],
        )

    def move_aliases(self, from_pk: int, to_pk: int) -> None:
        self.conn.execute("UPDATE aliases SET paper_pk = ? WHERE paper_pk = ?", (to_pk, from_pk))

    def move_records(self, keys: list[str], pk: int) -> None:
        for chunk in _chunks(keys, 500):
            self.conn.execute(f"UPDATE records SET paper_pk = ? WHERE key IN ({_marks(chunk)})", [pk, *chunk])

    def corrections(self) -> list[tuple[str, str, str]]:
        q = "SELECT kind, record_a, record_b FROM corrections ORDER BY pk"
        return [(r[0], r[1], r[2]) for r in self.conn.execute(q)]

    def log_import(self, entry: ImportLog) -> None:
        self.conn.execute(
            "INSERT INTO imports (path, importer, started_at, finished_at, counts) VALUES (?, ?, ?, ?, ?)",
            (entry.path, entry.importer, entry.started_at, entry.finished_at, dumps(entry.counts)),
        )

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

    def paper_row(self, pk: int) -> PaperRow:
        q = "SELECT pk, id, title, abstract, data, created_at, updated_at FROM papers WHERE pk = ?"
        r = self.conn.execute(q, (pk,)).fetchone()
        if r is None:
            raise NotFound(f"no paper with pk {pk}")
        return paper_row_of(r)

    def paper_rows(self, pks: list[int]) -> dict[int, PaperRow]:
        """`paper_row` of many papers in one query a chunk (a page of hits is one round trip on
        PostgreSQL, not twenty); papers that do not exist are left out."""
        rows: dict[int, PaperRow] = {}
        for chunk in _chunks(list(dict.fromkeys(pks)), 500):
            marks = ",".join("?" * len(chunk))
            q = f"SELECT pk, id, title, abstract, data, created_at, updated_at FROM papers WHERE pk IN ({marks})"
            rows.update((r["pk"], paper_row_of(r)) for r in self.conn.execute(q, chunk))
        return rows

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
        return zlib.decompress(r[0]).decode()  # stored compressed (_packed)

    def paper_of_record(self, key: str) -> int:
        r = self.conn.execute("SELECT paper_pk FROM records WHERE key = ?", (key,)).fetchone()
        if r is None:
            raise NotFound(f"no source record {key!r}")
        return int(r[0])

    def all_records(self) -> Iterator[RecordRow]:
        q = "SELECT key, importer, path, line, imported_at, fields FROM records ORDER BY pk"
        for r in self.conn.execute(q):
            yield record_row_of(r)

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

    def embedding_changes(self, model_id: str, after: int) -> list[int]:
        """Papers whose `model_id` vector changed (added, replaced, deleted) since log position `after`."""
        q = "SELECT DISTINCT paper_pk FROM embedding_log WHERE model_id = ? AND seq > ?"
        return [r[0] for r in self.conn.execute(q, (model_id, after))]

    def forget_embedding_changes(self, model_id: str, upto: int) -> None:
        self.conn.execute("DELETE FROM embedding_log WHERE model_id = ? AND seq <= ?", (model_id, upto))

    def embedding_models(self) -> dict[str, int]:
        q = "SELECT model_id, count(*) FROM embeddings GROUP BY 1"
        return {r[0]: r[1] for r in self.conn.execute(q)}

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

    def vectors_after(self, model_id: str, after_pk: int) -> Iterator[tuple[int, bytes]]:
        """The model's vectors of papers with a pk above `after_pk`, in pk order: where a resumed
        ANN build (ann.py) goes on from its checkpoint."""
        q = "SELECT paper_pk, vector FROM embeddings WHERE model_id = ? AND paper_pk > ? ORDER BY paper_pk"
        yield from self.conn.execute(q, (model_id, after_pk))
