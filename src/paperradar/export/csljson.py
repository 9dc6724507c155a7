"""CSL-JSON export of library papers (the format of citeproc, Pandoc and Zotero). Pure, no I/O:
`to_csljson(papers)` returns the JSON text, a list of CSL items.

Items use the BibTeX citation keys as `id`; type `article-journal` for a journal,
`paper-conference` for proceedings, else
`article` (CSL's type for preprints) with `publisher: "arXiv"` and `number: "arXiv:<id>"`
for arXiv papers. `issued` holds only the known date parts and is left out when the year is
unknown (a year is never guessed; a date without a year is `{"raw": "--04-07"}`). arXiv ids keep
their latest version; `PMID` holds a PubMed id, `custom` the Semantic Scholar ids.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from ..models import Paper
from .bibtex import (
    arxiv_eprint,
    citekeys,
    date_text,
    main_date,
    main_doi,
    main_url,
    one_line,
    other_ids,
    split_name,
    venue_kind,
)


def csl_author(name: str) -> dict[str, str]:
    given, family, suffix = split_name(one_line(name))
    if not given:
        return {"literal": family}
    out = {"family": family, "given": given}
    if suffix:
        out["suffix"] = suffix
    return out


def csl_items(papers: Iterable[Paper]) -> list[dict[str, Any]]:
    """The CSL items as Python data (what `to_csljson` serialises)."""
    papers = list(papers)
    return [_item(p, key) for p, key in zip(papers, citekeys(papers), strict=True)]


def to_csljson(papers: Iterable[Paper]) -> str:
    return json.dumps(csl_items(papers), ensure_ascii=False, indent=2) + "\n"


def _item(paper: Paper, key: str) -> dict[str, Any]:
    venue, venue_type = venue_kind(paper)
    kind = {"proceedings": "paper-conference", "journal": "article-journal"}.get(venue_type or "", "article")
    item: dict[str, Any] = {"id": key, "type": kind}
    if paper.title:
        item["title"] = paper.title
    if paper.authors:
        item["author"] = [csl_author(a.name) for a in paper.authors]
    date = main_date(paper)
    if date and date.year:
        parts = [p for p in (date.year, date.month, date.day if date.month else None) if p]
        item["issued"] = {"date-parts": [parts]}
    elif date:  # date-parts need a year: a year-less date is kept as raw text
        item["issued"] = {"raw": date_text(date)}
    if venue:
        item["container-title"] = venue
    if paper.arxiv_id:
        item["number"] = f"arXiv:{arxiv_eprint(paper)}"
        if not venue:
            item["publisher"] = "arXiv"
    doi, url = main_doi(paper), main_url(paper)
    if doi:
        item["DOI"] = doi
    for other in other_ids(paper):
        ns, _, value = other.partition(":")
        if ns == "pmid":
            item["PMID"] = value
        else:  # CSL has no variable for these: kept in `custom`, which CSL processors pass through
            item.setdefault("custom", {}).setdefault(ns, []).append(value)
    if url:
        item["URL"] = url
    if paper.abstract:
        item["abstract"] = paper.abstract
    if paper.categories:
        item["keyword"] = ", ".join(paper.categories)
    if paper.comment:
        item["note"] = paper.comment
    return item
