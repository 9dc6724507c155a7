"""Importer for OpenAlex works JSON: what `https://api.openalex.org/works?filter=...` returns
(`{"meta": {...}, "results": [work, ...]}`), one work (`/works/W2741809807`), or the snapshot's
JSON Lines (one work per line). Pure, no I/O beyond reading `source`.

Each work becomes a Record:
- ids: `id` -> `openalex:W...`; `doi` (an arXiv DOI is read as the arXiv id); `ids.pmid`; arXiv ids
  from any location's `landing_page_url` / `pdf_url` on arxiv.org;
- title: `display_name`, else `title` (inline HTML such as `<i>` turned into text);
- abstract: rebuilt from `abstract_inverted_index` ({word: [positions]}) in position order;
- authors: `authorships[].author.display_name` with `raw_affiliation_strings`;
- `publication_date`, else `publication_year` -> dates["published"];
- `primary_location.source.display_name` -> venue (not when it is arXiv);
- locations' landing pages -> links (`abs` for arXiv, else `url`), their PDFs -> `pdf`;
- `type`, `cited_by_count`, `language`, `ids.mag`, `ids.pmcid`, topic and concept names -> extra.
A work with no title, or with neither an OpenAlex id nor a DOI, is reported, not imported.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from ..errors import ParseError
from ..models import Author, PartialDate, Record, SourceRef
from ..normalize import arxiv_aliases, arxiv_ids_in, clean_text, ids_from_text, normalize_author, parse_date
from . import _jsondoc
from .base import Source
from .csljson import rich_text

NAME = "openalex"

_WORK_ID = re.compile(r'"id"\s*:\s*"https://openalex\.org/(W\d+)"')
_WORK_KEYS = ('"authorships"', '"abstract_inverted_index"', '"publication_year"', '"primary_location"')
_ARXIV_VENUE = re.compile(r"(?i)^\s*(?:arxiv|corr)\b")
_EXTRA_KEYS = ("type", "cited_by_count", "language", "is_retracted")


def detect(head: str, name: str) -> int:
    item = _jsondoc.first_item(head)
    if item is not None:
        return 95 if re.fullmatch(r"https://openalex\.org/W\d+", _text(item.get("id"))) else 0
    text = head.lstrip("\ufeff \t\r\n")
    if not text.startswith(("{", "[")) or not _WORK_ID.search(text[:4096]):
        return 0  # the work's id comes first in every OpenAlex response
    return 90 if sum(key in text for key in _WORK_KEYS) >= 2 else 0


def parse(source: Source) -> Iterator[Record | ParseError]:
    shape = _shape(source.head().decode("utf-8", errors="replace"))
    if shape == "list":
        yield from _listed(source)
    elif shape == "lines":
        yield from _json_lines(source)
    else:
        yield from _one_work(source)


def _shape(head: str) -> str:
    """ "list" (a works response or an array), "lines" (one work per line) or "one" (a work over
    several lines), read from the first line and, failing that, the first 64 KB."""
    text = head.lstrip("\ufeff \t\r\n")
    try:
        first = json.loads(text.split("\n", 1)[0])
    except ValueError:
        return "list" if _jsondoc._array_start(text) is not None else "one"
    if isinstance(first, dict) and _jsondoc._the_list(first) is None:
        return "lines"
    return "list"


def _listed(source: Source) -> Iterator[Record | ParseError]:
    for number, got in enumerate(_jsondoc.items(source), 1):
        if isinstance(got, ParseError):
            yield got
        else:
            line, work, raw = got
            yield work_record(source, line, work, raw, number)


def _json_lines(source: Source) -> Iterator[Record | ParseError]:
    number = 0
    for line, text in source.lines():
        if not text.strip():
            continue
        number += 1
        try:
            work = json.loads(text)
        except ValueError as e:
            yield ParseError(source.path, line, f"work {number}: invalid JSON ({e})")
            continue
        if not isinstance(work, dict):
            yield ParseError(
                source.path, line, f"work {number}: expected an object, got {type(work).__name__}"
            )
            continue
        yield work_record(source, line, work, text, number)


def _one_work(source: Source) -> Iterator[Record | ParseError]:
    loaded = _jsondoc.load(source)
    if isinstance(loaded, ParseError):
        yield loaded
        return
    text, work = loaded
    if not isinstance(work, dict):
        yield ParseError(source.path, 1, "expected an OpenAlex work or a works response")
        return
    yield work_record(source, 1, work, text.strip(), 1)


def work_record(
    source: Source, line: int, work: dict[str, Any], raw: str, number: int
) -> Record | ParseError:
    """One OpenAlex work as a Record, or the ParseError saying why it cannot be one."""
    rec = Record(source=SourceRef(importer=NAME, path=source.path, line=line), raw=raw)
    rec.title = clean_text(rich_text(_text(work.get("display_name") or work.get("title"))))
    openalex_id = _openalex_id(work.get("id"))
    if not rec.title:
        return ParseError(source.path, line, f"work {number} ({openalex_id or 'no id'}) has no title")
    rec.ids = _ids(work, openalex_id)
    if not openalex_id and not any(i.startswith(("doi:", "arxiv:")) for i in rec.ids):
        return ParseError(source.path, line, f"work {number} ({rec.title[:60]!r}) has no OpenAlex id or DOI")
    rec.abstract = clean_text(abstract_from_index(work.get("abstract_inverted_index")))
    rec.authors = [a for a in map(_author, _list(work.get("authorships"))) if a]
    date = parse_date(_text(work.get("publication_date"))) or _year(work.get("publication_year"))
    if date:
        rec.dates["published"] = date
    venue = _text(_dict(_dict(work.get("primary_location")).get("source")).get("display_name"))
    if venue and not _ARXIV_VENUE.match(venue):
        rec.venue = clean_text(venue)
    rec.links = _links(work)
    rec.extra = _extra(work, openalex_id)
    return rec


def abstract_from_index(index: Any) -> str:
    """An abstract from OpenAlex's inverted index ({word: [positions]}), its words in position order."""
    if not isinstance(index, dict):
        return ""
    placed: dict[int, str] = {}
    for word, positions in index.items():
        for pos in _list(positions):
            if isinstance(pos, int) and not isinstance(pos, bool) and 0 <= pos < 100_000:
                placed[pos] = str(word)
    return " ".join(placed[p] for p in sorted(placed))


def _openalex_id(value: Any) -> str | None:
    m = re.search(r"(?:openalex\.org/|^)(W\d+)$", _text(value).strip())
    return m.group(1) if m else None


def _ids(work: dict[str, Any], openalex_id: str | None) -> list[str]:
    ids: list[str] = [f"openalex:{openalex_id}"] if openalex_id else []
    for url in _location_urls(work):
        found = arxiv_ids_in(url) if "arxiv.org/" in url else []
        if found:
            ids.extend(arxiv_aliases(*found[0]))
            break
    known = _dict(work.get("ids"))
    for value in (work.get("doi"), known.get("doi"), known.get("pmid")):
        if isinstance(value, str) and value:
            ids.extend(ids_from_text(value))
    return list(dict.fromkeys(ids))


def _location_urls(work: dict[str, Any]) -> Iterator[str]:
    places = [work.get("primary_location"), work.get("best_oa_location"), *_list(work.get("locations"))]
    for place in map(_dict, places):
        for key in ("landing_page_url", "pdf_url"):
            if isinstance(place.get(key), str) and place[key]:
                yield place[key]


def _links(work: dict[str, Any]) -> dict[str, list[str]]:
    links: dict[str, list[str]] = {}
    places = [work.get("primary_location"), work.get("best_oa_location"), *_list(work.get("locations"))]
    for place in map(_dict, places):
        landing, pdf = _text(place.get("landing_page_url")), _text(place.get("pdf_url"))
        if landing.startswith("http"):
            kind = "abs" if "arxiv.org/abs/" in landing else "url"
            links.setdefault(kind, []).append(landing)
        if pdf.startswith("http"):
            links.setdefault("pdf", []).append(pdf)
    return {kind: list(dict.fromkeys(urls)) for kind, urls in links.items()}


def _author(authorship: Any) -> Author | None:
    authorship = _dict(authorship)
    name = normalize_author(_text(_dict(authorship.get("author")).get("display_name")))
    if not name:
        name = normalize_author(_text(authorship.get("raw_author_name")))
    affiliations = [clean_text(a) or "" for a in _list(authorship.get("raw_affiliation_strings"))]
    return Author(name, [a for a in affiliations if a]) if name else None


def _extra(work: dict[str, Any], openalex_id: str | None) -> dict[str, Any]:
    extra: dict[str, Any] = {k: work[k] for k in _EXTRA_KEYS if work.get(k) not in (None, "")}
    if openalex_id:
        extra["openalex"] = openalex_id
    known = _dict(work.get("ids"))
    extra.update({k: known[k] for k in ("mag", "pmcid") if known.get(k)})
    for key in ("topics", "concepts", "keywords"):
        names = [_text(_dict(t).get("display_name")) for t in _list(work.get(key))]
        if any(names):
            extra[key] = [n for n in names if n]
    oa_status = _dict(work.get("open_access")).get("oa_status")
    if oa_status:
        extra["oa_status"] = oa_status
    return extra


def _year(value: Any) -> PartialDate | None:
    try:
        year = int(str(value))
    except (TypeError, ValueError):
        return None
    return PartialDate(year) if 1000 <= year <= 9999 else None


def _text(value: Any) -> str:
    return "" if value is None or isinstance(value, (dict, list)) else str(value)


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []
