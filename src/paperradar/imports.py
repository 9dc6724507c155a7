"""The import service: several sources into the library, one after another, then the new papers
embedded and the ranking features brought up to date. `paperradar import` and the web's import
job both call it (they only render the result). Does I/O through the library (and fetches a
`zotero:` source when its turn comes).

One unreadable source is reported in `failed` and does not stop the others; within a source, a
bad record is reported by the importer and never stops the file (ingest.import_source).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import Any

from .config import Settings
from .errors import InvalidInput, RadarError
from .importers.base import Source
from .ingest import Chunker, ImportReport, MatchState, import_source, now_iso
from .progress import Progress, Tally
from .storage.base import Library

BULK_MIN_BYTES = 64 * 1024 * 1024  # ~40,000 arXiv records: bulk mode from here (`import --bulk` forces it)
BULK_GROUP = 20  # batches a transaction in bulk mode


@dataclass
class ImportRun:
    """What an import of several sources did: a report per source read, a message per source not."""

    files: list[ImportReport] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return any(r.new or r.merged for r in self.files)

    def as_json(self) -> dict[str, Any]:
        return {"ok": bool(self.files), "files": [r.as_json() for r in self.files], "failed": self.failed}


def import_sources(
    lib: Library,
    sources: Iterable[Source | str],
    fmt: str = "auto",
    column_map: dict[str, str] | None = None,
    *,
    progress: Progress | None = None,
    chunker: Chunker | None = None,
    on_failure: Callable[[str], None] | None = None,
    settings: Settings | None = None,
    bulk: bool | None = False,
) -> ImportRun:
    """Import each source in turn (a `zotero:` spec is read when its turn comes, so its failure is
    its own). Matching is set up once for all of them. `on_failure` hears each failed source as
    it happens (the CLI prints it at once). `progress` hears the records handled so far, across
    all the sources, with the name of the one being read. `settings` (the edge's) give a `zotero:`
    spec its account.

    `bulk` (None: when the files hold `BULK_MIN_BYTES` or more) writes in bulk mode: the full-text
    index built once at the end and larger transactions (storage/bulk.py); the library is the same."""
    run = ImportRun()
    sources = list(sources)
    matching = MatchState(lib)
    tally = Tally(progress) if progress is not None else None
    in_bulk = worth_bulk(sources) if bulk is None else bulk
    stamp = now_iso()  # one import time for every file of the command (see Source.stamp)
    with lib.bulk_import() if in_bulk else nullcontext():
        for source in sources:
            if isinstance(source, Source) and source.stamp is None:
                source.stamp = stamp
            try:
                one = _import_one(
                    lib,
                    source,
                    fmt,
                    column_map,
                    tally,
                    matching,
                    chunker,
                    settings,
                    BULK_GROUP if in_bulk else 1,
                )
                run.files.append(one)
            except RadarError as e:
                run.failed.append(str(e))
                if on_failure is not None:
                    on_failure(str(e))
    return run


def worth_bulk(sources: list[Source | str]) -> bool:
    """Whether these sources are big enough for bulk mode (files only; a zotero: spec counts 0)."""
    size = 0
    for s in sources:
        if isinstance(s, Source):
            size += len(s.data) if s.data is not None else (s.file.stat().st_size if s.file else 0)
    return size >= BULK_MIN_BYTES


def _import_one(
    lib: Library,
    source: Source | str,
    fmt: str,
    column_map: dict[str, str] | None,
    tally: Tally | None,
    matching: MatchState,
    chunker: Chunker | None,
    settings: Settings | None,
    group: int,
) -> ImportReport:
    if isinstance(source, str):
        from . import zotero

        source = zotero.source_for(source, settings=settings)
    name = source.path
    counted = tally.under(name) if tally is not None else None
    try:
        return import_source(lib, source, fmt, column_map, counted, matching, chunker, group)
    except UnicodeDecodeError as e:
        raise InvalidInput(f"{name}: not UTF-8 text ({e.reason})") from e


def index_imported(lib: Library, progress: Progress | None = None) -> dict[str, dict[str, object] | None]:
    """After an import that changed something: embed the new papers (the fast tier, so semantic
    search finds them at once) and bring the ranking features up to date, so no request has to
    build them. `index` is None when the embedding models are not built."""
    from .index import index_new_papers
    from .rank.features import build_features

    index = index_new_papers(lib, progress)
    if progress is not None:
        progress(0, None, "building the ranking features")
    return {"index": index, "features": build_features(lib)}
