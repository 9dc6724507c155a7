"""RIS export of library papers (reads back in Zotero, Mendeley, EndNote). Pure, no I/O:
`to_ris(papers)` returns the text.

`TY  - JOUR` for a journal, `CONF` for proceedings, else `TY  - GEN` (Zotero's type for preprints).
Authors as `AU  - Last, First`; `PY`/`DA` only when the year is known (never guessed);
the arXiv abstract URL (with the latest known version) is always among the `UR` lines so the arXiv
id survives a round trip, and so are the PubMed / Semantic Scholar pages of the paper's other ids;
categories are `KW` lines; a date without a year is `DA  - /04/07/`;
the comment is written as Zotero does, `N1  - Comment: ...`.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..models import Paper
from ..normalize import id_url
from .bibtex import arxiv_eprint, main_date, main_doi, main_url, one_line, other_ids, split_name, venue_kind


def ris_name(name: str) -> str:
    given, family, suffix = split_name(one_line(name))
    if not given:
        return family
    return ", ".join([family, given] + ([suffix] if suffix else []))


def to_ris(papers: Iterable[Paper]) -> str:
    """RIS records for `papers`, each closed by `ER  -` and a blank line."""
    return "".join(_record(p) for p in papers)


def _record(paper: Paper) -> str:
    venue, venue_type = venue_kind(paper)
    ris_type = {"proceedings": "CONF", "journal": "JOUR"}.get(venue_type or "", "GEN")
    tags: list[tuple[str, str]] = [("TY", ris_type)]
    if paper.title:
        tags.append(("TI", paper.title))
    tags += [("AU", ris_name(a.name)) for a in paper.authors]
    if venue:
        tags.append(("T2", venue))
    if paper.abstract:
        tags.append(("AB", paper.abstract))
    date = main_date(paper)
    if date and date.year:
        tags.append(("PY", str(date.year)))
    if date and date.month:  # RIS dates are "YYYY/MM/DD/", any part left empty: "/04/07/" has no year
        year, day = f"{date.year:04d}" if date.year else "", f"{date.day:02d}" if date.day else ""
        tags.append(("DA", f"{year}/{date.month:02d}/{day}/"))
    doi = main_doi(paper)
    if doi:
        tags.append(("DO", doi))
    tags += [("UR", url) for url in _urls(paper)]
    tags += [("KW", c) for c in paper.categories]
    if paper.comment:
        tags.append(("N1", f"Comment: {paper.comment}"))
    lines = [f"{tag}  - {one_line(value)}" for tag, value in tags if one_line(value)]
    return "\n".join([*lines, "ER  - "]) + "\n\n"


def _urls(paper: Paper) -> list[str]:
    urls = [u for kind in ("abs", "url", "pdf") for u in paper.links.get(kind, [])]
    eprint = arxiv_eprint(paper)
    if eprint and not any(f"arxiv.org/abs/{eprint}" in u for u in urls):
        urls.append(f"https://arxiv.org/abs/{eprint}")  # with its version, so the version id survives
    urls += [u for i in other_ids(paper) if (u := id_url(i))]
    main = main_url(paper)
    if main:
        urls.insert(0, main)
    return list(dict.fromkeys(urls))
