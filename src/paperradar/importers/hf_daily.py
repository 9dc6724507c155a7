"""Importer for Hugging Face Daily Papers API responses. Pure, no I/O.

`https://huggingface.co/api/daily_papers?date=YYYY-MM-DD` answers a JSON list of items, each
`{"paper": {...}, "publishedAt": ..., "title": ..., "numComments": ..., "submittedBy": ...}`.
The paper part holds the arXiv id, title, summary, authors, arXiv publication time
(`publishedAt`), the time it was put on the daily page (`submittedOnDailyAt`), upvotes and,
when known, the GitHub repository, project page, organisation and AI keywords. A single item,
or a bare paper object (`/api/papers/<id>`), is read too.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from ..errors import ParseError
from ..models import Author, Record, SourceRef
from ..normalize import arxiv_aliases, clean_text, code_links_in, normalize_author, parse_arxiv_id, parse_date
from .base import Source

NAME = "hf_daily"

_DECODER = json.JSONDecoder()
_WS = " \t\r\n"
# Item and paper keys read into Record fields; the rest goes to `extra` as given.
_ITEM_USED = {"paper", "publishedAt", "title", "summary", "submittedBy"}
_PAPER_USED = {
    "id", "title", "summary", "authors", "publishedAt", "upvotes", "githubRepo", "projectPage",
    "organization", "ai_keywords", "submittedOnDailyAt",
}  # fmt: skip


def detect(head: str, name: str) -> int:
    start = head.lstrip()[:1]
    if start == "[" and '"paper"' in head and '"publishedAt"' in head:
        return 95 if '"upvotes"' in head else 80
    if start == "{" and '"publishedAt"' in head and '"upvotes"' in head and '"authors"' in head:
        return 75
    return 0


def parse(source: Source) -> Iterator[Record | ParseError]:
    text = _source_text(source)

    def line_at(pos: int) -> int:
        return text.count("\n", 0, pos) + 1

    pos = _skip(text, 0)
    if text.startswith("{", pos):
        items: Iterator[tuple[int, Any, str] | ParseError] = _one_item(text, pos, source.path, line_at)
    elif text.startswith("[", pos):
        items = _list_items(text, pos + 1, source.path, line_at)
    else:
        items = iter([ParseError(source.path, line_at(pos), "not a Daily Papers response (no JSON list)")])
    for got in items:
        if isinstance(got, ParseError):
            yield got
        else:
            yield _item_record(got[1], source.path, got[0], got[2])


def _source_text(source: Source) -> str:
    """The whole source; a line Source skipped stays as a blank line so line numbers hold."""
    out: list[str] = []
    for lineno, line in source.lines():
        out.extend([""] * (lineno - 1 - len(out)))
        out.append(line)
    return "\n".join(out)


def _skip(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in _WS:
        pos += 1
    return pos


def _one_item(text: str, pos: int, path: str, line_at: Any) -> Iterator[tuple[int, Any, str] | ParseError]:
    try:
        obj, end = _DECODER.raw_decode(text, pos)
    except json.JSONDecodeError as e:
        yield ParseError(path, e.lineno, f"invalid JSON ({e.msg} at column {e.colno})")
        return
    if isinstance(obj, dict) and "error" in obj and "paper" not in obj and "id" not in obj:
        yield ParseError(path, line_at(pos), f"Hugging Face API error: {obj['error']}")
        return
    yield line_at(pos), obj, text[pos:end]


def _list_items(text: str, pos: int, path: str, line_at: Any) -> Iterator[tuple[int, Any, str] | ParseError]:
    """Each element of a JSON list with its line and verbatim text; stops at broken JSON."""
    while True:
        pos = _skip(text, pos)
        if text.startswith("]", pos):
            return
        try:
            obj, end = _DECODER.raw_decode(text, pos)
        except json.JSONDecodeError as e:
            yield ParseError(
                path, e.lineno, f"invalid JSON ({e.msg} at column {e.colno}); rest of file skipped"
            )
            return
        yield line_at(pos), obj, text[pos:end]
        pos = _skip(text, end)
        if text.startswith(",", pos):
            pos += 1
        elif not text.startswith("]", pos):
            reason = "the list ends without ']'" if pos >= len(text) else "expected ',' or ']' between items"
            yield ParseError(path, line_at(pos), f"invalid JSON ({reason}); rest of file skipped")
            return


# ---------------------------------------------------------------- one item


def _item_record(item: Any, path: str, line: int, raw: str) -> Record | ParseError:
    if not isinstance(item, dict):
        return ParseError(path, line, f"expected a JSON object, got {type(item).__name__}")
    paper = item.get("paper") if isinstance(item.get("paper"), dict) else None
    if paper is None:  # a bare paper object
        paper, item = item, {}
    # the day it was put on the Daily Papers page; the item's publishedAt where that is missing
    listed = paper.get("submittedOnDailyAt") or item.get("publishedAt")
    parsed = parse_arxiv_id(str(paper.get("id") or ""))
    title = _clean(paper.get("title")) or _clean(item.get("title"))
    abstract = _clean(paper.get("summary")) or _clean(item.get("summary"))
    if parsed is None and not title and not abstract:
        return ParseError(path, line, "item has no arXiv id, title or summary")
    record = Record(
        source=SourceRef(importer=NAME, path=path, line=line),
        ids=arxiv_aliases(parsed[0], parsed[1]) if parsed else [],
        title=title,
        abstract=abstract,
        raw=raw,
    )
    _fill_authors(record, paper.get("authors"))
    for kind, value in (("published", paper.get("publishedAt")), ("listed", listed)):
        date = parse_date(value) if isinstance(value, str) else None
        if date is not None:
            record.dates[kind] = date
    if isinstance(paper.get("upvotes"), int):
        record.upvotes = paper["upvotes"]
    _fill_links(record, paper, abstract)
    _fill_extra(record, paper, item)
    return record


def _clean(value: Any) -> str | None:
    return clean_text(value) if isinstance(value, str) else None


def _fill_authors(record: Record, authors: Any) -> None:
    users: dict[str, str] = {}
    for a in authors if isinstance(authors, list) else []:
        if not isinstance(a, dict) or not isinstance(a.get("name"), str):
            continue
        name = normalize_author(a["name"])
        if not name:
            continue
        record.authors.append(Author(name))
        user = a.get("user")
        if isinstance(user, dict) and isinstance(user.get("user"), str):
            users[name] = user["user"]
    if users:
        record.extra["hf_users"] = users


def _fill_links(record: Record, paper: dict[str, Any], abstract: str | None) -> None:
    if parse_arxiv_id(str(paper.get("id") or "")):
        record.links["url"] = [f"https://huggingface.co/papers/{paper['id']}"]
    code = [paper["githubRepo"]] if isinstance(paper.get("githubRepo"), str) and paper["githubRepo"] else []
    code += [u for u in code_links_in(abstract) if u not in code]
    if code:
        record.links["code"] = code
    if isinstance(paper.get("projectPage"), str) and paper["projectPage"]:
        record.links["project"] = [paper["projectPage"]]


def _fill_extra(record: Record, paper: dict[str, Any], item: dict[str, Any]) -> None:
    org = paper.get("organization")
    if isinstance(org, dict):
        record.organisation = clean_text(org.get("fullname") or org.get("name") or "")
        if org.get("name"):
            record.extra["hf_organization"] = org["name"]
    if paper.get("ai_keywords"):
        record.extra["keywords"] = paper["ai_keywords"]
    submitter = item.get("submittedBy")
    if isinstance(submitter, dict) and submitter.get("name"):
        record.extra["submitted_by"] = submitter["name"]
    for key, value in paper.items():
        if key not in _PAPER_USED and value not in (None, "", [], {}):
            record.extra.setdefault(key, value)
    for key, value in item.items():
        if key not in _ITEM_USED and value not in (None, "", [], {}):
            record.extra.setdefault(key, value)
