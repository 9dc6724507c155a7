"""Digests where researchers already are: Slack, Discord, Mattermost and Matrix rooms, or any
service that takes a JSON POST. Each entry carries its key sentences (idea, result), its links and
the same signed feedback links as the email.

`payload(kind, digest, message_id)` is pure (one builder per kind); `post_webhook` does the network
I/O. Sending exactly once is the digest service's job (digest/service.py): a hook is one delivery
channel, recorded once it answered 2xx. Every request also carries the digest's Message-ID as
`Idempotency-Key` (and as the Matrix transaction id, which Matrix itself de-duplicates).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from html import escape
from typing import Any
from urllib.parse import quote, urlsplit

import httpx

from ..errors import InvalidInput, NetworkError
from .build import Digest, DigestItem, digest_json
from .render import (
    FEEDBACK_LABELS,
    LINK_LABELS,
    authors_line,
    display_title,
    highlights,
    render_markdown,
    when,
)

KINDS = ("slack", "discord", "mattermost", "matrix", "json")
DISCORD_EMBEDS = 10  # Discord takes at most 10 embeds in one message
TIMEOUT = 20.0


@dataclass(frozen=True)
class Webhook:
    kind: str
    url: str
    token: str | None = None  # Matrix: the access token of the posting account

    @property
    def channel(self) -> str:
        """How the delivery ledger names this hook: its kind and a hash of its URL (the URL of a
        Slack or Discord hook is itself a secret, so it is never stored or printed)."""
        return f"{self.kind}:{hashlib.sha256(self.url.encode()).hexdigest()[:16]}"

    @property
    def label(self) -> str:
        return f"{self.kind} webhook at {urlsplit(self.url).hostname or '?'}"


def parse_webhook(spec: str, token: str | None = None) -> Webhook:
    """`KIND=URL` or a bare URL whose kind is recognised from its host or path."""
    kind, sep, url = spec.partition("=")
    if not sep or kind not in KINDS:
        kind, url = guess_kind(spec.strip()), spec.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise InvalidInput(f"a webhook needs an http(s) URL, not {spec!r}")
    if kind == "matrix" and not token:
        raise InvalidInput("a Matrix webhook needs an access token (PAPERRADAR_MATRIX_TOKEN)")
    return Webhook(kind, url, token)


def guess_kind(url: str) -> str:
    parts = urlsplit(url)
    host, path = parts.hostname or "", parts.path
    if host.endswith("slack.com"):
        return "slack"
    if host.endswith(("discord.com", "discordapp.com")) and "/webhooks/" in path:
        return "discord"
    if "/_matrix/client/" in path:
        return "matrix"
    if path.startswith("/hooks/") and not host.endswith("slack.com"):
        return "mattermost"
    return "json"


# ---------------------------------------------------------------- payloads (pure)


def payload(kind: str, digest: Digest, message_id: str) -> dict[str, Any]:
    builders: dict[str, Callable[[Digest, str], dict[str, Any]]] = {
        "slack": slack_payload,
        "discord": discord_payload,
        "mattermost": mattermost_payload,
        "matrix": matrix_payload,
        "json": json_payload,
    }
    if kind not in builders:
        raise InvalidInput(f"webhook kind must be one of {', '.join(KINDS)}, not {kind!r}")
    return builders[kind](digest, message_id)


def _slack_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _slack_link(url: str, label: str) -> str:
    return f"<{url}|{_slack_escape(label).replace('|', '¦')}>"


def _links(item: DigestItem, link: Callable[[str, str], str]) -> str:
    labels = {**LINK_LABELS, **FEEDBACK_LABELS}
    return " · ".join(link(u, labels[k]) for k, u in item.links.items() if k in labels)


def slack_payload(digest: Digest, message_id: str) -> dict[str, Any]:
    """Slack Block Kit: a header, then one section per paper (mrkdwn), `text` as the fallback."""
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": f"paperradar: {digest.title}"[:150]}}
    ]
    for group, items in digest.groups:
        blocks.append(
            {"type": "context", "elements": [{"type": "mrkdwn", "text": f"*{_slack_escape(group)}*"}]}
        )
        for it in items:
            blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": _slack_item(it)[:3000]}})
    return {"text": f"paperradar: {digest.title}", "blocks": blocks[:50]}


def _slack_item(it: DigestItem) -> str:
    title = display_title(it.paper)
    head = f"*{_slack_link(it.links['abs'], title)}*" if "abs" in it.links else f"*{_slack_escape(title)}*"
    lines = [head, _slack_escape(authors_line(it.paper))]
    lines += [f"_{label}:_ {_slack_escape(s)}" for label, s in highlights(it.paper)]
    return "\n".join([*lines, _links(it, _slack_link)])


def _md_escape(text: str) -> str:
    return "".join("\\" + c if c in "\\`*_[]<>#|~" else c for c in text)


def _md_link(url: str, label: str) -> str:
    return f"[{_md_escape(label)}]({url})"


def discord_payload(digest: Digest, message_id: str) -> dict[str, Any]:
    """Discord: the title as content, one embed per paper (at most 10; the rest are counted)."""
    embeds = []
    for it in digest.items[:DISCORD_EMBEDS]:
        lines = [_md_escape(authors_line(it.paper))]
        lines += [f"**{label}:** {_md_escape(s)}" for label, s in highlights(it.paper)]
        lines.append(_links(it, _md_link))
        embed: dict[str, Any] = {
            "title": display_title(it.paper)[:256],
            "description": "\n".join(lines)[:4000],
        }
        if "abs" in it.links:
            embed["url"] = it.links["abs"]
        if it.interest:
            embed["footer"] = {"text": it.interest[:200]}
        embeds.append(embed)
    more = len(digest.items) - len(embeds)
    content = f"**paperradar: {_md_escape(digest.title)}**" + (
        f" ({more} more on the digest page)" if more > 0 else ""
    )
    return {"content": content[:2000], "embeds": embeds, "allowed_mentions": {"parse": []}}


def mattermost_payload(digest: Digest, message_id: str) -> dict[str, Any]:
    """Mattermost renders Markdown: the digest's Markdown rendering as the message."""
    return {"text": render_markdown(digest)[:16000]}


def matrix_payload(digest: Digest, message_id: str) -> dict[str, Any]:
    """An m.room.message with a plain body and a simple HTML body (the tags Matrix clients keep)."""
    from .render import render_text

    parts = [f"<h3>paperradar: {escape(digest.title)}</h3><p><em>{escape(when(digest))}</em></p>"]
    for group, items in digest.groups:
        parts.append(f"<h4>{escape(group)}</h4><ul>")
        for it in items:
            parts.append(f"<li>{_matrix_item(it)}</li>")
        parts.append("</ul>")
    return {
        "msgtype": "m.text",
        "body": render_text(digest),
        "format": "org.matrix.custom.html",
        "formatted_body": "".join(parts),
    }


def _matrix_item(it: DigestItem) -> str:
    title = escape(display_title(it.paper))
    head = (
        f'<b><a href="{escape(it.links["abs"])}">{title}</a></b>' if "abs" in it.links else f"<b>{title}</b>"
    )
    lines = [head, escape(authors_line(it.paper))]
    lines += [f"<i>{label}:</i> {escape(s)}" for label, s in highlights(it.paper)]
    lines.append(_links(it, lambda u, label: f'<a href="{escape(u)}">{escape(label)}</a>'))
    return "<br>".join(lines)


def json_payload(digest: Digest, message_id: str) -> dict[str, Any]:
    """The digest as JSON (the `digest preview --format json` shape) plus its id, title and each
    paper's key sentences, for any service that takes a POST."""
    body = digest_json(digest)
    for entry, it in zip(body["papers"], digest.items, strict=True):
        entry["highlights"] = {label.lower(): s for label, s in highlights(it.paper)}
    return {"message_id": message_id, "title": f"paperradar: {digest.title}", **body}


# ---------------------------------------------------------------- sending (network I/O)


def post_webhook(
    hook: Webhook, digest: Digest, message_id: str, *, transport: httpx.BaseTransport | None = None
) -> None:
    """Deliver the digest to the hook; raises NetworkError unless it answered 2xx."""
    body = json.dumps(payload(hook.kind, digest, message_id), ensure_ascii=False).encode()
    headers = {"Content-Type": "application/json", "Idempotency-Key": message_id, "User-Agent": "paperradar"}
    method, url = "POST", hook.url
    if hook.kind == "matrix":  # PUT .../send/m.room.message/{txnId}: Matrix drops a repeated txnId
        method, url = "PUT", hook.url.rstrip("/") + "/" + quote(message_id.strip("<>"), safe="")
        headers["Authorization"] = f"Bearer {hook.token}"
    try:
        with httpx.Client(timeout=TIMEOUT, transport=transport, follow_redirects=False) as client:
            r = client.request(method, url, content=body, headers=headers)
    except httpx.HTTPError as e:
        raise NetworkError(f"{hook.label}: {type(e).__name__}: {e}") from None
    if not 200 <= r.status_code < 300:
        raise NetworkError(f"{hook.label} answered HTTP {r.status_code}: {r.text[:200]}")
