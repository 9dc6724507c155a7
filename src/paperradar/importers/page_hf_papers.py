"""Importer for a pasted Hugging Face papers page (daily papers, search results). No I/O.

After some site chrome ("Get trending papers...", "Daily Papers", a date), each paper reads:

    EoRA: Training-free Compensation for Compressed LLM ...      title
    In this work, we re-formulate the model compression ...      abstract
    nvidia NVIDIA          or          • 10 authors              organisation or author count
    ·
    Oct 28, 2024 2                                               date (year optional), upvotes

Blank lines between them are optional. The "·" line anchors each paper: what comes before it
(back to the previous paper) is title, abstract and the organisation/author-count line.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from ..errors import ParseError
from ..models import PartialDate, Record, SourceRef
from ..normalize import clean_text, code_links_in, parse_date, split_glued_text
from .base import Source

NAME = "page_hf_papers"

_DOT = "·"
_AUTHOR_COUNT = re.compile(r"^[•·*-]?\s*(\d+)\s+authors?$")
_DATE_UPVOTES = re.compile(r"^(?P<date>.+?)(?:\s+(?P<up>\d+))?$")
_CHROME = {
    "new",
    "get trending papers in your email inbox!",
    "subscribe",
    "daily papers",
    "byak and the research community",
    "trending papers",
    "search",
    "submit",
    "previous",
    "next",
}
_SLUG = re.compile(r"^[a-z0-9][a-z0-9._-]*$")


def detect(head: str, name: str) -> int:
    lines = [t.strip() for t in head.splitlines() if t.strip()]
    anchors = sum(
        1
        for i, t in enumerate(lines[:-1])
        if t == _DOT and i > 0 and _date_and_upvotes(lines[i + 1])[0] is not None
    )
    if not anchors:
        return 0
    counts = sum(1 for t in lines if _AUTHOR_COUNT.match(t))
    chrome = any(t.lower() in _CHROME for t in lines[:20])
    score = 60 if anchors == 1 else 80
    return min(95, score + (10 if counts else 0) + (5 if chrome else 0))


def parse(source: Source) -> Iterator[Record | ParseError]:
    """Each paper ends at the line after its "·" line; everything before belongs to it."""
    pending: list[tuple[int, str]] = []  # lines since the last paper, blank ones kept as paragraph breaks
    first = True
    after_dot = False
    for lineno, text in source.lines():
        stripped = text.strip()
        if after_dot and stripped:
            after_dot = False
            date, upvotes = _date_and_upvotes(stripped)
            if date is not None:
                pending.append((lineno, stripped))
                yield _record(source, pending, first, (date, upvotes))
                pending, first = [], False
                continue
            yield _record(source, pending, first, None)
            pending, first = [], False
        pending.append((lineno, stripped))
        if stripped == _DOT:
            after_dot = True
    if after_dot:
        yield _record(source, pending, first, None)
    elif any(t and t.lower() not in _CHROME for _, t in pending):
        at = next(n for n, t in pending if t)
        yield ParseError(source.path, at, "text after the last paper has no '·' and date line; skipped")


def _date_and_upvotes(text: str) -> tuple[PartialDate | None, int | None]:
    """A date with optional upvotes: "Oct 28, 2024 2" -> (2024-10-28, 2), "Apr 6" -> (--04-06, None).

    Anything else gives (None, None)."""
    whole = parse_date(text)
    if whole is not None:
        return whole, None
    m = _DATE_UPVOTES.match(text)
    if m and m.group("up"):
        date = parse_date(m.group("date"))
        if date is not None:
            return date, int(m.group("up"))
    return None, None


def _record(
    source: Source, lines: list[tuple[int, str]], first: bool, dated: tuple[PartialDate, int | None] | None
) -> Record | ParseError:
    lines = _trim(lines)
    dot = next(i for i, (_, t) in enumerate(lines) if t == _DOT)
    content, meta = _split_meta(lines[:dot])
    paragraphs = _paragraphs(content, drop_chrome=first)
    if not paragraphs:
        return ParseError(source.path, lines[0][0], "paper entry without a title or abstract; skipped")
    title, abstract, unplaced = _title_and_abstract(paragraphs)
    line = (title or abstract or (0, ""))[0]
    rec = Record(source=SourceRef(importer=NAME, path=source.path, line=line), raw=_raw(lines, line))
    rec.title = clean_text(split_glued_text(title[1])) if title else None
    rec.abstract = clean_text(abstract[1]) if abstract else None
    rec.abstract_truncated = bool(rec.abstract and rec.abstract.endswith(("…", "...")))
    if unplaced and not first:  # before the first paper it is page chrome
        rec.extra["unplaced_text"] = unplaced
    _add_meta(rec, meta)
    if dated is not None:
        rec.dates["published"], rec.upvotes = dated
    code = code_links_in(rec.abstract)
    if code:
        rec.links["code"] = code
    return rec


def _trim(lines: list[tuple[int, str]]) -> list[tuple[int, str]]:
    start = next((i for i, (_, t) in enumerate(lines) if t), len(lines))
    return lines[start:]


def _raw(lines: list[tuple[int, str]], first_line: int) -> str:
    """The paper's lines from its title (page chrome before it is not the paper's)."""
    return "\n".join(t for n, t in lines if n >= first_line)


def _split_meta(lines: list[tuple[int, str]]) -> tuple[list[tuple[int, str]], list[str]]:
    """Peel the author-count and organisation lines off the end of a paper's lines."""
    content = list(lines)
    meta: list[str] = []
    while content:
        text = content[-1][1]
        before = [t for _, t in content[:-1] if t]
        after_abstract = bool(before) and _looks_like_abstract(before[-1])
        has_org = any(not _AUTHOR_COUNT.match(t) for t in meta)
        if not text:
            content.pop()
            continue
        if not _AUTHOR_COUNT.match(text):
            if has_org or len(text) > 80 or _looks_like_abstract(text):
                break
            if not (after_abstract or _org_shaped(text)):
                break
        meta.insert(0, content.pop()[1])
    return content, meta


def _paragraphs(lines: list[tuple[int, str]], drop_chrome: bool) -> list[list[tuple[int, str]]]:
    """Blank-line separated groups of lines; before the first paper, site chrome lines are dropped."""
    out: list[list[tuple[int, str]]] = []
    current: list[tuple[int, str]] = []
    for lineno, text in [*lines, (0, "")]:
        if drop_chrome and text and (text.lower() in _CHROME or parse_date(text) is not None):
            continue
        if text:
            current.append((lineno, text))
        elif current:
            out.append(current)
            current = []
    return out


def _org_shaped(text: str) -> bool:
    """An organisation id followed by its name: "nvidia NVIDIA", "meta-llama Meta Llama"."""
    parts = text.split(None, 1)
    if len(parts) != 2 or not _SLUG.match(parts[0]):
        return False
    squash = re.sub(r"[\s_-]", "", parts[1].lower())
    return squash == re.sub(r"[_-]", "", parts[0])


def _title_and_abstract(
    paragraphs: list[list[tuple[int, str]]],
) -> tuple[tuple[int, str] | None, tuple[int, str] | None, list[str]]:
    """The abstract is the last paragraph when it reads like one (its lines joined); the title is
    the line just before it. Anything earlier is kept as unplaced text."""
    last = paragraphs[-1]
    joined = " ".join(t for _, t in last)
    if _looks_like_abstract(joined):
        abstract = (last[0][0], joined)
        rest = [x for p in paragraphs[:-1] for x in p]
    else:
        abstract, rest = None, [x for p in paragraphs for x in p]
    title = rest.pop() if rest else None
    return title, abstract, [t for _, t in rest]


def _looks_like_abstract(text: str) -> bool:
    return len(text) >= 200 or len(text.split()) >= 25


def _add_meta(rec: Record, meta: list[str]) -> None:
    for text in meta:
        m = _AUTHOR_COUNT.match(text)
        if m:
            rec.author_count = int(m.group(1))
            rec.authors_complete = False
            continue
        parts = text.split(None, 1)
        if len(parts) == 2 and _SLUG.match(parts[0]):
            rec.extra["organisation_id"], rec.organisation = parts
        else:
            rec.organisation = text
