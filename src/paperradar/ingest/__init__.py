"""The import pipeline: parse sources, match each record to a paper, merge, store in batches.

One implementation serves every entry point (CLI, web, sync). Each batch of records is one
transaction, so an interrupted import leaves only whole batches behind, and re-running the same
import skips what is already there (records are content-addressed by `dedupe.record_key`).
Does I/O through the `Library` it is given and the `Source`s it reads.

The package's modules, one job each: this one runs an import and writes its batches
(`import_source`, `store_batch`); parse.py reads a source into prepared records; worker.py parses
a big file in a second process; match.py finds the paper a record belongs to; rows.py makes a
paper's row from its records.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any

from .. import importers
from ..errors import InvalidInput, ParseError
from ..importers.base import Source
from ..models import Record
from ..storage import ImportLog, Library, NewRecord, PaperValues, RecordRow
from .match import Matcher, MatchState
from .parse import (
    BATCH,
    Chunk,
    Chunker,
    Prepared,
    _check_not_other_format,
    _parse,
    parsed_chunks,
    prepare,
    prepare_stored,
    prepared_chunks,
)
from .rows import local_id, now_iso, paper_values
from .worker import exit_with_parent, in_worker, worth_a_worker

__all__ = [
    "BATCH",
    "Chunk",
    "Chunker",
    "ImportReport",
    "MatchState",
    "Prepared",
    "Progress",
    "exit_with_parent",
    "expand_paths",
    "import_source",
    "ingest_records",
    "local_id",
    "log_report",
    "now_iso",
    "paper_values",
    "parsed_chunks",
    "prepare",
    "prepare_stored",
    "prepared_chunks",
    "store_batch",
    "store_chunks",
    "_parse",
]

log = logging.getLogger(__name__)

Progress = Callable[[int], None]


@dataclass
class ImportReport:
    path: str
    importer: str
    read: int = 0
    new: int = 0
    merged: int = 0
    unchanged: int = 0
    rejected: list[ParseError] = field(default_factory=list)
    conflicts: list[ParseError] = field(default_factory=list)  # shared ids kept apart (titles differ)

    def as_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "format": self.importer,
            "read": self.read,
            "new": self.new,
            "merged": self.merged,
            "unchanged": self.unchanged,
            "rejected": [{"path": e.source, "line": e.line, "reason": e.reason} for e in self.rejected],
            "conflicts": [{"path": e.source, "line": e.line, "reason": e.reason} for e in self.conflicts],
        }


def expand_paths(paths: Iterable[str | Path]) -> list[Path]:
    """Files named, and the files inside folders named (sorted, hidden files skipped)."""
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            out.extend(f for f in sorted(p.rglob("*")) if f.is_file() and not f.name.startswith("."))
        elif p.is_file():
            out.append(p)
        else:
            raise InvalidInput(f"{p}: no such file or folder")
    return out


def import_source(
    lib: Library,
    source: Source,
    fmt: str = "auto",
    column_map: dict[str, str] | None = None,
    progress: Progress | None = None,
    matching: MatchState | None = None,
    chunker: Chunker | None = None,
    group: int = 1,
) -> ImportReport:
    """Import one source into the library and report what happened. Bad records are reported,
    never fatal; an unreadable or unrecognised source raises InvalidInput. A command importing
    many files passes one `MatchState` to every call, so matching is set up once, not per file.

    Large files are parsed in a second process while this one matches and writes, so both
    cores work; the result is the same either way. `chunker` parses elsewhere instead (a Ray
    cluster: `cluster.ray_chunks`); matching and writing stay here, in file order. `group` batches
    are written a transaction (a bulk import writes fewer, larger ones).
    """
    module = importers.detect(source) if fmt == "auto" else importers.load(fmt)
    if column_map and not module.NAME.startswith("tabular_"):
        raise InvalidInput(f"--map applies to CSV, JSONL and Parquet files, not to {module.NAME}")
    if fmt != "auto":  # a missing, unreadable or folder path: one clear error before anything is written
        source.head(1)
    report = ImportReport(source.path, module.NAME)
    started = now_iso()
    if source.stamp is None:
        source.stamp = started

    work = (module.NAME, source, column_map)
    if chunker is not None:
        chunks = chunker(*work)
    else:
        chunks = in_worker(*work) if worth_a_worker(source) else parsed_chunks(*work)
    store_chunks(lib, chunks, report, progress, matching, group)
    if fmt != "auto" and not report.read and not report.rejected:
        _check_not_other_format(source, module)
    report.rejected.sort(key=lambda e: e.line or 0)
    log_report(lib, report, started)
    return report


def log_report(lib: Library, report: ImportReport, started: str) -> None:
    """Record a finished import in the library's import log (`paperradar log`, the import page)."""
    counts = {
        k: v for k, v in report.as_json().items() if k not in ("path", "format", "rejected", "conflicts")
    }
    with lib.transaction():
        lib.log_import(
            ImportLog(report.path, report.importer, started, now_iso(),
                      counts | {"rejected": len(report.rejected), "conflicts": len(report.conflicts)})
        )  # fmt: skip


def ingest_records(
    lib: Library,
    items: Iterable[Record | ParseError],
    report: ImportReport,
    progress: Progress | None = None,
) -> None:
    """Store parsed records, batch by batch, each batch one transaction."""
    store_chunks(lib, prepared_chunks(items), report, progress)


def store_chunks(
    lib: Library,
    chunks: Iterable[Chunk],
    report: ImportReport,
    progress: Progress | None,
    matching: MatchState | None = None,
    group: int = 1,
) -> None:
    """Store parsed chunks, `group` of them a transaction (chunks of errors alone write nothing)."""
    state = matching or MatchState(lib)
    it = iter(chunks)
    while taken := list(islice(it, group)):
        if not any(prepared for prepared, _ in taken):
            _count(taken, report, progress)
            continue
        with lib.transaction():
            for prepared, _ in taken:
                if prepared:
                    store_batch(lib, prepared, report, state)
        state.trim()
        _count(taken, report, progress)


def _count(chunks: list[Chunk], report: ImportReport, progress: Progress | None) -> None:
    for prepared, errors in chunks:
        report.rejected.extend(errors)
        report.read += len(prepared)
        if progress:
            progress(len(prepared) + len(errors))


def store_batch(
    lib: Library, prepared: list[Prepared], report: ImportReport, state: MatchState | None = None
) -> None:
    existing = lib.existing_record_keys([p.record.key for p in prepared])
    fresh: list[Prepared] = []
    seen: set[str] = set()
    for p in prepared:
        if p.record.key in existing or p.record.key in seen:
            report.unchanged += 1
        else:
            seen.add(p.record.key)
            fresh.append(p)
    if not fresh:
        return
    writer = BatchWriter(lib)
    matcher = Matcher(state or MatchState(lib), [p.probe for p in fresh], writer.flush)
    new_records: list[NewRecord] = []
    for p in fresh:
        rec = p.record
        pk = matcher.match(p.probe, rec.key)
        if matcher.conflicts:
            _set_aside(rec, matcher.conflicts, report)
            matcher.conflicts.clear()
        if pk is None:
            recs = [rec]
            values, chosen = paper_values(recs)
            pk = writer.add(values, recs)
            report.new += 1
        else:
            recs = writer.records(pk)
            recs.append(rec)
            values, chosen = paper_values(recs)
            writer.update(pk, values)
            report.merged += 1
        new_records.append(NewRecord(rec, pk, p.raw))
        writer.aliases.extend((alias, pk) for alias in [*rec.fields.get("ids", ()), local_id(recs)])
        matcher.register(pk, values, chosen, recs)
    writer.flush()
    lib.add_records(new_records)


def _set_aside(rec: RecordRow, shared: list[str], report: ImportReport) -> None:
    """A record whose id belongs to a paper with a clearly different title: the id stays with that
    paper, and is kept in this record's `extra.disputed_ids`; the import reports it."""
    fields = rec.fields
    fields["ids"] = [i for i in fields.get("ids", ()) if i not in shared]
    fields.setdefault("extra", {})["disputed_ids"] = list(shared)
    for alias in shared:
        reason = f"{alias} is also the id of a paper with a different title; kept as a separate paper"
        report.conflicts.append(ParseError(rec.path, rec.line, reason))


class BatchWriter:
    """Holds a batch's new papers and aliases and writes them with one executemany each.

    New papers get their pk here (safe: the batch holds the write lock), so later records of
    the batch can join them before they reach the database.
    """

    def __init__(self, lib: Library):
        self.lib = lib
        self.next_pk = lib.next_paper_pk()  # never a pk a merged-away paper had
        self.new_rows: dict[int, PaperValues] = {}
        self.pending: dict[int, list[RecordRow]] = {}
        self.aliases: list[tuple[str, int]] = []

    def add(self, values: PaperValues, records: list[RecordRow]) -> int:
        pk = self.next_pk
        self.next_pk += 1
        self.new_rows[pk] = values
        self.pending[pk] = records
        return pk

    def records(self, pk: int) -> list[RecordRow]:
        if pk not in self.pending:
            self.pending[pk] = self.lib.records_of(pk)
        return self.pending[pk]

    def update(self, pk: int, values: PaperValues) -> None:
        if pk in self.new_rows:
            self.new_rows[pk] = values
        else:
            self.lib.update_paper(pk, values)

    def flush(self) -> None:
        if self.new_rows:
            self.lib.insert_papers(self.new_rows)
            self.new_rows = {}
        if self.aliases:
            self.lib.add_alias_pairs(self.aliases)
            self.aliases = []
