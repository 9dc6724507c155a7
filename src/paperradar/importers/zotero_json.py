"""Importer for Zotero items as JSON: the Zotero web API's responses (`[{"key", "version", "data":
{...}}, ...]`) and the item objects `paperradar.zotero` reads from a local zotero.sqlite. Pure, no
I/O beyond reading `source`.

| Zotero field | Record field |
|---|---|
| `title` | `title` (through `clean_text`) |
| `creators` ({firstName, lastName} or {name}; authors, else editors) | `authors` through `normalize_author` |
| `abstractNote` | `abstract` |
| `date` (any form Zotero keeps: `2024-03-07`, `May 01, 1980`, `08/1993`) | `dates.published` |
| `publicationTitle`, `proceedingsTitle`, `bookTitle`, `websiteTitle` (not arXiv) | `venue` |
| `DOI`; `url`, `extra` (`arXiv: 2403.03507`, `PMID: 123`), `archiveID` | `ids` |
| `url` | `links` |
| `key`, `itemType`, `collections`, `tags`, and every other field | `extra` (`zotero_key`, `item_type`, ...) |

Attachments and notes are not papers: they are skipped without a report.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from ..errors import ParseError
from ..models import Author, Record, SourceRef
from ..normalize import arxiv_aliases, arxiv_ids_in, clean_text, ids_from_text, normalize_author, parse_date
from . import _jsondoc
from .base import Source

NAME = "zotero_json"

_NOT_PAPERS = {"attachment", "note", "annotation"}
_VENUES = ("publicationTitle", "proceedingsTitle", "bookTitle", "websiteTitle", "repository")
_CONSUMED = {"title", "creators", "abstractNote", "date", "DOI", "url", "key", "itemType", *_VENUES}
_ARXIV_VENUE = re.compile(r"(?i)^\s*(?:arxiv|corr)\b")
_MDY = re.compile(r"^(\d{1,2})/(\d{4})$")  # Zotero's "08/1993"


def detect(head: str, name: str) -> int:
    item = _jsondoc.first_item(head)
    if item is None:
        return 0
    data: dict[str, Any] = item["data"] if isinstance(item.get("data"), dict) else item
    return 92 if "itemType" in data and ("key" in data or "creators" in data) else 0


def parse(source: Source) -> Iterator[Record | ParseError]:
    for got in _jsondoc.items(source):
        if isinstance(got, ParseError):
            yield got
            continue
        line, item, raw = got
        data = item["data"] if isinstance(item.get("data"), dict) else item
        if _text(data.get("itemType")) in _NOT_PAPERS:  # any JSON value (a list crashed: fuzz)
            continue
        yield item_record(source, line, data, raw)


def item_record(source: Source, line: int, data: dict[str, Any], raw: str) -> Record | ParseError:
    rec = Record(source=SourceRef(importer=NAME, path=source.path, line=line), raw=raw)
    rec.title = clean_text(_text(data.get("title")))
    rec.abstract = clean_text(_text(data.get("abstractNote")))
    creators = data.get("creators")
    rec.authors = _creators(creators if isinstance(creators, list) else [])
    date = _date(_text(data.get("date")))
    if date:
        rec.dates["published"] = date
    venue = next((_text(data[k]) for k in _VENUES if _text(data.get(k))), "")
    if venue and not _ARXIV_VENUE.match(venue):
        rec.venue = clean_text(venue)
    rec.ids = _ids(data)
    if _text(data.get("url")):
        url = _text(data["url"])
        rec.links.setdefault("abs" if "arxiv.org/abs/" in url else "url", []).append(url)
    rec.extra = {"zotero_key": data.get("key"), "item_type": data.get("itemType")}
    rec.extra.update({k: v for k, v in data.items() if k not in _CONSUMED and v not in (None, "", [], {})})
    if not (rec.ids or rec.title or rec.abstract):
        return ParseError(source.path, line, f"Zotero item {data.get('key')!r} has no id, title or abstract")
    return rec


def _creators(creators: list[Any]) -> list[Author]:
    people = [c for c in creators if isinstance(c, dict)]
    authors = [c for c in people if c.get("creatorType", "author") == "author"] or people
    out = []
    for c in authors:
        if c.get("name"):  # a single-field name: an organisation, kept as written
            out.append(Author(clean_text(str(c["name"])) or ""))
        elif c.get("lastName"):
            out.append(Author(normalize_author(f"{c['lastName']}, {c.get('firstName') or ''}".strip(", "))))
    return [a for a in out if a.name]


def _date(text: str) -> Any:
    text = text.strip()
    m = _MDY.match(text)
    if m:
        text = f"{m.group(2)}-{int(m.group(1)):02d}"
    return parse_date(re.sub(r"\s+,", ",", text)) or parse_date(text[:10]) or parse_date(text[:4])


def _ids(data: dict[str, Any]) -> list[str]:
    ids: list[str] = []
    places = [_text(data.get(k)) for k in ("archiveID", "url", "extra")]
    for text in places:
        found = arxiv_ids_in(text) if "arxiv" in text.lower() else []
        if found:
            ids.extend(arxiv_aliases(*found[0]))
            break
    if _text(data.get("DOI")):
        ids.extend(ids_from_text(_text(data["DOI"])))
    for line in _text(data.get("extra")).splitlines():  # Zotero keeps other ids as "PMID: 123" lines
        ids.extend(i for i in ids_from_text(line) if i.startswith("pmid:"))
    return list(dict.fromkeys(ids))


def _text(value: Any) -> str:
    return "" if value is None else str(value)
