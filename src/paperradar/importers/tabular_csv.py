"""Importer for CSV/TSV tables of papers (one row per paper, a header row naming the columns).

Pure, no I/O beyond reading `source`. Columns are matched to Record fields by common names
(`title`, `abstract`, `authors`, `arxiv_id`, `doi`, ...) or by an explicit column map (see
`_columns`); unmatched columns land in `extra`. Rows are read with the csv module over
`source.lines()`, so quoted fields may span lines: a record's line is its first physical line
and its `raw` is its lines verbatim. A row with the wrong number of cells, or a quote never
closed, is a ParseError; the other rows are kept.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator, Mapping

from ..errors import ParseError
from ..models import Record, SourceRef
from ._columns import check_column_map, guess_columns, has_paper_columns, parse_map_option, row_to_record
from .base import Source

NAME = "tabular_csv"
__all__ = ["NAME", "detect", "parse", "parse_map_option"]

_DELIMITERS = (",", "\t", ";")


def _delimiter(header_line: str, name: str = "") -> str:
    if name.lower().endswith(".tsv"):
        return "\t"
    counts = {d: header_line.count(d) for d in _DELIMITERS}
    best = max(_DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","


def detect(head: str, name: str) -> int:
    first = next((line for line in head.splitlines() if line.strip()), "")
    if not first or first.lstrip().startswith(("{", "[", "<", "@", "%", "TY  -")):
        return 0
    suffix = name.lower().endswith((".csv", ".tsv"))
    try:
        header = next(csv.reader([first], delimiter=_delimiter(first, name)))
    except csv.Error:
        return 0
    if len(header) < 2 or any(len(h) > 80 for h in header):
        return 20 if suffix else 0
    if has_paper_columns(header):
        return 40 if suffix else 30
    return 20 if suffix else 0


class _Lines:
    """The line iterator csv.reader consumes, remembering which numbered lines each row took."""

    def __init__(self, lines: Iterator[tuple[int, str]]):
        self._lines = lines
        self._pushed: list[tuple[int, str]] = []
        self.taken: list[tuple[int, str]] = []

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        item = self._pushed.pop() if self._pushed else next(self._lines)
        self.taken.append(item)
        return item[1] + "\n"

    def peek_first(self) -> str | None:
        """The first non-blank line, left in place for the reader."""
        for item in self._lines:
            if item[1].strip():
                self._pushed.append(item)
                return item[1]
        return None

    def take(self) -> list[tuple[int, str]]:
        out, self.taken = self.taken, []
        return out


def parse(source: Source, column_map: Mapping[str, str] | None = None) -> Iterator[Record | ParseError]:
    """Rows of a CSV/TSV file as Records. `column_map` is ``{our_field: their_column}``."""
    overrides = check_column_map(column_map)
    lines = _Lines(source.lines())
    first = lines.peek_first()
    if first is None:
        return
    reader = csv.reader(lines, delimiter=_delimiter(first, source.path), strict=True)
    header: list[str] | None = None
    columns: dict[str, str] = {}
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as e:
            yield _csv_error(source, lines.take(), e)
            continue
        taken = lines.take()
        if not any(c.strip() for c in cells):
            continue
        if header is None:
            header = _header(cells)
            columns = guess_columns(header, overrides)
            continue
        yield _row(source, header, columns, cells, taken)


def _header(cells: list[str]) -> list[str]:
    out: list[str] = []
    for i, cell in enumerate(cells, 1):
        name = cell.strip() or f"column_{i}"
        base, n = name, 2
        while name in out:
            name, n = f"{base}_{n}", n + 1
        out.append(name)
    return out


def _row(
    source: Source, header: list[str], columns: dict[str, str], cells: list[str], taken: list[tuple[int, str]]
) -> Record | ParseError:
    line = taken[0][0]
    if len(cells) > len(header) and not any(c.strip() for c in cells[len(header) :]):
        cells = cells[: len(header)]  # a trailing delimiter, as some spreadsheets write
    if len(cells) != len(header):
        return ParseError(source.path, line, f"row has {len(cells)} cells, the header has {len(header)}")
    raw = "\n".join(text for _, text in taken)
    ref = SourceRef(importer=NAME, path=source.path, line=line)
    return row_to_record(dict(zip(header, cells, strict=True)), columns, ref, raw)


def _csv_error(source: Source, taken: list[tuple[int, str]], error: csv.Error) -> ParseError:
    line = taken[0][0] if taken else None
    if "unexpected end of data" in str(error):
        reason = "a quoted field opened in this row is never closed"
        return ParseError(source.path, line, f"{reason}; the rest of the file ({len(taken)} lines) skipped")
    return ParseError(source.path, line, f"malformed CSV row: {error}")
