"""Column guessing and row -> Record mapping shared by the tabular importers (CSV, JSONL, Parquet).

Pure, no I/O. A tabular source is rows of named columns; this module decides which column
holds which Record field (by common names, case- and punctuation-insensitively, or by an explicit
``{our_field: their_column}`` map), then turns one row into a Record. Columns it does not
understand go to ``Record.extra`` under their own names, so nothing the row said is lost.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from collections.abc import Iterable, Mapping
from typing import Any

from ..errors import InvalidInput, ParseError
from ..models import Author, PartialDate, Record, SourceRef
from ..normalize import (
    clean_text,
    code_links_in,
    ids_from_text,
    normalize_author,
    parse_date,
)

# Our field -> the column names it is guessed from, best first (compared after `_norm`).
FIELDS: dict[str, tuple[str, ...]] = {
    "id": ("id", "paperid", "identifier", "uid", "externalid"),
    "arxiv": ("arxivid", "arxiv", "eprint", "arxividentifier"),
    "doi": ("doi",),
    "corpus": ("corpusid", "s2corpusid"),
    "pmid": ("pmid", "pubmedid", "pubmed"),
    "s2": ("ssid", "s2id", "s2paperid", "semanticscholarid"),
    "external_ids": ("externalids",),
    "ids": ("ids", "aliases"),  # a list of namespaced ids (paperradar's JSONL export)
    "dates": ("dates",),  # {"published": "2024-03-07", "updated": ...} (paperradar's JSONL export)
    "links": ("links",),  # {"pdf": [...], "code": [...]} (paperradar's JSONL export)
    "title": ("title", "papertitle", "articletitle"),
    "abstract": ("abstract", "summary", "abstracttext", "paperabstract"),
    "authors": ("authors", "author", "authornames", "authorlist", "creators"),
    "categories": ("categories", "category", "arxivcategories", "subjects"),
    "published": ("published", "date", "publicationdate", "pubdate", "publisheddate", "publishedat", "year"),
    "created": ("created", "createdat", "submitted", "submissiondate"),
    "updated": ("updated", "updatedate", "updatedat", "lastupdated"),
    "listed": ("listingdate", "listed", "announced"),
    "comment": ("comment", "comments", "note", "notes"),
    "venue": ("venue", "journal", "journalref", "booktitle", "conference", "publicationvenue"),
    "url": ("url", "absurl", "link", "paperurl", "entryid"),
    "pdf": ("pdfurl", "pdf", "pdflink"),
    "code": ("code", "github", "codeurl", "githuburl", "repo", "repository", "repourl"),
    "organisation": ("organisation", "organization"),
    "upvotes": ("upvotes",),
    "score": ("score",),
}
# Friendlier names accepted in a --map for some fields.
FIELD_ALIASES = {
    "date": "published",
    "year": "published",
    "summary": "abstract",
    "author": "authors",
    "category": "categories",
    "journal": "venue",
    "arxiv_id": "arxiv",
    "corpus_id": "corpus",
    "pdf_url": "pdf",
    "github": "code",
    "organization": "organisation",
}
ID_FIELDS = ("id", "arxiv", "doi", "corpus", "pmid", "s2", "url", "pdf")
DATE_FIELDS = ("published", "created", "updated", "listed")
_TEXT_FIELDS = ("comment", "venue", "organisation")
_ARXIV_VENUE = re.compile(r"(?i)^\s*(?:arxiv|corr)\b")
_ET_AL = re.compile(r"(?i)^(?:et\.?\s*al\.?|others|and others)$")


def _norm(column: str) -> str:
    return re.sub(r"[^a-z0-9]", "", column.lower())


# ---------------------------------------------------------------- the --map option


def parse_map_option(text: str) -> dict[str, str]:
    """`title=paper_title,abstract=summary` -> ``{"title": "paper_title", "abstract": "summary"}``.

    Raises InvalidInput naming what is wrong (a missing '=', an unknown field, a repeat).
    """
    out: dict[str, str] = {}
    for item in text.split(","):
        if not item.strip():
            continue
        field, eq, column = (p.strip() for p in item.partition("="))
        if not eq or not field or not column:
            raise InvalidInput(
                f"--map item {item.strip()!r} is not FIELD=COLUMN "
                "(example: title=paper_title,abstract=summary)"
            )
        if field in out:
            raise InvalidInput(f"--map names the field {field!r} twice")
        out[field] = column
    if not out:
        raise InvalidInput("--map is empty; give FIELD=COLUMN pairs, e.g. title=paper_title,abstract=summary")
    return check_column_map(out)


def check_column_map(column_map: Mapping[str, str] | None) -> dict[str, str]:
    """Validate a ``{our_field: their_column}`` map; field aliases become field names."""
    if not column_map:
        return {}
    unknown = [f for f in column_map if f not in FIELDS and f not in FIELD_ALIASES]
    if unknown:
        raise InvalidInput(
            f"unknown field{'s' if len(unknown) > 1 else ''} in column map: {', '.join(unknown)}; "
            f"fields are: {', '.join(FIELDS)}"
        )
    out: dict[str, str] = {}
    for field, column in column_map.items():
        name = FIELD_ALIASES.get(field, field)
        if name in out:
            raise InvalidInput(f"column map names the field {name!r} twice")
        out[name] = column
    return out


# ---------------------------------------------------------------- deciding columns


def guess_columns(columns: Iterable[str], overrides: Mapping[str, str] | None = None) -> dict[str, str]:
    """Our field -> the column that holds it. Overrides win; the rest is guessed by name.

    An override naming a column that is not there raises InvalidInput (listing the columns).
    """
    columns = list(columns)
    chosen: dict[str, str] = {}
    for field, wanted in (overrides or {}).items():
        chosen[field] = _find_column(wanted, columns)
    taken = set(chosen.values())
    by_norm: dict[str, str] = {}
    for col in columns:
        if col not in taken:
            by_norm.setdefault(_norm(col), col)
    for field, names in FIELDS.items():
        if field in chosen:
            continue
        for name in names:
            found = by_norm.get(name)
            if found is not None and found not in taken:
                chosen[field] = found
                taken.add(found)
                break
    return chosen


def _find_column(wanted: str, columns: list[str]) -> str:
    if wanted in columns:
        return wanted
    folded = [c for c in columns if c.lower() == wanted.lower()]
    if folded:
        return folded[0]
    raise InvalidInput(f"column {wanted!r} not found; columns are: {', '.join(columns)}")


def has_paper_columns(columns: Iterable[str]) -> bool:
    """True when some column looks like a title, an abstract or an id (used by detect)."""
    wanted = {n for f in ("title", "abstract", "id", "arxiv", "doi", "corpus") for n in FIELDS[f]}
    return any(_norm(c) in wanted for c in columns)


# ---------------------------------------------------------------- one row -> Record


def row_to_record(
    row: Mapping[str, Any], columns: Mapping[str, str], ref: SourceRef, raw: str
) -> Record | ParseError:
    """Map one row with the ``columns`` chosen by `guess_columns`. Rows with no id, title or
    abstract become a ParseError."""
    rec = Record(source=ref, raw=raw)
    used = set()
    for field, col in columns.items():
        value = row.get(col)
        if _is_empty(value):
            continue
        if _apply(rec, field, value):
            used.add(col)
    for col, value in row.items():
        if col not in used and not _is_empty(value):
            rec.extra[col] = plain_value(value)
    for url in code_links_in(rec.abstract):
        _add_link(rec, "code", url)
    rec.ids = list(dict.fromkeys(rec.ids))
    if not (rec.ids or rec.title or rec.abstract):
        return ParseError(ref.path, ref.line, f"row has no id, title or abstract (columns: {', '.join(row)})")
    return rec


def _apply(rec: Record, field: str, value: Any) -> bool:
    """Set `field` of `rec` from `value`; False when the value cannot be understood (kept in extra)."""
    if field in ID_FIELDS:
        return _apply_id(rec, field, value)
    if field == "external_ids":
        _apply_external_ids(rec, value)
        return False  # the whole object stays in extra too: it names ids we have no namespace for
    if field in ("ids", "dates", "links"):
        return _apply_mapping(rec, field, value)
    if field in DATE_FIELDS:
        date = to_date(value)
        if date is not None:
            rec.dates[field] = date
        return date is not None
    if field == "title":
        rec.title = clean_text(str(value))
    elif field == "abstract":
        rec.abstract = clean_text(str(value))
        rec.abstract_truncated = bool(rec.abstract and rec.abstract.endswith(("…", "...")))
    elif field == "authors":
        rec.authors, rec.authors_complete = split_authors(value)
    elif field == "categories":
        rec.categories = _categories(value)
    elif field == "venue" and _ARXIV_VENUE.match(str(value)):
        return False  # "arXiv", "arXiv.org", "CoRR": a preprint server, not a venue (kept in extra)
    elif field in _TEXT_FIELDS:
        setattr(rec, field, clean_text(str(value)))
    elif field == "code":
        return _apply_code(rec, value)
    else:  # upvotes, score
        return _apply_number(rec, field, value)
    return True


def _apply_id(rec: Record, field: str, value: Any) -> bool:
    if isinstance(value, list):
        return all([_apply_id(rec, field, v) for v in value if not _is_empty(v)])
    text = _arxiv_number(value) if field == "arxiv" and isinstance(value, float) else _scalar_text(value)
    if field in ("corpus", "pmid"):
        m = re.fullmatch(r"(?i)(?:corpus(?:id)?:|pmid:?)?\s*(\d+)", text)
        if m:
            rec.ids.append(f"{field}:{int(m.group(1))}")
        return m is not None
    # a bare number has no namespace we could know (except in an arXiv column)
    ids = [] if isinstance(value, int | float) and field != "arxiv" else ids_from_text(text)
    rec.ids.extend(ids)
    if field in ("url", "pdf"):
        _add_link(rec, _link_kind(text, field), text)
        return True
    return bool(ids)


def _apply_external_ids(rec: Record, value: Any) -> None:
    """Semantic Scholar's ``externalIds``: {"ArXiv": ..., "DOI": ..., "CorpusId": ...}."""
    if not isinstance(value, dict):
        return
    fields = {"arxiv": "arxiv", "doi": "doi", "corpusid": "corpus", "pubmed": "pmid"}
    for key, item in value.items():
        field = fields.get(_norm(str(key)))
        if field and not _is_empty(item):
            _apply_id(rec, field, item)


def _apply_mapping(rec: Record, field: str, value: Any) -> bool:
    """paperradar's own JSONL shape: `ids` a list of namespaced ids, `dates` {kind: ISO date},
    `links` {kind: [urls]}. False (kept in extra) for anything else."""
    if field == "ids" and isinstance(value, list):
        for item in value:
            text = str(item)
            rec.ids.extend(ids_from_text(text) or ([text] if _NAMESPACED.match(text) else []))
        return True
    if field == "dates" and isinstance(value, dict):
        for kind, text in value.items():
            date = _iso_date(text)
            if date is not None and kind in DATE_FIELDS:
                rec.dates[kind] = date
        return True
    if field == "links" and isinstance(value, dict):
        for kind, urls in value.items():
            for url in urls if isinstance(urls, list) else [urls]:
                _add_link(rec, str(kind), str(url))
        return True
    return False


_NAMESPACED = re.compile(r"^(?:arxiv|doi|s2|corpus|pmid):\S+$")


def _iso_date(text: Any) -> PartialDate | None:
    try:
        return PartialDate.from_iso(str(text))
    except ValueError:
        return to_date(text)


def _link_kind(url: str, field: str) -> str:
    if field == "pdf" or re.search(r"arxiv\.org/pdf/", url):
        return "pdf"
    if re.search(r"arxiv\.org/abs/", url):
        return "abs"
    return "code" if code_links_in(url) == [url] else "url"


def _add_link(rec: Record, kind: str, url: str) -> None:
    urls = rec.links.setdefault(kind, [])
    if url not in urls:
        urls.append(url)


def _apply_code(rec: Record, value: Any) -> bool:
    if value is True or (isinstance(value, str) and value.strip().lower() in ("true", "yes")):
        rec.extra["has_code"] = True  # a "has code" flag without a URL
        return True
    if isinstance(value, bool):
        return False
    urls = value if isinstance(value, list) else re.split(r"[\s;,]+", str(value))
    urls = [str(u).strip() for u in urls if str(u).strip().startswith(("http://", "https://"))]
    for url in urls:
        _add_link(rec, "code", url)
    return bool(urls)


def _apply_number(rec: Record, field: str, value: Any) -> bool:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return False
    if math.isnan(number):
        return False
    if field == "upvotes":
        if not number.is_integer():
            return False
        rec.upvotes = int(number)
    else:
        rec.score = number
    return True


# ---------------------------------------------------------------- value helpers


def split_authors(value: Any) -> tuple[list[Author], bool]:
    """Authors from a list (of names or ``{"name": ...}`` objects) or a string separated by
    ``;``, `` and `` or ``, `` (a JSON-encoded list too). Returns (authors, complete);
    "et al." or "others" makes the list incomplete."""
    names = _author_names(value)
    complete = True
    authors = []
    for name in names:
        if _ET_AL.match(name.strip()):
            complete = False
            continue
        if re.search(r"(?i)\s+et\.?\s*al\.?$", name):
            complete = False
            name = re.sub(r"(?i)\s+et\.?\s*al\.?$", "", name)
        cleaned = normalize_author(name)
        if cleaned:
            authors.append(Author(cleaned))
    return authors, complete


def _author_names(value: Any) -> list[str]:
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                value = json.loads(text)
            except ValueError:
                return _split_name_string(text.strip("[]"))
        else:
            return _split_name_string(text)
    if isinstance(value, list):
        return [n for item in value if (n := _author_item(item))]
    return _split_name_string(str(value))


def _author_item(item: Any) -> str:
    if isinstance(item, dict):
        for key in ("name", "full_name", "literal"):
            if item.get(key):
                return str(item[key])
        return " ".join(str(item[k]) for k in ("given", "first", "family", "last") if item.get(k))
    if isinstance(item, list):  # Kaggle-style [last, first, suffix]
        parts = [str(p) for p in item if p]
        return f"{parts[0]}, {' '.join(parts[1:])}" if len(parts) > 1 else "".join(parts)
    return "" if item is None else str(item)


def _split_name_string(text: str) -> list[str]:
    if ";" in text:
        return [p.strip() for p in text.split(";") if p.strip()]
    if re.search(r"\s+and\s+", text):
        parts = re.split(r",?\s+and\s+", text)
        if all(p.count(",") == 1 for p in parts):  # "Last, First and Last, First"
            return parts
        return [q.strip() for p in parts for q in p.split(",") if q.strip()]
    parts = [p.strip() for p in text.split(",") if p.strip()]
    if len(parts) == 2 and all(" " not in p for p in parts):  # one "Last, First" name
        return [text]
    return parts


def _categories(value: Any) -> list[str]:
    items = value if isinstance(value, list) else re.split(r"[\s,;]+", str(value))
    return list(dict.fromkeys(str(c).strip() for c in items if str(c).strip()))


def to_date(value: Any) -> PartialDate | None:
    """A PartialDate from a date/datetime, a year number or any text `parse_date` reads."""
    if isinstance(value, dt.datetime | dt.date):
        return PartialDate(value.year, value.month, value.day)
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float) and not math.isnan(value) and float(value).is_integer():
        year = int(value)
        return PartialDate(year) if 1000 <= year <= 9999 else None
    text = _scalar_text(value)
    if _FLOAT_YEAR.match(text):  # pandas writes a year column with gaps as floats: "1999.0"
        return PartialDate(int(text.split(".")[0]))
    return parse_date(text)


_FLOAT_YEAR = re.compile(r"^\d{4}\.0+$")


def _arxiv_number(value: float) -> str:
    """An arXiv id that a spreadsheet or JSON writer stored as a number: 2410.1001 was 2410.10010
    (ids have five digits after the dot from 2015, four before), so the zeros come back."""
    digits = 5 if int(value) >= 1501 else 4
    return f"{value:.{digits}f}"


def _scalar_text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _is_empty(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, float):
        return math.isnan(value)
    if isinstance(value, list | tuple | dict):
        return len(value) == 0
    return False


def plain_value(value: Any) -> Any:
    if isinstance(value, str | int | bool) or value is None:
        return value
    if isinstance(value, float):
        return None if math.isnan(value) else value
    if isinstance(value, dict):
        return {str(k): plain_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain_value(v) for v in value]
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return str(value)
