"""Importer for generic JSON Lines tables of papers (one JSON object per line).

Pure, no I/O beyond reading `source`. Keys are matched to Record fields like CSV columns (see
`_columns`), per distinct set of keys, since lines may differ. A line that is not valid JSON
(e.g. truncated) or not an object is a ParseError naming that line; the others are kept.
Detection scores low on purpose: the arXiv-specific JSONL importers win on their own files. It
scores 96 on paperradar's own JSONL export (`ids`, `dates`, `provenance`), read back losslessly.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping

from ..errors import ParseError
from ..models import Record, SourceRef
from ._columns import check_column_map, guess_columns, has_paper_columns, parse_map_option, row_to_record
from .base import Source

NAME = "tabular_jsonl"
__all__ = ["NAME", "detect", "parse", "parse_map_option"]


def detect(head: str, name: str) -> int:
    lines = head.splitlines()
    first = next((line for line in lines if line.strip()), "")
    if not first.lstrip().startswith("{"):
        return 0
    try:
        obj = json.loads(first)
    except ValueError:
        # only a line cut by the 64 KB head is given the benefit of the doubt
        return 15 if len(lines) == 1 and len(first) > 1000 else 0
    if not isinstance(obj, dict):
        return 0
    if obj.keys() >= _OWN_EXPORT:
        return 96  # paperradar's own JSONL export
    return 30 if has_paper_columns(obj) else 15


def parse(source: Source, column_map: Mapping[str, str] | None = None) -> Iterator[Record | ParseError]:
    """One Record per JSON object line. `column_map` is ``{our_field: their_key}``."""
    overrides = check_column_map(column_map)
    plans: dict[tuple[str, ...], dict[str, str]] = {}
    for lineno, text in source.lines():
        if not text.strip():
            continue
        try:
            obj = json.loads(text)
        except ValueError as e:
            yield ParseError(source.path, lineno, f"invalid JSON ({_json_reason(e, text)})")
            continue
        if not isinstance(obj, dict):
            yield ParseError(source.path, lineno, f"expected a JSON object, got {type(obj).__name__}")
            continue
        keys = tuple(obj)
        if keys not in plans:
            folded = {k.lower() for k in keys}
            present = {f: col for f, col in overrides.items() if col.lower() in folded}
            plans[keys] = guess_columns(keys, present)
        ref = SourceRef(importer=NAME, path=source.path, line=lineno)
        rec = row_to_record(obj, plans[keys], ref, text)
        if obj.keys() >= _OWN_EXPORT and not isinstance(rec, ParseError):
            _verbatim(rec, obj)
        yield rec


_OWN_EXPORT = {"ids", "dates", "provenance"}


def _verbatim(rec: Record, obj: dict) -> None:
    """paperradar's own export holds text already cleaned: taken as it is, not read as LaTeX again
    (a literal "{AI}" stays), so export and import round-trip exactly."""
    for name in ("title", "abstract", "comment", "venue"):
        if isinstance(obj.get(name), str) and obj[name].strip():
            setattr(rec, name, obj[name])


def _json_reason(error: ValueError, text: str) -> str:
    if isinstance(error, json.JSONDecodeError):
        if error.pos >= len(text.rstrip()):
            return "the line ends before the object does: truncated?"
        return f"{error.msg} at column {error.colno}"
    return str(error)
