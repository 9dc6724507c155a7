"""The import pipeline: parse sources, match each record to a paper, merge, store in batches.

One implementation serves every entry point (CLI, web, sync). Each batch of records is one
transaction, so an interrupted import leaves only whole batches behind, and re-running the same
import skips what is already there (records are content-addressed by `dedupe.record_key`).
Does I/O through the `Library` it is given and the `Source`s it reads.
"""

from __future__ import annotations

import logging
import lzma
import multiprocessing
import os
import re
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path
from queue import Empty
from types import ModuleType
from typing import Any

from . import dedupe, importers
from .config import load_settings
from .dedupe import Candidate, Probe
from .errors import InvalidInput, ParseError, RadarError
from .importers.base import Source
from .models import Record
from .storage import ImportLog, Library, MatchRow, NewRecord, PaperValues, RecordRow

log = logging.getLogger(__name__)

BATCH = 1000
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


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


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
) -> ImportReport:
    """Import one source into the library and report what happened. Bad records are reported,
    never fatal; an unreadable or unrecognised source raises InvalidInput. A command importing
    many files passes one `MatchState` to every call, so matching is set up once, not per file.

    Large files are parsed in a second process while this one matches and writes, so both
    cores work; the result is the same either way. `chunker` parses elsewhere instead (a Ray
    cluster: `cluster.ray_chunks`); matching and writing stay here, in file order.
    """
    module = importers.detect(source) if fmt == "auto" else importers.load(fmt)
    if column_map and not module.NAME.startswith("tabular_"):
        raise InvalidInput(f"--map applies to CSV, JSONL and Parquet files, not to {module.NAME}")
    if fmt != "auto":  # a missing, unreadable or folder path: one clear error before anything is written
        source.head(1)
    report = ImportReport(source.path, module.NAME)
    started = now_iso()

    work = (module.NAME, source, column_map)
    if chunker is not None:
        chunks = chunker(*work)
    else:
        chunks = in_worker(*work) if _worth_a_worker(source) else parsed_chunks(*work)
    store_chunks(lib, chunks, report, progress, matching)
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
    raw: str
    probe: Probe

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
        now = now_iso()
        for item in chunk:
            if isinstance(item, ParseError):
                errors.append(item)
            else:
                prepared.append(prepare(item, now))
        yield prepared, errors
    if source is not None and source.issues:
        yield [], list(source.issues)


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
) -> None:
    state = matching or MatchState(lib)
    for prepared, errors in chunks:
        report.rejected.extend(errors)
        report.read += len(prepared)
        if prepared:
            with lib.transaction():
                store_batch(lib, prepared, report, state)
        if progress:
            progress(len(prepared) + len(errors))


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
    return Prepared(row, rec.raw, Probe.from_fields(fields))


def prepare_stored(record: RecordRow, raw: str) -> Prepared:
    """A record already stored, prepared to be matched again (`papers rebuild`)."""
    return Prepared(record, raw, Probe.from_fields(record.fields))


# ---------------------------------------------------------------- the parsing worker

PARALLEL_MIN_BYTES = 4 * 1024 * 1024
_POLL = 1.0


def _worth_a_worker(source: Source) -> bool:
    if (os.cpu_count() or 1) < 2 or load_settings().no_worker:
        return False
    size = len(source.data) if source.data is not None else (source.file.stat().st_size if source.file else 0)
    return size >= PARALLEL_MIN_BYTES


def parsed_chunks(name: str, source: Source, column_map: dict[str, str] | None) -> Iterator[Chunk]:
    """The source parsed by the importer called `name`, as prepared chunks (picklable arguments,
    so a worker process can run it)."""
    return prepared_chunks(_parse(importers.load(name), source, column_map), source)


def in_worker(name: str, source: Source, column_map: dict[str, str] | None) -> Iterator[Chunk]:
    """`parsed_chunks(...)` run in a forked process, yielding what it yields. Errors come back as
    errors; the worker never outlives the import (it exits when this process goes away). The web
    server never gets here: its imports run in a spawned job process (jobs.py), so what is forked
    is that single-threaded process, which holds no listening socket."""
    ctx = multiprocessing.get_context("fork")
    queue: Any = ctx.Queue(maxsize=4)
    proc = ctx.Process(target=_produce, args=(name, source, column_map, queue), daemon=True)
    proc.start()
    try:
        while True:
            try:
                kind, value = queue.get(timeout=_POLL)
            except Empty:
                if not proc.is_alive():
                    raise RadarError(f"the parsing worker died (exit code {proc.exitcode})") from None
                continue
            if kind == "chunk":
                yield value
            elif kind == "error":
                raise value
            else:
                return
    finally:
        if proc.is_alive():
            proc.terminate()
        proc.join()


def exit_with_parent(every: float = 0.5) -> None:
    """In a worker process: exit at once when the process that started it goes away (a killed
    server or CLI leaves no worker behind, writing or holding anything). The parent is the one
    multiprocessing recorded when it made this process: a server killed before its worker got here
    has already left it to init, and that worker must exit too (issue 13's fault campaign)."""
    started_by = multiprocessing.parent_process()
    parent = started_by.pid if started_by is not None else os.getppid()
    if os.getppid() != parent:
        os._exit(1)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(every)
        os._exit(1)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


def _produce(name: str, source: Source, column_map: dict[str, str] | None, queue: Any) -> None:
    exit_with_parent()
    put = queue.put
    try:
        for chunk in parsed_chunks(name, source, column_map):
            put(("chunk", chunk))
        put(("done", None))
    except BaseException as e:  # sent back and raised in the importing process
        put(("error", e))
    queue.close()
    queue.join_thread()


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


def _publisher_doi(alias: str) -> bool:
    """A DOI given by a publisher (typed or pasted by people, so sometimes wrong); not arXiv's."""
    return alias.startswith("doi:") and not alias.startswith("doi:10.48550/")


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
        self.next_pk = lib.max_paper_pk() + 1
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


def local_id(records: list[RecordRow]) -> str:
    """A paper's own stable id, from its first record: used when no source gives an id."""
    return "paperradar:" + records[0].key[:12]


def paper_values(records: list[RecordRow]) -> tuple[PaperValues, dict[str, Any]]:
    """What the papers table keeps of a paper made of these records, and the chosen values."""
    chosen, prov = dedupe.choose_fields(records)
    own = local_id(records)
    ids = chosen["ids"]
    has_code = bool(chosen.get("links", {}).get("code")) or any(
        r.fields.get("extra", {}).get("has_code") for r in records
    )
    # title and abstract live in their own columns (and the full-text index); not repeated here
    data = {k: v for k, v in chosen.items() if k not in ("title", "abstract")}
    data.update(ids=ids + [own], has_code=has_code, provenance=prov)
    title = chosen.get("title")
    values = PaperValues(
        id=dedupe.preferred_id(ids, own),
        title=title,
        abstract=chosen.get("abstract"),
        authors="; ".join(a["name"] for a in chosen.get("authors", [])),
        title_key=dedupe.title_key(title),
        year=dedupe.year_of(chosen.get("dates", {}), ids),
        date=dedupe.preferred_iso(chosen.get("dates", {}), ids),
        categories=list(chosen.get("categories", [])),
        weak=not title or not ids,
        data=data,
        now=now_iso(),
    )
    return values, chosen


_WORD = re.compile(r"[A-Za-z]{7,}")


class MatchState:
    """What matching keeps for a whole import command: the weak-paper index, the user's split
    corrections, and every alias and title key looked up so far with the papers found.

    Built once per command and kept current by each batch (`Matcher.register`), so the second
    of 21 files into a big library costs only its own lookups. Valid while this process is the
    only writer, which an import command is (`BEGIN IMMEDIATE` per batch).
    """

    def __init__(self, lib: Library):
        self.lib = lib
        self._weak: WeakPapers | None = None
        self.splits = {frozenset((a, b)) for kind, a, b in lib.corrections() if kind == "split"}
        self.alias: dict[str, int] = {}
        self.titles: dict[str, list[int]] = {}
        self.cands: dict[int, Candidate] = {}
        self.keys_of: dict[int, set[str]] = {}
        self._asked_aliases: set[str] = set()
        self._asked_titles: set[str] = set()

    @property
    def weak(self) -> WeakPapers:
        """The weak-paper index, loaded when a record first needs it (many imports never do)."""
        if self._weak is None:
            self._weak = WeakPapers(self.lib)
        return self._weak

    def prefetch(self, probes: list[Probe]) -> None:
        """Look up the aliases and title keys of `probes` not looked up before (one query each)."""
        aliases = sorted({i for p in probes for i in p.ids} - self._asked_aliases)
        titles = sorted({p.title_key for p in probes if p.title_key} - self._asked_titles)
        found = self.lib.papers_by_alias(aliases) if aliases else {}
        for alias, pk in found.items():
            self.alias.setdefault(alias, pk)
        by_title = self.lib.papers_by_title_key(titles) if titles else {}
        for key, pks in by_title.items():
            known = self.titles.setdefault(key, [])
            known.extend(pk for pk in pks if pk not in known)
        self._asked_aliases.update(aliases)
        self._asked_titles.update(titles)
        self.load(set(found.values()) | {pk for pks in by_title.values() for pk in pks})

    def load(self, pks: Iterable[int]) -> None:
        missing = [pk for pk in pks if pk not in self.cands]
        for row in self.lib.match_view(missing):
            self.cands[row.pk] = _candidate(row)


class Matcher:
    """Finds the paper an incoming record belongs to, for one batch, over a command's MatchState."""

    def __init__(self, state: MatchState, probes: list[Probe], before_text_search: Callable[[], None]):
        self.state = state
        self.lib = state.lib
        self.before_text_search = before_text_search
        state.prefetch(probes)
        self.alias, self.titles, self.cands = state.alias, state.titles, state.cands
        self.splits = state.splits
        self._keys_cache = state.keys_of
        self.conflicts: list[str] = []  # ids shared with a paper whose title clearly differs

    def _load(self, pks: Iterable[int]) -> None:
        self.state.load(pks)

    def match(self, probe: Probe, key: str) -> int | None:
        for alias in sorted(probe.ids):
            pk = self.alias.get(alias)
            if pk is None or not self._allowed(key, pk):
                continue
            if _publisher_doi(alias) and pk in self.cands and dedupe.titles_disagree(probe, self.cands[pk]):
                self.conflicts.append(alias)  # a wrong id in one record: reported, not merged
                continue
            return pk
        for pk in self.titles.get(probe.title_key, []):
            if self._allowed(key, pk) and dedupe.title_compatible(probe, self.cands[pk]):
                return pk
        pool = self._text_pool(probe)
        hit = dedupe.abstract_match(probe, (self.cands[pk] for pk in pool if self._allowed(key, pk)))
        return hit.pk if hit else None

    def _text_pool(self, probe: Probe) -> list[int]:
        """Papers whose abstract may be this record's: weak papers sharing its text, and for a
        record without id or title (only those pay for it) the best full-text hits."""
        if not probe.abstract:
            return []
        weak = self.state.weak
        pool = weak.candidates(probe.signature) if len(weak) else []
        self._load(pool)
        if not probe.ids or not probe.title_key:
            words = sorted(set(_WORD.findall(probe.abstract)), key=len, reverse=True)[:16]
            self.before_text_search()  # papers new in this batch must be searchable too
            hits = self.lib.text_candidates(words)
            self._load(hits)
            pool.extend(hits)
        return pool

    def _allowed(self, key: str, pk: int) -> bool:
        """False when the user split this record away from a record of that paper."""
        if not self.splits:
            return True
        if pk not in self._keys_cache:
            self._keys_cache[pk] = {r.key for r in self.lib.records_of(pk)}
        return not any(frozenset((key, other)) in self.splits for other in self._keys_cache[pk])

    def register(
        self, pk: int, values: PaperValues, chosen: dict[str, Any], records: list[RecordRow]
    ) -> None:
        for alias in chosen["ids"]:
            self.alias[alias] = pk
        if values.title_key and pk not in self.titles.setdefault(values.title_key, []):
            self.titles[values.title_key].append(pk)
        self.cands[pk] = _candidate(
            MatchRow(
                pk=pk,
                ids=chosen["ids"],
                title_key=values.title_key,
                authors=[a["name"] for a in chosen.get("authors", [])],
                year=values.year,
                abstract=values.abstract,
                dates=chosen.get("dates", {}),
            )
        )
        self._keys_cache[pk] = {r.key for r in records}
        if values.weak:
            self.state.weak.add(pk, self.cands[pk].signature)


class WeakPapers:
    """The papers that only their abstract can identify (no title or no id), indexed by shingles.

    Loaded once per import (a library full of strong arXiv records has none, and then costs nothing).
    """

    def __init__(self, lib: Library):
        self.index = dedupe.ShingleIndex()
        for row in lib.match_view(lib.weak_papers()):
            self.index.add_sample(row.pk, dedupe.abstract_sample(row.abstract, self.index.SAMPLE))

    def __len__(self) -> int:
        return len(self.index)

    def candidates(self, signature: frozenset[int]) -> list[int]:
        return self.index.candidates(signature)

    def add(self, pk: int, signature: frozenset[int]) -> None:
        self.index.add(pk, signature)


def _candidate(row: MatchRow) -> Candidate:
    return Candidate(
        pk=row.pk,
        ids=set(row.ids),
        title_key=row.title_key,
        authors=row.authors,
        year=row.year,
        abstract=row.abstract,
        dates=set(row.dates.values()),
    )
