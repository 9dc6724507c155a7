"""Reads that ranking, recommendation, enrichment and the ANN index make of the papers and
vectors tables, written once in the SQLite dialect (dialect.py rewrites them for PostgreSQL).

`PaperQueries` is a mixin of `SQLiteLibrary` (and so of `PostgresLibrary`); `VectorReader` is the
read-only connection an ANN index keeps for rescoring, apart from any pooled library. These were
SQL text in rank/, recommend.py, enrich.py and ann.py until issue 16 closed the storage seam.
Does I/O (the database).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import orjson


@dataclass(frozen=True)
class PapersStamp:
    """A cheap fingerprint of the papers table: it changes when a paper is added, changed or deleted."""

    count: int
    max_pk: int
    max_updated_at: str


@dataclass(frozen=True)
class VectorModel:
    """The model that has the most stored vectors, and their width."""

    model_id: str
    dim: int


def _marks(items: list[Any]) -> str:
    return ",".join("?" * len(items))


def _chunks(items: list[Any], size: int = 900) -> Iterator[list[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


class PaperQueries:
    """Papers and vectors read by pk, for the services that rank and explain."""

    conn: Any

    def papers_stamp(self) -> PapersStamp:
        # Three queries: each is answered from an index (together, SQLite scans the table:
        # 0.24 s a request at 3M papers against 0.03 s)
        count = self.conn.execute("SELECT count(*) FROM papers").fetchone()[0]
        top = self.conn.execute("SELECT coalesce(max(pk), 0) FROM papers").fetchone()[0]
        newest = self.conn.execute("SELECT coalesce(max(updated_at), '') FROM papers").fetchone()[0]
        return PapersStamp(int(count), int(top), str(newest))

    def all_pks(self) -> Iterator[int]:
        """Every paper's pk, ascending (streamed)."""
        return (int(r[0]) for r in self.conn.execute("SELECT pk FROM papers ORDER BY pk"))

    def paper_ids(self) -> dict[int, str]:
        """pk -> the paper's id, for every paper."""
        return {int(r[0]): r[1] for r in self.conn.execute("SELECT pk, id FROM papers")}

    def pk_id_chunks(self, size: int) -> Iterator[list[tuple[int, str]]]:
        """Every paper's (pk, id), ascending by pk, `size` at a time (never all in memory at once)."""
        after = 0
        q = "SELECT pk, id FROM papers WHERE pk > ? ORDER BY pk LIMIT ?"
        while rows := [(int(r[0]), str(r[1])) for r in self.conn.execute(q, (after, size))]:
            yield rows
            after = rows[-1][0]

    def newest_pks(self, n: int) -> set[int]:
        """The newest n papers by row id and the newest n by date."""
        by_pk = self.conn.execute("SELECT pk FROM papers ORDER BY pk DESC LIMIT ?", (n,))
        found = {int(r[0]) for r in by_pk}
        q = "SELECT pk FROM papers WHERE date IS NOT NULL ORDER BY date DESC, pk DESC LIMIT ?"
        by_date = self.conn.execute(q, (n,))  # NULLs sort first in PostgreSQL, last in SQLite
        return found | {int(r[0]) for r in by_date}

    def profile_paper_pks(self) -> set[int]:
        """Every paper a profile holds or has marked (liked, disliked, not interested)."""
        held = {int(r[0]) for r in self.conn.execute("SELECT paper_pk FROM profile_papers")}
        return held | {int(r[0]) for r in self.conn.execute("SELECT paper_pk FROM feedback")}

    def papers_updated_after(self, stamp: str) -> set[int]:
        q = "SELECT pk FROM papers WHERE updated_at > ?"
        return {int(r[0]) for r in self.conn.execute(q, (stamp,))}

    def existing_pks(self, pks: list[int]) -> set[int]:
        """Those of `pks` that are papers of the library (the others were merged away or deleted)."""
        got: set[int] = set()
        for chunk in _chunks(pks):
            q = f"SELECT pk FROM papers WHERE pk IN ({_marks(chunk)})"
            got.update(int(r[0]) for r in self.conn.execute(q, chunk))
        return got

    def paper_dates(self, pks: list[int]) -> dict[int, str | None]:
        out: dict[int, str | None] = {}
        for chunk in _chunks(pks):
            q = f"SELECT pk, date FROM papers WHERE pk IN ({_marks(chunk)})"
            out.update((int(r[0]), r[1]) for r in self.conn.execute(q, chunk))
        return out

    def author_names(self, pks: list[int]) -> dict[int, list[str]]:
        """pk -> the names of its authors, in order."""
        out: dict[int, list[str]] = {}
        for chunk in _chunks(pks):
            q = f"SELECT pk, data FROM papers WHERE pk IN ({_marks(chunk)})"
            for pk, data in self.conn.execute(q, chunk):
                out[int(pk)] = [a.get("name", "") for a in orjson.loads(data).get("authors", [])]
        return out

    def sample_pks(self, size: int) -> list[int]:
        """`size` papers in a fixed order scattered by a hash of the pk (the same on every run)."""
        q = "SELECT pk FROM papers ORDER BY (pk * 2654435761) % 4294967296 LIMIT ?"
        return [int(r[0]) for r in self.conn.execute(q, (size,))]

    def any_vectors_of(self, pks: list[int]) -> Iterator[tuple[int, str, bytes]]:
        """(pk, model id, float32 bytes) of every stored vector of these papers, of any model."""
        for chunk in _chunks(pks):
            q = f"SELECT paper_pk, model_id, vector FROM embeddings WHERE paper_pk IN ({_marks(chunk)})"
            yield from ((int(r[0]), str(r[1]), bytes(r[2])) for r in self.conn.execute(q, chunk))

    def main_vector_model(self) -> VectorModel | None:
        row = self.conn.execute(
            "SELECT model_id, max(length(vector)) FROM embeddings GROUP BY model_id"
            " ORDER BY count(*) DESC, model_id LIMIT 1"
        ).fetchone()
        return VectorModel(str(row[0]), int(row[1]) // 4) if row else None

    # what a model's vectors lack, without reading every text (index.lacking, issue 17)

    def vector_count(self, model_id: str) -> int:
        """How many papers have a vector of `model_id` (a range of the embeddings_model index)."""
        q = "SELECT count(*) FROM embeddings WHERE model_id = ?"
        return int(self.conn.execute(q, (model_id,)).fetchone()[0])

    def vectorless_papers(self, model_id: str, limit: int) -> list[int]:
        """The `limit` highest-pk papers that are not weak and have no vector of `model_id`:
        read from the newest pk down, so what the caller knows to be the few new papers costs a
        few pages, not a pass over the library (each checked against the embeddings_model index)."""
        if limit <= 0:
            return []
        q = (
            "SELECT pk FROM papers p WHERE weak = 0 AND NOT EXISTS (SELECT 1 FROM embeddings e"
            " WHERE e.model_id = ? AND e.paper_pk = p.pk) ORDER BY pk DESC LIMIT ?"
        )
        return [int(r[0]) for r in self.conn.execute(q, (model_id, limit))]

    def vector_hashes_of(self, pks: list[int]) -> dict[int, dict[str, str]]:
        """pk -> {model id: the hash of the text its vector was made from}, for these papers."""
        out: dict[int, dict[str, str]] = {}
        for chunk in _chunks(pks):
            q = f"SELECT paper_pk, model_id, text_hash FROM embeddings WHERE paper_pk IN ({_marks(chunk)})"
            for pk, model_id, h in self.conn.execute(q, chunk):
                out.setdefault(int(pk), {})[str(model_id)] = str(h)
        return out

    def text_checks(self) -> list[int]:
        """The papers whose text changed since their vectors were last checked (migration 16)."""
        return [int(r[0]) for r in self.conn.execute("SELECT paper_pk FROM text_checks ORDER BY paper_pk")]

    def add_text_checks(self, pks: list[int]) -> None:
        self.conn.executemany(
            "INSERT OR IGNORE INTO text_checks (paper_pk) VALUES (?)", [(pk,) for pk in pks]
        )

    def drop_text_checks(self, pks: list[int]) -> None:
        for chunk in _chunks(pks):
            self.conn.execute(f"DELETE FROM text_checks WHERE paper_pk IN ({_marks(chunk)})", chunk)


class VectorReader:
    """A read-only SQLite connection to a library file, for the float32 vectors an ANN index
    rescores with (kept apart from the library objects, which a web pool hands out per request)."""

    def __init__(self, path: str):
        self._conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)

    def vectors_of(self, model_id: str, pks: list[int]) -> list[tuple[int, bytes]]:
        out: list[tuple[int, bytes]] = []
        for chunk in _chunks(pks, 500):
            q = f"SELECT paper_pk, vector FROM embeddings WHERE model_id = ? AND paper_pk IN ({_marks(chunk)})"
            out += [(int(r[0]), r[1]) for r in self._conn.execute(q, [model_id, *chunk])]
        return out

    def close(self) -> None:
        self._conn.close()
