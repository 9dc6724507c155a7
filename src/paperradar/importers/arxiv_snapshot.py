"""Importer for arXiv metadata dumps in JSON lines. Pure; the only I/O is reading `source`.

Two shapes, one JSON object per line, streamed line by line (never loaded whole):
- the Kaggle `arxiv-metadata-oai-snapshot.json` schema: `authors_parsed`, `versions` with
  RFC 2822 dates, `categories` as a space-separated string, `journal-ref`, `doi`, ...;
- the daily-listing corpus shape: `authors` and `categories` as lists, `listing_date`,
  `last_listing_date`, `other_classes`, and `published`/`updated` on some lines.

Files compressed with gzip or xz are read decompressed, recognised by their magic bytes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from functools import lru_cache
from typing import Any

from ..errors import ParseError
from ..models import Author, Record, SourceRef
from ..normalize import (
    arxiv_aliases,
    clean_text,
    code_links_in,
    normalize_author,
    normalize_doi,
    parse_arxiv_id,
    parse_date,
)
from ._columns import DATE_FIELDS, guess_columns, to_date
from .base import Source

NAME = "arxiv_snapshot"


# Dumps repeat the same listing dates and author names many times over: parse each once.
_date = lru_cache(maxsize=4096)(parse_date)
_author_name = lru_cache(maxsize=65536)(normalize_author)


# ---------------------------------------------------------------- detection


def detect(head: str, name: str) -> int:
    first = head.lstrip().split("\n", 1)[0]
    try:
        obj = json.loads(first)
    except ValueError:  # the first line is longer than the head: look at the keys only
        if '"authors_parsed"' in first and '"versions"' in first:
            return 90
        return 85 if '"listing_date"' in first and '"categories"' in first else 0
    if not isinstance(obj, dict) or "id" not in obj or not ({"title", "abstract"} & obj.keys()):
        return 0
    if "provenance" in obj:
        return 0  # paperradar's own JSONL export (tabular_jsonl reads it)
    if "authors_parsed" in obj and "versions" in obj:
        return 95
    if "listing_date" in obj and "categories" in obj:
        return 90
    if "categories" in obj and parse_arxiv_id(str(obj["id"])):
        return 60
    return 0


# ---------------------------------------------------------------- parsing


def parse(source: Source) -> Iterator[Record | ParseError]:
    for lineno, text in source.lines():
        if not text.strip():
            continue
        try:
            obj = json.loads(text)
        except json.JSONDecodeError as e:
            yield ParseError(source.path, lineno, f"invalid JSON ({e.msg} at column {e.colno})")
            continue
        except RecursionError:
            yield ParseError(source.path, lineno, "invalid JSON (nested too deeply)")
            continue
        if not isinstance(obj, dict):
            yield ParseError(source.path, lineno, f"expected a JSON object, got {type(obj).__name__}")
            continue
        yield _record(obj, source.path, lineno, text)


def _record(obj: dict[str, Any], path: str, lineno: int, raw: str) -> Record | ParseError:
    title = _clean(obj.get("title"))
    abstract = _clean(obj.get("abstract"))
    if not title and not abstract:
        return ParseError(path, lineno, "no title and no abstract")
    comment = _clean(obj.get("comments") if "comments" in obj else obj.get("comment"))
    record = Record(
        source=SourceRef(importer=NAME, path=path, line=lineno),
        title=title,
        abstract=abstract,
        comment=comment,
        raw=raw,
    )
    if "authors_parsed" in obj or "versions" in obj:
        _fill_kaggle(record, obj)
    else:
        _fill_listing(record, obj)
    text = f"{abstract or ''} {comment or ''}"
    if "://" in text:
        code = code_links_in(text)
        if code:
            record.links["code"] = code
    return record


def _clean(value: Any) -> str | None:
    return clean_text(value) if isinstance(value, str) else None


def _arxiv_ids(record: Record, raw_id: Any, version: str | None) -> None:
    if raw_id is None:
        return
    parsed = parse_arxiv_id(str(raw_id))
    if parsed:
        record.ids = arxiv_aliases(parsed[0], version or parsed[1])
    else:
        record.extra["id"] = raw_id


def _add_dois(record: Record, text: Any) -> None:
    for part in text.split() if isinstance(text, str) else []:
        doi = normalize_doi(part)
        if doi and f"doi:{doi}" not in record.ids:
            record.ids.append(f"doi:{doi}")


def _put_date(record: Record, kind: str, text: Any) -> None:
    date = _date(text) if isinstance(text, str) else None
    if date is not None:
        record.dates[kind] = date


# ---------------------------------------------------------------- the Kaggle snapshot


def _fill_kaggle(record: Record, obj: dict[str, Any]) -> None:
    versions = [v for v in obj.get("versions") or [] if isinstance(v, dict)]
    latest = versions[-1].get("version") if versions else None
    _arxiv_ids(record, obj.get("id"), latest if isinstance(latest, str) else None)
    _add_dois(record, obj.get("doi"))
    record.categories = list(dict.fromkeys((obj.get("categories") or "").split()))
    record.venue = _clean(obj.get("journal-ref"))
    if versions:
        _put_date(record, "published", versions[0].get("created"))
        _put_date(record, "updated", versions[-1].get("created"))
    authors_value = obj.get("authors")
    authors_text = authors_value if isinstance(authors_value, str) else ""
    parsed = obj.get("authors_parsed")
    if isinstance(parsed, list) and parsed:
        record.authors = _kaggle_authors(parsed, authors_text)
    elif authors_text:
        record.authors = [Author(normalize_author(n)) for n in _split_names(authors_text)]
    if re.search(r"\bet\.? al\b", authors_text):
        record.authors_complete = False
    for key in ("submitter", "report-no", "license", "update_date"):
        if obj.get(key):
            record.extra[key.replace("-", "_")] = obj[key]
    if versions:
        record.extra["versions"] = versions


def _kaggle_authors(parsed: list[Any], authors_text: str) -> list[Author]:
    """authors_parsed rows are [last, first, suffix, affiliation...]."""
    notes = _numbered_affiliations(authors_text) if "((" in authors_text else {}
    out = []
    for row in parsed:
        if not isinstance(row, list) or not row:
            continue
        last, first, suffix = ([str(p or "") for p in row[:3]] + ["", ""])[:3]
        name = normalize_author(" ".join(p for p in (first.replace(". -", ".-"), last, suffix) if p))
        affiliations: list[str] = []
        for aff in row[3:]:
            for text in _resolve_affiliation(str(aff), notes):
                cleaned = clean_text(text)
                if cleaned:
                    affiliations.append(cleaned)
        if name:
            out.append(Author(name, affiliations))
    return out


def _numbered_affiliations(authors_text: str) -> dict[str, str]:
    """The footnote list of an authors string: "... ((1) CREST, (2) Kurchatov Institute)"."""
    block = authors_text[authors_text.rfind("((") + 1 :]
    parts = re.split(r"\((\d+)\)", block.removesuffix(")").strip())
    return {num: text.strip(" ,;\n") for num, text in zip(parts[1::2], parts[2::2], strict=False)}


def _resolve_affiliation(aff: str, notes: dict[str, str]) -> list[str]:
    """'1 and 2' with footnotes known -> their texts; anything else is kept as given."""
    nums = re.findall(r"\d+", aff)
    plain_numbers = re.fullmatch(r"[\d\s,]+|[\d\s,]+and\s+\d+", aff.strip())
    if notes and nums and plain_numbers and all(n in notes for n in nums):
        return [notes[n] for n in nums]
    return [aff]


def _split_names(authors_text: str) -> list[str]:
    text = re.sub(r"\([^()]*\)", "", authors_text)
    names = re.split(r",\s*|\s+and\s+", text)
    return [n for n in (x.strip() for x in names) if n and not re.fullmatch(r"et\.? al\.?", n)]


# ---------------------------------------------------------------- the daily-listing corpus


@lru_cache(maxsize=256)
def _date_columns(keys: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    """(date kind, the key holding it), guessed from the key names as the JSONL importer guesses
    them, so a line with a plain `date` or `year` keeps it; once per shape of line."""
    guessed = guess_columns(keys)
    return tuple((kind, guessed[kind]) for kind in DATE_FIELDS if kind in guessed)


def _fill_listing(record: Record, obj: dict[str, Any]) -> None:
    _arxiv_ids(record, obj.get("id"), None)
    authors = obj.get("authors")
    if isinstance(authors, str):
        authors = _split_names(authors)
    record.authors = [Author(_author_name(a)) for a in authors or [] if isinstance(a, str) and a.strip()]
    categories = obj.get("categories")
    if isinstance(categories, str):
        categories = categories.split()
    record.categories = list(dict.fromkeys(c for c in categories or [] if isinstance(c, str)))
    for kind, column in _date_columns(tuple(obj)):  # listing_date, published, updated, or a plain `date`
        value = obj[column]
        date = _date(value) if isinstance(value, str) else to_date(value)
        if date is not None:
            record.dates[kind] = date
    if obj.get("other_classes"):
        record.extra["other_classes"] = obj["other_classes"]
    last = obj.get("last_listing_date")
    if last:
        record.extra["last_listing_date"] = last
    _add_dois(record, obj.get("doi"))
    record.venue = _clean(obj.get("journal_ref") or obj.get("journal-ref"))
