"""Reading a source into prepared records: the importer's items, each record made the row the
library keeps (with its matching view), BATCH items a chunk; a source that stops midway keeps what
came before. Pure CPU work, so it may run in a worker process (worker.py). Reads the source.
"""

from __future__ import annotations

import lzma
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from itertools import islice
from types import ModuleType
from typing import Any

from .. import dedupe, importers
from ..dedupe import Probe
from ..errors import InvalidInput, ParseError
from ..importers.base import Source
from ..models import Record
from ..storage import RecordRow
from ..storage.rows import pack_raw
from .rows import now_iso

BATCH = 1000  # parsed items a chunk (and records a write transaction)


def _parse(
    module: ModuleType, source: Source, column_map: dict[str, str] | None
) -> Iterator[Record | ParseError]:
    try:
        yield from (module.parse(source, column_map=column_map) if column_map else module.parse(source))
    except ParseError as e:  # a whole-source failure (e.g. corrupt compressed stream) after valid records
        yield e
    except _READ_ERRORS as e:  # the data stops midway (truncated .gz/.xz, I/O error): keep what came before
        yield ParseError(source.path, _failing_line(source), _read_failure(e))


_READ_ERRORS = (OSError, EOFError, lzma.LZMAError, zlib.error)


def _read_failure(e: BaseException) -> str:
    if isinstance(e, EOFError):
        return "the file is cut off here (compressed data ends early); the lines before it were imported"
    return f"cannot read further ({e}); the lines before it were imported"


def _failing_line(source: Source) -> int | None:
    """The 1-based line at which reading `source` fails (counted again, streaming)."""
    complete = 0
    try:
        with source.open_binary() as f:
            while chunk := f.readline(1 << 20):
                complete += chunk.endswith(b"\n")
    except _READ_ERRORS:
        return complete + 1
    return None


def _check_not_other_format(source: Source, module: ModuleType) -> None:
    """A format forced with --format found nothing: say so when the file is plainly another format."""
    try:
        other = importers.detect(source)
    except (ParseError, InvalidInput):
        return
    if other.NAME != module.NAME:
        raise InvalidInput(
            f"{source.path}: no {module.NAME} records found; the file looks like {other.NAME}"
            f" (use --format {other.NAME}, or leave --format out)"
        )


@dataclass(frozen=True, slots=True)
class Prepared:
    """A parsed record ready to store: the row the library keeps, its source text, and its matching
    view (computed by `prepare`, so a parsing worker does that work)."""

    record: RecordRow
    raw: str | bytes  # bytes: packed for storing (`prepare` does it, in the parsing worker)
    probe: Probe

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickled as its constructor call (cheaper than a frozen slots dataclass's own way, see
        RecordRow.__reduce__): chunks travel pickled from the parsing worker."""
        return Prepared, (self.record, self.raw, self.probe)

    def moved(self, shift: int) -> Prepared:
        """The same record with its line `shift` lines further (a shard parsed on its own)."""
        line = self.record.line + shift if self.record.line else self.record.line
        return replace(self, record=replace(self.record, line=line))


Chunk = tuple[list[Prepared], list[ParseError]]
Chunker = Callable[[str, Source, dict[str, str] | None], Iterator[Chunk]]  # (importer, source, map) -> chunks


def prepared_chunks(items: Iterable[Record | ParseError], source: Source | None = None) -> Iterator[Chunk]:
    """Parsed items as (prepared records, errors), BATCH items at a time. Pure CPU work, so it
    may run in a worker process. The last chunk carries the problems the reader found."""
    it = iter(items)
    while chunk := list(islice(it, BATCH)):
        prepared: list[Prepared] = []
        errors: list[ParseError] = []
        now = source.stamp if source is not None and source.stamp else now_iso()
        for item in chunk:
            if isinstance(item, ParseError):
                errors.append(item)
            else:
                prepared.append(prepare(item, now))
        yield prepared, errors
    if source is not None and source.issues:
        yield [], list(source.issues)


def prepare(rec: Record, now: str | None = None) -> Prepared:
    """A Record as the row the library keeps: key, provenance and the fields it gave; also its
    matching view (computed here, so the parsing worker does that work)."""
    fields = rec.given_fields()
    row = RecordRow(
        key=dedupe.record_key(rec.source.importer, fields),
        importer=rec.source.importer,
        path=rec.source.path,
        line=rec.source.line,
        imported_at=rec.source.fetched_at or now or now_iso(),
        fields=fields,
    )
    return Prepared(row, pack_raw(rec.raw), Probe.from_fields(fields))


def prepare_stored(record: RecordRow, raw: str) -> Prepared:
    """A record already stored, prepared to be matched again (`papers rebuild`)."""
    return Prepared(record, raw, Probe.from_fields(record.fields))


def parsed_chunks(name: str, source: Source, column_map: dict[str, str] | None) -> Iterator[Chunk]:
    """The source parsed by the importer called `name`, as prepared chunks (picklable arguments,
    so a worker process can run it)."""
    return prepared_chunks(_parse(importers.load(name), source, column_map), source)
