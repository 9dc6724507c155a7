"""`paperradar fetch arxiv|hf-daily`: download from the APIs and import through the same pipeline."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import typer

from .. import remote
from ..errors import InvalidInput
from . import JsonFlag, app, library, print_json, settings
from .imports import _render

fetch_app = typer.Typer(help="Fetch papers from arXiv or Hugging Face and import them.", no_args_is_help=True)
app.add_typer(fetch_app, name="fetch")


@fetch_app.command("arxiv")
def fetch_arxiv_cmd(
    query: Annotated[
        str | None, typer.Argument(help="arXiv API search, e.g. 'cat:cs.CL AND ti:retrieval'.")
    ] = None,
    ids: Annotated[list[str] | None, typer.Option("--id", help="arXiv id to fetch; repeatable.")] = None,
    max_results: Annotated[int | None, typer.Option("--max", help="Stop after this many papers.")] = 200,
    page_size: Annotated[int, typer.Option(help="Papers per request (at most 2000).")] = 100,
    restart: Annotated[
        bool, typer.Option("--restart", help="Start from the first page, not where it stopped.")
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """Fetch an arXiv API search or id list, politely (one request per 3 s), resuming where it stopped."""
    if not query and not ids:
        raise InvalidInput("give a search query or at least one --id")
    with library() as lib:
        reports = remote.fetch_arxiv_into(
            lib,
            query=query,
            ids=ids,
            max_results=max_results,
            page_size=page_size,
            resume=not restart,
            base_url=settings().arxiv_api,
            delay=settings().arxiv_delay,
            retries=settings().fetch_retries,
            legacy_state=settings().data_dir / "fetch-state.json",
        )
    if as_json:
        print_json({"files": [r.as_json() for r in reports], "failed": []})
    else:
        _render(reports)


@fetch_app.command("hf-daily")
def fetch_hf_cmd(
    day: Annotated[str | None, typer.Option("--date", help="YYYY-MM-DD (default: today).")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Fetch one day of Hugging Face Daily Papers."""
    try:
        when = date.fromisoformat(day) if day else date.today()
    except ValueError as e:
        raise InvalidInput(f"--date must be YYYY-MM-DD, not {day!r}") from e
    with library() as lib:
        report = remote.fetch_hf_daily_into(
            lib, when, base_url=settings().hf_api, retries=settings().fetch_retries
        )
    if as_json:
        print_json({"files": [report.as_json()], "failed": []})
    else:
        _render([report])
