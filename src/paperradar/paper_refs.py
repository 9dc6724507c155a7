"""Which papers a profile means: ids, aliases and pks resolved, a pasted list of ids, any file
an importer reads (imported first, so papers already there are matched, not duplicated), and the
ids of stored papers. The profile services (profiles.py, interests.py) share it.
Does I/O through the library (an importable file is imported and its new papers embedded).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from .errors import InvalidInput, NotFound
from .importers.base import Source
from .ingest import ImportReport
from .normalize import ids_from_text
from .progress import Progress
from .storage.base import Library

ID_LIST_MAX = 1 << 20  # a list of ids longer than this is not looked for


def resolve_refs(lib: Library, refs: Sequence[str | int]) -> list[int]:
    """Paper pks for ids/aliases (ints are taken as pks); NotFound names every unknown one."""
    pks, missing = [], []
    for ref in refs:
        if isinstance(ref, int):
            pks.append(ref)
            continue
        try:
            pks.append(lib.resolve(ref.strip()))
        except NotFound:
            missing.append(ref)
    if missing:
        shown = ", ".join(missing[:10]) + (f" and {len(missing) - 10} more" if len(missing) > 10 else "")
        raise NotFound(f"not in the library: {shown} (import them first, e.g. `paperradar import FILE`)")
    return list(dict.fromkeys(pks))


def id_lines(text: str) -> list[str] | None:
    """The ids of a plain list of ids (one per line, # comments allowed), or None if it is not one."""
    lines = [ln.strip() for ln in text.splitlines()]
    lines = [ln for ln in lines if ln and not ln.startswith("#")]
    if not lines or not all(len(ln.split()) == 1 and ids_from_text(ln) for ln in lines):
        return None
    return lines


def papers_in_source(
    lib: Library, source: Source, fmt: str = "auto", *, index: bool = True, progress: Progress | None = None
) -> tuple[list[int], ImportReport | None]:
    """The papers a file or pasted text names, in its order: a list of ids is resolved; any other
    importable text is imported first (papers already there are matched, not duplicated), and the
    new papers are then embedded as `paperradar import` embeds them (`imports.index_imported`:
    the quality tier for up to `quality_import_max` new papers), so they are ranked by their
    vectors at once; `index=False` skips that (as `import --no-index` does). `progress` hears the
    embedding."""
    from . import importers
    from .imports import index_imported
    from .ingest import import_source, prepare

    if fmt == "auto":
        head = source.head(ID_LIST_MAX)
        ids = id_lines(head.decode("utf-8", errors="replace")) if len(head) < ID_LIST_MAX else None
        if ids is not None:
            return resolve_refs(lib, ids), None
    report = import_source(lib, source, fmt)
    if index and (report.new or report.merged):
        index_imported(lib, progress)
    module = importers.detect(source) if fmt == "auto" else importers.load(fmt)
    pks: list[int] = []
    for item in module.parse(source):
        if isinstance(item, Exception):
            continue
        try:
            pks.append(lib.paper_of_record(prepare(item).record.key))
        except NotFound:
            continue
    return list(dict.fromkeys(pks)), report


def papers_in_file(
    lib: Library, path: str | Path, *, index: bool = True, progress: Progress | None = None
) -> tuple[list[int], ImportReport | None]:
    """`papers_in_source` for a file path, or standard input when path is '-'."""
    if str(path) == "-":
        import sys

        source = Source.from_bytes(sys.stdin.buffer.read(), "<stdin>")
    elif not Path(path).is_file():
        raise InvalidInput(f"{path}: no such file")
    else:
        source = Source.from_file(path)
    return papers_in_source(lib, source, index=index, progress=progress)


def ids_of(lib: Library, pks: list[int]) -> dict[int, str]:
    """The id of each of these papers."""
    out: dict[int, str] = {}
    for pk in set(pks):
        out[pk] = lib.paper_row(pk).id
    return out
