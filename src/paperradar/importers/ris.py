"""Importer for RIS files (Zotero, Mendeley, EndNote, publisher exports). Pure, no I/O beyond
reading `source`.

The file is split into records here, by `TY  -` ... `ER  -` boundaries, keeping line numbers;
each record's text is then parsed by rispy. A record without `ER  -` (before the next `TY  -` or
the end of the file) or with a malformed tag line (`AU - Name`, one space) is a ParseError at its
first line; the records around it are kept. Lines without a tag inside a record continue the
previous field (exporters wrap long abstracts and notes that way).

Mapping: TI/T1 title; AU/A1 authors ("Last, First" -> "First Last"); AB/N2 abstract; DA (else
PY/Y1) published date (`2024/03/06/`, `2024///`); DO and arXiv URLs/notes -> ids; UR links;
T2/JO/JF venue; a Zotero note "Comment: ..." -> comment; arXiv-shaped KW (cs.CL) -> categories;
PubMed / Semantic Scholar page URLs and a PubMed accession number -> pmid:/s2:/corpus: ids; TY,
other KW, other notes and every other tag -> extra. `raw` is the record's lines.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import rispy

from ..errors import ParseError
from ..models import Author, PartialDate, Record, SourceRef
from ..normalize import (
    arxiv_aliases,
    arxiv_ids_in,
    clean_text,
    code_links_in,
    ids_from_text,
    is_category,
    normalize_author,
    parse_date,
)
from .base import Source

NAME = "ris"

_TAG = re.compile(r"^([A-Z][A-Z0-9])  -(?: |$)")
_BAD_TAG = re.compile(r"^[A-Z][A-Z0-9] ?-(?: |$)|^[A-Z][A-Z0-9] {3,}-(?: |$)|^[A-Z][A-Z0-9]  -\S")
_ARXIV_VENUE = re.compile(r"(?i)^\s*(?:arxiv|corr)\b")
# rispy keys turned into Record fields; all other keys are kept in extra.
_CONSUMED = {
    "title", "primary_title", "authors", "first_authors", "abstract", "notes_abstract", "date", "year",
    "publication_year", "doi", "urls", "notes", "keywords", "type_of_reference", "end_of_reference",
}  # fmt: skip
_VENUE_KEYS = ("secondary_title", "journal_name", "alternate_title3", "alternate_title1", "alternate_title2")


def detect(head: str, name: str) -> int:
    lines = [line for line in head.splitlines() if line.strip()][:50]
    if not lines:
        return 0
    ris_suffix = name.lower().endswith(".ris")
    if lines[0].startswith("TY  -") and any(_TAG.match(line) for line in lines[1:]):
        return 95
    has_end = any(line.startswith("ER  -") for line in head.splitlines())
    if has_end and any(line.startswith("TY  -") for line in lines):
        return 80
    return 40 if ris_suffix else 0


def parse(source: Source) -> Iterator[Record | ParseError]:
    """One Record per `TY` ... `ER` record; broken records become ParseErrors."""
    chunk: list[tuple[int, str]] = []
    problem: str | None = None
    stray: int | None = None  # first line of text found outside any record
    for lineno, text in source.lines():
        tag = m.group(1) if (m := _TAG.match(text)) else None
        if not chunk:
            if tag == "TY":
                if stray is not None:
                    yield _stray(source, stray)
                chunk, problem, stray = [(lineno, text)], None, None
            elif text.strip() and stray is None:
                stray = lineno
            continue
        if tag == "TY":
            yield _unclosed(source, chunk, f"no 'ER  -' before the next 'TY  -' on line {lineno}")
            chunk, problem = [(lineno, text)], None
            continue
        chunk.append((lineno, text))
        if tag == "ER":
            yield ParseError(source.path, chunk[0][0], problem) if problem else _record(source, chunk)
            chunk = []
        elif tag is None and problem is None and _BAD_TAG.match(text):
            problem = f"line {lineno} is not a valid RIS tag line (want 'XX  - value'): {text[:40]!r}"
            problem += "; record skipped"
    if chunk:
        yield _unclosed(source, chunk, "no 'ER  -' before the end of the file")
    elif stray is not None:
        yield _stray(source, stray)


def _stray(source: Source, line: int) -> ParseError:
    return ParseError(source.path, line, "text outside a record (no 'TY  -' before it); skipped")


def _unclosed(source: Source, chunk: list[tuple[int, str]], why: str) -> ParseError:
    return ParseError(source.path, chunk[0][0], f"record is not closed: {why}; record skipped")


def _record(source: Source, chunk: list[tuple[int, str]]) -> Record | ParseError:
    raw = "\n".join(text for _, text in chunk)
    line = chunk[0][0]
    try:
        entries = rispy.loads(raw)
    except Exception as e:  # rispy has no error contract; one odd record must not stop the file
        return ParseError(source.path, line, f"rispy could not read this record ({e}); record skipped")
    if len(entries) != 1:
        return ParseError(source.path, line, "rispy could not read this record; record skipped")
    entry: dict[str, Any] = entries[0]
    rec = Record(source=SourceRef(importer=NAME, path=source.path, line=line), raw=raw)
    rec.title = clean_text(_first(entry, "title", "primary_title"))
    rec.abstract = clean_text(_first(entry, "abstract", "notes_abstract"))
    names = [normalize_author(a) for a in _as_list(entry.get("authors"))]
    names += [n for a in _as_list(entry.get("first_authors")) if (n := normalize_author(a)) not in names]
    rec.authors = [Author(n) for n in names if n]  # AU and A1 may repeat each other, not themselves
    rec.ids = _ids(entry)
    date = _ris_date(entry.get("date")) or _ris_date(_first(entry, "year", "publication_year"))
    if date:
        rec.dates["published"] = date
    rec.venue = _venue(entry)
    _notes(rec, _as_list(entry.get("notes")))
    _links(rec, _as_list(entry.get("urls")))
    _extra(rec, entry)
    if not (rec.ids or rec.title or rec.abstract):
        return ParseError(source.path, line, "record has no id, title or abstract")
    return rec


def _first(entry: dict[str, Any], *keys: str) -> str | None:
    for key in keys:
        value = entry.get(key)
        if isinstance(value, list):
            value = " ".join(value)
        if value and str(value).strip():
            return str(value)
    return None


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def _ids(entry: dict[str, Any]) -> list[str]:
    ids: list[str] = []
    places = [*_as_list(entry.get("urls")), *_as_list(entry.get("note")), *_as_list(entry.get("notes"))]
    places += _as_list(entry.get("id")) + _as_list(entry.get("accession_number"))
    for text in places:
        found = arxiv_ids_in(text) if "arxiv" in text.lower() else []
        if found:
            ids.extend(arxiv_aliases(*found[0]))
            break
    if entry.get("doi"):
        ids.extend(ids_from_text(str(entry["doi"])))
    for url in _as_list(entry.get("urls")):  # PubMed and Semantic Scholar pages name their ids
        ids.extend(i for i in ids_from_text(url) if i.split(":", 1)[0] in ("pmid", "s2", "corpus"))
    for text in _as_list(entry.get("accession_number")):
        ids.extend(i for i in ids_from_text(text) if i.startswith("pmid:"))
    return list(dict.fromkeys(ids))


def _ris_date(text: str | None) -> PartialDate | None:
    """RIS dates: `2024/03/06/`, `2024/03//`, `2024///`, `2024`, or ISO `2024-03-06`."""
    if not text or not text.strip():
        return None
    text = text.strip()
    m = re.fullmatch(r"(\d{4})?/(\d{1,2})?/?(\d{1,2})?/?.*", text)
    if not m:
        return parse_date(text)
    y, mo, d = (int(g) if g else None for g in m.groups())
    try:
        return PartialDate(y, mo, d if mo else None)
    except ValueError:
        return None


def _venue(entry: dict[str, Any]) -> str | None:
    for key in _VENUE_KEYS:
        value = entry.get(key)
        if isinstance(value, str) and value.strip() and not _ARXIV_VENUE.match(value):
            return clean_text(value)
    return None


def _links(rec: Record, urls: list[str]) -> None:
    for url in (u.strip() for u in urls):
        if not url:
            continue
        kind = "pdf" if "arxiv.org/pdf/" in url else "abs" if "arxiv.org/abs/" in url else "url"
        if code_links_in(url) == [url]:
            kind = "code"
        rec.links.setdefault(kind, []).append(url)
    for url in code_links_in(f"{rec.abstract or ''} {rec.comment or ''}"):
        if url not in rec.links.get("code", []):
            rec.links.setdefault("code", []).append(url)


def _notes(rec: Record, notes: list[str]) -> None:
    kept = []
    for note in notes:
        m = re.match(r"(?i)\s*comment:\s*(.+)", note, re.S)
        if m and rec.comment is None:
            rec.comment = clean_text(m.group(1))
        elif note.strip():
            kept.append(note.strip())
    if kept:
        rec.extra["notes"] = kept


def _extra(rec: Record, entry: dict[str, Any]) -> None:
    rec.extra["type"] = entry.get("type_of_reference")
    keywords = _as_list(entry.get("keywords"))
    rec.categories = [k.strip() for k in keywords if is_category(k)]
    if any(not is_category(k) for k in keywords):
        rec.extra["keywords"] = [k for k in keywords if not is_category(k)]
    for key, value in entry.items():
        if key in _CONSUMED or (rec.venue and key in _VENUE_KEYS and clean_text(str(value)) == rec.venue):
            continue
        if key == "unknown_tag":
            rec.extra["unknown_tags"] = {tag or "(untagged)": list(v) for tag, v in value.items()}
        elif value:
            rec.extra[key] = value
