"""Atom 1.0 feeds (RFC 4287) of digest items or search results. Pure: text in, text out.

Every feed has the required id, title, updated and author; every entry has id, title, updated,
an alternate link, its authors, categories and a summary. Entry ids are stable tag URIs of the
paper id, so feed readers never show the same paper twice.
"""

from __future__ import annotations

from datetime import UTC, datetime
from xml.etree.ElementTree import Element, SubElement, tostring

from ..models import Paper
from ..urls import safe_url
from .build import DigestItem, paper_links
from .render import display_title

ATOM_NS = "http://www.w3.org/2005/Atom"


def entry_id(paper: Paper) -> str:
    return f"tag:paperradar,2024:paper/{paper.id}"


def rfc3339(moment: datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def paper_updated(paper: Paper, fallback: datetime) -> datetime:
    """The paper's own latest complete date (updated, else published...), else `fallback`."""
    for kind in ("updated", "published", "created", "listed"):
        d = paper.dates.get(kind)
        if d is not None and d.complete:
            return datetime(d.year, d.month, d.day, tzinfo=UTC)  # type: ignore[arg-type]
    return fallback


def render_atom(
    *,
    feed_id: str,
    title: str,
    items: list[DigestItem],
    updated: datetime,
    self_url: str | None = None,
    page_url: str | None = None,
) -> str:
    feed = Element("feed", {"xmlns": ATOM_NS})
    SubElement(feed, "id").text = feed_id
    SubElement(feed, "title").text = title
    SubElement(feed, "updated").text = rfc3339(updated)
    SubElement(SubElement(feed, "author"), "name").text = "paperradar"
    SubElement(feed, "generator", {"uri": "https://github.com/paperradar"}).text = "paperradar"
    self_url, page_url = safe_url(self_url), safe_url(page_url)  # every href through one sanitiser
    if self_url:
        SubElement(feed, "link", {"rel": "self", "type": "application/atom+xml", "href": self_url})
    if page_url:
        SubElement(feed, "link", {"rel": "alternate", "type": "text/html", "href": page_url})
    for item in items:
        _entry(feed, item, updated)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + tostring(feed, encoding="unicode") + "\n"


def _entry(feed: Element, item: DigestItem, fallback: datetime) -> None:
    p = item.paper
    entry = SubElement(feed, "entry")
    SubElement(entry, "id").text = entry_id(p)
    SubElement(entry, "title").text = display_title(p)
    SubElement(entry, "updated").text = rfc3339(paper_updated(p, fallback))
    published = p.dates.get("published")
    if published is not None and published.complete:
        day = datetime(published.year, published.month, published.day, tzinfo=UTC)  # type: ignore[arg-type]
        SubElement(entry, "published").text = rfc3339(day)
    for author in p.authors or []:
        SubElement(SubElement(entry, "author"), "name").text = author.name
    if not p.authors:
        SubElement(SubElement(entry, "author"), "name").text = "unknown"
    links = paper_links(p)  # sanitised there: http(s) only
    if links:
        href = links.get("abs") or next(iter(links.values()))
        SubElement(entry, "link", {"rel": "alternate", "type": "text/html", "href": href})
    if "pdf" in links:
        SubElement(
            entry, "link", {"rel": "related", "type": "application/pdf", "href": links["pdf"], "title": "PDF"}
        )
    for cat in p.categories:
        SubElement(entry, "category", {"term": cat})
    summary = " ".join((p.abstract or "").split())
    if item.reasons:
        summary = "Why: " + "; ".join(item.reasons) + ("\n\n" + summary if summary else "")
    if summary:
        SubElement(entry, "summary", {"type": "text"}).text = summary
