"""Exporters: library papers -> BibTeX, RIS or CSL-JSON text. Pure, no I/O (the CLI writes
the text where the user asks).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from ..errors import InvalidInput
from ..models import Paper
from .bibtex import to_bibtex
from .csljson import to_csljson
from .ris import to_ris

FORMATS: dict[str, Callable[[Iterable[Paper]], str]] = {
    "bibtex": to_bibtex,
    "ris": to_ris,
    "csljson": to_csljson,
}
# every format `papers export` and the web's export write: JSON lines (papers.paper_json) and FORMATS
EXPORT_FORMATS = ("jsonl", *FORMATS)

__all__ = ["EXPORT_FORMATS", "FORMATS", "export", "to_bibtex", "to_csljson", "to_ris"]


def export(papers: Iterable[Paper], fmt: str) -> str:
    """`papers` as text in format `fmt` (one of FORMATS)."""
    try:
        write = FORMATS[fmt]
    except KeyError:
        raise InvalidInput(f"unknown export format {fmt!r}; choose from: {', '.join(FORMATS)}") from None
    return write(papers)
