"""Importer for arXiv API responses (export.arxiv.org/api/query, Atom 1.0). Pure, no I/O.

One Atom feed holds one page of results: `opensearch:totalResults`, `startIndex` and
`itemsPerPage` say where the page sits (see `page_info`, which the fetcher uses for paging),
and each `<entry>` is one paper. The arXiv API reports a bad query as a feed whose single
entry is titled "Error"; that entry becomes a ParseError carrying arXiv's message.

XML is parsed with defusedxml (no entity expansion, no external references). Each Record's
`raw` is the verbatim `<entry>...</entry>` text and its line is where the entry starts.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from xml.etree.ElementTree import Element, TreeBuilder

from defusedxml.ElementTree import DefusedXMLParser
from defusedxml.ElementTree import ParseError as XMLSyntaxError

from ..errors import ParseError
from ..models import Author, PartialDate, Record, SourceRef
from ..normalize import (
    arxiv_aliases,
    clean_text,
    code_links_in,
    normalize_author,
    normalize_doi,
    parse_arxiv_id,
    parse_date,
)
from .base import Source

NAME = "arxiv_atom"

ATOM = "{http://www.w3.org/2005/Atom}"
ARXIV = "{http://arxiv.org/schemas/atom}"
OPENSEARCH = "{http://a9.com/-/spec/opensearch/1.1/}"
_ENTRY = ATOM + "entry"


def detect(head: str, name: str) -> int:
    if "<feed" not in head or "http://www.w3.org/2005/Atom" not in head:
        return 0
    if "http://arxiv.org/schemas/atom" in head or "arxiv.org/api" in head:
        return 95
    if "arxiv.org/abs/" in head:
        return 70
    return 0


# ---------------------------------------------------------------- reading the feed


@dataclass
class _Span:
    line: int
    start: int
    end: int = -1


class _EntryTracker(TreeBuilder):
    """A TreeBuilder that keeps each finished <entry> with where it sits in the input bytes,
    so the entries before a syntax error (a cut-off download) are not lost."""

    def __init__(self) -> None:
        super().__init__()
        self.expat: Any = None  # the expat parser, set once it exists
        self.root_tag: str | None = None
        self.entries: list[tuple[Element, _Span]] = []
        self._open: _Span | None = None

    def start(self, tag: str, attrs: dict[str, str]) -> Element:  # type: ignore[override]
        if self.root_tag is None:
            self.root_tag = tag
        if tag == _ENTRY:
            self._open = _Span(self.expat.CurrentLineNumber, self.expat.CurrentByteIndex)
        return super().start(tag, attrs)

    def end(self, tag: str) -> Element:  # type: ignore[override]
        element = super().end(tag)
        if tag == _ENTRY and self._open is not None:
            self._open.end = self.expat.CurrentByteIndex
            self.entries.append((element, self._open))
            self._open = None
        return element


@dataclass
class _Feed:
    root: Element | None
    root_tag: str | None
    entries: list[tuple[Element, _Span]]
    error: XMLSyntaxError | None


def _parse_feed(data: bytes) -> _Feed:
    tracker = _EntryTracker()
    parser = DefusedXMLParser(target=tracker)
    tracker.expat = parser.parser
    try:
        parser.feed(data)
        root = parser.close()
    except XMLSyntaxError as e:
        return _Feed(None, tracker.root_tag, tracker.entries, e)
    return _Feed(root, tracker.root_tag, tracker.entries, None)


def _source_bytes(source: Source) -> bytes:
    """The source as UTF-8 bytes, line numbers kept (a line Source skipped stays as a blank line)."""
    out: list[str] = []
    for lineno, text in source.lines():
        out.extend([""] * (lineno - 1 - len(out)))
        out.append(text)
    return "\n".join(out).encode("utf-8")


def _raw_entry(data: bytes, span: _Span) -> str:
    end = data.find(b">", max(span.end, span.start)) + 1
    return data[span.start : end or len(data)].decode("utf-8", errors="replace")


def page_info(xml_bytes: bytes) -> tuple[int, int, int]:
    """(totalResults, startIndex, itemsPerPage) of one API response page.

    Raises ParseError when the bytes are not an arXiv API feed.
    """
    feed = _feed_or_error(xml_bytes)
    values = []
    for name in ("totalResults", "startIndex", "itemsPerPage"):
        text = _text(feed, OPENSEARCH + name)
        if text is None or not text.isdigit():
            raise ParseError("<arXiv API response>", None, f"no opensearch:{name} in the feed")
        values.append(int(text))
    return values[0], values[1], values[2]


def entry_count(xml_bytes: bytes) -> int:
    """How many entries a response page holds (an error entry counts)."""
    return len(_feed_or_error(xml_bytes).findall(_ENTRY))


def api_error(xml_bytes: bytes) -> str | None:
    """arXiv's message when a response page is its error feed ("incorrect id format for ..."), else None."""
    entries = _feed_or_error(xml_bytes).findall(_ENTRY)
    if len(entries) == 1 and _is_error(entries[0]):
        return clean_text(_text(entries[0], ATOM + "summary")) or "unknown error"
    return None


def _feed_or_error(xml_bytes: bytes) -> Element:
    try:
        feed = _parse_feed(xml_bytes)
    except LookupError as e:
        raise ParseError(
            "<arXiv API response>", None, f"the XML declares an unknown encoding ({e})"
        ) from None
    if feed.root is None:
        raise ParseError("<arXiv API response>", None, f"not well-formed XML: {feed.error}")
    if feed.root.tag != ATOM + "feed":
        raise ParseError("<arXiv API response>", None, f"not an Atom feed (root is {feed.root.tag})")
    return feed.root


def parse(source: Source) -> Iterator[Record | ParseError]:
    data = _source_bytes(source)
    try:
        feed = _parse_feed(data)
    except LookupError as e:  # <?xml encoding="U-8"?>: found by bench/fuzz.py (issue 13)
        yield ParseError(source.path, 1, f"the XML declares an unknown encoding ({e}); file skipped")
        return
    if feed.root_tag is not None and feed.root_tag != ATOM + "feed":
        yield ParseError(source.path, 1, f"not an Atom feed (root element is {feed.root_tag})")
        return
    for entry, span in feed.entries:
        yield _entry_record(entry, source.path, span.line, _raw_entry(data, span))
    if feed.error is not None:
        line = feed.error.position[0] if getattr(feed.error, "position", None) else None
        kept = f"; the {len(feed.entries)} entries before it were read" if feed.entries else ""
        yield ParseError(source.path, line, f"not well-formed XML: {feed.error}{kept}")


# ---------------------------------------------------------------- one entry


def _text(el: Element, tag: str) -> str | None:
    child = el.find(tag)
    if child is None or child.text is None:
        return None
    return child.text


def _is_error(entry: Element) -> bool:
    entry_id = _text(entry, ATOM + "id") or ""
    return (_text(entry, ATOM + "title") or "").strip() == "Error" and "/api/errors" in entry_id


def _entry_record(entry: Element, path: str, line: int, raw: str) -> Record | ParseError:
    if _is_error(entry):
        message = clean_text(_text(entry, ATOM + "summary")) or "unknown error"
        return ParseError(path, line, f"arXiv API error: {message}")
    entry_id = (_text(entry, ATOM + "id") or "").strip()
    parsed = parse_arxiv_id(entry_id)
    title = clean_text(_text(entry, ATOM + "title"))
    abstract = clean_text(_text(entry, ATOM + "summary"))
    if parsed is None and not title and not abstract:
        return ParseError(path, line, "entry has no arXiv id, title or summary")
    comment = clean_text(_text(entry, ARXIV + "comment"))
    record = Record(
        source=SourceRef(importer=NAME, path=path, line=line),
        ids=_ids(parsed, _text(entry, ARXIV + "doi")),
        title=title,
        abstract=abstract,
        authors=[_author(a) for a in entry.findall(ATOM + "author")],
        categories=_categories(entry),
        dates=_dates(entry),
        comment=comment,
        links=_links(entry, f"{abstract or ''} {comment or ''}"),
        venue=clean_text(_text(entry, ARXIV + "journal_ref")),
        raw=raw,
    )
    if parsed is None and entry_id:
        record.extra["entry_id"] = entry_id
    return record


def _ids(parsed: tuple[str, str | None] | None, doi_text: str | None) -> list[str]:
    ids = arxiv_aliases(*parsed) if parsed else []
    for part in (doi_text or "").split():
        doi = normalize_doi(part)
        if doi and f"doi:{doi}" not in ids:
            ids.append(f"doi:{doi}")
    return ids


def _author(el: Element) -> Author:
    affiliations = [clean_text(a.text) for a in el.findall(ARXIV + "affiliation")]
    return Author(normalize_author(_text(el, ATOM + "name") or ""), [a for a in affiliations if a])


def _categories(entry: Element) -> list[str]:
    out: list[str] = []
    primary = entry.find(ARXIV + "primary_category")
    terms = [primary] if primary is not None else []
    for el in [*terms, *entry.findall(ATOM + "category")]:
        term = (el.get("term") or "").strip()
        if term and term not in out:
            out.append(term)
    return out


def _dates(entry: Element) -> dict[str, PartialDate]:
    out: dict[str, PartialDate] = {}
    for kind in ("published", "updated"):
        date = parse_date(_text(entry, ATOM + kind))
        if date is not None:
            out[kind] = date
    return out


def _links(entry: Element, text: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for el in entry.findall(ATOM + "link"):
        href, rel, title = el.get("href"), el.get("rel"), el.get("title")
        if not href:
            continue
        if rel == "alternate":
            kind = "abs"
        elif title in ("pdf", "doi"):
            kind = title
        else:
            kind = "url"
        out.setdefault(kind, []).append(href)
    code = code_links_in(text)
    if code:
        out["code"] = code
    return out
