"""The rows the papers repository (base.py `Papers`) reads and writes, as typed dataclasses, and the
one place their JSON columns are encoded and decoded. No I/O.

Reads: `PaperRow` (`paper_row`, `paper_rows`), `RecordRow` (`records_of`, `all_records`),
`MatchRow` (`match_view`). Writes: `PaperValues` (`insert_paper(s)`, `update_paper`), `NewRecord`
(`add_records`), `ImportLog` (`log_import`). Backends build them with the `*_of` functions below
from a database row readable by column name (sqlite3.Row, postgres.Row).
"""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass
from typing import Any

import orjson


def dumps(value: Any) -> str:
    """A JSON column's text (compact, UTF-8)."""
    return orjson.dumps(value).decode()


def loads(text: str | None) -> Any:
    """A JSON column's value (an empty column reads as an empty object)."""
    return json.loads(text) if text else {}


@dataclass(frozen=True, slots=True)
class PaperRow:
    """A stored paper: its columns and its `data` JSON (ids, authors, dates, links, provenance...;
    title and abstract are their own columns, not repeated in `data`)."""

    pk: int
    id: str
    title: str | None
    abstract: str | None
    data: dict[str, Any]
    created_at: str
    updated_at: str


@dataclass(frozen=True, slots=True)
class PaperValues:
    """What the papers table keeps of a paper that matching made (the input of insert and update);
    `data` is encoded by the backend."""

    id: str
    title: str | None
    abstract: str | None
    authors: str  # "A. One; B. Two", for the full-text index
    title_key: str
    year: int | None
    date: str | None
    categories: list[str]
    weak: bool
    data: dict[str, Any]
    now: str

    def params(self, pk: int) -> dict[str, Any]:
        """The named SQL parameters of this paper as paper `pk`."""
        return {
            "pk": pk,
            "id": self.id,
            "title": self.title,
            "abstract": self.abstract,
            "authors": self.authors,
            "title_key": self.title_key,
            "year": self.year,
            "date": self.date,
            "weak": int(self.weak),
            "data": dumps(self.data),
            "now": self.now,
        }


@dataclass(frozen=True, slots=True)
class RecordRow:
    """One source's record of a paper, as stored: its key (content address), where it came from and
    the fields it gave (`fields` is decoded JSON)."""

    key: str
    importer: str
    path: str
    line: int | None
    imported_at: str
    fields: dict[str, Any]

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickled as its constructor call: a frozen slots dataclass's own pickling sets each slot
        through `dataclasses.fields()`, a fifth of the time a prepared record takes to unpickle
        (records travel pickled from parsing workers: ingest/worker.py, cluster.py)."""
        return RecordRow, (self.key, self.importer, self.path, self.line, self.imported_at, self.fields)


def pack_raw(raw: str) -> bytes:
    """A record's source text as stored: compressed (read rarely, and half the size)."""
    return zlib.compress(raw.encode(), 1)


@dataclass(frozen=True, slots=True)
class NewRecord:
    """A record to store: the record, the paper it belongs to, and the source text it was read from."""

    record: RecordRow
    paper_pk: int
    raw: str | bytes  # bytes: already packed (`pack_raw`, done by the parsing worker)

    def params(self) -> tuple[Any, ...]:
        """The SQL parameters (key, paper_pk, importer, path, line, imported_at, fields) of this record."""
        r = self.record
        return (r.key, self.paper_pk, r.importer, r.path, r.line, r.imported_at, dumps(r.fields))


@dataclass(frozen=True, slots=True)
class MatchRow:
    """What matching needs of a stored paper: its ids, title key, author names, year, abstract, dates."""

    pk: int
    ids: list[str]
    title_key: str
    authors: list[str]
    year: int | None
    abstract: str | None
    dates: dict[str, str]


@dataclass(frozen=True, slots=True)
class ImportLog:
    """One finished import, for the library's import log."""

    path: str
    importer: str
    started_at: str
    finished_at: str
    counts: dict[str, int]


def paper_row_of(r: Any) -> PaperRow:
    return PaperRow(
        pk=r["pk"],
        id=r["id"],
        title=r["title"],
        abstract=r["abstract"],
        data=loads(r["data"]),
        created_at=r["created_at"],
        updated_at=r["updated_at"],
    )


def record_row_of(r: Any) -> RecordRow:
    return RecordRow(r["key"], r["importer"], r["path"], r["line"], r["imported_at"], loads(r["fields"]))


def match_row_of(r: Any) -> MatchRow:
    data = loads(r["data"])
    return MatchRow(
        pk=r["pk"],
        ids=list(data.get("ids", [])),
        title_key=r["title_key"] or "",
        authors=[a["name"] for a in data.get("authors", [])],
        year=r["year"],
        abstract=r["abstract"],
        dates=dict(data.get("dates", {})),
    )
