"""The items of a JSON document holding a list of papers, with the line each item starts on.

Pure, no I/O beyond reading `source`. A document is a top-level array (`[{...}, {...}]`, CSL-JSON,
Semantic Scholar batch responses) or an object wrapping the array under a known key
(Semantic Scholar search `{"total": .., "data": [...]}`, recommendations `{"recommendedPapers":
[...]}`, other APIs' `results`/`items`/`papers`). Items are decoded one at a time, so an item
that is not an object is reported with its line and its neighbours are kept; a document that is
not JSON at all is one ParseError.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from ..errors import ParseError
from .base import Source

WRAPPERS = ("data", "recommendedPapers", "results", "items", "papers", "records", "references")
_DECODER = json.JSONDecoder()
_WS = re.compile(r"[\s,]*")


def first_item(head: str) -> dict[str, Any] | None:
    """The first item of the document whose first 64 KB are `head`, if it can be read from there."""
    text = head.lstrip("\ufeff \t\r\n")
    start = _array_start(text)
    if start is None:
        return None
    pos = _WS.match(text, start + 1).end()  # type: ignore[union-attr]
    try:
        item, _ = _DECODER.raw_decode(text, pos)
    except ValueError:
        return None
    return item if isinstance(item, dict) else None


def _array_start(text: str) -> int | None:
    """Where the array of items opens: at 0 for a top-level array, else after a wrapper key."""
    if text.startswith("["):
        return 0
    if not text.startswith("{"):
        return None
    for key in WRAPPERS:
        m = re.search(r'"' + key + r'"\s*:\s*\[', text)
        if m:
            return m.end() - 1
    return None


def load(source: Source) -> tuple[str, Any] | ParseError:
    """The document's text and its decoded JSON, or the one ParseError of a file that is not JSON."""
    text = source.text()
    try:
        return text, json.loads(text)
    except ValueError as e:
        line = e.lineno if isinstance(e, json.JSONDecodeError) else None
        return ParseError(source.path, line, f"not valid JSON ({e}); file skipped")


def items(source: Source) -> Iterator[tuple[int, dict[str, Any], str] | ParseError]:
    """(line, item, its JSON text) for every object in the document's array of papers."""
    loaded = load(source)
    if isinstance(loaded, ParseError):
        yield loaded
        return
    text, doc = loaded
    found = _the_list(doc)
    if found is None:
        yield ParseError(
            source.path, 1, f"no list of papers found (looked for a top-level array or {WRAPPERS})"
        )
        return
    key, values = found
    stripped = text.lstrip("\ufeff")
    offset = len(text) - len(stripped)
    start = 0 if key is None else _array_start(stripped)
    pos = offset + (start or 0) + 1
    located = True
    for value in values:
        line, raw = None, json.dumps(value, ensure_ascii=False)
        if located:  # the item's own text and line, read where the previous one ended
            pos = _WS.match(text, pos).end()  # type: ignore[union-attr]
            try:
                decoded, end = _DECODER.raw_decode(text, pos)
            except ValueError:
                decoded, end = None, pos
            located = decoded == value
            if located:
                line, raw, pos = text.count("\n", 0, pos) + 1, text[pos:end], end
        if isinstance(value, dict):
            yield line or 1, value, raw
        else:
            yield ParseError(source.path, line, f"expected an object for a paper, got {type(value).__name__}")


def _the_list(doc: Any) -> tuple[str | None, list[Any]] | None:
    if isinstance(doc, list):
        return None, doc
    if isinstance(doc, dict):
        for key in WRAPPERS:
            if isinstance(doc.get(key), list):
                return key, doc[key]
    return None
