"""`paperradar search QUERY`: find papers by keywords (semantic and hybrid once `index` has run)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape

from .. import search as svc
from ..display import author_line
from ..hits import Segments, first_words, hit_json, plain
from ..models import paper_date
from . import JsonFlag, app, display_title, err, library, out, print_json

HIGHLIGHT = "bold yellow"


def highlight_rich(segs: Segments, style: str = HIGHLIGHT) -> str:
    """Segments as rich markup: every piece of text escaped, highlights styled."""
    return "".join(f"[{style}]{escape(t)}[/{style}]" if on else escape(t) for t, on in segs)


@app.command("search")
def search_cmd(
    query: Annotated[
        str,
        typer.Argument(
            help='Words to find (all of them), "a phrase", prefix*, -excluded (put -- before a'
            " query that starts with -). Empty: the newest papers."
        ),
    ],
    mode: Annotated[str, typer.Option(help="keyword, semantic or hybrid.")] = "keyword",
    limit: Annotated[int, typer.Option(help="How many results.")] = 20,
    offset: Annotated[int, typer.Option(help="Skip this many first (for the next page).")] = 0,
    since: Annotated[
        str | None, typer.Option(help="Only papers from this date on: 2024, 2024-10, 2024-10-13.")
    ] = None,
    until: Annotated[
        str | None, typer.Option(help="Only papers up to this date (the whole period included).")
    ] = None,
    category: Annotated[
        list[str] | None,
        typer.Option("--category", help="arXiv category (cs.LG, or cs for all cs.*); repeatable."),
    ] = None,
    author: Annotated[
        str | None, typer.Option(help="Only papers with this author (e.g. 'Tian' or 'Yuandong Tian').")
    ] = None,
    has_code: Annotated[bool, typer.Option("--has-code", help="Only papers with a code link.")] = False,
    source: Annotated[
        str | None, typer.Option(help="Only papers imported by this importer (e.g. arxiv_snapshot).")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Search the library: best matches first, with highlighted snippets."""
    filters = svc.Filters(
        since=since,
        until=until,
        categories=tuple(category or ()),
        author=author,
        has_code=has_code,
        source=source,
    )
    with library() as lib:
        result = svc.search(lib, query, mode=mode, limit=limit, offset=offset, filters=filters)
    if as_json:
        print_json([hit_json(h) for h in result.hits])
        for note in result.notes:
            err.print(f"note: {escape(note)}", highlight=False)
        return
    _render(result, offset)


def _render(result: svc.SearchResult, offset: int) -> None:
    for note in result.notes:
        out.print(f"[yellow]{escape(note)}[/yellow]", highlight=False)
    for n, hit in enumerate(result.hits, start=offset + 1):
        p = hit.paper
        title = highlight_rich(hit.title) if hit.title else display_title(p)
        out.print(f"[bold]{n:>3}.[/bold] {title}", highlight=False)
        meta = [
            f"[cyan]{escape(p.id)}[/cyan]",
            paper_date(p) or "",
            author_line(p),
            ", ".join(p.categories[:3]),
        ]
        out.print(
            "     " + " · ".join(escape(m) if i else m for i, m in enumerate(meta) if m), highlight=False
        )
        same = plain(hit.snippet) == plain(hit.title)  # the abstract did not match: show its start
        snippet = first_words(p) if same else hit.snippet
        if snippet:
            out.print("     [dim]" + highlight_rich(snippet) + "[/dim]", highlight=False)
    shown = (
        f"{offset + 1}–{offset + len(result.hits)} of {result.total:,}"
        if result.hits
        else f"none of {result.total:,}"
    )
    out.print(f"[dim]{shown} · {result.took_ms:.1f} ms[/dim]", highlight=False)
