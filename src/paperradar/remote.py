"""Fetch papers from arXiv and Hugging Face and import them through the one import pipeline.

Paging progress of an arXiv query is saved after each imported page (in the data folder), so
an interrupted fetch resumes where it stopped. Does network and file I/O (through `fetch`,
the library and the state file).
"""

from __future__ import annotations

import hashlib
import json
from datetime import date
from pathlib import Path

from . import fetch
from .importers.base import Source
from .ingest import ImportReport, import_source
from .papers import write_atomic
from .storage.base import Library


def _state_key(query: str | None, ids: list[str] | None) -> str:
    text = json.dumps({"query": query, "ids": sorted(ids or [])}, sort_keys=True)
    return hashlib.sha1(text.encode()).hexdigest()[:16]


def _load_state(path: Path) -> dict[str, int]:
    try:
        return dict(json.loads(path.read_text(encoding="utf-8")))
    except (FileNotFoundError, ValueError):
        return {}


def fetch_arxiv_into(
    lib: Library,
    state_file: Path,
    query: str | None = None,
    ids: list[str] | None = None,
    max_results: int | None = None,
    page_size: int = 100,
    resume: bool = True,
    base_url: str = fetch.ARXIV_API,
    delay: float = 3.0,
    retries: int = 4,
) -> list[ImportReport]:
    """Fetch an arXiv API search or id list page by page, importing each page as it arrives."""
    key = _state_key(query, ids)
    state = _load_state(state_file)
    start = state.get(key, 0) if resume else 0

    def save(next_start: int) -> None:
        state[key] = next_start
        state_file.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(state_file, json.dumps(state, indent=1))

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
