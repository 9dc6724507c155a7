"""Importer for a pasted Hugging Face dataset viewer table of arXiv papers. No I/O.

The paste starts with the column header: each column's name, its type ("stringlengths") and
its statistics ("9", "13.8k"), then the rows, one cell per line:

    arxiv_id / stringlengths / 9 / 12 / abstract / stringlengths / 431 / 13.8k
    2406.09415
    This work does not introduce a new method. Instead, we ...

The first column must hold the arXiv id: a valid id starts a new row. Further lines fill the
other columns in order; lines beyond the last column continue it. Copying from the viewer glues
words together where formatting was lost ("introduceTransformer"): text columns get
`split_glued_text` (confident splits only) and `raw` keeps the text as pasted.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from ..errors import ParseError
from ..models import Record, SourceRef
from ..normalize import arxiv_aliases, clean_text, code_links_in, parse_arxiv_id, split_glued_text
from .base import Source

NAME = "page_dataset_viewer"

_COLUMN = re.compile(r"^[A-Za-z_][\w .-]{0,63}$")
_TYPE = re.compile(
    r"^(?:string\w*|int\d+|uint\d+|float\d+|bool|list\w*|sequence\w*|dict|struct|classes|\w*classes|"
    r"timestamp\[\w+(?:,.*)?\]|date\d+|null|image|audio)$",
    re.I,
)
_STAT = re.compile(r"^-?\d[\d,]*(?:\.\d+)?\s*[kKMBG%]?(?:\s*values?)?$")
_ID_COLUMNS = {"arxiv_id", "id", "paper_id", "arxiv", "arxivid", "entry_id", "arxiv_id_version"}
_TEXT_COLUMNS = {"abstract": "abstract", "summary": "abstract", "title": "title"}
_ID_LIKE = re.compile(r"^[\w./:-]{6,40}$")
_HEADER_LIMIT = 200  # header lines to read before giving up


@dataclass
class _Row:
    line: int
    cells: list[tuple[int, str]] = field(default_factory=list)


def detect(head: str, name: str) -> int:
    columns = _header([(i, t) for i, t in enumerate(head.splitlines()[:_HEADER_LIMIT], 1)])
    if not columns or columns[0] not in _ID_COLUMNS:
        return 0
    return 90 if any(c in _TEXT_COLUMNS for c in columns) else 50


def _header(lines: list[tuple[int, str]]) -> list[str] | None:
    """Column names from the header, or None when the lines before the first id are not a header."""
    columns: list[str] = []
    expect_type = False
    for _, text in lines:
        s = text.strip()
        if not s:
            continue
        if parse_arxiv_id(s):
            return columns if columns and not expect_type else None
        if expect_type:
            if not _TYPE.match(s):
                return None
            expect_type = False
        elif _STAT.match(s) and columns:
            continue
        elif _COLUMN.match(s):
            columns.append(s.lower())
            expect_type = True
        else:
            return None
    return None


def parse(source: Source) -> Iterator[Record | ParseError]:
    lines = source.lines()
    head: list[tuple[int, str]] = []
    columns = None
    for lineno, text in lines:
        head.append((lineno, text))
        if parse_arxiv_id(text.strip()):
            columns = _header(head)
            break
        if len(head) > _HEADER_LIMIT:
            break
    if columns is None or columns[0] not in _ID_COLUMNS:
        where = head[0][0] if head else 1
        yield ParseError(source.path, where, "no dataset-viewer header with an arXiv id column first")
        return
    row: _Row | None = _Row(head[-1][0], [head[-1]])
    for lineno, text in lines:
        s = text.strip()
        if not s:
            continue
        if parse_arxiv_id(s):
            if row is not None:
                yield _record(source, columns, row)
            row = _Row(lineno, [(lineno, s)])
        elif _looks_like_id(s):
            if row is not None:
                yield _record(source, columns, row)
            row = None
            yield ParseError(source.path, lineno, f"not an arXiv id: {s!r}; row skipped")
        elif row is not None:
            row.cells.append((lineno, text))
    if row is not None:
        yield _record(source, columns, row)


def _looks_like_id(text: str) -> bool:
    """A broken id ("2406.O9415"), not prose: one short token, mostly digits."""
    digits = sum(ch.isdigit() for ch in text)
    return bool(_ID_LIKE.match(text)) and digits >= 4 and digits + text.count(".") >= 0.6 * len(text)


def _record(source: Source, columns: list[str], row: _Row) -> Record:
    base, version = parse_arxiv_id(row.cells[0][1].strip()) or ("", None)
    rec = Record(
        source=SourceRef(importer=NAME, path=source.path, line=row.line),
        ids=arxiv_aliases(base, version),
        raw="\n".join(t for _, t in row.cells),
    )
    values = _cell_values(columns, [t for _, t in row.cells[1:]])
    for column, value in values.items():
        field_name = _TEXT_COLUMNS.get(column)
        if field_name:
            setattr(rec, field_name, clean_text(split_glued_text(value)))
        else:
            rec.extra[column] = value
    if rec.abstract:
        rec.abstract_truncated = rec.abstract.endswith(("…", "..."))
        code = code_links_in(rec.abstract)
        if code:
            rec.links["code"] = code
    return rec


def _cell_values(columns: list[str], cells: list[str]) -> dict[str, str]:
    """Cells in column order after the id; extra lines continue the last column."""
    others = columns[1:]
    values: dict[str, str] = {}
    for i, text in enumerate(cells):
        if not others:
            break
        column = others[min(i, len(others) - 1)]
        values[column] = f"{values[column]}\n{text}" if column in values else text
    return values
