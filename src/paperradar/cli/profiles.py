"""`paperradar profile ...` (create, list, show, delete, add, remove, like, dislike,
not-interested, undo, follow, rule, threshold, reset, rate) and `paperradar recommend PROFILE`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from ..errors import InvalidInput
from . import JsonFlag, LazyModule, app, display_title, err, library, out, print_json, progress_bar, settings

if TYPE_CHECKING:
    from .. import authors, paper_refs, steering
    from .. import profiles as svc
    from .. import recommend as rec
    from ..storage import Library
else:  # ranking needs scikit-learn: load it only when a command runs
    authors = LazyModule("paperradar.authors")
    paper_refs = LazyModule("paperradar.paper_refs")
    steering = LazyModule("paperradar.steering")
    svc = LazyModule("paperradar.profiles")
    rec = LazyModule("paperradar.recommend")

profile_app = typer.Typer(
    help="Researcher profiles: what recommendations are made for.", no_args_is_help=True
)
app.add_typer(profile_app, name="profile")

NameArg = Annotated[str, typer.Argument(help="The profile's name.")]
NoIndex = Annotated[
    bool,
    typer.Option(
        "--no-index", help="Skip embedding the file's new papers after importing them (as import does)."
    ),
]


def _file_papers(lib: Library, path: str, no_index: bool) -> list[int]:
    """The papers a file names; new ones imported, then embedded as `paperradar import` embeds
    them (paper_refs.papers_in_source), with the same bar on a terminal."""
    with progress_bar("embedding new papers") as progress:
        return paper_refs.papers_in_file(lib, path, index=not no_index, progress=progress)[0]


@profile_app.command("create")
def create_cmd(
    name: NameArg,
    author: Annotated[
        str | None, typer.Option(help="Build it from this author's papers in the library.")
    ] = None,
    papers: Annotated[
        str | None,
        typer.Option(
            help="A file of ids (one per line) or any importable file (BibTeX, RIS, a pasted page); '-' reads stdin."
        ),
    ] = None,
    pick: Annotated[
        int | None, typer.Option(help="Which person, when the author name covers several.")
    ] = None,
    zotero_collection: Annotated[
        str | None,
        typer.Option("--zotero", help="A Zotero collection (by name; or a zotero.sqlite[#collection] path)."),
    ] = None,
    no_index: NoIndex = False,
    as_json: JsonFlag = False,
) -> None:
    """Create a profile from an author name and/or a file of papers (new papers are imported and
    embedded, as `paperradar import` does); with neither, an empty profile that learns from
    `profile rate`."""
    with library() as lib:
        pks = _file_papers(lib, papers, no_index) if papers else None
        if zotero_collection:  # issue 14: a Zotero collection's papers are the profile's sources
            from .. import zotero

            papers = f"zotero:{zotero_collection}"
            source = zotero.source_for(papers, settings=settings())
            with progress_bar("embedding new papers") as progress:
                found = paper_refs.papers_in_source(
                    lib, source, "zotero_json", index=not no_index, progress=progress
                )
            pks = found[0]
        if papers and not pks:
            raise InvalidInput(f"{papers}: no papers found in it")
        try:
            profile = svc.create_profile(lib, name, author=author, papers=pks, pick=pick)
        except authors.AmbiguousAuthor as e:
            _show_candidates(e.candidates, as_json)
            raise
    _show(profile, as_json)


def _show_candidates(cands: list[authors.AuthorCandidate], as_json: bool) -> None:
    if as_json:
        print_json({"candidates": [authors.candidate_json(c) for c in cands]})
        return
    for c in cands:
        years = "–".join(str(y) for y in dict.fromkeys(c.years) if y) or "?"
        err.print(
            f"  [bold]{c.index}.[/bold] {escape(c.name)}: {len(c.papers)} papers, {years}, "
            f"{escape(', '.join(c.categories) or '-')}\n"
            f"     with {escape(', '.join(c.coauthors[:4]) or 'no co-authors')}\n"
            f"     on {escape(', '.join(c.topics) or '-')}",
            highlight=False,
        )


@profile_app.command("list")
def list_cmd(as_json: JsonFlag = False) -> None:
    """The profiles, with their sizes and interests."""
    with library() as lib:
        found = svc.list_profiles(lib)
    if as_json:
        print_json([svc.profile_json(p) for p in found])
        return
    for p in found:
        names = "; ".join(i.name for i in p.interests)
        out.print(f"[bold]{escape(p.name)}[/bold]: {len(p.papers)} papers · {escape(names)}", highlight=False)
    if not found:
        out.print("[dim]no profiles yet: `paperradar profile create NAME --author 'Full Name'`[/dim]")


@profile_app.command("show")
def show_cmd(name: NameArg, as_json: JsonFlag = False) -> None:
    """A profile: its interests and their papers, and the feedback given."""
    with library() as lib:
        profile = svc.get_profile(lib, name)
        _show(profile, as_json, lib)


def _show(profile: svc.Profile, as_json: bool, lib: Library | None = None) -> None:
    if as_json:
        print_json(svc.profile_json(profile))
        return
    by = f" (author: {escape(profile.author)})" if profile.author else ""
    out.print(f"[bold]{escape(profile.name)}[/bold]{by}: {len(profile.papers)} papers", highlight=False)
    for n, it in enumerate(profile.interests, start=1):
        out.print(
            f"  interest {n}: [green]{escape(it.name)}[/green] ({len(it.papers)} papers)", highlight=False
        )
        if lib is not None:
            from ..papers import get_paper

            for pid in it.papers[:5]:
                out.print(
                    f"     [cyan]{escape(pid)}[/cyan] {display_title(get_paper(lib, pid))}", highlight=False
                )
    if profile.feedback:
        out.print(
            f"  feedback: {len(profile.feedback)} marks, latest {profile.feedback[-1].kind} {escape(profile.feedback[-1].paper)}"
        )
    if profile.follows:
        out.print(f"  follows: {escape('; '.join(profile.follows))}", highlight=False)
    for kind, words in profile.rules.items():
        if words:
            out.print(f"  {kind}: {escape(', '.join(words))}", highlight=False)
    if profile.threshold is not None:
        out.print(f"  threshold: {profile.threshold:g} (papers below this percentile are not shown)")


@profile_app.command("delete")
def delete_cmd(name: NameArg, as_json: JsonFlag = False) -> None:
    """Delete a profile, its feedback and what it has seen (papers stay in the library)."""
    with library() as lib:
        svc.delete_profile(lib, name)
    if as_json:
        print_json({"deleted": name})
    else:
        out.print(f"deleted profile {escape(name)}")


@profile_app.command("add")
def add_cmd(
    name: NameArg,
    refs: Annotated[list[str], typer.Argument(help="Paper ids, or one importable file.")],
    no_index: NoIndex = False,
    as_json: JsonFlag = False,
) -> None:
    """Add papers to a profile (ids, or a file: new papers are imported and embedded)."""
    with library() as lib:
        profile = svc.add_papers(lib, name, _refs(lib, refs, no_index))
    _show(profile, as_json)


@profile_app.command("remove")
def remove_cmd(
    name: NameArg,
    refs: Annotated[list[str], typer.Argument(help="Paper ids.")],
    as_json: JsonFlag = False,
) -> None:
    """Remove papers from a profile."""
    with library() as lib:
        profile = svc.remove_papers(lib, name, refs)
    _show(profile, as_json)


def _refs(lib: Library, refs: list[str], no_index: bool) -> list[str | int]:
    from pathlib import Path

    if len(refs) == 1 and (refs[0] == "-" or Path(refs[0]).is_file()):
        return list(_file_papers(lib, refs[0], no_index))
    return list(refs)


def _feedback(name: str, ref: str, kind: str, as_json: bool) -> None:
    with library() as lib:
        mark = svc.give_feedback(lib, name, ref, kind)
    if as_json:
        print_json({"paper": mark.paper, "kind": mark.kind, "at": mark.at})
    else:
        out.print(f"{escape(name)}: {mark.kind.replace('_', ' ')} {escape(mark.paper)}", highlight=False)


PaperArg = Annotated[str, typer.Argument(help="The paper's id.")]


@profile_app.command("like")
def like_cmd(name: NameArg, paper: PaperArg, as_json: JsonFlag = False) -> None:
    """More like this: the paper joins the profile's positives."""
    _feedback(name, paper, "like", as_json)


@profile_app.command("dislike")
def dislike_cmd(name: NameArg, paper: PaperArg, as_json: JsonFlag = False) -> None:
    """Less like this: the paper is a negative example and never shown again."""
    _feedback(name, paper, "dislike", as_json)


@profile_app.command("not-interested")
def not_interested_cmd(name: NameArg, paper: PaperArg, as_json: JsonFlag = False) -> None:
    """Not for me: the paper is never shown again and steers away from similar ones."""
    _feedback(name, paper, "not_interested", as_json)


@profile_app.command("undo")
def undo_cmd(name: NameArg, as_json: JsonFlag = False) -> None:
    """Take back the latest like, dislike or not-interested mark."""
    with library() as lib:
        mark = svc.undo_feedback(lib, name)
    if as_json:
        print_json(
            {"undone": None if mark is None else {"paper": mark.paper, "kind": mark.kind, "at": mark.at}}
        )
    elif mark is None:
        out.print("nothing to undo")
    else:
        out.print(f"undid {mark.kind.replace('_', ' ')} {escape(mark.paper)}", highlight=False)


@profile_app.command("follow")
def follow_cmd(
    name: NameArg,
    author: Annotated[str, typer.Argument(help="The author's name, e.g. 'Ada Lovelace'.")],
    undo: Annotated[bool, typer.Option("--undo", help="Stop following.")] = False,
    as_json: JsonFlag = False,
) -> None:
    """Follow an author: their new papers always come first, marked as such."""
    with library() as lib:
        profile = steering.unfollow(lib, name, author) if undo else steering.follow(lib, name, author)
    _show(profile, as_json)


@profile_app.command("rule")
def rule_cmd(
    name: NameArg,
    kind: Annotated[str, typer.Argument(help="must (keep only papers mentioning one) or exclude.")],
    word: Annotated[str, typer.Argument(help="A word or phrase (whole words, any case).")],
    remove: Annotated[bool, typer.Option("--remove", help="Remove the rule.")] = False,
    as_json: JsonFlag = False,
) -> None:
    """Keyword rules kept with the profile: must-words keep, exclude-words drop."""
    with library() as lib:
        profile = (
            steering.remove_rule(lib, name, kind, word)
            if remove
            else steering.add_rule(lib, name, kind, word)
        )
    _show(profile, as_json)


@profile_app.command("threshold")
def threshold_cmd(
    name: NameArg,
    value: Annotated[
        float | None,
        typer.Argument(help="Percentile 0-1 (0.99: better than 99% of the library); omit to remove."),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Show only papers above this percentile: a quiet day then says "nothing good today"."""
    with library() as lib:
        profile = steering.set_threshold(lib, name, value)
    _show(profile, as_json)


@profile_app.command("reset")
def reset_cmd(
    name: NameArg,
    what: Annotated[list[str], typer.Argument(help="feedback, seen, follows, rules and/or threshold.")],
    as_json: JsonFlag = False,
) -> None:
    """Forget what the profile learned (its own papers stay)."""
    with library() as lib:
        profile = steering.reset_profile(lib, name, what)
    _show(profile, as_json)


@profile_app.command("rate")
def rate_cmd(
    name: NameArg,
    count: Annotated[int, typer.Option("--count", help="How many papers to offer.")] = 10,
    as_json: JsonFlag = False,
) -> None:
    """Rate papers chosen to teach the profile the most: l (like), d (dislike), s (skip), q (quit).
    With --json, prints the papers to rate (rate them with `profile like/dislike`)."""
    with library() as lib:
        papers = rec.papers_to_rate(lib, name, count)
        if as_json:
            print_json([{"id": p.id, "title": p.title, "abstract": p.abstract} for p in papers])
            return
        ratings = _ask(papers)
        rec.rate(lib, name, ratings)  # type: ignore[arg-type]
    out.print(f"{escape(name)}: {len(ratings)} ratings recorded", highlight=False)


def _ask(papers: list) -> dict[str, str]:  # type: ignore[type-arg]
    kinds = {"l": "like", "d": "dislike"}
    ratings: dict[str, str] = {}
    for n, p in enumerate(papers, start=1):
        err.print(f"[bold]{n:>2}.[/bold] {display_title(p)}", highlight=False)
        err.print(f"    [dim]{escape((p.abstract or '')[:300])}[/dim]", highlight=False)
        answer = (
            typer.prompt("    l like / d dislike / s skip / q quit", default="s", err=True).strip().lower()
        )
        if answer.startswith("q"):
            break
        if answer[:1] in kinds:
            ratings[p.id] = kinds[answer[:1]]
    return ratings


@app.command("recommend")
def recommend_cmd(
    name: NameArg,
    since: Annotated[str | None, typer.Option(help="Papers dated from this day on (2024-10-13).")] = None,
    days: Annotated[int | None, typer.Option(help="Papers dated in the last N days.")] = None,
    among: Annotated[
        str | None,
        typer.Option(help="Rank exactly the papers of this file or page (imported if new); '-' reads stdin."),
    ] = None,
    query: Annotated[str | None, typer.Option(help="Rank the results of this search.")] = None,
    limit: Annotated[int, typer.Option(help="How many results.")] = 20,
    include: Annotated[
        list[str] | None, typer.Option(help="Keep papers mentioning this word; repeatable.")
    ] = None,
    exclude: Annotated[
        list[str] | None, typer.Option(help="Drop papers mentioning this word; repeatable.")
    ] = None,
    threshold: Annotated[
        float | None, typer.Option(help="Minimum score: a percentile 0-1 (default: the profile's threshold).")
    ] = None,
    no_mark: Annotated[bool, typer.Option("--no-mark", help="Do not mark the results as seen.")] = False,
    no_index: NoIndex = False,
    as_json: JsonFlag = False,
) -> None:
    """New papers for a profile, best first, each with the reasons it was chosen."""
    if among is not None and query is not None:
        raise InvalidInput("give --among or --query, not both")
    with library() as lib:
        pks = _file_papers(lib, among, no_index) if among is not None else None
        recs = rec.recommend(
            lib,
            name,
            since=since,
            days=days,
            among=pks,
            query=query,
            limit=limit,
            include=tuple(include or ()),
            exclude=tuple(exclude or ()),
            threshold=threshold,
            mark_seen=not no_mark,
        )
    if as_json:
        print_json([rec.recommendation_json(r) for r in recs])
        return
    _render(recs)


def _render(recs: list[rec.Recommendation]) -> None:
    if not recs:
        out.print("[dim]nothing good for this profile today (try --days 30, --among FILE or --query)[/dim]")
    for n, r in enumerate(recs, start=1):
        out.print(f"[bold]{n:>3}.[/bold] {display_title(r.paper)}", highlight=False)
        mark = " · [magenta]followed author[/magenta]" if r.followed else ""
        out.print(
            f"     [cyan]{escape(r.paper.id)}[/cyan] · score {r.score:.4f} ({rec.score_text(r.score)}){mark}",
            highlight=False,
        )
        for reason in r.reasons:
            out.print(f"     [dim]{escape(reason)}[/dim]", highlight=False)
