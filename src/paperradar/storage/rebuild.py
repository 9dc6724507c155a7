"""The storage half of `papers rebuild`, the same on both backends (SQLite-dialect SQL, see
dialect.py): set aside every row that refers to a paper, empty the papers, hand the stored records
back to be matched again, then bring the rows back onto the new papers. Does I/O (SQL).

The service (papers.rebuild) runs all of it inside one `lib.transaction()`, so a failure at any
step leaves the library as it was. The tables that refer to a paper are read from the database's
foreign keys (`paper_refs`), as merges find them, so a table added later is carried with no change
here. The rows are set aside in temporary tables named `rebuild_<table>` of this connection.

What is not a foreign key is carried here too: each new paper keeps the earliest `created_at` of
the old papers that held its records (so "added since" windows do not see the whole library as
new), every paper's `updated_at` moves strictly past the newest one before (so caches keyed on it,
even to the second, see the change), and each digest's `last_paper_pk` high-water mark is mapped
onto the new pks (`_remap_digest_marks`).
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from ..errors import InvalidInput
from .base import PaperRef, Table
from .rows import RecordRow, record_row_of

# tables the rebuild makes again itself; every other table that refers to a paper is carried
REMADE = frozenset(
    {"papers", "aliases", "records", "corrections", "embeddings", "paper_categories", "embedding_log"}
)
_RECORDS = "pk, key, paper_pk, importer, path, line, imported_at, fields, raw"


class Rebuilds:
    """Mixed into `CommonLibrary`; a backend supplies `conn`, `paper_refs` and `tables`."""

    conn: Any

    def paper_refs(self) -> list[PaperRef]:
        raise NotImplementedError

    def tables(self) -> dict[str, Table]:
        raise NotImplementedError

    def _carried(self) -> dict[str, list[str]]:
        """The tables a rebuild carries, each with its columns that refer to a paper."""
        out: dict[str, list[str]] = {}
        for ref in self.paper_refs():
            if ref.table not in REMADE:
                out.setdefault(ref.table, []).append(ref.column)
        return out

    def stash_for_rebuild(self) -> None:
        """Set aside the records, the embeddings and every row that refers to a paper, then empty
        the papers and every table that refers to them. Inside the caller's transaction."""
        carried = self._carried()
        below = [t.name for t in self.tables().values() if set(t.parents) & set(carried)]
        if below:  # their rows would go with the rows they refer to
            raise InvalidInput(
                f"rebuild cannot carry {', '.join(below)}: they refer to a table that refers to papers"
            )
        stash = {
            "records": f"SELECT {_RECORDS} FROM records",
            "embeddings": "SELECT paper_pk, model_id, text_hash, vector FROM embeddings",
            "papers": "SELECT pk, created_at, updated_at FROM papers",
        } | {table: f"SELECT * FROM {table}" for table in carried}
        for table, select in stash.items():
            self.conn.execute(f"DROP TABLE IF EXISTS rebuild_{table}")
            self.conn.execute(f"CREATE TEMP TABLE rebuild_{table} AS {select}")
        self.conn.execute("CREATE INDEX rebuild_records_pk ON rebuild_records (pk)")
        self.conn.execute("CREATE INDEX rebuild_records_key ON rebuild_records (key)")
        self.conn.execute("CREATE INDEX rebuild_records_paper ON rebuild_records (paper_pk)")
        self.conn.execute("CREATE INDEX rebuild_papers_pk ON rebuild_papers (pk)")
        self.conn.execute("CREATE INDEX rebuild_embeddings_key ON rebuild_embeddings (model_id, paper_pk)")
        for table in sorted({r.table for r in self.paper_refs()} - {"papers"}):
            self.conn.execute(f"DELETE FROM {table}")
        self.conn.execute("DELETE FROM papers")
        self.conn.execute("DELETE FROM last_keys WHERE name = 'papers'")  # pks start again from 1

    def stashed_records(self, size: int) -> Iterator[list[tuple[RecordRow, str]]]:
        """The set-aside records with their source text, `size` at a time, in the order stored."""
        last = 0
        q = f"SELECT {_RECORDS} FROM rebuild_records WHERE pk > ? ORDER BY pk LIMIT ?"
        while rows := self.conn.execute(q, (last, size)).fetchall():
            last = rows[-1]["pk"]
            yield [(record_row_of(r), zlib.decompress(r["raw"]).decode()) for r in rows]

    def restore_embeddings(self, pk_of_hash: dict[str, int]) -> int:
        """Put back each set-aside vector whose text hash a new paper has (`pk_of_hash`: text hash
        -> new paper), so unchanged text is never embedded again. Returns the vectors kept."""
        models = [r[0] for r in self.conn.execute("SELECT DISTINCT model_id FROM rebuild_embeddings")]
        q = (
            "SELECT paper_pk, text_hash, vector FROM rebuild_embeddings"
            " WHERE model_id = ? AND paper_pk > ? ORDER BY paper_pk LIMIT 2000"
        )
        kept = 0
        for model_id in models:
            last = 0
            while rows := self.conn.execute(q, (model_id, last)).fetchall():
                last = rows[-1][0]
                found = [(pk_of_hash[h], h, bytes(v)) for _, h, v in rows if h in pk_of_hash]
                self.conn.executemany(
                    "INSERT OR REPLACE INTO embeddings (paper_pk, model_id, text_hash, vector) VALUES (?, ?, ?, ?)",
                    [(pk, model_id, h, v) for pk, h, v in found],
                )
                kept += len(found)
        return kept

    def restore_paper_refs(self) -> dict[str, int]:
        """Put back the set-aside rows, each reference mapped to the new paper that holds the same
        source records (a row whose paper is gone, or that would now collide with another, is
        dropped), and drop the temporary tables. Returns rows kept per table."""
        self.conn.execute("DROP TABLE IF EXISTS rebuild_pk_map")
        self.conn.execute(
            "CREATE TEMP TABLE rebuild_pk_map AS SELECT o.paper_pk AS old_pk, min(n.paper_pk) AS new_pk"
            " FROM rebuild_records o JOIN records n ON n.key = o.key GROUP BY o.paper_pk"
        )
        kept: dict[str, int] = {}
        tables = self.tables()
        for table, refs in self._carried().items():
            cols = tables[table].columns
            maps = {col: f"m{i}" for i, col in enumerate(refs)}
            select = ", ".join(f"{maps[c]}.new_pk" if c in maps else f"s.{c}" for c in cols)
            joins = "".join(f" JOIN rebuild_pk_map {m} ON {m}.old_pk = s.{c}" for c, m in maps.items())
            cur = self.conn.execute(
                f"INSERT OR IGNORE INTO {table} ({', '.join(cols)}) SELECT {select} FROM rebuild_{table} s{joins}"
            )
            kept[table] = max(cur.rowcount, 0)
        self._restore_paper_times()
        self._remap_digest_marks()
        for table in ["pk_map", "records", "embeddings", "papers", *self._carried()]:
            self.conn.execute(f"DROP TABLE rebuild_{table}")
        self._bump_generation()
        return kept

    def _restore_paper_times(self) -> None:
        """Each new paper was added when the first of the old papers holding its records was;
        every paper was changed now, strictly after the newest change before the rebuild."""
        old = self.conn.execute("SELECT max(updated_at) FROM rebuild_papers").fetchone()[0]
        self.conn.execute("UPDATE papers SET updated_at = ?", (_after(old),))
        self.conn.execute(
            "UPDATE papers SET created_at = coalesce((SELECT min(p.created_at) FROM records n"
            " JOIN rebuild_records o ON o.key = n.key JOIN rebuild_papers p ON p.pk = o.paper_pk"
            " WHERE n.paper_pk = papers.pk), created_at)"
        )

    def _remap_digest_marks(self) -> None:
        """A digest's `last_paper_pk` is a high-water mark (the next digest takes the papers with
        a larger pk), not a reference, so it has no foreign key and is mapped here: to just below
        the smallest new pk holding records of an old paper above the mark, so no paper the
        digest had not seen is skipped; with none above it, to the largest pk, so every paper
        imported later is new. Where the new numbering is not in the old order, papers the last
        digest had seen may be candidates again; those it sent stay out (`sent_pks`, by id)."""
        self.conn.execute(
            "UPDATE digests SET last_paper_pk = coalesce((SELECT min(n.paper_pk) FROM rebuild_records o"
            " JOIN records n ON n.key = o.key WHERE o.paper_pk > digests.last_paper_pk) - 1,"
            " (SELECT max(pk) FROM papers), 0) WHERE last_paper_pk IS NOT NULL"
        )

    def _bump_generation(self) -> None:
        """Move the embedding change counter on, even when no vector changed: the freshness
        fingerprints that key caches by paper pk (a profile's Home page, the web caches, the
        dense features) read it, and pks now name other papers. A row for no model (seq only)."""
        self.conn.execute("INSERT INTO embedding_log (model_id, paper_pk) VALUES ('', 0)")


def _after(newest: str | None) -> str:
    """Now, or one second after `newest` (an ISO time) when that is not yet past: times have
    whole seconds, and what is keyed on the newest change must see this one."""
    now = datetime.now(UTC).replace(microsecond=0)
    try:
        last = datetime.fromisoformat(newest) if newest else None
    except ValueError:
        last = None
    if last is not None and last.tzinfo is not None and last >= now:
        now = last + timedelta(seconds=1)
    return now.isoformat(timespec="seconds")
