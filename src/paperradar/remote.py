"""Fetch papers from arXiv and Hugging Face and import them through the one import pipeline.

Paging progress of an arXiv query is saved in the library after each imported page (the
sync_state table, as source `arxiv-fetch:<hash of the query>`), so an interrupted fetch resumes
where it stopped, and two libraries never share a cursor. Before, the cursors lived in one
`fetch-state.json` in the data folder, shared by every library: the first library that fetches
after the upgrade adopts that file's cursors and renames it (`.adopted`), so it is read once.
Does network and SQL I/O (through `fetch` and the library), and renames that old file.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date
from pathlib import Path

from . import fetch
from .importers.base import Source
from .ingest import ImportReport, import_source, now_iso
from .storage import Library, cursors
from .storage.cursors import Cursor

CURSOR_PREFIX = "arxiv-fetch:"


def cursor_source(query: str | None, ids: list[str] | None) -> str:
    """The sync_state source under which a query's (or an id list's) paging is saved."""
    text = json.dumps({"query": query, "ids": sorted(ids or [])}, sort_keys=True)
    return CURSOR_PREFIX + hashlib.sha1(text.encode()).hexdigest()[:16]


def adopt_legacy_state(lib: Library, path: Path | None) -> int:
    """Move the cursors of the old shared `fetch-state.json` into this library (those it does not
    have already) and rename the file, so no other library reads them. Returns how many."""
    if path is None or not path.is_file():
        return 0
    try:
        old = dict(json.loads(path.read_text(encoding="utf-8")))
    except ValueError:
        old = {}
    adopted = 0
    for key, start in old.items():
        source = CURSOR_PREFIX + str(key)
        if isinstance(start, int) and cursors.get_cursor(lib, source) == Cursor():
            cursors.save_cursor(lib, source, Cursor(start=start, adopted_from=path.name), now_iso(), None)
            adopted += 1
    path.replace(path.with_name(path.name + ".adopted"))
    return adopted


def fetch_arxiv_into(
    lib: Library,
    query: str | None = None,
    ids: list[str] | None = None,
    max_results: int | None = None,
    page_size: int = 100,
    resume: bool = True,
    base_url: str = fetch.ARXIV_API,
    delay: float = 3.0,
    retries: int = 4,
    legacy_state: Path | None = None,
) -> list[ImportReport]:
    """Fetch an arXiv API search or id list page by page, importing each page as it arrives and
    saving in the library where the next page starts (`legacy_state`: the old shared state file,
    adopted first)."""
    adopt_legacy_state(lib, legacy_state)
    source = cursor_source(query, ids)
    start = (cursors.get_cursor(lib, source).start or 0) if resume else 0

    def save(next_start: int) -> None:
        cursors.save_cursor(lib, source, Cursor(start=next_start, query=query), now_iso(), None)

    reports = []
    pages = fetch.fetch_arxiv(
        query,
        ids,
        start=start,
        page_size=page_size,
        max_results=max_results,
        base_url=base_url,
        delay=delay,
        retries=retries,
        on_page=save,
    )
    for body in pages:
        name = f"{base_url}?{'search_query=' + query if query else 'id_list=' + ','.join(ids or [])}&start={start}"
        reports.append(import_source(lib, Source.from_bytes(body, name), "arxiv_atom"))
    return reports


def fetch_hf_daily_into(
    lib: Library, day: date, base_url: str = fetch.HF_DAILY_API, retries: int = 4
) -> ImportReport:
    """Import one day of Hugging Face Daily Papers."""
    body = fetch.fetch_hf_daily(day.isoformat(), base_url=base_url, retries=retries)
    return import_source(lib, Source.from_bytes(body, f"{base_url}?date={day.isoformat()}"), "hf_daily")
