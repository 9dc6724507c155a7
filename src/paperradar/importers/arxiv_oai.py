"""Importer for arXiv OAI-PMH responses (ListRecords / GetRecord), in the `arXiv` metadata format
(and the plainer `oai_dc`). Pure, no I/O.

One response holds one page of a harvest: `page_info` gives the resumption token that asks for
the next page (none on the last), the response date (the next incremental harvest starts there)
and the OAI error code, if any (`noRecordsMatch` means an empty harvest, not a failure).
Each `<record>` is one paper; deleted records are skipped. XML goes through defusedxml.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from xml.etree.ElementTree import Element

from defusedxml.ElementTree import ParseError as XMLSyntaxError
from defusedxml.ElementTree import fromstring

from ..errors import ParseError
from ..models import Author, PartialDate, Record, SourceRef
from ..normalize import (
    arxiv_aliases,
    clean_text,
    code_links_in,
    normalize_author,
    normalize_doi,
    parse_arxiv_id,
    parse_date,
)
from .base import Source

NAME = "arxiv_oai"

OAI = "{http://www.openarchives.org/OAI/2.0/}"
ARXIV = "{http://arxiv.org/OAI/arXiv/}"
DC = "{http://purl.org/dc/elements/1.1/}"
OAI_DC = "{http://www.openarchives.org/OAI/2.0/oai_dc/}"


def detect(head: str, name: str) -> int:
    if "<OAI-PMH" in head and "http://www.openarchives.org/OAI/2.0/" in head:
        return 95 if ("ListRecords" in head or "GetRecord" in head) else 60
    return 0


@dataclass
class PageInfo:
    token: str | None  # ask for the next page with this; None on the last page
    complete_size: int | None
    response_date: str | None  # ISO date of the server's answer
    error: tuple[str, str] | None  # (OAI error code, message)
    records: int


def _root(data: bytes) -> Element:
    try:
        root = fromstring(data)
    except XMLSyntaxError as e:
        raise ParseError("<OAI-PMH response>", None, f"not well-formed XML: {e}") from None
    except LookupError as e:  # <?xml encoding="U-8"?>: found by bench/fuzz.py (issue 13)
        raise ParseError("<OAI-PMH response>", None, f"the XML declares an unknown encoding ({e})") from None
    if root.tag != OAI + "OAI-PMH":
        raise ParseError("<OAI-PMH response>", None, f"not an OAI-PMH response (root is {root.tag})")
    return root


def page_info(data: bytes) -> PageInfo:
    """Where a harvest page sits; raises ParseError when the bytes are not an OAI-PMH response."""
    root = _root(data)
    error = root.find(OAI + "error")
    token_el = root.find(f"{OAI}ListRecords/{OAI}resumptionToken")
    size = token_el.get("completeListSize") if token_el is not None else None
    return PageInfo(
        token=(token_el.text or "").strip() or None if token_el is not None else None,
        complete_size=int(size) if size and size.isdigit() else None,
        response_date=(root.findtext(OAI + "responseDate") or "").strip()[:10] or None,
        error=(error.get("code", "unknown"), clean_text(error.text) or "") if error is not None else None,
        records=len(root.findall(f".//{OAI}record")),
    )


def parse(source: Source) -> Iterator[Record | ParseError]:
    text = "\n".join(t for _, t in source.lines())
    try:
        root = _root(text.encode("utf-8"))
    except ParseError as e:
        yield ParseError(source.path, 1, e.reason)
        return
    starts = [m.start() for m in re.finditer(r"<record[\s>]", text)]
    for n, record in enumerate(root.iter(OAI + "record")):
        header = record.find(OAI + "header")
        if header is not None and header.get("status") == "deleted":
            continue
        line = text.count("\n", 0, starts[n]) + 1 if n < len(starts) else None
        raw = text[starts[n] : text.find("</record>", starts[n]) + 9] if n < len(starts) else ""
        item = _record(record, source.path, line, raw)
        if item is not None:
            yield item


def _record(record: Element, path: str, line: int | None, raw: str) -> Record | ParseError | None:
    arxiv = record.find(f"{OAI}metadata/{ARXIV}arXiv")
    if arxiv is not None:
        return _arxiv_format(arxiv, path, line, raw)
    dc = record.find(f"{OAI}metadata/{OAI_DC}dc")
    if dc is not None:
        return _dc_format(dc, path, line, raw)
    return ParseError(path, line, "record has no arXiv or oai_dc metadata")


def _text(el: Element, tag: str) -> str | None:
    return clean_text(el.findtext(tag))


def _arxiv_format(el: Element, path: str, line: int | None, raw: str) -> Record | ParseError:
    parsed = parse_arxiv_id((el.findtext(ARXIV + "id") or "").strip())
    if parsed is None:
        return ParseError(path, line, f"record without a valid arXiv id ({el.findtext(ARXIV + 'id')!r})")
    ids = arxiv_aliases(*parsed)
    doi = normalize_doi(el.findtext(ARXIV + "doi") or "")
    if doi:
        ids.append(f"doi:{doi}")
    abstract, comment = _text(el, ARXIV + "abstract"), _text(el, ARXIV + "comments")
    dates = {k: d for k, d in (("published", _date(el, "created")), ("updated", _date(el, "updated"))) if d}
    code = code_links_in(f"{abstract or ''} {comment or ''}")
    return Record(
        source=SourceRef(importer=NAME, path=path, line=line),
        ids=ids,
        title=_text(el, ARXIV + "title"),
        abstract=abstract,
        authors=[_author(a) for a in el.findall(f"{ARXIV}authors/{ARXIV}author")],
        categories=(el.findtext(ARXIV + "categories") or "").split(),
        dates=dates,
        comment=comment,
        links={"abs": [f"https://arxiv.org/abs/{parsed[0]}"]} | ({"code": code} if code else {}),
        venue=_text(el, ARXIV + "journal-ref"),
        raw=raw,
    )


def _date(el: Element, tag: str) -> PartialDate | None:
    return parse_date(el.findtext(ARXIV + tag))


def _author(el: Element) -> Author:
    parts = [el.findtext(ARXIV + t) or "" for t in ("forenames", "keyname", "suffix")]
    affiliations = [clean_text(a.text) or "" for a in el.findall(ARXIV + "affiliation")]
    return Author(
        normalize_author(" ".join(p.strip() for p in parts if p.strip())), [a for a in affiliations if a]
    )


def _dc_format(el: Element, path: str, line: int | None, raw: str) -> Record | ParseError:
    """oai_dc: creators are 'Last, First'; subjects are words, not arXiv codes (left out)."""
    found = [parse_arxiv_id(i.strip()) for i in (e.text or "" for e in el.findall(DC + "identifier"))]
    parsed = next((p for p in found if p), None)
    if parsed is None:
        return ParseError(path, line, "oai_dc record without an arXiv identifier")
    authors = []
    for c in el.findall(DC + "creator"):
        last, _, first = (c.text or "").partition(",")
        authors.append(Author(normalize_author(f"{first.strip()} {last.strip()}".strip())))
    dates = [d for d in (parse_date(e.text) for e in el.findall(DC + "date")) if d]
    return Record(
        source=SourceRef(importer=NAME, path=path, line=line),
        ids=arxiv_aliases(*parsed),
        title=_text(el, DC + "title"),
        abstract=_text(el, DC + "description"),
        authors=authors,
        dates=dict(
            zip(("published", "updated"), [dates[0], dates[-1]] if len(dates) > 1 else dates, strict=False)
        ),
        links={"abs": [f"https://arxiv.org/abs/{parsed[0]}"]},
        raw=raw,
    )
