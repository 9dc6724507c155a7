"""Importer for BibTeX/BibLaTeX files (Zotero, Mendeley, Google Scholar, DBLP, arXiv exports).

Pure, no I/O beyond reading `source`. The text is split into entries by bibtexparser 2 (v2 API;
`@string` macros resolved, enclosing braces removed); names are split into BibTeX name parts
by its functions. Each entry becomes a Record:

- ids: `eprint` (+ `archivePrefix`/`eprinttype` arXiv), arXiv URLs, `journal = {arXiv preprint
  arXiv:...}`, DBLP's `volume = {abs/...}`, Zotero's `note = {arXiv:...}`, and `doi`;
- title and abstract through `clean_text` (LaTeX -> Unicode, case-protection braces dropped);
- authors "Last, First" -> "First Last" ("and others" marks the list incomplete);
- `year` + `month` (or BibLaTeX `date`) -> dates["published"]; `primaryClass` -> categories;
  `journal`/`booktitle` -> venue; `url` -> links; the citation key, entry type, keywords and
  every other field -> extra.

A block bibtexparser cannot parse (a syntax error) becomes a ParseError with its 1-based line;
the entries around it are kept. `raw` is the entry's source text.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator

import bibtexparser
from bibtexparser.middlewares.names import (
    InvalidNameError,
    parse_single_name_into_parts,
    split_multiple_persons_names,
)
from bibtexparser.model import DuplicateBlockKeyBlock, Entry, ParsingFailedBlock

from ..errors import ParseError
from ..models import Author, PartialDate, Record, SourceRef
from ..normalize import (
    arxiv_aliases,
    arxiv_ids_in,
    clean_text,
    code_links_in,
    ids_from_text,
    normalize_author,
    normalize_doi,
    parse_arxiv_id,
    parse_date,
)
from .base import Source

NAME = "bibtex"

# bibtexparser logs every syntax error as a warning; we report them as ParseErrors instead.
logging.getLogger("bibtexparser").addHandler(logging.NullHandler())
logging.getLogger("bibtexparser").propagate = False  # its syntax errors come back as ParseErrors

_ENTRY_START = re.compile(r"^\s*@\s*([A-Za-z]+)\s*[{(]", re.M)
_KNOWN_TYPES = {
    "article", "inproceedings", "misc", "book", "incollection", "phdthesis", "mastersthesis",
    "techreport", "online", "unpublished", "conference", "inbook", "proceedings", "report", "thesis",
    "preprint", "manual", "electronic", "software", "dataset",
}  # fmt: skip
_MONTHS = {m: i for i, m in enumerate(
    ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], 1
)}  # fmt: skip
# Fields turned into Record fields; everything else is kept in extra.
_CONSUMED = {
    "title", "abstract", "author", "year", "month", "date", "doi", "url", "primaryclass", "keywords",
    "eprint", "archiveprefix", "eprinttype",
}  # fmt: skip
_LITERALS = (
    ("\\textbackslash{}", "\ue000", "\\"),
    ("\\textasciicircum{}", "\ue001", "^"),
    ("\\textasciitilde{}", "\ue002", "~"),
    ("\\{", "\ue003", "{"),
    ("\\}", "\ue004", "}"),
)
_ARXIV_VENUE = re.compile(r"(?i)^\s*(?:arxiv|corr)\b")


def detect(head: str, name: str) -> int:
    types = {m.group(1).lower() for m in _ENTRY_START.finditer(head)}
    known = types & _KNOWN_TYPES
    bib_suffix = name.lower().endswith((".bib", ".bibtex"))
    if known and re.search(r"^\s*\w+\s*=\s*[{\"\d]", head, re.M):
        return 95 if bib_suffix else 85
    if types - {"comment", "string", "preamble"}:
        return 60 if bib_suffix else 40
    return 50 if bib_suffix else 0


def parse(source: Source) -> Iterator[Record | ParseError]:
    """One Record per entry; a block with a syntax error is a ParseError at its line."""
    try:
        library = bibtexparser.parse_string(_numbered_text(source))
    except Exception as e:  # bibtexparser raises only on its own internal errors ("please report")
        yield ParseError(source.path, None, f"bibtexparser failed on this file: {e}")
        return
    for block in library.blocks:
        line = block.start_line + 1 if block.start_line is not None else None
        if isinstance(block, DuplicateBlockKeyBlock) and isinstance(block.ignore_error_block, Entry):
            block = block.ignore_error_block  # a repeated citation key: the entry itself is fine
        if isinstance(block, ParsingFailedBlock):
            yield ParseError(source.path, line, _failure_reason(block))
        elif isinstance(block, Entry):
            yield _record(source, block, line)


def _clean(text: str | None) -> str | None:
    """`clean_text` that keeps BibTeX's escaped literals (`\\{`, `\\}`, `\\textbackslash{}`...) literal,
    so braces a title really contains are not taken for case protection and dropped."""
    if text is None:
        return None
    for escaped, placeholder, _ in _LITERALS:
        text = text.replace(escaped, placeholder)
    cleaned = clean_text(text)
    for _, placeholder, literal in _LITERALS:
        cleaned = cleaned.replace(placeholder, literal) if cleaned else cleaned
    return cleaned


def _numbered_text(source: Source) -> str:
    """The text of `source` with any skipped (undecodable) line left blank, so numbers stay right."""
    out: list[str] = []
    for lineno, text in source.lines():
        out.extend([""] * (lineno - 1 - len(out)))
        out.append(text)
    return "\n".join(out)


def _failure_reason(block: ParsingFailedBlock) -> str:
    error = block.error
    reason = getattr(error, "abort_reason", None) or str(error)
    m = re.match(r"\s*@\s*(\w+)\s*[{(]\s*([^,\s]*)", block.raw or "")
    what = f"@{m.group(1)} entry {m.group(2)!r}" if m and m.group(2) else "entry"
    return f"BibTeX syntax error in {what}: {reason}; entry skipped"


def _record(source: Source, entry: Entry, line: int | None) -> Record | ParseError:
    fields = {f.key.lower(): f.value for f in entry.fields if isinstance(f.value, str)}
    rec = Record(source=SourceRef(importer=NAME, path=source.path, line=line), raw=entry.raw or "")
    rec.title = _clean(fields.get("title"))
    rec.abstract = _clean(fields.get("abstract"))
    rec.authors, rec.authors_complete = _authors(fields.get("author", ""))
    rec.ids = _ids(fields)
    date = _date(fields)
    if date:
        rec.dates["published"] = date
    if fields.get("primaryclass"):
        rec.categories = [fields["primaryclass"].strip()]
    skip = set(_CONSUMED)
    venue_key = next((k for k in ("journal", "booktitle", "journaltitle") if fields.get(k, "").strip()), "")
    if venue_key and not _ARXIV_VENUE.match(fields[venue_key]):
        rec.venue = _clean(fields[venue_key])
        skip.add(venue_key)
    _links(rec, fields)
    rec.extra = _extra(entry, fields, skip)
    if not (rec.ids or rec.title or rec.abstract):
        return ParseError(source.path, line, f"entry {entry.key!r} has no id, title or abstract")
    return rec


def _ids(fields: dict[str, str]) -> list[str]:
    ids: list[str] = []
    arxiv = _arxiv_id(fields)
    if arxiv:
        ids.extend(arxiv_aliases(*arxiv))
    doi = normalize_doi(fields.get("doi", ""))
    if doi:
        ids.extend(ids_from_text(doi))
    return list(dict.fromkeys(ids))


def _arxiv_id(fields: dict[str, str]) -> tuple[str, str | None] | None:
    prefix = (fields.get("archiveprefix") or fields.get("eprinttype") or "arxiv").strip().lower()
    if fields.get("eprint") and prefix == "arxiv":
        parsed = parse_arxiv_id(fields["eprint"])
        if parsed:
            return parsed
    volume = fields.get("volume", "")
    if _ARXIV_VENUE.match(fields.get("journal", "")) and volume.lower().startswith("abs/"):
        parsed = parse_arxiv_id(volume[4:])  # DBLP/Semantic Scholar: journal = {CoRR}, volume = {abs/...}
        if parsed:
            return parsed
    for key in ("url", "howpublished", "journal", "note"):  # e.g. {arXiv preprint arXiv:2106.09685}
        value = fields.get(key, "")
        found = arxiv_ids_in(value) if "arxiv" in value.lower() else []
        if found:
            return found[0]
    return None


def _authors(text: str) -> tuple[list[Author], bool]:
    complete = True
    authors: list[Author] = []
    for person in split_multiple_persons_names(text) if text.strip() else []:
        if person.strip().lower() == "others":
            complete = False
            continue
        try:
            name = parse_single_name_into_parts(person, strict=False).merge_first_name_first
        except InvalidNameError:
            name = person
        cleaned = normalize_author(name)
        if cleaned:
            authors.append(Author(cleaned))
    return authors, complete


def _date(fields: dict[str, str]) -> PartialDate | None:
    if fields.get("date"):
        parsed = parse_date(fields["date"].strip())
        if parsed:
            return parsed
    year_m = re.fullmatch(r"\s*(\d{4})\s*", fields.get("year", ""))
    month = _month(fields.get("month", ""))
    if year_m:
        return PartialDate(int(year_m.group(1)), month)
    return None


def _month(text: str) -> int | None:
    text = text.strip().strip("{}").strip().lower()
    if text.isdigit() and 1 <= int(text) <= 12:
        return int(text)
    return _MONTHS.get(text[:3])


def _links(rec: Record, fields: dict[str, str]) -> None:
    for url in re.split(r"\s+", fields.get("url", "").strip()):
        if not url:
            continue
        kind = "pdf" if "arxiv.org/pdf/" in url else "abs" if "arxiv.org/abs/" in url else "url"
        if code_links_in(url) == [url]:
            kind = "code"
        rec.links.setdefault(kind, []).append(url)
    for url in code_links_in(rec.abstract):
        if url not in rec.links.get("code", []):
            rec.links.setdefault("code", []).append(url)


def _extra(entry: Entry, fields: dict[str, str], skip: set[str]) -> dict[str, object]:
    extra: dict[str, object] = {"citekey": entry.key, "entry_type": entry.entry_type.lower()}
    if fields.get("keywords"):
        extra["keywords"] = [k.strip() for k in re.split(r"[,;]", fields["keywords"]) if k.strip()]
    for key, value in fields.items():
        if key not in skip and value.strip():
            extra[key] = value.strip() if key in ("file", "pdf") else _clean(value)
    return extra
