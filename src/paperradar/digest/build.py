"""Building a digest: the best new papers for a profile, grouped by interest, with links. Pure.

`build_digest` takes recommendations already ranked (anything with `paper`, `score`, `interest`
and `reasons`, such as `recommend.Recommendation`), drops papers the profile was already sent,
keeps the top N and attaches each paper's links and signed feedback links.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from ..display import paper_links  # the one home of a paper's links (digest.service, atom use it)
from ..models import Paper, paper_date
from .links import KINDS, FeedbackClaim, feedback_url

OTHER = "Other new papers"


class Ranked(Protocol):
    paper: Paper
    score: float
    interest: str | None

    @property
    def reasons(self) -> list[str]: ...  # an attribute or a property (recommend.Recommendation)


@dataclass
class DigestItem:
    paper: Paper
    score: float
    interest: str | None
    reasons: list[str]
    links: dict[str, str] = field(default_factory=dict)  # abs, pdf, code, and one per feedback kind

    @property
    def group(self) -> str:
        return self.interest or OTHER


@dataclass
class Digest:
    profile: str
    generated_at: datetime
    since: str | None  # papers added to the library after this time
    items: list[DigestItem]
    base_url: str = ""

    @property
    def groups(self) -> list[tuple[str, list[DigestItem]]]:
        """Items by interest, the group holding the best paper first; items keep their rank."""
        out: dict[str, list[DigestItem]] = {}
        for item in self.items:
            out.setdefault(item.group, []).append(item)
        return list(out.items())

    @property
    def title(self) -> str:
        n = len(self.items)
        return f"{n} new paper{'s' if n != 1 else ''} for {self.profile}"


@dataclass(frozen=True)
class LinkSettings:
    base_url: str
    secret: str
    valid_for: timedelta = timedelta(days=30)


def build_digest(
    profile: str,
    ranked: Iterable[Ranked],
    *,
    generated_at: datetime,
    since: str | None = None,
    already_sent: Sequence[str] = (),
    limit: int = 10,
    links: LinkSettings | None = None,
) -> Digest:
    """The digest of `profile`: the first `limit` of `ranked` whose ids were never sent to it."""
    sent = set(already_sent)
    items: list[DigestItem] = []
    for rec in ranked:
        if len(items) >= limit:
            break
        if sent.intersection([rec.paper.id, *rec.paper.ids]):
            continue
        item = DigestItem(rec.paper, float(rec.score), rec.interest, list(rec.reasons))
        item.links = paper_links(rec.paper) | _feedback_links(profile, rec.paper.id, generated_at, links)
        items.append(item)
    return Digest(profile, generated_at, since, items, links.base_url if links else "")


def _feedback_links(profile: str, paper_id: str, at: datetime, links: LinkSettings | None) -> dict[str, str]:
    if links is None:
        return {}
    expires = int((at + links.valid_for).timestamp())
    return {
        kind: feedback_url(links.base_url, links.secret, FeedbackClaim(profile, paper_id, kind, expires))
        for kind in KINDS
    }


def digest_json(digest: Digest) -> dict[str, Any]:
    return {
        "profile": digest.profile,
        "generated_at": digest.generated_at.isoformat(timespec="seconds"),
        "since": digest.since,
        "papers": [
            {
                "id": it.paper.id,
                "title": it.paper.title,
                "authors": [a.name for a in it.paper.authors],
                "date": paper_date(it.paper),
                "score": round(it.score, 4),
                "interest": it.interest,
                "reasons": it.reasons,
                "links": it.links,
            }
            for it in digest.items
        ],
    }
