"""Plain data types shared by every part of paperradar. No I/O.

A `Record` is one source's view of one paper, exactly as an importer understood it.
A `Paper` is the merged library entry: one chosen value per field plus every `Record`
that contributed, so nothing any source said is lost.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from .errors import InvalidInput

# What a researcher can say about a paper (profiles, digest links, the web forms). The feedback
# table's CHECK in storage/migrations.py lists the same values; tests/test_one_home.py pins it.
FEEDBACK_KINDS = ("like", "dislike", "not_interested")

_ISO_RE = re.compile(r"^(?:(\d{4})|-)(?:-(\d{2}))?(?:-(\d{2}))?$")


@dataclass(frozen=True, order=True)
class PartialDate:
    """A calendar date where any part may be unknown.

    A year-less "Apr 7" is ``PartialDate(None, 4, 7)``; it is never shown with a guessed year.
    ``iso()`` follows ISO 8601: ``2024-10-13``, ``2024-10``, ``2024`` or ``--04-07`` (no year).
    """

    year: int | None = None
    month: int | None = None
    day: int | None = None

    def __post_init__(self) -> None:
        if self.month is not None and not 1 <= self.month <= 12:
            raise InvalidInput(f"month out of range: {self.month}")
        if self.day is not None and not 1 <= self.day <= 31:
            raise InvalidInput(f"day out of range: {self.day}")
        if self.year is None and self.month is None:
            raise InvalidInput("a date needs at least a year or a month")

    @property
    def complete(self) -> bool:
        return None not in (self.year, self.month, self.day)

    def iso(self) -> str:
        head = f"{self.year:04d}" if self.year is not None else "-"
        parts = [head]
        if self.month is not None:
            parts.append(f"{self.month:02d}")
            if self.day is not None:
                parts.append(f"{self.day:02d}")
        return "-".join(parts)

    @classmethod
    def from_iso(cls, text: str) -> PartialDate:
        m = _ISO_RE.match(text.strip())
        if not m:
            raise InvalidInput(f"not an ISO date: {text!r}")
        y, mo, d = (int(g) if g else None for g in m.groups())
        return cls(y, mo, d)

    def __str__(self) -> str:
        return self.iso()


@dataclass
class Author:
    name: str
    affiliations: list[str] = field(default_factory=list)


@dataclass
class SourceRef:
    """Where a record came from: the importer, the file or URL, and the 1-based line."""

    importer: str
    path: str
    line: int | None = None
    fetched_at: str | None = None  # ISO timestamp, set by the import pipeline


@dataclass(kw_only=True)
class Content:
    """What a source says about a paper, and what a paper shows: the one home of the bibliographic
    fields `Record` and `Paper` share. Add a field here (with its default) and it is stated by
    records (`Record.given_fields`), kept by papers (`papers.paper_of_row`, `paper_json`), merged
    (`dedupe.choose_fields`: the highest-ranked record that gives it) and exported to JSON with no
    other change, unless it needs a rule of its own (see docs/architecture.md, "Add a field").

    authors_complete is False when the source showed only some authors ("et al.", "10 authors");
    author_count then holds the total the source stated, if any.
    dates maps a kind (published, updated, listed, created) to a PartialDate.
    links maps a kind (abs, pdf, doi, code, project, hf, url) to URLs.
    """

    title: str | None = None
    abstract: str | None = None
    authors: list[Author] = field(default_factory=list)
    authors_complete: bool = True
    author_count: int | None = None
    categories: list[str] = field(default_factory=list)
    dates: dict[str, PartialDate] = field(default_factory=dict)
    comment: str | None = None
    links: dict[str, list[str]] = field(default_factory=dict)
    organisation: str | None = None
    upvotes: int | None = None
    score: float | None = None
    venue: str | None = None


# Content fields with provenance (a record gives them, a paper keeps which record's value it chose);
# authors_complete and author_count go with `authors`.
CONTENT_FIELDS = tuple(f.name for f in fields(Content) if f.name not in ("authors_complete", "author_count"))
# the content fields with no rule of their own: plain JSON values, merged by record rank
PLAIN_FIELDS = tuple(
    n for n in CONTENT_FIELDS if n not in ("title", "abstract", "authors", "categories", "dates", "links")
)


@dataclass
class Record(Content):
    """One source's view of one paper, as parsed. Empty fields mean "this source did not say".

    ids are namespaced strings: ``arxiv:2410.09918``, ``arxiv:2410.09918v2``, ``doi:10.1/x``,
    ``s2:<40 hex digits>``, ``corpus:<Semantic Scholar corpus id>``.
    The content fields (title, authors, dates...) are `Content`'s.
    raw is the source text of the record, kept verbatim.
    """

    source: SourceRef
    ids: list[str] = field(default_factory=list)
    abstract_truncated: bool = False
    extra: dict[str, Any] = field(default_factory=dict)
    raw: str = ""

    def given_fields(self) -> dict[str, Any]:
        """The content fields this record actually states, in JSON-ready form."""
        out: dict[str, Any] = {}
        if self.ids:
            out["ids"] = list(self.ids)
        for name in CONTENT_FIELDS:
            value = getattr(self, name)
            if value is None or value == "" or value == [] or value == {}:
                continue
            if name == "authors":  # the hot path of bulk imports: no generic recursion
                out[name] = [{"name": a.name, "affiliations": a.affiliations} for a in value]
            elif name == "dates":
                out[name] = {k: d.iso() for k, d in value.items()}
            elif name == "categories":
                out[name] = list(value)
            else:
                out[name] = to_jsonable(value)
        if not self.authors_complete:  # "et al." or "10 authors": some or all names missing
            out["authors_complete"] = False
        if self.author_count:
            out["author_count"] = self.author_count
        if self.abstract_truncated:
            out["abstract_truncated"] = True
        if self.extra:
            out["extra"] = to_jsonable(self.extra)
        return out


@dataclass
class StoredRecord:
    """A Record as kept in the library: its key, the paper it belongs to, and what it gave."""

    key: str
    paper_id: str
    importer: str
    path: str
    line: int | None
    imported_at: str
    fields: dict[str, Any]
    raw: str


@dataclass
class Paper(Content):
    """A merged library entry: one chosen value per `Content` field. ``provenance`` maps each
    chosen field to the record key that gave it."""

    id: str
    ids: list[str]
    has_code: bool = False  # a code link is known, or a source showed a "Code" badge
    provenance: dict[str, str] = field(default_factory=dict)
    sources: list[StoredRecord] = field(default_factory=list)

    @property
    def arxiv_id(self) -> str | None:
        for i in self.ids:
            if i.startswith("arxiv:") and not re.search(r"v\d+$", i):
                return i.removeprefix("arxiv:")
        return None

    @property
    def year(self) -> int | None:
        date = preferred_date(self.dates, self.ids)
        return date.year if date else None

    @property
    def date(self) -> PartialDate | None:
        """The date this paper shows everywhere (lists, pages, digests, citations): `shown_date`."""
        return shown_date(self.dates, self.ids)


def paper_date(paper: Paper) -> str | None:
    """`Paper.date` as ISO text (`2024-10-13`, `2024-10`, `2024`, `--04-07`), or None."""
    date = paper.date
    return date.iso() if date else None


_ARXIV_NEW = re.compile(r"^arxiv:(\d{2})(\d{2})\.\d{4,5}(?:v\d+)?$")
_ARXIV_OLD = re.compile(r"^arxiv:[a-z-]+(?:\.[A-Z]{2})?/(\d{2})(\d{2})\d{3}(?:v\d+)?$")


def arxiv_month(ids: Iterable[str]) -> PartialDate | None:
    """The month an arXiv id was given (its first version's month): 1804.06498 -> 2018-04,
    hep-th/9901001 -> 1999-01. None without an arXiv id."""
    for i in ids:
        m = _ARXIV_NEW.match(i) or _ARXIV_OLD.match(i)
        if m and 1 <= int(m.group(2)) <= 12:
            yy = int(m.group(1))
            return PartialDate((1900 if yy >= 91 and m.re is _ARXIV_OLD else 2000) + yy, int(m.group(2)))
    return None


# the kinds of date a source may give, in the order a paper's date is chosen from them
DATE_KINDS = ("published", "created", "listed", "updated")


def preferred_date(dates: Mapping[str, PartialDate], ids: Iterable[str] = ()) -> PartialDate | None:
    """The date a paper is shown, sorted and filtered by: published, else created, else the listing
    or update date, with a year. An arXiv id says when the paper first appeared: a listing or
    update date later than the month after the id's month (a re-listing, a cross-list, a late
    update) is not the paper's date; the id's month is. So 1804.06498 listed on 2025-10-13 is 2018-04."""
    id_month = arxiv_month(ids)
    for kind in DATE_KINDS:
        d = dates.get(kind)
        if not d or not d.year:
            continue
        if id_month and kind in ("listed", "updated") and _months(d) > _months(id_month) + 1:
            return id_month
        return d
    return None  # no dated source: the id's month is not put in its place (a date is never guessed)


def shown_date(dates: Mapping[str, PartialDate], ids: Iterable[str] = ()) -> PartialDate | None:
    """The one rule for the date a paper shows: `preferred_date` (what sorting and filtering use),
    else, when no source gave a year, the first year-less date (`--04-07`, never a guessed year)."""
    return preferred_date(dates, ids) or next((dates[k] for k in DATE_KINDS if k in dates), None)


def _months(d: PartialDate) -> int:
    return (d.year or 0) * 12 + (d.month or 1) - 1


def one_of(values: Iterable[str]) -> str:
    """A regex accepting exactly one of `values` (for request validation built from a tuple)."""
    return "^(" + "|".join(re.escape(v) for v in values) + ")$"


def to_jsonable(value: Any) -> Any:
    """Dataclasses, PartialDates and containers to plain JSON types."""
    if isinstance(value, PartialDate):
        return value.iso()
    if isinstance(value, Author):
        return {"name": value.name, "affiliations": list(value.affiliations)}
    if isinstance(value, dict):
        return {k: to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if hasattr(value, "__dataclass_fields__"):
        return to_jsonable(asdict(value))
    return value


def authors_from_json(items: list[Any]) -> list[Author]:
    out = []
    for a in items:
        if isinstance(a, str):
            out.append(Author(a))
        else:
            out.append(Author(a["name"], list(a.get("affiliations") or [])))
    return out


def dates_from_json(items: dict[str, str]) -> dict[str, PartialDate]:
    return {k: PartialDate.from_iso(v) for k, v in items.items()}


def content_from_json(data: Mapping[str, Any]) -> dict[str, Any]:
    """`Content`'s fields (as keyword arguments) from their JSON form: a paper's stored data."""
    return {
        "title": data.get("title"),
        "abstract": data.get("abstract"),
        "authors": authors_from_json(data.get("authors", [])),
        "authors_complete": data.get("authors_complete", True),
        "author_count": data.get("author_count"),
        "categories": list(data.get("categories", [])),
        "dates": dates_from_json(data.get("dates", {})),
        "links": {k: list(v) for k, v in data.get("links", {}).items()},
        **{name: data.get(name) for name in PLAIN_FIELDS},
    }
