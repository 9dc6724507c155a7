"""`paperradar sync`, `enrich`, `digest send|preview|feed` and `watch`: bring papers in, deliver digests."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from .. import config
from ..errors import InvalidInput, RadarError
from . import JsonFlag, app, err, library, out, print_json, settings, state

digest_app = typer.Typer(
    help="Digests of new papers per profile: by email, as a page or a feed.", no_args_is_help=True
)
app.add_typer(digest_app, name="digest")


def _progress() -> Callable[[str], None] | None:
    return (lambda msg: err.print(f"[dim]{msg}[/dim]", highlight=False)) if err.is_terminal else None


# ---------------------------------------------------------------- sync and enrich


def sync_options(s: config.Settings, days: int | None) -> Any:
    """The sync options from the settings `s` (a flag wins over the setting)."""
    from ..sync import SyncOptions

    return SyncOptions(
        arxiv_api=s.arxiv_api, hf_api=s.hf_api, arxiv_oai=s.arxiv_oai,
        days=s.sync_days if days is None else days, max_results=s.sync_max,
        delay=s.arxiv_delay, retries=s.fetch_retries,
    )  # fmt: skip


def run_sync(sources: list[str] | None, days: int | None) -> list[Any]:
    from ..sync import parse_sources, sync_and_index

    chosen = parse_sources(sources or settings().sync_sources)
    with library() as lib:
        return sync_and_index(lib, chosen, sync_options(settings(), days), _progress())


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
        from ..sync import sync_states

        with library() as lib:
            states = sync_states(lib)
        if as_json:
            return print_json([s.as_json() for s in states])
        for s in states:
            error = f"  [red]last error: {s.last_error}[/red]" if s.last_error else ""
            out.print(
                f"{s.source}: {json.dumps(s.cursor.as_json())}, last ok {s.last_ok or 'never'}{error}",
                highlight=False,
            )
        return None
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
    _fail_on([f"{r.source}: {r.error} (the next sync resumes from there)" for r in reports if r.error])


def _fail_on(errors: list[str]) -> None:
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

    with library() as lib:
        report = enrich(
            lib, batch=batch, limit=limit, base_url=settings().arxiv_api,
            delay=settings().arxiv_delay, retries=settings().fetch_retries,
            progress=_progress(),
        )  # fmt: skip
    if as_json:
        print_json(report.as_json())
    else:
        _render_enrich(report)
    _fail_on(
        [f"enrich stopped: {report.error}; the papers looked up so far are kept"] if report.error else []
    )


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


# ---------------------------------------------------------------- digests


def _profiles(profile: str | None, every: bool) -> list[str]:
    from ..profiles import list_profiles

    if bool(profile) == every:
        raise InvalidInput("name one profile or give --all")
    if profile:
        return [profile]
    with library() as lib:
        return [p.name for p in list_profiles(lib)]


@digest_app.command("send")
def send_cmd(
    profile: Annotated[str | None, typer.Argument(help="Profile to send the digest of.")] = None,
    every: Annotated[bool, typer.Option("--all", help="Send the digest of every profile.")] = False,
    to: Annotated[str | None, typer.Option("--to", help="Recipient (default: the mail_to setting).")] = None,
    sender: Annotated[str | None, typer.Option("--from", help="Sender (default: mail_from).")] = None,
    smtp_host: Annotated[str | None, typer.Option("--smtp-host", help="SMTP server.")] = None,
    smtp_port: Annotated[int | None, typer.Option("--smtp-port", help="SMTP port.")] = None,
    security: Annotated[str | None, typer.Option("--smtp-security", help="ssl, starttls or none.")] = None,
    webhook: Annotated[
        list[str] | None,
        typer.Option(
            "--webhook",
            help="Also post to a webhook: KIND=URL (slack, discord, mattermost, matrix, json) or a URL "
            "whose kind is recognised; repeatable (default: the webhooks setting).",
        ),
    ] = None,
    no_email: Annotated[bool, typer.Option("--no-email", help="Only the webhooks, no email.")] = False,
    since: Annotated[str | None, typer.Option(help="Papers added since this date (YYYY-MM-DD).")] = None,
    all_time: Annotated[bool, typer.Option("--all-time", help="Every paper not sent before.")] = False,
    limit: Annotated[int | None, typer.Option(help="Papers in the digest (default: digest_size).")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Send the new papers of a profile by email and to webhooks (Slack, Discord, Mattermost,
    Matrix, JSON), each exactly once; exit code 0 only when every channel accepted every digest.
    The SMTP password and Matrix token come from PAPERRADAR_SMTP_PASSWORD / PAPERRADAR_MATRIX_TOKEN
    or paperradar.toml, never a flag."""
    from ..digest.service import deliver_digests

    channels = _channels(to, sender, smtp_host, smtp_port, security, webhook, no_email)
    names = _profiles(profile, every)
    with library() as lib:
        results = deliver_digests(
            lib, names, channels, keep_going=every, limit=limit or settings().digest_size,
            since=since, all_time=all_time,
        )  # fmt: skip
    _render_sent(results, as_json)
    retry = " (it is sent on the next run)"  # only a stored digest is retried
    _fail_on(
        [
            f"{r.profile}: digest not sent: {r.error}{retry if r.message_id else ''}"
            for r in results
            if r.error
        ]
    )


def _channels(
    to: str | None,
    sender: str | None,
    smtp_host: str | None,
    smtp_port: int | None,
    security: str | None,
    webhook: list[str] | None,
    no_email: bool,
) -> list[Any]:
    from ..digest.service import configured_channels

    return configured_channels(
        settings(), to=to, sender=sender, smtp_host=smtp_host, smtp_port=smtp_port, security=security,
        webhooks=webhook, email=not no_email,
    )  # fmt: skip


def _render_sent(results: list[Any], as_json: bool) -> None:
    if as_json:
        return print_json([r.as_json() for r in results])
    for r in results:
        if r.status == "sent":
            again = " (retrying an earlier failed send)" if r.retried else ""
            out.print(f"{r.profile}: sent {len(r.papers)} papers to {r.recipient}{again}", highlight=False)
        elif r.status == "nothing_new":
            out.print(f"{r.profile}: nothing new since the last digest; no email sent", highlight=False)
    return None


@digest_app.command("preview")
def preview_cmd(
    profile: Annotated[str, typer.Argument(help="Profile.")],
    fmt: Annotated[str, typer.Option("--format", help="text, markdown, html or json.")] = "text",
    output: Annotated[Path | None, typer.Option("--out", help="Write to this file.")] = None,
    since: Annotated[str | None, typer.Option(help="Papers added since this date (YYYY-MM-DD).")] = None,
    all_time: Annotated[bool, typer.Option("--all-time", help="Every paper not sent before.")] = False,
    limit: Annotated[int | None, typer.Option(help="Papers in the digest (default: digest_size).")] = None,
) -> None:
    """Show the digest `digest send` would send now, without sending it or marking anything."""
    from ..digest import digest_json, render_html, render_markdown, render_text
    from ..digest.service import preview_digest

    renderers = {"text": render_text, "markdown": render_markdown, "html": render_html}
    if fmt not in (*renderers, "json"):
        raise InvalidInput(f"--format must be text, markdown, html or json, not {fmt!r}")
    with library() as lib:
        digest = preview_digest(
            lib, profile, since=since, all_time=all_time, limit=limit or settings().digest_size
        )
    text = (
        json.dumps(digest_json(digest), indent=2, ensure_ascii=False) + "\n"
        if fmt == "json"
        else renderers[fmt](digest)
    )
    _write(text, output)


def _write(text: str, output: Path | None) -> None:
    if output is None:
        sys.stdout.write(text)
        return
    from ..papers import write_atomic

    write_atomic(output, text)
    err.print(f"wrote {output}", highlight=False)


@digest_app.command("feed")
def feed_cmd(
    profile: Annotated[str | None, typer.Argument(help="Profile whose feed to write.")] = None,
    query: Annotated[str | None, typer.Option("--search", help="A search instead of a profile.")] = None,
    output: Annotated[
        Path | None, typer.Option("--out", help="Write to this file (e.g. for a web server).")
    ] = None,
    days: Annotated[int, typer.Option(help="Papers added in the last this many days.")] = 7,
    limit: Annotated[int, typer.Option(help="Entries in the feed.")] = 50,
) -> None:
    """An Atom feed of a profile's best new papers, or of a saved search's newest matches."""
    from ..digest.service import profile_feed, search_feed

    if bool(profile) == bool(query):
        raise InvalidInput("name a profile or give --search, not both")
    with library() as lib:
        xml = (
            profile_feed(lib, profile, days=days, limit=limit)
            if profile
            else search_feed(lib, query or "", limit=limit)
        )
    _write(xml, output)


# ---------------------------------------------------------------- watch


def _every(text: str) -> float:
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    try:
        value = float(text[:-1]) * units[text[-1]] if text[-1] in units else float(text)
    except (ValueError, IndexError):
        raise InvalidInput(f"--every wants a duration like 30m, 6h or 1d, not {text!r}") from None
    if value < 60:
        raise InvalidInput("--every must be at least a minute")
    return value


def watch_plan(s: config.Settings, send: bool) -> Any:
    """What each watch run does, from the settings `s`: sync the sync_sources (if any), then send
    every profile's digest when a recipient or webhook is configured."""
    from ..digest.service import configured_channels
    from ..sync import parse_sources
    from ..watch import WatchPlan

    sends = send and bool(s.mail_to or s.webhooks)
    return WatchPlan(
        sources=parse_sources(s.sync_sources) if s.sync_sources else [],
        sync_options=sync_options(s, None),
        channels=(lambda: configured_channels(s)) if sends else None,
        digest_size=s.digest_size,
    )


def watch_once(send: bool) -> dict[str, Any]:
    """One scheduled run (watch.run_once) with the settings as they are now (paperradar.toml may
    have changed since the last run)."""
    from ..watch import run_once

    plan = watch_plan(config.load_settings(db=state.db), send)
    with library() as lib:
        return run_once(lib, plan, _progress())


@app.command("watch")
def watch_cmd(
    every: Annotated[str, typer.Option(help="Time between runs: 30m, 6h, 1d.")] = "1d",
    once: Annotated[bool, typer.Option("--once", help="Run once and stop (for cron).")] = False,
    send: Annotated[bool, typer.Option("--send/--no-send", help="Email digests after syncing.")] = True,
) -> None:
    """Sync and send digests on a schedule; each run is logged to stderr and to watch.log."""
    from ..watch import append_log, now

    pause = _every(every)
    log = config.data_dir() / "watch.log"  # a run with a bad setting is logged too
    while True:
        try:
            entry = watch_once(send)
        except RadarError as e:
            entry = {"started": now(), "errors": [str(e)]}
        append_log(log, entry)
        status = "ok" if not entry["errors"] else "; ".join(entry["errors"])
        err.print(f"watch run {entry['started']}: {status}", highlight=False)
        if once:
            raise typer.Exit(1 if entry["errors"] else 0)
        time.sleep(pause)
