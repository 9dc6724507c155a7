"""Importer for Parquet tables of papers (e.g. Hugging Face dataset exports). Pure, no I/O
beyond reading `source`.

The file is read in record batches through pyarrow (streamed, never loaded whole). Columns are
matched to Record fields as for CSV (see `_columns`). A Parquet file has no lines: a record's
`line` is its 1-based row number, and its `raw` is the row as JSON.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping

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
        except (pa.ArrowException, OSError) as e:
            yield ParseError(source.path, None, f"not a readable Parquet file: {e}")
            return
        columns = guess_columns(table.schema_arrow.names, overrides)
        rownum = 0
        try:
            for batch in table.iter_batches(batch_size=_BATCH_ROWS):
                for row in batch.to_pylist():
                    rownum += 1
                    yield _record(source, rownum, row, columns)
        except (pa.ArrowException, OSError) as e:
            yield ParseError(source.path, rownum + 1, f"Parquet data unreadable from this row on: {e}")


def _record(source: Source, rownum: int, row: dict, columns: dict[str, str]) -> Record | ParseError:
    raw = json.dumps(plain_value(row), ensure_ascii=False)
    ref = SourceRef(importer=NAME, path=source.path, line=rownum)
    return row_to_record(row, columns, ref, raw)
