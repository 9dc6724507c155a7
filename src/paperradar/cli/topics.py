"""`paperradar topics build|list|show|map` and `paperradar trends`: the map of the field."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from ..display import label_of
from ..errors import InvalidInput
from . import JsonFlag, LazyModule, app, err, library, out, print_json, progress_bar

if TYPE_CHECKING:
    from .. import topics as svc
    from ..topics import views
else:  # clustering needs scikit-learn and scipy: load them only when a command runs
    svc = LazyModule("paperradar.topics")
    views = LazyModule("paperradar.topics.views")

topics_app = typer.Typer(help="Topics of the library: build, list, show, map.", no_args_is_help=True)
app.add_typer(topics_app, name="topics")


@topics_app.command("build")
def build_cmd(
    fine: Annotated[
        int | None, typer.Option(help="Fine topics (default ~0.6 sqrt(papers), at most 200).")
    ] = None,
    broad: Annotated[int | None, typer.Option(help="Broad topics (default ~1.5 sqrt(fine)).")] = None,
    fit_sample: Annotated[
        int | None,
        typer.Option(
            min=2,
            help="Above this many papers, fit on a fixed sample of about this many and assign the rest"
            " to the nearest topic (default 200,000).",
        ),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Cluster the embedded papers into broad and fine topics, label them and lay out the map.
    A rebuild keeps the ids of topics whose papers mostly stay together."""
    with library() as lib, progress_bar("building topics") as progress:
        report = svc.build_topics(lib, fine, broad, progress=progress, fit_sample=fit_sample)
    data = report.as_json()
    if as_json:
        print_json(data)
        return
    out.print(
        f"{data['papers']:,} papers: {data['broad_topics']} broad, {data['fine_topics']} fine topics"
        f" ({data['kept_ids']} ids kept from the last build) in {data['seconds']['total']} s"
    )


@topics_app.command("list")
def list_cmd(
    level: Annotated[str | None, typer.Option(help="broad or fine (default: both, broad first).")] = None,
    limit: Annotated[int | None, typer.Option(help="Show only this many (per level).")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Topics, biggest first, with their ids, sizes and labels."""
    with library() as lib:
        found = views.list_topics(lib, level)
    if limit is not None:
        found = [t for lv in (1, 2) for t in [x for x in found if x.level == lv][:limit]]
    if as_json:
        print_json([views.topic_json(t) for t in found])
        return
    if not found:
        out.print("No topics yet: run `paperradar topics build`.")
    for t in found:
        indent = "" if t.level == 1 else "  "
        parent = f" [dim]in {t.parent}[/dim]" if t.parent else ""
        out.print(f"{indent}[cyan]{t.id:>4}[/cyan] {t.size:>7,}  {escape(t.label)}{parent}", highlight=False)


@topics_app.command("show")
def show_cmd(
    topic: Annotated[str, typer.Argument(help="A topic id, or words of its label.")],
    limit: Annotated[int, typer.Option(help="Papers to show.")] = 10,
    as_json: JsonFlag = False,
) -> None:
    """One topic: its terms, its place in the hierarchy, central and newest papers, papers per month."""
    with library() as lib:
        data = views.show_topic(lib, topic, limit)
    if as_json:
        print_json(data)
        return
    out.print(
        f"[bold]{escape(data['label'])}[/bold]  [cyan]{data['id']}[/cyan] · {data['size']:,} papers · {data['level']}"
    )
    out.print("terms: " + escape(", ".join(data["terms"])), highlight=False)
    if data["parent"]:
        out.print(f"in: [cyan]{data['parent']}[/cyan] {escape(data['parent_label'] or '')}", highlight=False)
    for c in data["children"]:
        out.print(f"  [cyan]{c['id']:>4}[/cyan] {c['size']:>6,}  {escape(c['label'])}", highlight=False)
    for name in ("central", "recent"):
        out.print(f"[bold]{'most central' if name == 'central' else 'newest'} papers[/bold]")
        for p in data[name]:
            out.print(
                f"  {escape(label_of(p['title'], p['id']))}  [dim]{escape(p['id'])} {p['month'] or ''}[/dim]",
                highlight=False,
            )
    if data["months"]:
        out.print(
            "per month: " + ", ".join(f"{m} {n}" for m, n in zip(data["months"], data["counts"], strict=True))
        )


@topics_app.command("map")
def map_cmd(
    png: Annotated[
        str | None, typer.Option("--png", help="Write the map as a PNG image to this file.")
    ] = None,
    limit: Annotated[int, typer.Option(help="At most this many papers drawn (an even sample).")] = 30_000,
    highlight: Annotated[
        list[str] | None, typer.Option("--highlight", help="Paper id to mark; repeatable.")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """The 2-D map of topics and papers: a PNG for reports, or the points as JSON."""
    with library() as lib:
        marked = [lib.resolve(ref) for ref in highlight or ()]
        data = views.map_points(lib, limit, marked)
    if png:
        from ..topics.png import render_png

        render_png(data, png)
        err.print(
            f"wrote {escape(png)} ({len(data['points']):,} of {data['total']:,} papers)", highlight=False
        )
    if as_json:
        print_json(data)
    elif not png:
        err.print("Nothing to do: give --png FILE or --json.")
        raise typer.Exit(2)


@topics_app.command("cluster")
def cluster_cmd(
    query: Annotated[str | None, typer.Argument(help="Group the papers this search finds.")] = None,
    profile: Annotated[str | None, typer.Option(help="Group this profile's papers instead.")] = None,
    limit: Annotated[int, typer.Option(help="How many search results to group.")] = 300,
    mode: Annotated[str, typer.Option(help="Search mode: keyword, semantic or hybrid.")] = "hybrid",
    k: Annotated[int | None, typer.Option("--k", help="How many groups (default ~sqrt(papers/2)).")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Topics of a subset: a search result or a profile's papers, grouped and labelled on the spot."""
    from ..topics.subset import cluster_papers

    if bool(query) == bool(profile):
        raise InvalidInput("give a QUERY or --profile NAME (one of them)")
    with library() as lib:
        if profile:
            from ..profiles import get_profile

            pks = list(get_profile(lib, profile).paper_pks)
        else:
            from ..search import search

            pks = [lib.resolve(h.paper.id) for h in search(lib, query or "", mode=mode, limit=limit).hits]
        groups = cluster_papers(lib, pks, k)
    if as_json:
        print_json(groups)
        return
    for g in groups:
        out.print(f"[bold]{escape(g['label'])}[/bold]  [dim]{g['size']} papers[/dim]", highlight=False)
        for p in g["papers"]:
            out.print(
                f"    {escape(label_of(p['title'], p['id']))}  [dim]{escape(p['id'])}[/dim]", highlight=False
            )


@app.command("trends")
def trends_cmd(
    profile: Annotated[str | None, typer.Option(help="What is new in this profile's topics.")] = None,
    window: Annotated[int, typer.Option(help="Recent months compared with the months before.")] = 3,
    level: Annotated[str, typer.Option(help="fine or broad topics.")] = "fine",
    limit: Annotated[int, typer.Option(help="How many rising topics.")] = 10,
    as_json: JsonFlag = False,
) -> None:
    """Rising topics: growing faster than the library against their own history, noise filtered out."""
    with library() as lib:
        if profile:
            data = views.profile_trends(lib, profile, window, limit)
        else:
            data = views.trends_report(lib, window=window, limit=limit, level=level)
    if as_json:
        print_json(data)
        return
    if profile:
        _render_profile(data)
        return
    out.print(
        f"[bold]Rising topics[/bold] {data['window_from']} – {data['window_to']} vs. since {data['before_from']}"
    )
    if not data["rising"]:
        out.print("No topic grows significantly (z >= 3 with at least 10 recent papers).")
    for n, r in enumerate(data["rising"], start=1):
        out.print(
            f"{n:>2}. [cyan]{r['id']:>4}[/cyan] {escape(r['label'])}  [green]x{r['growth']}[/green]"
            f" [dim]({r['recent']} recent vs {r['expected']} expected, z={r['z']})[/dim]",
            highlight=False,
        )


def _render_profile(data: dict) -> None:  # type: ignore[type-arg]
    out.print(f"[bold]New in {escape(data['profile'])}'s topics[/bold] since {data['window_from']}")
    for t in data["topics"]:
        growth = f" x{t['growth']}" if t.get("growth") is not None else ""
        out.print(
            f"[cyan]{t['id']:>4}[/cyan] {escape(t['label'])}  [dim]{t['profile_papers']} of yours,"
            f" {t['new_count']} new{growth}[/dim]",
            highlight=False,
        )
        for p in t["new_papers"]:
            out.print(
                f"      {escape(label_of(p['title'], p['id']))}  [dim]{escape(p['id'])}[/dim]",
                highlight=False,
            )
