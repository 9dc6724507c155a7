"""`paperradar import`: files, folders or standard input into the library, with a report."""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer
from rich.markup import escape

from ..cluster import SHARD_LINES
from ..importers import IMPORTERS, parse_column_map
from ..importers.base import Source
from ..imports import import_sources, index_imported
from ..ingest import Chunker, ImportReport, expand_paths
from ..storage import Library
from . import JsonFlag, app, err, library, out, print_json, progress_bar, settings
from .cluster_opts import RayAddress, RayShardLines, RayThreads, RayWorkers, make_cluster


def _parse_map(text: str | None) -> dict[str, str] | None:
    return parse_column_map(text) if text else None


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
        bool, typer.Option("--no-index", help="Skip embedding the new papers after the import.")
    ] = False,
    bulk: Annotated[
        bool | None,
        typer.Option(
            "--bulk/--no-bulk",
            help="Bulk mode: the keyword index built once at the end, larger transactions (faster for big"
            " imports; new papers are found by keyword search when the import ends). Default: on when the"
            " files hold 64 MB or more.",
        ),
    ] = None,
    ray: RayAddress = None,
    ray_workers: RayWorkers = 2,
    ray_threads: RayThreads = 1,
    ray_shard_lines: RayShardLines = SHARD_LINES,
    as_json: JsonFlag = False,
) -> None:
    """Import papers from pasted pages, arXiv/Hugging Face files, CSV/JSONL/Parquet, BibTeX or RIS.

    New papers are then embedded, so semantic search and recommendations use them at once: by the
    quality model when they are at most quality_import_max (2,000), else by the fast model
    (`paperradar index` upgrades them to the quality model)."""
    mapping = _parse_map(column_map)
    cluster = make_cluster(ray, ray_workers, ray_threads, shard_lines=ray_shard_lines)
    chunker = _ray_chunker(cluster) if cluster else None
    stdin = paths == ["-"]
    sources = [Source.from_bytes(sys.stdin.buffer.read(), "<stdin>")] if stdin else _sources(paths)
    with library() as lib:
        with progress_bar("importing") as progress:
            run = import_sources(
                lib, sources, fmt, mapping, progress=progress, chunker=chunker, on_failure=_print_failure,
                settings=settings(), bulk=bulk,
            )  # fmt: skip
        indexed = _index_new(lib) if run.changed and not no_index else None
    if as_json:
        print_json({"files": [r.as_json() for r in run.files], "failed": run.failed, "index": indexed})
    else:
        _render(run.files)
    if run.failed and not run.files:
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


def _print_failure(message: str) -> None:
    err.print(f"[red]Error:[/red] {escape(message)}", highlight=False)


def _index_new(lib: Library) -> dict[str, object] | None:
    """Embed the new papers (index.import_tier's tier) and build the ranking features, with a progress bar."""
    with progress_bar("embedding new papers") as progress:
        report = index_imported(lib, progress)["index"]
    if report is None:
        err.print("semantic search is off until the embedding models are built (`make models`)")
    return report


def _ray_chunker(cluster: Any) -> Chunker:
    """Shards of a bulk snapshot parsed on the cluster (`cluster.ray_chunks`), matched and written here."""
    from ..cluster import ray_chunks

    return lambda name, source, column_map: ray_chunks(name, source, column_map, cluster)


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
