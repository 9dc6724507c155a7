"""Importer for JSON documents holding a list of papers: a top-level array of paper objects, or an
API response wrapping one (Semantic Scholar search `{"total": .., "offset": .., "data": [...]}`,
its batch endpoint's bare array, `{"recommendedPapers": [...]}`, and other APIs' `results`,
`items` or `papers`). Pure, no I/O beyond reading `source`.

Keys are matched to Record fields like CSV columns (see `_columns`). Semantic Scholar's own shape
is read first: `paperId` -> `s2:` id, `externalIds` (ArXiv, DOI, PubMed, CorpusId) -> ids,
`publicationDate` (else `year`) -> published date, `journal.name` -> venue when `venue` is empty,
`openAccessPdf.url` -> pdf link. Everything else is kept in extra.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..errors import ParseError
from ..models import Record, SourceRef
from . import _jsondoc
from ._columns import guess_columns, has_paper_columns, row_to_record
from .base import Source

NAME = "json_papers"


def detect(head: str, name: str) -> int:
    item = _jsondoc.first_item(head)
    if item is None:
        return 0
    if "paperId" in item:
        return 90  # Semantic Scholar
    return 45 if has_paper_columns(item) else 0


def parse(source: Source) -> Iterator[Record | ParseError]:
    plans: dict[tuple[str, ...], dict[str, str]] = {}
    for got in _jsondoc.items(source):
        if isinstance(got, ParseError):
            yield got
            continue
        line, item, raw = got
        row = semantic_scholar(item) if "paperId" in item else item
        keys = tuple(row)
        if keys not in plans:
            plans[keys] = guess_columns(keys)
        yield row_to_record(row, plans[keys], SourceRef(importer=NAME, path=source.path, line=line), raw)


def semantic_scholar(item: dict[str, Any]) -> dict[str, Any]:
    """A Semantic Scholar paper with its nested values lifted to where `_columns` finds them."""
    row = dict(item)
    if not row.get("publicationDate") and row.get("year"):
        row["publicationDate"] = row["year"]
    row.pop("year", None)
    journal = row.get("journal")
    if isinstance(journal, dict) and journal.get("name") and not row.get("venue"):
        row["venue"] = journal["name"]
    pdf = row.get("openAccessPdf")
    if isinstance(pdf, dict) and pdf.get("url"):
        row["pdfUrl"] = pdf["url"]
    return row
