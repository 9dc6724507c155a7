"""Sync: bring in what is new from the configured sources, resuming where each one stopped.

Sources are named `arxiv:CATEGORY` (the arXiv API, papers submitted in a date window),
`arxiv-oai:SET` (an OAI-PMH incremental harvest of an arXiv set such as `cs`, optionally kept to
one category: `arxiv-oai:cs.CL`), `hf` (Hugging Face Daily Papers, one request per day) and `zotero`
or `zotero:COLLECTION` (the Zotero web library, from the library version of the last sync).
Each source keeps a cursor in the library (`sync_state`): the arXiv date window and paging
offset in progress, the OAI-PMH resumption token or the date to harvest from, or the last day.
The cursor moves only after a page has been imported, so an interrupted or failed sync resumes
where it stopped and a failure before the first page changes no paper. Everything is imported
through `ingest.import_source`, the same matching and merging as `paperradar import`.
Does network I/O (through `fetch`) and database I/O.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from . import fetch
from .errors import InvalidInput, ParseError, RadarError
from .importers import arxiv_atom, arxiv_oai
from .importers.arxiv_oai import page_info as oai_page_info
from .importers.base import Source
from .ingest import ImportReport, import_source, ingest_records, log_report, now_iso
from .models import Record
from .progress import Progress, no_progress
from .storage import cursors
from .storage.base import Library
from .storage.cursors import Cursor

if TYPE_CHECKING:
    from .zotero import ZoteroAccount

log = logging.getLogger(__name__)

ARXIV_OAI = "https://oaipmh.arxiv.org/oai"
_CATEGORY = re.compile(r"^[a-z-]+(\.[A-Za-z-]+)?$")
_OAI_SPEC = re.compile(r"^[a-z-]+(:[a-z-]+)?(\.[A-Za-z-]+)?$")  # cs, physics:hep-th, cs.CL


@dataclass
class SyncOptions:
    """How to reach the sources and how far back a first sync goes."""

    arxiv_api: str = fetch.ARXIV_API
    hf_api: str = fetch.HF_DAILY_API
    arxiv_oai: str = ARXIV_OAI
    days: int = 2
    max_results: int = 1000
    page_size: int = 200
    delay: float = 3.0
    retries: int = 4
    today: date | None = None
    zotero: ZoteroAccount | None = None  # the account of the edge's settings (None: read then)
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic


@dataclass
class SourceReport:
    source: str
    requests: int = 0
    read: int = 0
    new: int = 0
    merged: int = 0
    unchanged: int = 0
    rejected: int = 0
    done: bool = False
    error: str | None = None
    cursor: Cursor = field(default_factory=Cursor)

    def add(self, report: ImportReport) -> None:
        self.requests += 1
        self.read += report.read
        self.new += report.new
        self.merged += report.merged
        self.unchanged += report.unchanged
        self.rejected += len(report.rejected)

    def as_json(self) -> dict[str, Any]:
        return dict(self.__dict__) | {"cursor": self.cursor.as_json()}


def parse_sources(text: str | list[str] | None) -> list[str]:
    """`"arxiv:cs.CL, hf"` -> ["arxiv:cs.CL", "hf"]; an unknown source is InvalidInput."""
    items = text if isinstance(text, list) else re.split(r"[,\s]+", text or "")
    out = []
    for item in (i.strip() for i in items):
        if not item:
            continue
        if item in ("hf", "hf-daily"):
            item = "hf"
        elif item == "zotero" or item.startswith("zotero:"):
            pass  # the Zotero library, or one collection: zotero:"My collection"
        elif not (
            (item.startswith("arxiv:") and _CATEGORY.match(item.removeprefix("arxiv:")))
            or (item.startswith("arxiv-oai:") and _OAI_SPEC.match(item.removeprefix("arxiv-oai:")))
        ):
            raise InvalidInput(
                f"unknown sync source {item!r}: use arxiv:CATEGORY (e.g. arxiv:cs.CL),"
                " arxiv-oai:SET_OR_CATEGORY (e.g. arxiv-oai:cs or arxiv-oai:cs.CL), hf, or zotero[:COLLECTION]"
            )
        if item not in out:
            out.append(item)
    if not out:
        raise InvalidInput(
            "no sync sources: set sync_sources in paperradar.toml or PAPERRADAR_SYNC_SOURCES"
            " (e.g. 'arxiv:cs.CL,hf'), or name them on the command line"
        )
    return out


def sync(
    lib: Library, sources: list[str], options: SyncOptions, progress: Progress | None = None
) -> list[SourceReport]:
    """Sync every source in turn; one failing source does not stop the others (see each report's error)."""
    reports = []
    for i, source in enumerate(sources):
        if i and source.startswith("arxiv"):
            options.sleep(options.delay)  # arXiv's pace holds across sources too
        runner = {"hf": sync_hf, "arxiv-oai": sync_oai, "zotero": sync_zotero}.get(
            source.split(":")[0], sync_arxiv
        )
        report = runner(lib, source, options, progress or no_progress)
        reports.append(report)
    return reports


def sync_states(lib: Library) -> list[cursors.SyncState]:
    """Where each source stopped (`paperradar sync --status`): source, cursor, last_ok, last_error."""
    return cursors.sync_states(lib)


def sync_and_index(
    lib: Library, sources: list[str], options: SyncOptions, progress: Progress | None = None
) -> list[SourceReport]:
    """Sync, then embed what arrived (the quality tier when few, issue 12) and bring the ranking
    features up to date: what `paperradar sync` and `watch` do."""
    reports = sync(lib, sources, options, progress)
    if any(r.new for r in reports):
        from .index import index_new_papers
        from .rank.features import build_features

        index_new_papers(lib, progress)
        build_features(lib, progress)
    return reports


# ---------------------------------------------------------------- arXiv API


def arxiv_window(cursor: Cursor, today: date, days: int) -> tuple[date, date, int]:
    """(first day, last day, paging offset) of the next arXiv query; a window in progress resumes."""
    if cursor.window is not None:
        start, end = (date.fromisoformat(d) for d in cursor.window)
        return start, end, cursor.start or 0
    if cursor.until is not None:  # the last day again: papers announced late in that day
        return date.fromisoformat(cursor.until), today, 0
    return today - timedelta(days=days), today, 0


def arxiv_query(category: str, start: date, end: date) -> str:
    return f"cat:{category} AND submittedDate:[{start:%Y%m%d}0000 TO {end:%Y%m%d}2359]"


def sync_arxiv(lib: Library, source: str, options: SyncOptions, progress: Progress) -> SourceReport:
    category = source.removeprefix("arxiv:")
    cursor = cursors.get_cursor(lib, source)
    first, last, offset = arxiv_window(cursor, options.today or date.today(), options.days)
    query = arxiv_query(category, first, last)
    report = SourceReport(source)
    state = Cursor(window=(first.isoformat(), last.isoformat()), start=offset, until=cursor.until)
    finished = False

    def page_done(next_start: int) -> None:
        nonlocal state
        state = replace(state, start=next_start)
        cursors.save_cursor(lib, source, state, now_iso(), None)

    pages = fetch.fetch_arxiv(
        query, start=offset, page_size=options.page_size, max_results=options.max_results,
        base_url=options.arxiv_api, delay=options.delay, retries=options.retries,
        on_page=page_done, sleep=options.sleep, clock=options.clock,
    )  # fmt: skip
    try:
        for body in pages:
            name = f"{options.arxiv_api}?search_query={query}&start={state.start}"
            report.add(import_source(lib, Source.from_bytes(body, name), arxiv_atom.NAME))
            total, at, _ = arxiv_atom.page_info(body)
            count = arxiv_atom.entry_count(body)
            finished = count == 0 or at + count >= total
            progress(report.read, None, f"{source}: {report.read} papers read ({report.new} new)")
    except RadarError as e:
        return _failed(lib, source, report, state if report.requests else cursor, e)
    if finished:
        state = Cursor(until=last.isoformat())
    report.done = finished
    report.cursor = state
    cursors.save_cursor(lib, source, state, now_iso(), None)
    return report


def _failed(lib: Library, source: str, report: SourceReport, cursor: Cursor, e: RadarError) -> SourceReport:
    """Keep the cursor at the last imported page and remember the error."""
    report.error = str(e)
    report.cursor = cursor
    cursors.save_cursor(lib, source, cursor, now_iso(), report.error)
    log.info("sync %s failed: %s", source, e)  # the caller reports it
    return report


# ---------------------------------------------------------------- Zotero


def sync_zotero(lib: Library, source: str, options: SyncOptions, progress: Progress) -> SourceReport:
    """Items added or changed in the Zotero library (or one collection) since the last sync. The
    cursor is the library version Zotero reported, so each sync asks only for what changed."""
    from . import zotero

    cursor = cursors.get_cursor(lib, source)
    report = SourceReport(source)
    try:
        account = options.zotero or zotero.account_from_settings()
        items, version = zotero.fetch_items(account, source.partition(":")[2] or None, cursor.version)
    except RadarError as e:
        return _failed(lib, source, report, cursor, e)
    report.add(import_source(lib, Source.from_bytes(json.dumps(items).encode(), source), "zotero_json"))
    cursor = Cursor(version=version) if version is not None else cursor
    progress(len(items), len(items), f"{source}: {len(items)} items new or changed ({report.new} new papers)")
    report.done = True
    report.cursor = cursor
    cursors.save_cursor(lib, source, cursor, now_iso(), None)
    return report


# ---------------------------------------------------------------- Hugging Face Daily Papers


def hf_days(cursor: Cursor, today: date, days: int) -> list[date]:
    """Days still to fetch: after the last finished day (today is never finished: it still grows)."""
    first = (
        date.fromisoformat(cursor.done) + timedelta(days=1)
        if cursor.done is not None
        else today - timedelta(days=days)
    )
    return [first + timedelta(days=n) for n in range((today - first).days + 1)]


def sync_hf(lib: Library, source: str, options: SyncOptions, progress: Progress) -> SourceReport:
    today = options.today or date.today()
    cursor = cursors.get_cursor(lib, source)
    report = SourceReport(source)
    for day in hf_days(cursor, today, options.days):
        try:
            body = fetch.fetch_hf_daily(
                day.isoformat(), base_url=options.hf_api, retries=options.retries,
                sleep=options.sleep, clock=options.clock,
            )  # fmt: skip
        except RadarError as e:
            return _failed(lib, source, report, cursor, e)
        name = f"{options.hf_api}?date={day.isoformat()}"
        report.add(import_source(lib, Source.from_bytes(body, name), "hf_daily"))
        if day < today:
            cursor = Cursor(done=day.isoformat())
            cursors.save_cursor(lib, source, cursor, now_iso(), None)
        progress(report.read, None, f"hf {day}: {report.read} papers read ({report.new} new)")
    report.done = True
    report.cursor = cursor
    cursors.save_cursor(lib, source, cursor, now_iso(), None)
    return report


# ---------------------------------------------------------------- arXiv OAI-PMH


def oai_set(spec: str) -> tuple[str, str | None]:
    """`cs.CL` -> ("cs", "cs.CL"): harvest the archive's set, keep one category; `cs` -> ("cs", None)."""
    archive, dot, _ = spec.partition(".")
    return (archive, spec) if dot else (spec, None)


def sync_oai(lib: Library, source: str, options: SyncOptions, progress: Progress) -> SourceReport:
    """Harvest records changed since the last harvest, page by page (resumption tokens)."""
    setspec, category = oai_set(source.removeprefix("arxiv-oai:"))
    cursor = cursors.get_cursor(lib, source)
    today = options.today or date.today()
    start = cursor.from_ or (today - timedelta(days=options.days)).isoformat()
    params = {"verb": "ListRecords", "metadataPrefix": "arXiv", "set": setspec, "from": start}
    if cursor.token is not None:
        params = {"verb": "ListRecords", "resumptionToken": cursor.token}
    report = SourceReport(source)
    pacer = fetch.Pacer(options.delay, options.clock, options.sleep)
    with fetch.http_client(30.0) as client:
        while True:
            try:
                body = _oai_page(client, options, params, pacer)
            except RadarError as e:
                return _failed(lib, source, report, cursor, e)
            info = oai_page_info(body)
            if info.records:
                report.add(_import_oai(lib, body, f"{options.arxiv_oai}?{urlencode(params)}", category))
            if info.token is None:
                cursor = Cursor(from_=info.response_date or today.isoformat())
                break
            cursor = Cursor(from_=start, token=info.token)
            cursors.save_cursor(lib, source, cursor, now_iso(), None)
            params = {"verb": "ListRecords", "resumptionToken": info.token}
            progress(report.read, None, f"{source}: {report.read} records read ({report.new} new)")
    report.done, report.cursor = True, cursor
    cursors.save_cursor(lib, source, cursor, now_iso(), None)
    return report


def _oai_page(client: Any, options: SyncOptions, params: dict[str, str], pacer: Any) -> bytes:
    """One OAI-PMH answer (503 with Retry-After, arXiv's flow control, is waited out and retried)."""
    from .errors import NetworkError

    response = fetch.get_with_retries(
        client, options.arxiv_oai, dict(params), retries=options.retries, backoff=2.0, pacer=pacer
    )
    host = fetch.host_of(response.request.url)
    if response.is_error:
        raise NetworkError(f"{host} answered {fetch.status_line(response)}")
    try:
        info = oai_page_info(response.content)
    except ParseError as e:
        raise NetworkError(f"{host} did not answer with OAI-PMH: {e.reason}") from None
    if info.error is not None and info.error[0] != "noRecordsMatch":
        raise InvalidInput(f"the arXiv OAI-PMH server refused the request: {info.error[0]}: {info.error[1]}")
    return response.content


def _import_oai(lib: Library, body: bytes, name: str, category: str | None) -> ImportReport:
    """Import one page; with a category, only its records (the rest of the set is not wanted)."""
    if category is None:
        return import_source(lib, Source.from_bytes(body, name), arxiv_oai.NAME)
    report = ImportReport(name, arxiv_oai.NAME)
    items = [
        r
        for r in arxiv_oai.parse(Source.from_bytes(body, name))
        if not isinstance(r, Record) or category in r.categories
    ]
    started = now_iso()
    ingest_records(lib, items, report)
    log_report(lib, report, started)  # the same import log entry as any import
    return report
