"""Importer for a pasted arXiv author listing: abstracts with their ids, no titles. No I/O.

Each paper reads (blank lines optional):

    We prove rich algebraic structures of the solution space ...     abstract
    40 pages, 15 figures                                            optional comment line(s)
    arXiv:2410.01779                                                id (version optional)
    Created: 2024-10-02                                             optional date

The id line ends a paper; the date line right after it belongs to the same paper. The listing
shows no titles, so `title` stays None.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from ..errors import ParseError
from ..models import Record, SourceRef
from ..normalize import arxiv_aliases, clean_text, code_links_in, parse_arxiv_id, parse_date
from .base import Source

NAME = "page_arxiv_listing"

_ID_LINE = re.compile(r"^arxiv:\s*(\S*)\s*$", re.I)
_DATE_LINE = re.compile(r"^(Created|Updated|Published|Submitted|Listed):\s*(.+)$", re.I)
_DATE_KINDS = {
    "created": "created",
    "updated": "updated",
    "published": "published",
    "submitted": "published",
    "listed": "listed",
}
_GOOD_ID = re.compile(r"^arXiv:(?:\d{4}\.\d{4,5}|[a-z-]+(?:\.[A-Z]{2})?/\d{7})(?:v\d+)?\s*$", re.M)
_ABSTRACT_WORDS = 15  # a paragraph this long is prose, not a comment like "40 pages, 15 figures"


@dataclass
class _Entry:
    lines: list[tuple[int, str]] = field(default_factory=list)
    id_line: tuple[int, str] | None = None
    date_line: tuple[int, str] | None = None


def detect(head: str, name: str) -> int:
    ids = _GOOD_ID.findall(head)
    if not ids:
        return 0
    dated = len(re.findall(r"^arXiv:\S+\s*\n(?:Created|Updated|Submitted):", head, re.M | re.I))
    if dated >= 2 or (dated == 1 and len(ids) == 1):
        return 90
    return 40 if len(ids) >= 2 else 20


def parse(source: Source) -> Iterator[Record | ParseError]:
    entry = _Entry()
    for lineno, text in source.lines():
        stripped = text.strip()
        if entry.id_line is not None:
            if _DATE_LINE.match(stripped) and entry.date_line is None:
                entry.date_line = (lineno, stripped)
                continue
            if not stripped:
                continue
            yield _record(source, entry)
            entry = _Entry()
        if _ID_LINE.match(stripped):
            entry.id_line = (lineno, stripped)
        else:
            entry.lines.append((lineno, text))
    if entry.id_line is not None or any(t.strip() for _, t in entry.lines):
        yield _record(source, entry)


def _paragraphs(lines: list[tuple[int, str]]) -> list[tuple[int, str]]:
    """Blank-line separated paragraphs as (first line, text joined by spaces)."""
    out: list[tuple[int, str]] = []
    current: list[tuple[int, str]] = []
    for lineno, text in [*lines, (0, "")]:
        if text.strip():
            current.append((lineno, text.strip()))
        elif current:
            out.append((current[0][0], " ".join(t for _, t in current)))
            current = []
    return out


def _record(source: Source, entry: _Entry) -> Record | ParseError:
    paragraphs = _paragraphs(entry.lines)
    first_line = paragraphs[0][0] if paragraphs else (entry.id_line or (0, ""))[0]
    if entry.id_line is None:
        if not any(len(p.split()) >= _ABSTRACT_WORDS for _, p in paragraphs):
            return ParseError(source.path, first_line, "text with no 'arXiv:' id line after it; skipped")
        ids: list[str] = []
    else:
        id_text = _ID_LINE.match(entry.id_line[1]).group(1)  # type: ignore[union-attr]
        parsed = parse_arxiv_id(id_text)
        if parsed is None:
            return ParseError(source.path, entry.id_line[0], f"not an arXiv id: {id_text!r}; paper skipped")
        ids = arxiv_aliases(*parsed)
    rec = Record(source=SourceRef(importer=NAME, path=source.path, line=first_line), ids=ids, raw=_raw(entry))
    _add_text(rec, paragraphs)
    if entry.date_line is not None:
        _add_date(rec, entry.date_line[1])
    return rec


def _add_text(rec: Record, paragraphs: list[tuple[int, str]]) -> None:
    """The first prose paragraph is the abstract; short paragraphs after it are comments."""
    start = next((i for i, (_, p) in enumerate(paragraphs) if len(p.split()) >= _ABSTRACT_WORDS), None)
    if start is None:
        comments = [p for _, p in paragraphs]
    else:
        if start:
            rec.extra["preceding_text"] = [p for _, p in paragraphs[:start]]
        abstract = [paragraphs[start][1]]
        comments = []
        for _, p in paragraphs[start + 1 :]:
            (abstract if len(p.split()) >= _ABSTRACT_WORDS else comments).append(p)
        rec.abstract = clean_text(" ".join(abstract))
        rec.abstract_truncated = bool(rec.abstract and rec.abstract.endswith(("…", "...")))
    comments = [re.sub(r"^Comments?:\s*", "", c, flags=re.I) for c in comments]
    if comments:
        rec.comment = clean_text("; ".join(comments))
    code = code_links_in(rec.abstract)
    if code:
        rec.links["code"] = code


def _add_date(rec: Record, text: str) -> None:
    m = _DATE_LINE.match(text)
    assert m is not None
    kind = _DATE_KINDS[m.group(1).lower()]
    date = parse_date(m.group(2))
    if date is not None:
        rec.dates[kind] = date
    else:
        rec.extra[f"{kind}_text"] = m.group(2)


def _raw(entry: _Entry) -> str:
    lines = [*entry.lines]
    for extra in (entry.id_line, entry.date_line):
        if extra is not None:
            lines.append(extra)
    while lines and not lines[0][1].strip():
        lines.pop(0)
    while lines and not lines[-1][1].strip():
        lines.pop()
    return "\n".join(t for _, t in lines)
