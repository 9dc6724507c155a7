"""Importer for Web of Science "plain text" exports (also called ISI or tagged format). Pure, no I/O
beyond reading `source`.

A file is `FN`/`VR` header lines, then records from `PT` to `ER`, then `EF`. Each line is a
two-character tag, a space and a value; a line starting with three spaces continues the tag above
(one author per line for `AU`/`AF`, one address for `C1`, one reference for `CR`; wrapped text for
the rest, joined with spaces). A record not closed by `ER` before the next `PT` or the end of the
file is a ParseError at its first line; the records around it are kept.

Mapping: TI title; AF (full names, else AU; one per line, or separated by `;` as some exports
write them) authors through `normalize_author`; AB abstract;
SO (else SE) venue; PY + PD ("JUN 14", "MAR 2019", "2019 JUN 14") published date; DI DOI; PM
PubMed id; a UT like `ARXIV:2101.00001` an arXiv id; DE and ID keywords, UT, DT and every other tag
-> extra (lists for the multi-line tags). `raw` is the record's lines.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from ..errors import ParseError
from ..models import Author, PartialDate, Record, SourceRef
from ..normalize import arxiv_aliases, arxiv_ids_in, clean_text, ids_from_text, normalize_author, parse_date
from .base import Source

NAME = "wos"

_TAG = re.compile(r"^([A-Z][A-Z0-9]) (.*)$|^([A-Z][A-Z0-9])$")
_LISTS = {"AU", "AF", "C1", "CR", "BE", "CA", "GP", "ED"}
_CONSUMED = {"PT", "TI", "AU", "AF", "AB", "SO", "PY", "PD", "DI", "PM", "ER"}


def detect(head: str, name: str) -> int:
    lines = [line for line in head.lstrip("\ufeff").splitlines() if line.strip()][:40]
    if not lines:
        return 0
    if lines[0].startswith("FN ") and any(line.startswith("PT ") for line in lines):
        return 95
    has_end = any(line.rstrip() == "ER" for line in head.splitlines())
    if lines[0].startswith("PT ") and has_end and any(line.startswith(("TI ", "AU ")) for line in lines):
        return 80
    return 0


def parse(source: Source) -> Iterator[Record | ParseError]:
    """One Record per `PT` ... `ER` record."""
    chunk: list[tuple[int, str]] = []
    for lineno, text in source.lines():
        tag = text[:2] if _TAG.match(text) else None
        if tag == "PT":
            if chunk:
                yield _unclosed(source, chunk, f"no 'ER' before the next 'PT' on line {lineno}")
            chunk = [(lineno, text)]
        elif chunk:
            chunk.append((lineno, text))
            if tag == "ER":
                yield _record(source, chunk)
                chunk = []
    if chunk:
        yield _unclosed(source, chunk, "no 'ER' before the end of the file")


def _unclosed(source: Source, chunk: list[tuple[int, str]], why: str) -> ParseError:
    return ParseError(source.path, chunk[0][0], f"record is not closed: {why}; record skipped")


def _fields(chunk: list[tuple[int, str]]) -> dict[str, list[str]]:
    fields: dict[str, list[str]] = {}
    current: str | None = None
    for _, text in chunk:
        m = _TAG.match(text)
        if m:
            current = m.group(1) or m.group(3)
            fields.setdefault(current, []).append((m.group(2) or "").strip())
        elif text.startswith("   ") and current is not None:
            value = text.strip()
            if current in _LISTS:
                fields[current].append(value)
            else:
                fields[current][-1] = f"{fields[current][-1]} {value}".strip()
    return fields


def _record(source: Source, chunk: list[tuple[int, str]]) -> Record | ParseError:
    line = chunk[0][0]
    fields = _fields(chunk)
    one = {k: " ".join(v).strip() for k, v in fields.items()}
    rec = Record(source=SourceRef(importer=NAME, path=source.path, line=line))
    rec.raw = "\n".join(text for _, text in chunk)
    rec.title = clean_text(one.get("TI"))
    rec.abstract = clean_text(one.get("AB"))
    names = [n.strip() for a in fields.get("AF") or fields.get("AU") or [] for n in a.split(";") if n.strip()]
    rec.authors = [Author(n) for n in dict.fromkeys(normalize_author(a) for a in names) if n]
    rec.venue = clean_text(one.get("SO") or one.get("SE"))
    date = _date(one.get("PY", ""), one.get("PD", ""))
    if date:
        rec.dates["published"] = date
    rec.ids = _ids(one)
    rec.extra = {k.lower(): v if k in _LISTS else one[k] for k, v in fields.items() if k not in _CONSUMED}
    if not (rec.ids or rec.title or rec.abstract):
        return ParseError(source.path, line, "record has no id, title or abstract")
    return rec


def _ids(one: dict[str, str]) -> list[str]:
    ids: list[str] = []
    found = arxiv_ids_in(one.get("UT", "")) if "arxiv" in one.get("UT", "").lower() else []
    if found:
        ids.extend(arxiv_aliases(*found[0]))
    if one.get("DI"):
        ids.extend(ids_from_text(one["DI"]))
    if one.get("PM"):
        ids.extend(ids_from_text(f"pmid:{one['PM']}"))
    return list(dict.fromkeys(ids))


def _date(year: str, pd: str) -> PartialDate | None:
    """PY 2006 + PD "JUN 14" / "MAR" / "04 2006" / "2006 JUN 14" / "SPR" -> the most that is known."""
    year_m = re.search(r"\b(\d{4})\b", year) or re.search(r"\b(\d{4})\b", pd)
    if not year_m:
        return None
    rest = re.sub(r"\b\d{4}\b", "", pd).strip()
    m = re.fullmatch(r"(\d{1,2})", rest)  # "04 2006": a month number
    if m and 1 <= int(m.group(1)) <= 12:
        return PartialDate(int(year_m.group(1)), int(m.group(1)))
    parsed = (
        parse_date(f"{rest} {year_m.group(1)}") or parse_date(f"{rest}, {year_m.group(1)}") if rest else None
    )
    if parsed is None and rest:
        words = rest.split()
        parsed = parse_date(f"{words[0]} {year_m.group(1)}") if words else None
    return parsed or PartialDate(int(year_m.group(1)))
