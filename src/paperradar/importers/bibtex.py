"""Importer for BibTeX/BibLaTeX files (Zotero, Mendeley, Google Scholar, DBLP, arXiv exports).

Pure, no I/O beyond reading `source`. The text is split into blocks by bibtexparser 2; field values
are then resolved by two middlewares of ours (bibtexparser's own ResolveStringReferences and
RemoveEnclosing handle neither `#` concatenation nor entries it set aside as duplicates):
`ResolveValues` (`@string` macros, `#` concatenation, month macros, enclosing braces or quotes) and
`ResolveCrossref` (a child entry inherits the fields it lacks from its `crossref` parent; the
parent's title becomes the child's booktitle). What BibTeX itself tolerates is read, not dropped:
a repeated citation key (both entries kept), a repeated field (the first value wins, as in
BibTeX), a missing citation key (EndNote writes `@article{author = ...`). Author lists are split by
bibtexparser's brace-aware splitter; each name then goes through `normalize_author`, the one name
parser of every importer. Each entry becomes a Record:

- ids: `eprint` (+ `archivePrefix`/`eprinttype` arXiv or PubMed), arXiv URLs, `journal = {arXiv
  preprint arXiv:...}`, DBLP's `volume = {abs/...}`, Zotero's `note = {arXiv:...}`, `doi`, `pmid`,
  and paperradar's own `s2id` and `corpusid`;
- title and abstract through `clean_text` (LaTeX -> Unicode, case-protection braces dropped);
- authors "Last, First" -> "First Last" ("and others" marks the list incomplete);
- BibLaTeX `date` (EDTF: `2019-03-01/2019-03-05`, `2019?`, `--04-07`), else `year` + `month` (+ `day`)
  -> dates["published"]; `primaryClass` and arXiv-shaped `keywords` (cs.CL) -> categories;
  `journal`/`booktitle`/`journaltitle` -> venue; `note` -> comment; `url` -> links; the citation
  key, entry type, other keywords and every other field -> extra.

A block bibtexparser cannot parse (a syntax error) becomes a ParseError with its 1-based line;
the entries around it are kept. `raw` is the entry's source text.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator

import bibtexparser
from bibtexparser.library import Library
from bibtexparser.middlewares.middleware import BlockMiddleware
from bibtexparser.middlewares.names import (
    split_multiple_persons_names,
)
from bibtexparser.model import (
    Block,
    DuplicateBlockKeyBlock,
    DuplicateFieldKeyBlock,
    Entry,
    Field,
    ParsingFailedBlock,
    String,
)

from ..errors import ParseError
from ..models import Author, PartialDate, Record, SourceRef
from ..normalize import (
    arxiv_aliases,
    arxiv_ids_in,
    clean_text,
    code_links_in,
    comment_from_note,
    ids_from_text,
    is_category,
    normalize_author,
    normalize_doi,
    parse_arxiv_id,
    parse_edtf,
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
    "title", "abstract", "author", "year", "month", "day", "date", "doi", "url", "primaryclass", "keywords",
    "eprint", "archiveprefix", "eprinttype", "pmid", "s2id", "corpusid", "note",
}  # fmt: skip
# an entry header without a citation key: `@article{author = ...` (EndNote, some web exports)
_NO_KEY = re.compile(r"^(\s*@\s*(?!string|comment|preamble)[A-Za-z]+\s*[{(])(\s*[A-Za-z][\w-]*\s*=)", re.I)
# fields a crossref child inherits from its parent when it lacks them
_INHERITED = (
    "year", "month", "date", "publisher", "editor", "journal", "journaltitle", "booktitle", "volume",
    "series", "address", "location", "organization", "isbn",
)  # fmt: skip
_LITERALS = (
    ("\\textbackslash{}", "\ue000", "\\"),
    ("\\textasciicircum{}", "\ue001", "^"),
    ("\\textasciitilde{}", "\ue002", "~"),
    ("\\{", "\ue003", "{"),
    ("\\}", "\ue004", "}"),
)
_ARXIV_VENUE = re.compile(r"(?i)^\s*(?:arxiv|corr)\b")
_TIE = re.compile(r"(?<!\\)~(?!\{)")  # in BibTeX every unescaped ~ is a tie (a space), not a tilde
_LAST_FIRST = re.compile(
    r"^(?!.*\band\b)[^\W\d_][\w'’-]*(?: [^\W\d_][\w'’-]*)?, "
    r"(?!(?:Inc|Ltd|LLC|Corp|GmbH|Co|Plc|SA|AG)\b)(?:[^\W\d_][\w.'’-]*\s?){1,3}$"
)
_EXTENDED_NAME = re.compile(r"^\s*(?:family|given|prefix|suffix|useprefix)\s*=", re.I)
# "Miller, D., Firby, J.": a list written with commas instead of "and"
_COMMA_LIST = re.compile(r"^\s*[^,]+,\s*(?:[A-Z]\.\s*-?)+(?:,\s*[^,]+,\s*(?:[A-Z]\.\s*-?)+)+\s*$")


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
        library = bibtexparser.parse_string(_numbered_text(source), parse_stack=[])
    except Exception as e:  # bibtexparser raises only on its own internal errors ("please report")
        yield ParseError(source.path, None, f"bibtexparser failed on this file: {e}")
        return
    blocks = [_entry_of(block) for block in library.blocks]
    entries = [b for b in blocks if isinstance(b, Entry)]
    values, crossref = ResolveValues(library.strings), ResolveCrossref(entries)
    for entry in entries:
        values.transform_entry(entry, library)
    for entry in entries:  # after every value is resolved: parents may come after their children
        crossref.transform_entry(entry, library)
    for block in blocks:
        line = block.start_line + 1 if block.start_line is not None else None
        if isinstance(block, ParsingFailedBlock):
            yield ParseError(source.path, line, _failure_reason(block))
        elif isinstance(block, Entry):
            yield _record(source, block, line)


def _entry_of(block: Block) -> Block:
    """What BibTeX would read of a block bibtexparser set aside: a repeated key is a second entry;
    of a repeated field the first value counts."""
    if isinstance(block, DuplicateBlockKeyBlock) and isinstance(block.ignore_error_block, Entry):
        return block.ignore_error_block
    if isinstance(block, DuplicateFieldKeyBlock) and isinstance(block.ignore_error_block, Entry):
        entry = block.ignore_error_block
        first: dict[str, Field] = {}
        for f in entry.fields:
            kept = first.get(f.key.lower())
            if kept is None or (not str(kept.value).strip('{}" ') and str(f.value).strip('{}" ')):
                first[f.key.lower()] = f
        entry.fields = list(first.values())
        return entry
    return block


class ResolveValues(BlockMiddleware):
    """Field values as text: `@string` macros and month names expanded, `#` pieces joined, and
    the enclosing braces or quotes of each piece removed (`jc # " " # "cesar"` -> `jean cesar`)."""

    def __init__(self, strings: list[String]):
        super().__init__(allow_inplace_modification=True)
        self.strings: dict[str, str] = {}
        for s in strings:  # in file order: a macro may use the ones defined before it
            self.strings[s.key.lower()] = self.resolve(str(s.value))

    def transform_entry(self, entry: Entry, library: Library) -> Entry:
        for f in entry.fields:
            if isinstance(f.value, str):
                f.value = self.resolve(f.value)
        return entry

    def resolve(self, value: str) -> str:
        return "".join(self._piece(p.strip()) for p in _split_concatenation(value))

    def _piece(self, piece: str) -> str:
        if len(piece) >= 2 and (piece[0], piece[-1]) in (("{", "}"), ('"', '"')):
            return piece[1:-1]
        if piece.isdigit():
            return piece
        return self.strings.get(piece.lower(), _MONTH_MACROS.get(piece.lower(), piece))


class ResolveCrossref(BlockMiddleware):
    """A child entry (`crossref = {parent}`) inherits the fields it lacks from its parent, as
    BibTeX and Biber do; the parent's title is the child's booktitle."""

    def __init__(self, entries: list[Entry]):
        super().__init__(allow_inplace_modification=True)
        self.by_key = {e.key.lower(): e for e in entries}

    def transform_entry(self, entry: Entry, library: Library) -> Entry:
        fields = {f.key.lower(): f for f in entry.fields}
        ref = fields.get("crossref")
        parent = self.by_key.get(str(ref.value).strip().lower()) if ref else None
        if parent is None or parent is entry:
            return entry
        given = {f.key.lower(): f.value for f in parent.fields if str(f.value).strip()}
        if "title" in given and "booktitle" not in given:
            given["booktitle"] = given["title"]
        for key in _INHERITED:
            if key in given and not str(fields.get(key, Field(key, "")).value).strip():
                entry.fields.append(Field(key, given[key]))
        return entry


_MONTH_MACROS = {m: str(i) for m, i in _MONTHS.items()}


def _split_concatenation(value: str) -> list[str]:
    """`a # "b" # {c}` -> ["a ", ' "b" ', " {c}"]: split at every `#` outside braces and quotes."""
    pieces, depth, quoted, start = [], 0, False, 0
    for i, ch in enumerate(value):
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        elif ch == '"' and depth == 0 and (i == 0 or value[i - 1] != "\\"):
            quoted = not quoted
        elif ch == "#" and depth == 0 and not quoted:
            pieces.append(value[start:i])
            start = i + 1
    pieces.append(value[start:])
    return pieces if len(pieces) > 1 or value.strip()[:1] in ('"', "{") else [value.strip()]


def _clean(text: str | None) -> str | None:
    """`clean_text` that keeps BibTeX's escaped literals (`\\{`, `\\}`, `\\textbackslash{}`...) literal,
    so braces a title really contains are not taken for case protection and dropped."""
    if text is None:
        return None
    for escaped, placeholder, _ in _LITERALS:
        text = text.replace(escaped, placeholder)
    cleaned = clean_text(_TIE.sub(" ", text) if "~" in text else text)
    for _, placeholder, literal in _LITERALS:
        cleaned = cleaned.replace(placeholder, literal) if cleaned else cleaned
    return cleaned


def _numbered_text(source: Source) -> str:
    """The text of `source` with any skipped (undecodable) line left blank, so numbers stay right."""
    out: list[str] = []
    for lineno, text in source.lines():
        out.extend([""] * (lineno - 1 - len(out)))
        out.append(_NO_KEY.sub(rf"\1nokey-line{lineno},\2", text) if "@" in text else text)
    return "\n".join(out)


def _failure_reason(block: ParsingFailedBlock) -> str:
    error = block.error
    reason = getattr(error, "abort_reason", None) or str(error)
    m = re.match(r"\s*@\s*(\w+)\s*[{(]\s*([^,\s]*)", block.raw or "")
    what = f"@{m.group(1)} entry {m.group(2)!r}" if m and m.group(2) else "entry"
    return f"BibTeX syntax error in {what}: {reason}; entry skipped"


def _record(source: Source, entry: Entry, line: int | None) -> Record | ParseError:
    fields: dict[str, str] = {}
    for f in entry.fields:
        if isinstance(f.value, str):
            fields.setdefault(f.key.lower(), f.value)
    rec = Record(source=SourceRef(importer=NAME, path=source.path, line=line), raw=entry.raw or "")
    rec.title = _clean(fields.get("title"))
    rec.abstract = _clean(fields.get("abstract"))
    rec.authors, rec.authors_complete = _authors(fields.get("author", ""))
    rec.ids = _ids(fields)
    date = _date(fields)
    if date:
        rec.dates["published"] = date
    rec.categories = _categories(fields)
    rec.comment = _comment(fields.get("note", ""))
    skip = set(_CONSUMED) - ({"note"} if rec.comment is None else set())
    venue_key = next((k for k in ("journal", "booktitle", "journaltitle") if fields.get(k, "").strip()), "")
    if venue_key and not _ARXIV_VENUE.match(fields[venue_key]):
        rec.venue = _clean(fields[venue_key])
        skip.add(venue_key)
    _links(rec, fields)
    rec.extra = _extra(entry, fields, skip)
    if not (rec.ids or rec.title or rec.abstract):
        return ParseError(source.path, line, f"entry {entry.key!r} has no id, title or abstract")
    return rec


def _comment(note: str) -> str | None:
    """`note` is the comment (the rule of `comment_from_note`, BibTeX's escapes kept literal)."""
    if comment_from_note(note) is None:
        return None
    return _clean(re.sub(r"(?i)^\s*comment:\s*", "", note))


def _categories(fields: dict[str, str]) -> list[str]:
    """`primaryClass` first, then the keywords shaped like arXiv categories (cs.CL, hep-th)."""
    out = [fields["primaryclass"].strip()] if fields.get("primaryclass", "").strip() else []
    out += [k for k in _keywords(fields) if is_category(k)]
    return list(dict.fromkeys(out))


def _keywords(fields: dict[str, str]) -> list[str]:
    return [k.strip() for k in re.split(r"[,;]", fields.get("keywords", "")) if k.strip()]


def _ids(fields: dict[str, str]) -> list[str]:
    ids: list[str] = []
    arxiv = _arxiv_id(fields)
    if arxiv:
        ids.extend(arxiv_aliases(*arxiv))
    doi = normalize_doi(fields.get("doi", ""))
    if doi:
        ids.extend(ids_from_text(doi))
    prefix = (fields.get("archiveprefix") or fields.get("eprinttype") or "").strip().lower()
    pmid = fields.get("pmid") or (fields.get("eprint") if prefix == "pubmed" else "")
    if pmid:
        ids.extend(ids_from_text(f"pmid:{pmid.strip()}"))
    for value in fields.get("s2id", "").split():
        ids.extend(ids_from_text(value))
    for value in fields.get("corpusid", "").split():
        ids.extend(ids_from_text(f"corpus:{value}"))
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
    for person in _persons(text):
        person = person.strip()
        if person.lower() == "others":
            complete = False
            continue
        # {World Health Organization}: one brace group is a name taken literally, never reordered,
        # unless it holds one "Last, First" name (some exporters brace every name: {Austin, Claire C})
        literal = _one_group(person) and not _LAST_FIRST.match(person[1:-1])
        name = _clean(person[1:-1]) if literal else normalize_author(_clean(person) or "")
        if name:
            authors.append(Author(name))
    return authors, complete


def _persons(text: str) -> list[str]:
    """The names of an author field: split at " and " (outside braces) by bibtexparser; a name that
    is really a comma-separated list of "Last, I." pairs is split into its pairs."""
    out: list[str] = []
    for person in split_multiple_persons_names(text) if text.strip() else []:
        parts = [p.strip() for p in person.split(",")]
        if _EXTENDED_NAME.match(person):
            out.append(_extended_name(parts))
        elif ";" in person and "{" not in person:  # "Joffe, Hadine; Hall, Janet E" (Medline style)
            out.extend(p.strip() for p in person.split(";") if p.strip())
        elif _COMMA_LIST.match(person):
            out.extend(f"{parts[i]}, {parts[i + 1]}" for i in range(0, len(parts) - 1, 2))
        elif len(parts) == 3 and all(parts) and "{" not in person:  # BibTeX's "von Last, Jr, First"
            out.append(f"{parts[2]} {parts[0]} {parts[1]}")
        else:
            out.append(person)
    return out


def _extended_name(parts: list[str]) -> str:
    """Biber's extended name format: "family=Heuvel, given=Charles, prefix=van den, useprefix=false"."""
    keys = dict(p.split("=", 1) for p in parts if "=" in p)
    names = [keys.get("given", ""), keys.get("prefix", ""), keys.get("family", ""), keys.get("suffix", "")]
    return " ".join(n.strip().strip("{}") for n in names if n.strip())


def _one_group(text: str) -> bool:
    """True when `text` is one brace group: `{Barnes and Noble, Inc.}`."""
    if not (text.startswith("{") and text.endswith("}")):
        return False
    depth = 0
    for i, ch in enumerate(text):
        depth += {"{": 1, "}": -1}.get(ch, 0)
        if depth == 0 and i < len(text) - 1:
            return False
    return not text.startswith("{\\")


def _date(fields: dict[str, str]) -> PartialDate | None:
    if fields.get("date", "").strip():
        parsed = parse_edtf(fields["date"].strip())
        if parsed:
            return parsed
    year_m = re.fullmatch(r"\s*(\d{4})\s*", fields.get("year", ""))
    month = _month(fields.get("month", ""))
    day_m = re.fullmatch(r"\s*(\d{1,2})\s*", fields.get("day", ""))
    if year_m:
        try:
            return PartialDate(int(year_m.group(1)), month, int(day_m.group(1)) if day_m and month else None)
        except ValueError:
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
    extra: dict[str, object] = {"entry_type": entry.entry_type.lower()}
    if not entry.key.startswith("nokey-line"):
        extra["citekey"] = entry.key
    keywords = [k for k in _keywords(fields) if not is_category(k)]
    if keywords:
        extra["keywords"] = keywords
    for key, value in fields.items():
        if key not in skip and value.strip():
            extra[key] = value.strip() if key in ("file", "pdf") else _clean(value)
    return extra
