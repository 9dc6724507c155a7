"""`paperradar papers ...` and `paperradar stats`: browse, show, export and correct the library."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from .. import papers as svc
from ..display import author_line
from ..export import EXPORT_FORMATS
from ..models import paper_date
from . import JsonFlag, app, display_title, library, out, print_json

papers_app = typer.Typer(help="Browse, show, export and correct papers.", no_args_is_help=True)
app.add_typer(papers_app, name="papers")


@papers_app.command("list")
def list_cmd(
    limit: Annotated[int, typer.Option(help="How many papers.")] = 20,
    offset: Annotated[int, typer.Option(help="Skip this many first.")] = 0,
    sort: Annotated[str, typer.Option(help="recent, added or title.")] = "recent",
    as_json: JsonFlag = False,
) -> None:
    """List papers in the library."""
    with library() as lib:
        items = svc.list_papers(lib, limit, offset, sort)
    if as_json:
        print_json([svc.paper_json(p, with_sources=False) for p in items])
        return
    table = Table(show_lines=False, expand=True, box=None, header_style="bold")
    table.add_column("id", no_wrap=True, style="cyan")
    table.add_column("date", no_wrap=True)
    table.add_column("title", ratio=3, overflow="fold")
    table.add_column("authors", ratio=1, min_width=16, overflow="ellipsis", no_wrap=True)
    for p in items:
        table.add_row(escape(p.id), paper_date(p) or "", display_title(p), escape(author_line(p, 1)))
    out.print(table)


@papers_app.command("show")
def show_cmd(
    paper_id: Annotated[
        str, typer.Argument(help="Any id of the paper: arxiv:2410.09918, 2410.09918v2, a DOI...")
    ],
    raw: Annotated[
        bool, typer.Option("--raw", help="Also show each source record's text exactly as read.")
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """Show one paper: every field, and which source said what."""
    with library() as lib:
        p = svc.get_paper(lib, paper_id)
        raws = {s.key: lib.raw_of(s.key) for s in p.sources} if raw else {}
    if as_json:
        data = svc.paper_json(p)
        for src in data["sources"] if raw else ():
            src["raw"] = raws[src["key"]]
        print_json(data)
        return
    title = escape(p.title) if p.title else display_title(p)  # as stored; an untitled one by its label
    out.print(f"[bold]{title}[/bold]", highlight=False)
    out.print(f"id: {p.id}    aliases: {', '.join(i for i in p.ids if i != p.id)}", highlight=False)
    if p.authors:
        out.print("authors: " + escape(author_line(p, 50)), highlight=False)
    for label, value in (
        ("categories", ", ".join(p.categories)),
        ("dates", ", ".join(f"{k} {v.iso()}" for k, v in p.dates.items())),
        ("comment", p.comment),
        ("venue", p.venue),
        ("organisation", p.organisation),
        ("upvotes", p.upvotes),
        ("links", "; ".join(f"{k}: {' '.join(v)}" for k, v in p.links.items())),
    ):
        if value:
            out.print(f"{label}: {escape(str(value))}", highlight=False)
    if p.abstract:
        out.print("\n" + escape(p.abstract) + "\n", highlight=False)
    out.print(f"[bold]sources ({len(p.sources)})[/bold]")
    for s in p.sources:
        given = ", ".join(k for k in s.fields if k != "extra")
        chosen = sorted({f.split(".")[0] for f, key in p.provenance.items() if key == s.key})
        out.print(
            f"  {s.key[:12]}  {s.importer}  {escape(s.path)}:{s.line or '-'}  gave: {given}"
            + (f"  [green]chosen: {', '.join(chosen)}[/green]" if chosen else ""),
            highlight=False,
        )
        if raw:
            out.print("    " + escape(raws[s.key]).replace("\n", "\n    "), highlight=False, style="dim")


@papers_app.command("export")
def export_cmd(
    ids: Annotated[
        list[str] | None, typer.Argument(help="Papers to export (default: the whole library).")
    ] = None,
    fmt: Annotated[str, typer.Option("--format", "-f", help=" | ".join(EXPORT_FORMATS) + ".")] = "jsonl",
    output: Annotated[
        str | None, typer.Option("--output", "-o", help="Write to this file (atomically).")
    ] = None,
) -> None:
    """Export papers as JSONL (the documented schema), BibTeX, RIS or CSL-JSON."""
    if output:
        svc.check_folder(output)  # before the work, not after it
    with library() as lib:
        if ids:
            chosen = [svc.get_paper(lib, i) for i in ids]
        else:
            chosen = [svc.load_paper(lib, pk) for pk in lib.list_pks(None, 0, "added")][::-1]
        text = svc.export_papers(chosen, fmt)
    if output:
        svc.write_atomic(output, text)
        typer.echo(f"wrote {len(chosen)} papers to {output}", err=True)
    else:
        sys.stdout.write(text)


@papers_app.command("merge")
def merge_cmd(
    into: Annotated[str, typer.Argument(help="The paper to keep.")],
    other: Annotated[str, typer.Argument(help="The paper that is the same work; it joins the first.")],
    as_json: JsonFlag = False,
) -> None:
    """Merge two records of the same paper (the correction survives re-imports and rebuilds)."""
    with library() as lib:
        p = svc.merge_papers(lib, into, other)
    if as_json:
        print_json(svc.paper_json(p))
    else:
        out.print(f"merged into {p.id}: {len(p.sources)} source records", highlight=False)


@papers_app.command("split")
def split_cmd(
    paper_id: Annotated[str, typer.Argument(help="The paper that wrongly joins two works.")],
    records: Annotated[
        list[str],
        typer.Option("--record", "-r", help="Source record key (or prefix) to split off; repeatable."),
    ],
    as_json: JsonFlag = False,
) -> None:
    """Split source records off a paper into a paper of their own (kept across re-imports)."""
    with library() as lib:
        kept, new = svc.split_paper(lib, paper_id, records)
    if as_json:
        print_json({"kept": svc.paper_json(kept), "new": svc.paper_json(new)})
    else:
        out.print(f"{kept.id} keeps {len(kept.sources)} records; {new.id} now holds {len(new.sources)}")


@papers_app.command("rebuild")
def rebuild_cmd(as_json: JsonFlag = False) -> None:
    """Re-run matching over every stored record, keeping your merges and splits."""
    with library() as lib:
        result = svc.rebuild(lib)
    if as_json:
        print_json(result)
    else:
        out.print(
            f"rebuilt: {result['records']} records into {result['papers']} papers;"
            f" {result['embeddings_kept']} embeddings kept"
        )


@app.command("stats")
def stats_cmd(as_json: JsonFlag = False) -> None:
    """What the library holds: papers, source records, merges, records per importer."""
    with library() as lib:
        s = svc.stats(lib)
    if as_json:
        print_json(s)
        return
    out.print(f"[bold]{escape(s['path'])}[/bold]", highlight=False)
    out.print(
        f"papers {s['papers']:,} · source records {s['records']:,} · papers seen in several sources "
        f"{s['merged_papers']:,} · ids and aliases {s['aliases']:,} · corrections {s['corrections']}"
    )
    for importer, n in s["records_by_importer"].items():
        out.print(f"  {importer:<22} {n:>8,} records")
