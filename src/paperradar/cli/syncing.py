"""`paperradar sync` and `enrich`: bring new papers in from each source, fill in incomplete ones.
Also the helpers the digest and watch commands share (the options of a sync,
errors reported after the rest ran)."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from .. import config
from . import JsonFlag, app, err, library, out, print_json, progress_bar, settings


def sync_options(s: config.Settings, days: int | None) -> Any:
    """The sync options from the settings `s` (a flag wins over the setting)."""
    from ..sync import SyncOptions
    from ..zotero import account_from_settings

    return SyncOptions(
        arxiv_api=s.arxiv_api, hf_api=s.hf_api, arxiv_oai=s.arxiv_oai,
        days=s.sync_days if days is None else days, max_results=s.sync_max,
        delay=s.arxiv_delay, retries=s.fetch_retries,
        zotero=account_from_settings(s) if s.zotero_user else None,
    )  # fmt: skip


def run_sync(sources: list[str] | None, days: int | None) -> list[Any]:
    from ..sync import parse_sources, sync_and_index

    chosen = parse_sources(sources or settings().sync_sources)
    with library() as lib, progress_bar("syncing") as progress:
        return sync_and_index(lib, chosen, sync_options(settings(), days), progress)


@app.command("sync")
def sync_cmd(
    sources: Annotated[
        list[str] | None,
        typer.Argument(help="arxiv:CATEGORY, arxiv-oai:SET or hf (default: the sync_sources setting)."),
    ] = None,
    days: Annotated[int | None, typer.Option(help="Days back a source's first sync reaches.")] = None,
    status: Annotated[
        bool, typer.Option("--status", help="Show where each source stopped; fetch nothing.")
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """Fetch what is new from each source since it last stopped, through the usual import and dedup."""
    if status:
        return _print_status(as_json)
    reports = run_sync(sources, days)
    if as_json:
        print_json([r.as_json() for r in reports])
    else:
        for r in reports:
            state = " (failed, see below)" if r.error else (" (up to date)" if r.done else " (more next run)")
            out.print(
                f"{r.source}: {r.requests} requests, read {r.read}, new {r.new}, merged {r.merged}, "
                f"unchanged {r.unchanged}, rejected {r.rejected}{state}", highlight=False,
            )  # fmt: skip
    fail_on([f"{r.source}: {r.error} (the next sync resumes from there)" for r in reports if r.error])


def _print_status(as_json: bool) -> None:
    """Where each source stopped (`sync --status`); before the first sync, says so (JSON: [])."""
    from ..sync import sync_states

    with library() as lib:
        states = sync_states(lib)
    if as_json:
        return print_json([s.as_json() for s in states])
    if not states:
        configured = settings().sync_sources
        then = f"; `paperradar sync` fetches {configured}" if configured else ""
        out.print(f"No source has been synced yet{then}.", highlight=False)
    for s in states:
        error = f"  [red]last error: {s.last_error}[/red]" if s.last_error else ""
        out.print(
            f"{s.source}: {json.dumps(s.cursor.as_json())}, last ok {s.last_ok or 'never'}{error}",
            highlight=False,
        )
    return None


def fail_on(errors: list[str]) -> None:
    for message in errors:
        err.print(f"[red]Error:[/red] {message}", highlight=False)
    if errors:
        raise typer.Exit(1)


@app.command("enrich")
def enrich_cmd(
    batch: Annotated[int, typer.Option(help="arXiv ids per request.", min=1, max=2000)] = 100,
    limit: Annotated[int | None, typer.Option(help="Look up at most this many papers.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Fill titles, authors, dates and categories that pasted pages left out, from arXiv by id."""
    from ..enrich import enrich

    with library() as lib, progress_bar("enrich") as progress:
        report = enrich(
            lib, batch=batch, limit=limit, base_url=settings().arxiv_api,
            delay=settings().arxiv_delay, retries=settings().fetch_retries,
            progress=progress,
        )  # fmt: skip
    if as_json:
        print_json(report.as_json())
    else:
        _render_enrich(report)
    fail_on([f"enrich stopped: {report.error}; the papers looked up so far are kept"] if report.error else [])


def _render_enrich(report: Any) -> None:
    filled = ", ".join(f"{k} {v}" for k, v in sorted(report.filled.items())) or "nothing"
    out.print(
        f"{report.incomplete} papers lacked a field; looked up {report.asked} arXiv ids in "
        f"{report.requests} requests; {report.enriched} papers enriched (filled: {filled})", highlight=False,
    )  # fmt: skip
    if report.not_on_arxiv:
        out.print(
            f"{len(report.not_on_arxiv)} ids arXiv returned nothing for: {', '.join(report.not_on_arxiv[:10])}"
        )
    if report.no_id:
        out.print(f"{len(report.no_id)} papers have no arXiv id and stay as they are, e.g.:")
        for row in report.no_id[:5]:
            out.print(f"  {row['id']} (missing {', '.join(row['missing'])})", highlight=False)
