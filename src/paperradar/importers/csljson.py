"""Importer for CSL-JSON (citeproc, Pandoc, Zotero and Better BibTeX exports, and paperradar's own
`papers export --format csljson`). Pure, no I/O beyond reading `source`.

A document is a JSON array of CSL items (or `{"items": [...]}`); each item becomes a Record:
- ids: `DOI`, `PMID`, arXiv ids from `number` ("arXiv:2403.03507v2"), `URL` or an arXiv DOI, and
  `custom.s2` / `custom.corpus` (Semantic Scholar, as paperradar's export writes them);
- title through `clean_text` after CSL's rich-text markup (`<i>`, `<sup>2</sup>`, `<span
  class="nocase">`) is turned into text;
- `author` items ({family, given, suffix, particles} or {literal}) through `normalize_author`;
- `issued` (`date-parts`, else `raw`/`literal`: EDTF, `--04-07`) -> dates["published"];
- `container-title` -> venue; `note` -> comment; arXiv-shaped `keyword`s -> categories;
  `URL` -> links; `abstract`; `id`, `type`, other keywords and every other variable -> extra.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from typing import Any

from ..errors import ParseError
from ..models import Author, PartialDate, Record, SourceRef
from ..normalize import (
    arxiv_aliases,
    arxiv_ids_in,
    clean_text,
    comment_from_note,
    ids_from_text,
    is_category,
    normalize_author,
    parse_edtf,
)
from . import _jsondoc
from .base import Source

NAME = "csljson"

_CSL_TYPES = {
    "article", "article-journal", "article-magazine", "article-newspaper", "book", "chapter", "dataset",
    "paper-conference", "report", "thesis", "webpage", "manuscript", "software", "speech", "entry",
    "entry-encyclopedia", "post", "post-weblog", "review", "standard", "patent",
}  # fmt: skip
_CSL_KEYS = {"issued", "container-title", "citation-key", "DOI", "URL", "author", "accessed", "page"}
_CONSUMED = {
    "id", "type", "title", "author", "issued", "container-title", "DOI", "PMID", "URL", "abstract",
    "note", "keyword",
}  # fmt: skip
_TAG = re.compile(r"<(/?)(sup|sub|i|b|em|strong|span|sc)\b[^>]*>", re.I)
_SUP = str.maketrans("0123456789+-=()ni", "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁼⁽⁾ⁿⁱ")
_SUB = str.maketrans("0123456789+-=()", "₀₁₂₃₄₅₆₇₈₉₊₋₌₍₎")
_ARXIV_VENUE = re.compile(r"(?i)^\s*(?:arxiv|corr)\b")


def detect(head: str, name: str) -> int:
    item = _jsondoc.first_item(head)
    if item is None or "type" not in item:
        return 0
    if {"issued", "container-title", "citation-key"} & item.keys():
        return 90
    authors = item.get("author")
    first = authors[0] if isinstance(authors, list) and authors else None
    if isinstance(first, dict) and {"family", "given", "literal"} & first.keys():
        return 85
    if "id" in item and item["type"] in _CSL_TYPES:
        return 70  # a sparse item: id, type and a title
    return 60 if len(_CSL_KEYS & item.keys()) >= 2 else 0


def parse(source: Source) -> Iterator[Record | ParseError]:
    for got in _jsondoc.items(source):
        if isinstance(got, ParseError):
            yield got
        else:
            line, item, raw = got
            yield _record(source, line, item, raw)


def _record(source: Source, line: int, item: dict[str, Any], raw: str) -> Record | ParseError:
    rec = Record(source=SourceRef(importer=NAME, path=source.path, line=line), raw=raw)
    rec.title = clean_text(rich_text(_text(item.get("title"))))
    rec.abstract = clean_text(rich_text(_text(item.get("abstract"))))
    rec.authors = [Author(n) for a in _list(item.get("author")) if (n := csl_name(a))]
    rec.ids = _ids(item)
    date = csl_date(item.get("issued"))
    if date:
        rec.dates["published"] = date
    venue = _text(item.get("container-title"))
    if venue and not _ARXIV_VENUE.match(venue):
        rec.venue = clean_text(rich_text(venue))
    rec.comment = comment_from_note(_text(item.get("note")))
    keywords = [k.strip() for k in re.split(r"[,;]", _text(item.get("keyword"))) if k.strip()]
    rec.categories = [k for k in keywords if is_category(k)]
    for url in [u for u in re.split(r"\s+", _text(item.get("URL"))) if u]:
        kind = "abs" if "arxiv.org/abs/" in url else "pdf" if "arxiv.org/pdf/" in url else "url"
        rec.links.setdefault(kind, []).append(url)
    rec.extra = _extra(item, [k for k in keywords if not is_category(k)], rec.comment is None)
    if not (rec.ids or rec.title or rec.abstract):
        return ParseError(source.path, line, f"CSL item {item.get('id')!r} has no id, title or abstract")
    return rec


def rich_text(text: str) -> str:
    """CSL rich text as plain text: <sup>2</sup> -> ², <sub>2</sub> -> ₂, other tags dropped,
    HTML entities resolved."""
    if "<" not in text and "&" not in text:
        return text
    out, pos, mode = [], 0, ""
    for m in _TAG.finditer(text):
        piece = text[pos : m.start()]
        out.append(
            piece.translate(_SUP) if mode == "sup" else piece.translate(_SUB) if mode == "sub" else piece
        )
        tag = m.group(2).lower()
        if tag in ("sup", "sub"):
            mode = "" if m.group(1) else tag
        pos = m.end()
    out.append(text[pos:])
    return html.unescape("".join(out))


def csl_name(author: Any) -> str:
    """A CSL name object as one display name, through the shared name parser."""
    if not isinstance(author, dict):
        return normalize_author(str(author)) if author else ""
    if author.get("literal"):
        return clean_text(str(author["literal"])) or ""
    family = " ".join(str(author[k]) for k in ("non-dropping-particle", "family") if author.get(k))
    given = " ".join(str(author[k]) for k in ("given", "dropping-particle") if author.get(k))
    suffix = str(author.get("suffix") or "")
    if not family:
        return normalize_author(given)
    parts = [family] + ([suffix] if suffix else []) + ([given] if given else [])
    return normalize_author(", ".join(parts))


def csl_date(value: Any) -> PartialDate | None:
    """`{"date-parts": [[2024, 3, 7]]}` (a range's start), else its `raw` or `literal` text."""
    if not isinstance(value, dict):
        return parse_edtf(str(value)) if isinstance(value, str) else None
    parts = value.get("date-parts")
    if isinstance(parts, list) and parts and isinstance(parts[0], list) and parts[0]:
        try:
            numbers = [int(str(p)) for p in parts[0][:3]]
            return PartialDate(*numbers)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            pass
    for key in ("raw", "literal"):
        if isinstance(value.get(key), str):
            parsed = parse_edtf(value[key])
            if parsed:
                return parsed
    return None


def _ids(item: dict[str, Any]) -> list[str]:
    ids: list[str] = []
    for key in ("number", "URL", "archive_location"):
        text = _text(item.get(key))
        found = arxiv_ids_in(text) if "arxiv" in text.lower() else []
        if found:
            ids.extend(arxiv_aliases(*found[0]))
            break
    if item.get("DOI"):
        ids.extend(ids_from_text(_text(item["DOI"])))
    if item.get("PMID"):
        ids.extend(ids_from_text(f"pmid:{_text(item['PMID'])}"))
    custom = item["custom"] if isinstance(item.get("custom"), dict) else {}
    for ns in ("s2", "corpus"):
        given = custom.get(ns)
        values: list[Any] = given if isinstance(given, list) else [given]
        ids.extend(i for v in values if v for i in ids_from_text(f"{ns}:{v}" if ns == "corpus" else str(v)))
    return list(dict.fromkeys(ids))


def _extra(item: dict[str, Any], keywords: list[str], keep_note: bool) -> dict[str, Any]:
    extra: dict[str, Any] = {"type": item.get("type")}
    if item.get("id") is not None:
        extra["citekey"] = str(item["id"])
    if keywords:
        extra["keywords"] = keywords
    skip = _CONSUMED - ({"note"} if keep_note else set())
    extra.update({k: v for k, v in item.items() if k not in skip and v not in (None, "", [], {})})
    return extra


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return " ".join(str(v) for v in value)
    return str(value)


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []
