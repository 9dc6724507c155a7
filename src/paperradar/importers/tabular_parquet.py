"""Importer for Parquet tables of papers (e.g. Hugging Face dataset exports). Pure, no I/O
beyond reading `source`.

The file is read in record batches through pyarrow (streamed, never loaded whole). Columns are
matched to Record fields as for CSV (see `_columns`). A Parquet file has no lines: a record's
`line` is its 1-based row number, and its `raw` is the row as JSON.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

from ..errors import ParseError
from ..models import Record, SourceRef
from ._columns import check_column_map, guess_columns, parse_map_option, plain_value, row_to_record
from .base import Source

NAME = "tabular_parquet"
__all__ = ["NAME", "detect", "parse", "parse_map_option"]

_BATCH_ROWS = 1024


def detect(head: str, name: str) -> int:
    if head.startswith("PAR1"):
        return 95
    return 80 if name.lower().endswith(".parquet") else 0


def parse(source: Source, column_map: Mapping[str, str] | None = None) -> Iterator[Record | ParseError]:
    """One Record per row. `column_map` is ``{our_field: their_column}``."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    overrides = check_column_map(column_map)
    with source.open_binary() as f:
        try:
            table = pq.ParquetFile(f)
        except (pa.ArrowException, OSError, UnicodeDecodeError) as e:  # a column name not UTF-8: fuzz
            yield ParseError(source.path, None, f"not a readable Parquet file: {e}")
            return
        columns = guess_columns(table.schema_arrow.names, overrides)
        rownum = 0
        try:
            for batch in table.iter_batches(batch_size=_BATCH_ROWS):
                for row, error in _rows(batch):
                    rownum += 1
                    yield (
                        _record(source, rownum, row, columns)
                        if row
                        else ParseError(source.path, rownum, error)
                    )
        except (pa.ArrowException, OSError) as e:
            yield ParseError(source.path, rownum + 1, f"Parquet data unreadable from this row on: {e}")


def _rows(batch: Any) -> Iterator[tuple[dict | None, str]]:
    """The batch's rows; a row with text that is not UTF-8 (pyarrow raises on the whole batch)
    comes back as its error, and its neighbours are kept (found by fuzzing)."""
    try:
        yield from ((row, "") for row in batch.to_pylist())
        return
    except UnicodeDecodeError:
        pass
    for i in range(batch.num_rows):
        try:
            yield batch.slice(i, 1).to_pylist()[0], ""
        except UnicodeDecodeError as e:
            yield None, f"a text value is not UTF-8 ({e.reason} at byte {e.start})"


def _record(source: Source, rownum: int, row: dict, columns: dict[str, str]) -> Record | ParseError:
    raw = json.dumps(plain_value(row), ensure_ascii=False)
    ref = SourceRef(importer=NAME, path=source.path, line=rownum)
    return row_to_record(row, columns, ref, raw)
