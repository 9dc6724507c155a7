"""Importer for a pasted list of abstracts, one per line: "Abstract:<text>". No I/O.

Such a list carries abstracts only, with no id or title, so each record is an abstract alone
(allowed here: the abstract is what matching and ranking use). A line without the prefix
continues the abstract above it (the paste wrapped it).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from ..errors import ParseError
from ..models import Record, SourceRef
from ..normalize import clean_text, code_links_in
from .base import Source

NAME = "page_abstract_list"

_PREFIX = re.compile(r"^\s*Abstract\s*:\s*", re.I)


def detect(head: str, name: str) -> int:
    lines = [t for t in head.splitlines() if t.strip()]
    prefixed = sum(1 for t in lines if _PREFIX.match(t))
    if not prefixed:
        return 0
    share = prefixed / len(lines)
    if prefixed >= 2 and share >= 0.8:
        return 85
    if prefixed >= 2 and share >= 0.5:
        return 60  # wrapped abstracts or a note line lower the share
    return 40 if share >= 0.5 and _PREFIX.match(lines[0]) else 0


def parse(source: Source) -> Iterator[Record | ParseError]:
    current: list[tuple[int, str]] = []
    for lineno, text in source.lines():
        if _PREFIX.match(text):
            if current:
                yield _record(source, current)
            current = [(lineno, text)]
        elif not text.strip():
            continue
        elif current:
            current.append((lineno, text))
        else:
            yield ParseError(source.path, lineno, "text before the first 'Abstract:' line; skipped")
    if current:
        yield _record(source, current)


def _record(source: Source, lines: list[tuple[int, str]]) -> Record | ParseError:
    first = lines[0][0]
    text = " ".join([_PREFIX.sub("", lines[0][1])] + [t for _, t in lines[1:]])
    abstract = clean_text(text)
    if not abstract:
        return ParseError(source.path, first, "'Abstract:' line with no text; skipped")
    rec = Record(
        source=SourceRef(importer=NAME, path=source.path, line=first),
        abstract=abstract,
        abstract_truncated=abstract.endswith(("…", "...")),
        raw="\n".join(t for _, t in lines),
    )
    code = code_links_in(abstract)
    if code:
        rec.links["code"] = code
    return rec
