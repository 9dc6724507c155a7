"""Enrich: fill what pasted pages left out (title, abstract, authors, dates, categories) from arXiv.

Papers that lack a field and carry an arXiv id are looked up with the arXiv API's `id_list`, in
batches, paced like every arXiv request. The answers go through `ingest.import_source`, so they
are matched and merged like any import and the provenance of each filled field names the arXiv
record. Papers without an arXiv id are left as they are and listed in the report.
Does network I/O (through `fetch`) and database I/O.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from . import fetch
from .errors import RadarError
from .importers import arxiv_atom
from .importers.base import Source
from .ingest import import_source
from .models import Record
from .normalize import parse_arxiv_id
from .progress import Progress
from .storage import enrichment
from .storage.base import Library
from .storage.enrichment import MissingFields


@dataclass
class EnrichReport:
    incomplete: int = 0  # papers that lacked a field
    asked: int = 0  # arXiv ids looked up
    requests: int = 0
    enriched: int = 0  # papers that gained at least one field
    filled: dict[str, int] = field(default_factory=dict)  # field -> papers that gained it
    not_on_arxiv: list[str] = field(default_factory=list)  # ids arXiv returned nothing for
    no_id: list[dict[str, Any]] = field(default_factory=list)  # papers left as they are
    error: str | None = None

    def as_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


def arxiv_id_of(ids: list[str], paper_id: str) -> str | None:
    """The unversioned arXiv id among a paper's ids, if any."""
    for i in [paper_id, *ids]:
        if i.startswith("arxiv:"):
            parsed = parse_arxiv_id(i.removeprefix("arxiv:"))
            if parsed:
                return parsed[0]
    return None


def enrich(
    lib: Library,
    *,
    batch: int = 100,
    limit: int | None = None,
    base_url: str = fetch.ARXIV_API,
    delay: float = 3.0,
    retries: int = 4,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    progress: Progress | None = None,
) -> EnrichReport:
    """Look up every incomplete paper with an arXiv id; a network failure keeps the batches done."""
    before = enrichment.papers_missing_fields(lib)
    report = EnrichReport(incomplete=len(before))
    wanted: dict[str, MissingFields] = {}
    for row in before:
        aid = arxiv_id_of(list(row.ids), row.id)
        if aid is None:
            report.no_id.append({"id": row.id, "missing": list(row.missing)})
        elif aid not in wanted:
            wanted[aid] = row
    ids = list(wanted)[:limit]
    report.asked = len(ids)
    returned: set[str] = set()
    looked_up: set[str] = set()
    for n, start in enumerate(range(0, len(ids), batch)):
        chunk = ids[start : start + batch]
        if n:
            sleep(delay)  # batches keep arXiv's pace too
        try:
            returned |= _lookup(lib, chunk, base_url, delay, retries, sleep, clock, report)
        except RadarError as e:
            report.error = str(e)
            break
        looked_up.update(chunk)
        if progress:
            progress(min(start + batch, len(ids)), len(ids), "enrich: arXiv ids looked up")
    report.not_on_arxiv = sorted(f"arxiv:{i}" for i in looked_up - returned)
    _count_filled(lib, [wanted[i] for i in ids], report)
    return report


def enrich_paper(
    lib: Library,
    ref: str,
    *,
    base_url: str = fetch.ARXIV_API,
    retries: int = 2,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> EnrichReport:
    """Look up one paper by its arXiv id now (the web's "fetch title and authors" button)."""
    from .papers import load_paper

    paper = load_paper(lib, lib.resolve(ref), with_sources=False)
    aid = arxiv_id_of(paper.ids, paper.id)
    report = EnrichReport(incomplete=1)
    if aid is None:
        report.no_id.append({"id": paper.id, "missing": []})
        return report
    report.asked = 1
    got = _lookup(lib, [aid], base_url, 0.0, retries, sleep, clock, report)
    report.not_on_arxiv = [] if got else [f"arxiv:{aid}"]
    report.enriched = int(bool(got))
    return report


def _lookup(
    lib: Library,
    chunk: list[str],
    base_url: str,
    delay: float,
    retries: int,
    sleep: Callable[[float], None],
    clock: Callable[[], float],
    report: EnrichReport,
) -> set[str]:
    """Fetch and import one batch; returns the arXiv ids the answer held."""
    got: set[str] = set()
    pages = fetch.fetch_arxiv(
        ids=chunk, page_size=min(len(chunk), fetch.ARXIV_MAX_PAGE), base_url=base_url,
        delay=delay, retries=retries, sleep=sleep, clock=clock,
    )  # fmt: skip
    for body in pages:
        report.requests += 1
        source = Source.from_bytes(body, f"{base_url}?id_list={','.join(chunk)}")
        for rec in arxiv_atom.parse(source):
            if isinstance(rec, Record):
                got.update(a for i in rec.ids if (a := arxiv_id_of([], i)))
        import_source(lib, Source.from_bytes(body, source.path), arxiv_atom.NAME)
    return got


def _count_filled(lib: Library, rows: list[MissingFields], report: EnrichReport) -> None:
    still = {r.pk: set(r.missing) for r in enrichment.papers_missing_fields(lib)}
    for row in rows:
        pk: int | None = row.pk if lib.existing_pks([row.pk]) else None
        if pk is None:  # merged into another paper: look it up by id
            try:
                pk = lib.resolve(row.id)
            except RadarError:
                continue
        gained = set(row.missing) - still.get(pk, set())
        report.enriched += bool(gained)
        for name in gained:
            report.filled[name] = report.filled.get(name, 0) + 1
