"""Digests over the library: what is new for a profile, sending it once, feeds. Does I/O.

The rule that makes delivery safe: a digest is stored as *pending* (its papers fixed) before it is
sent, and marked *sent* only after every channel (the SMTP server, each webhook) accepted it; each
channel that did is recorded. A failed send leaves it pending; the next run sends that same digest
(same papers, same Message-ID) to the channels that missed it, before building a new one.
Papers in a sent digest never appear in a later digest of the same profile.
Recommendations come from `recommend.recommend`, the same ranking as `paperradar recommend`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import make_msgid
from typing import Any

from ..config import Settings, load_settings, with_flags
from ..errors import InvalidInput, NetworkError, NotFound, RadarError
from ..models import Paper
from ..papers import get_paper
from ..signing import library_secret, old_link_secrets
from ..storage import delivery
from ..storage.base import Library
from .atom import render_atom
from .build import Digest, DigestItem, LinkSettings, Ranked, build_digest, paper_links
from .links import FeedbackClaim, verify_feedback
from .render import render_html, render_text

FIRST_WINDOW = timedelta(days=7)  # a profile's first digest: papers added this recently
Recommender = Callable[[Library, str, list[int], int], Sequence[Ranked]]


def recommender(lib: Library, profile: str, among: list[int], limit: int) -> Sequence[Ranked]:
    """The profile's ranking of `among` (nothing is marked seen: that happens once a digest is sent)."""
    from ..recommend import recommend

    if not among:
        return []
    return recommend(lib, profile, among=among, limit=limit, mark_seen=False)


def _given(settings: Settings | None) -> Settings:
    """The settings an edge handed in; None (a caller of the public API with none) reads them now."""
    return settings if settings is not None else load_settings()


def link_settings(
    lib: Library, settings: Settings | None = None, base_url: str | None = None
) -> LinkSettings:
    """Where feedback links point (`base_url`, else the public_url setting) and the secret that
    signs them (signing.library_secret: the link_secret setting, else the library's own).

    The edges (CLI, web app) hand in the `settings` they read once; None reads them now
    (config.load_settings), for callers of the public `new_digest` that were handed none."""
    s = _given(settings)
    secret = library_secret(lib, s.secret("link_secret"))
    return LinkSettings(base_url or s.public_url or "", secret, timedelta(days=s.link_days))


def check_feedback(lib: Library, token: str, now: float, settings: Settings | None = None) -> FeedbackClaim:
    """The claim of a feedback link (InvalidInput: altered, from another library, or expired);
    links emailed before the one signer are checked with the old link secret."""
    configured = _given(settings).secret("link_secret")
    return verify_feedback(token, library_secret(lib, configured), now, old_link_secrets(lib, configured))


@dataclass(frozen=True)
class Window:
    """Which papers are new for a digest: added at or after `since`, and after paper `after_pk`."""

    since: str | None = None
    after_pk: int | None = None
    label: str | None = None  # what the digest shows as its start

    @property
    def start(self) -> str | None:
        return self.label or self.since


def window(
    lib: Library, profile: str, now: datetime, since: str | None = None, all_time: bool = False
) -> Window:
    """After the profile's last sent digest; first digest: the last 7 days; or as asked."""
    if all_time:
        return Window()
    if since is not None:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", since.strip()):
            raise InvalidInput(f"--since wants a date like 2026-07-01, not {since!r}")
        return Window(since.strip())
    last = delivery.last_sent(lib, profile)
    if last is not None:
        return Window(None, last.last_paper_pk, last.created_at)
    return Window((now.astimezone(UTC) - FIRST_WINDOW).isoformat(timespec="seconds"))  # as papers.created_at


def candidates(lib: Library, profile: str, new: Window) -> list[int]:
    """Papers new in the window, less the profile's own and those it was already sent: the
    newest recommend.MAX_WINDOW of them, as `recommend` ranks (a first digest after a bulk import
    of millions of papers would rank them all)."""
    from ..profiles import get_profile
    from ..recommend import MAX_WINDOW

    drop = set(get_profile(lib, profile).paper_pks) | delivery.sent_pks(lib, profile)
    pool = delivery.papers_added_since(lib, new.since, new.after_pk, newest=MAX_WINDOW + len(drop))
    return [pk for pk in pool if pk not in drop][-MAX_WINDOW:]


def new_digest(
    lib: Library,
    profile: str,
    *,
    now: datetime,
    limit: int,
    since: str | None = None,
    all_time: bool = False,
    rank: Recommender = recommender,
    base_url: str | None = None,
    settings: Settings | None = None,
) -> Digest:
    """A new digest of the profile's papers in the window; `settings` (public_url, link_days,
    link_secret) as for link_settings: None reads them now."""
    new = window(lib, profile, now, since, all_time)
    ranked = rank(lib, profile, candidates(lib, profile, new), limit)
    sent = [lib.paper_row(pk).id for pk in delivery.sent_pks(lib, profile)]
    return build_digest(
        profile, ranked, generated_at=now, since=new.start, already_sent=sent, limit=limit,
        links=link_settings(lib, settings, base_url),
    )  # fmt: skip


@dataclass
class _Stored:
    paper: Paper
    score: float
    interest: str | None
    reasons: list[str] = field(default_factory=list)


def stored_digest(
    lib: Library, row: delivery.DigestRow, base_url: str | None = None, settings: Settings | None = None
) -> Digest:
    """A stored digest rebuilt exactly: same papers, order, reasons and time (so the same links)."""
    ranked = []
    for it in row.items:
        try:
            ranked.append(_Stored(get_paper(lib, it.paper_id), it.score, it.interest, list(it.reasons)))
        except NotFound:  # deleted from the library since
            continue
    at = datetime.fromisoformat(row.created_at)
    return build_digest(
        row.profile, ranked, generated_at=at, since=row.since, limit=len(ranked) or 1,
        links=link_settings(lib, settings, base_url),
    )  # fmt: skip


def preview_digest(
    lib: Library,
    profile: str,
    *,
    limit: int = 10,
    since: str | None = None,
    all_time: bool = False,
    now: datetime | None = None,
    base_url: str | None = None,
    settings: Settings | None = None,
) -> Digest:
    """What `send_digest` would send now: the pending digest, or a new one. Changes nothing."""
    pending = delivery.pending_digest(lib, profile)
    if pending is not None:
        return stored_digest(lib, pending, base_url, settings)
    return new_digest(
        lib, profile, now=now or datetime.now(UTC), limit=limit, since=since, all_time=all_time,
        base_url=base_url, settings=settings,
    )  # fmt: skip


def _item_rows(items: list[DigestItem]) -> list[delivery.DigestItemRow]:
    return [
        delivery.DigestItemRow(rank, it.paper.id, it.score, it.interest, tuple(it.reasons))
        for rank, it in enumerate(items, start=1)
    ]


def digest_history(lib: Library, profile: str, limit: int = 20) -> list[dict[str, Any]]:
    """The profile's stored digests, newest first, as `/api/digest/{profile}/history` shows them."""
    return [row.as_json() for row in delivery.digests_of(lib, profile, limit)]


@dataclass
class SendResult:
    profile: str
    status: str  # sent | nothing_new | failed
    papers: list[str] = field(default_factory=list)
    recipient: str | None = None
    message_id: str | None = None
    retried: bool = False  # an earlier failed digest was sent (again)
    error: str | None = None

    def as_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class Channel:
    """Where a digest goes: `key` names it in the delivery ledger (no secrets), `label` in reports;
    `send(digest, message_id)` delivers it and raises NetworkError on failure."""

    key: str
    label: str
    send: Callable[[Digest, str], None]


def email_channel(to: str, sender: str, deliver: Callable[[Any], None]) -> Channel:
    """Email through `deliver(message)` (mail.send_message with SMTP settings)."""
    from ..mail import build_message

    def send(digest: Digest, message_id: str) -> None:
        deliver(build_message(
            subject=f"paperradar: {digest.title}", sender=sender, to=to, text=render_text(digest),
            html=render_html(digest), message_id=message_id, date=digest.generated_at,
            headers={"X-Paperradar-Profile": digest.profile},
        ))  # fmt: skip

    return Channel(f"email:{to}", to, send)


def webhook_channel(hook: Any, transport: Any = None) -> Channel:
    """A Slack, Discord, Mattermost, Matrix or JSON webhook (digest/webhook.py)."""
    from .webhook import post_webhook

    return Channel(hook.channel, hook.label, lambda d, mid: post_webhook(hook, d, mid, transport=transport))


def configured_channels(
    settings: Settings,
    *,
    to: str | None = None,
    sender: str | None = None,
    smtp_host: str | None = None,
    smtp_port: int | None = None,
    security: str | None = None,
    webhooks: Sequence[str] | None = None,
    email: bool = True,
) -> list[Channel]:
    """The channels a digest goes to: email (the mail_to setting or `to`, unless `email` is
    false) and each webhook (`webhooks`, else the webhooks setting). The flags (`to`, `sender`,
    `smtp_*`, `security`) win over `settings`. InvalidInput when there is no channel."""
    from ..mail import send_message, smtp_settings
    from .webhook import parse_webhook

    flags = {"mail_to": to, "mail_from": sender, "smtp_host": smtp_host, "smtp_port": smtp_port}
    settings = with_flags(settings, smtp_security=security, **flags)
    specs = list(webhooks) if webhooks else (settings.webhooks or "").split()
    token = settings.secret("matrix_token")
    channels = [webhook_channel(parse_webhook(s, token)) for s in specs]
    recipient = settings.mail_to if email else None
    if recipient:
        smtp = smtp_settings(settings)
        send_from = settings.mail_from or "paperradar@localhost"
        channels.insert(0, email_channel(recipient, send_from, lambda msg: send_message(msg, smtp)))
    if not channels:
        raise InvalidInput("no recipient: give --to or set mail_to (PAPERRADAR_MAIL_TO), or give --webhook")
    return channels


def send_digest(
    lib: Library,
    profile: str,
    *,
    to: str,
    sender: str,
    deliver: Callable[[Any], None],
    now: datetime | None = None,
    limit: int = 10,
    since: str | None = None,
    all_time: bool = False,
    rank: Recommender = recommender,
) -> SendResult:
    """Email the profile's digest through `deliver(message)`, which raises NetworkError on failure."""
    channel = email_channel(to, sender, deliver)
    return deliver_digest(
        lib, profile, [channel], now=now, limit=limit, since=since, all_time=all_time, rank=rank
    )


def deliver_digest(
    lib: Library,
    profile: str,
    channels: Sequence[Channel],
    *,
    now: datetime | None = None,
    limit: int = 10,
    since: str | None = None,
    all_time: bool = False,
    rank: Recommender = recommender,
    settings: Settings | None = None,
) -> SendResult:
    """Send the profile's digest to every channel exactly once. The digest is stored pending
    first; each channel that accepts it is recorded; it is marked sent (its papers seen) once all
    have. A run after a failure resends the same digest only to the channels that missed it."""
    if not channels:
        raise InvalidInput("no channel to send the digest to: give an email recipient or a webhook")
    row = delivery.pending_digest(lib, profile)
    if row is not None:
        digest, message_id, pk = stored_digest(lib, row, settings=settings), row.message_id, row.pk
    else:
        newest = lib.max_paper_pk()  # before the candidates are read: nothing added later is skipped
        digest = new_digest(
            lib, profile, now=now or datetime.now(UTC), limit=limit, since=since, all_time=all_time,
            rank=rank, settings=settings,
        )  # fmt: skip
        if not digest.items:
            return SendResult(profile, "nothing_new", recipient=_labels(channels))
        message_id, pk = _store_pending(lib, digest, newest)
    papers = [it.paper.id for it in digest.items]
    result = SendResult(profile, "sent", papers, _labels(channels), message_id, row is not None)
    errors = _send_each(lib, pk, digest, message_id, channels)
    if errors:
        with lib.transaction():
            delivery.record_failure(lib, pk, "; ".join(errors))
        result.status, result.error = "failed", "; ".join(errors)
        return result
    with lib.transaction():
        delivery.mark_sent(lib, pk, _labels(channels), datetime.now(UTC).isoformat(timespec="seconds"))
    _mark_seen(lib, profile, digest)
    return result


def deliver_digests(
    lib: Library,
    profiles: Sequence[str],
    channels: Sequence[Channel],
    *,
    keep_going: bool = True,
    limit: int = 10,
    since: str | None = None,
    all_time: bool = False,
    settings: Settings | None = None,
) -> list[SendResult]:
    """Each profile's digest to every channel (deliver_digest). With `keep_going`, one profile's
    problem (no papers to learn from...) is its result's error and does not stop the rest."""
    results = []
    for name in profiles:
        try:
            one = deliver_digest(
                lib, name, channels, limit=limit, since=since, all_time=all_time, settings=settings
            )
            results.append(one)
        except RadarError as e:
            if not keep_going:
                raise
            results.append(SendResult(name, "failed", error=str(e)))
    return results


def _labels(channels: Sequence[Channel]) -> str:
    return ", ".join(c.label for c in channels)


def _send_each(
    lib: Library, pk: int, digest: Digest, message_id: str, channels: Sequence[Channel]
) -> list[str]:
    """Deliver to the channels that have not had this digest; returns their errors."""
    done = delivery.delivered_channels(lib, pk)
    errors = []
    for ch in channels:
        if ch.key in done:
            continue
        try:
            ch.send(digest, message_id)
        except NetworkError as e:
            errors.append(str(e) if ch.label in str(e) else f"{ch.label}: {e}")
            continue
        with lib.transaction():
            delivery.record_delivery(lib, pk, ch.key, datetime.now(UTC).isoformat(timespec="seconds"))
    return errors


def _store_pending(lib: Library, digest: Digest, newest: int) -> tuple[str, int]:
    """Fix the digest's papers before sending: a retry sends exactly these. Returns (Message-ID, pk)."""
    message_id = make_msgid("digest", domain="paperradar.local")
    with lib.transaction():
        pk = delivery.create_digest(
            lib, digest.profile, created_at=digest.generated_at.astimezone(UTC).isoformat(timespec="seconds"),
            since=digest.since, last_paper_pk=newest, message_id=message_id, items=_item_rows(digest.items),
        )  # fmt: skip
    return message_id, pk


def _mark_seen(lib: Library, profile: str, digest: Digest) -> None:
    from ..profiles import mark_seen

    mark_seen(lib, profile, [lib.resolve(it.paper.id) for it in digest.items])


# ---------------------------------------------------------------- feeds


def profile_feed(
    lib: Library,
    profile: str,
    *,
    days: int = 7,
    limit: int = 50,
    now: datetime | None = None,
    rank: Recommender = recommender,
    base_url: str | None = None,
    settings: Settings | None = None,
) -> str:
    """An Atom feed of the best papers added in the last `days` days for the profile."""
    from ..profiles import get_profile
    from ..recommend import MAX_WINDOW

    now = now or datetime.now(UTC)
    own = set(get_profile(lib, profile).paper_pks)
    start = (now - timedelta(days=days)).isoformat(timespec="seconds")
    among = [
        pk for pk in delivery.papers_added_since(lib, start, newest=MAX_WINDOW + len(own)) if pk not in own
    ]
    links = link_settings(lib, settings, base_url)
    digest = build_digest(
        profile, rank(lib, profile, among, limit), generated_at=now, limit=limit, links=links
    )
    base = links.base_url.rstrip("/")
    return render_atom(
        feed_id=f"tag:paperradar,2024:profile/{profile}", title=f"paperradar: new papers for {profile}",
        items=digest.items, updated=now, self_url=f"{base}/digest/{profile}/feed.atom" if base else None,
        page_url=f"{base}/digest/{profile}" if base else None,
    )  # fmt: skip


def search_feed(
    lib: Library,
    query: str,
    *,
    limit: int = 50,
    now: datetime | None = None,
    base_url: str | None = None,
    settings: Settings | None = None,
) -> str:
    """An Atom feed of the newest papers matching a (saved) search; its links start at `base_url`,
    else the public_url setting (`settings`, as for link_settings)."""
    from urllib.parse import quote

    from ..search import search

    now = now or datetime.now(UTC)
    if not query.strip():
        raise InvalidInput("a search feed needs a query")
    hits = search(lib, query, mode="keyword", limit=limit).hits
    items = [DigestItem(h.paper, h.score, None, list(h.reasons), paper_links(h.paper)) for h in hits]
    base = (base_url or _given(settings).public_url or "").rstrip("/")
    return render_atom(
        feed_id=f"tag:paperradar,2024:search/{quote(query)}", title=f"paperradar search: {query}",
        items=items, updated=now, self_url=f"{base}/digest/search.atom?q={quote(query)}" if base else None,
        page_url=f"{base}/search?q={quote(query)}" if base else None,
    )  # fmt: skip
