"""`paperradar digest send|preview|feed`: digests of new papers per profile, by email or webhook,
as a page or as a feed."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from ..errors import InvalidInput
from . import JsonFlag, app, err, library, out, print_json, settings
from .syncing import fail_on

digest_app = typer.Typer(
    help="Digests of new papers per profile: by email, as a page or a feed.", no_args_is_help=True
)
app.add_typer(digest_app, name="digest")


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
            since=since, all_time=all_time, settings=settings(),
        )  # fmt: skip
    _render_sent(results, as_json)
    retry = " (it is sent on the next run)"  # only a stored digest is retried
    fail_on(
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
            lib, profile, since=since, all_time=all_time, limit=limit or settings().digest_size,
            settings=settings(),
        )  # fmt: skip
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
            profile_feed(lib, profile, days=days, limit=limit, settings=settings())
            if profile
            else search_feed(lib, query or "", limit=limit, settings=settings())
        )
    _write(xml, output)
