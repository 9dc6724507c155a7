"""`paperradar import`: files, folders or standard input into the library, with a report."""

from __future__ import annotations

import sys
from contextlib import nullcontext
from typing import Annotated

import typer
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from ..cluster import SHARD_LINES
from ..errors import InvalidInput, RadarError
from ..importers import IMPORTERS
from ..importers.base import Source
from ..ingest import ImportReport, MatchState, expand_paths, import_source
from . import JsonFlag, app, err, library, out, print_json
from .cluster_opts import RayAddress, RayShardLines, RayThreads, RayWorkers, make_cluster


def _parse_map(text: str | None) -> dict[str, str] | None:
    if not text:
        return None
    from ..importers._columns import parse_map_option

    return parse_map_option(text)


@app.command("import")
def import_cmd(
    paths: Annotated[
        list[str],
        typer.Argument(
            help="Files or folders to import; '-' reads standard input; zotero: your Zotero library,"
            ' zotero:"A collection", or zotero:/path/to/zotero.sqlite[#collection].'
        ),
    ],
    fmt: Annotated[
        str, typer.Option("--format", "-f", help=f"auto, or one of: {', '.join(sorted(IMPORTERS))}.")
    ] = "auto",
    column_map: Annotated[
        str | None,
        typer.Option(
            "--map", help="Column mapping for CSV/JSONL/Parquet, e.g. 'title=paper_title,abstract=summary'."
        ),
    ] = None,
    no_index: Annotated[
        bool, typer.Option("--no-index", help="Skip embedding the new papers (fast tier) after the import.")
    ] = False,
    ray: RayAddress = None,
    ray_workers: RayWorkers = 2,
    ray_threads: RayThreads = 1,
    ray_shard_lines: RayShardLines = SHARD_LINES,
    as_json: JsonFlag = False,
) -> None:
    """Import papers from pasted pages, arXiv/Hugging Face files, CSV/JSONL/Parquet, BibTeX or RIS.

    New papers are then embedded by the fast model, so semantic search finds them at once
    (`paperradar index` upgrades them to the quality model)."""
    mapping = _parse_map(column_map)
    cluster = make_cluster(ray, ray_workers, ray_threads, shard_lines=ray_shard_lines)
    chunker = _ray_chunker(cluster) if cluster else None
    stdin = paths == ["-"]
    sources = [Source.from_bytes(sys.stdin.buffer.read(), "<stdin>")] if stdin else _sources(paths)
    reports: list[ImportReport] = []
    failures: list[str] = []
    with library() as lib:
        matching = MatchState(lib)  # once per command: 21 small files do not rebuild it 21 times
        for source in sources:
            try:
                if isinstance(source, str):  # zotero:...: fetched or read now, so a failure is this one's
                    source = _zotero_source(source)
                reports.append(_import_one(lib, source, fmt, mapping, matching, chunker))
            except RadarError as e:
                failures.append(str(e))
                err.print(f"[red]Error:[/red] {escape(str(e))}", highlight=False)
        changed = any(r.new or r.merged for r in reports)
        indexed = _index_new(lib) if changed and not no_index else None
    if as_json:
        print_json({"files": [r.as_json() for r in reports], "failed": failures, "index": indexed})
    else:
        _render(reports)
    if failures and not reports:
        raise typer.Exit(1)


def _sources(paths: list[str]) -> list[Source | str]:
    """Files and folders as Sources; `zotero:` specs (the Zotero web library, a collection, or a
    zotero.sqlite) kept as text until their turn comes."""
    out: list[Source | str] = []
    for p in paths:
        if p.startswith("zotero:"):
            out.append(p)
        else:
            out.extend(Source.from_file(f) for f in expand_paths([p]))
    return out


def _zotero_source(spec: str) -> Source:
    from .. import zotero

    return zotero.source_for(spec)


def _index_new(lib) -> dict | None:  # type: ignore[no-untyped-def]
    from ..index import index_new_papers

    columns = ("embedding new papers (fast)", BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=err, disable=not err.is_terminal) as bar:
        task = bar.add_task("fast", total=None)
        report = index_new_papers(lib, lambda done, total: bar.update(task, completed=done, total=total))
    from .index_cmd import build_ranking_features

    build_ranking_features(lib)
    if report is None:
        err.print("semantic search is off until the embedding models are built (`make models`)")
    return report


def _ray_chunker(cluster):  # type: ignore[no-untyped-def]
    """Shards of a bulk snapshot parsed on the cluster (`cluster.ray_chunks`), matched and written here."""
    from ..cluster import ray_chunks

    return lambda name, source, column_map: ray_chunks(name, source, column_map, cluster)


def _import_one(lib, source: Source, fmt: str, mapping, matching: MatchState, chunker=None):  # type: ignore[no-untyped-def]
    show = err.is_terminal
    bar = Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=err)
    with bar if show else nullcontext():
        task = bar.add_task(f"{source.path}: 0 records", total=None) if show else None
        done = 0

        def progress(n: int) -> None:
            nonlocal done
            done += n
            if task is not None:
                bar.update(task, description=f"{escape(source.path)}: {done:,} records")

        try:
            return import_source(lib, source, fmt, mapping, progress, matching, chunker)
        except UnicodeDecodeError as e:
            raise InvalidInput(f"{source.path}: not UTF-8 text ({e.reason})") from e


def _render(reports: list[ImportReport]) -> None:
    for r in reports:
        out.print(
            f"[bold]{escape(r.path)}[/bold] ({r.importer}): read {r.read}, new {r.new}, merged {r.merged}, "
            f"unchanged {r.unchanged}, rejected {len(r.rejected)}",
            highlight=False,
        )
        for e in r.rejected[:20]:
            out.print(f"  [yellow]rejected[/yellow] {escape(str(e))}", highlight=False)
        if len(r.rejected) > 20:
            out.print(f"  ... and {len(r.rejected) - 20} more (use --json for all)")
        for e in r.conflicts[:20]:
            out.print(f"  [yellow]not merged[/yellow] {escape(str(e))}", highlight=False)
    if len(reports) > 1:
        total = {k: sum(getattr(r, k) for r in reports) for k in ("read", "new", "merged", "unchanged")}
        rejected = sum(len(r.rejected) for r in reports)
        out.print(
            f"[bold]total[/bold]: read {total['read']}, new {total['new']}, merged {total['merged']}, "
            f"unchanged {total['unchanged']}, rejected {rejected}"
        )
