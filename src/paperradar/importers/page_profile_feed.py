"""Importer for a pasted author-profile feed (a page listing papers with category badges). No I/O.

Each paper takes three lines (the abstract may run over several):

    69.9LGApr 7Code                                        score, category, date, "Code" badge
    Deja Vu: ...Inference TimeZichang Liu, Jue Wang et al. · eth-zurich
    Large language models (LLMs) with hundreds of ...      abstract

The title is glued to the author list; `_glued.split_title_authors` finds the boundary, helped by
the names that stand alone after a comma elsewhere on the page (a first pass collects them).
Optional " · org1, org2" at the end names organisations.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from ..errors import ParseError
from ..models import Author, Record, SourceRef
from ..normalize import clean_text, code_links_in, normalize_author, parse_date, split_glued_text
from . import _glued
from .base import Source

NAME = "page_profile_feed"

_MONTH = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)[a-z]*\.?"
_BADGE = re.compile(
    r"^(?P<score>\d{1,3}(?:\.\d+)?)?(?P<cat>[A-Z]{2,3})(?P<date>" + _MONTH + r" \d{1,2}(?:, \d{4})?)"
    r"(?P<code>Code)?$"
)
_ORG_SEP = " · "
# arXiv subject abbreviations as profile pages show them -> full category
_CS_ABBREVIATIONS = (
    "AI AR CC CE CG CL CR CV CY DB DC DL DM DS ET FL GL GR GT HC IR IT LG LO MA MM MS NA NE NI OH OS "
    "PF PL RO SC SD SE SI SY"
)
_CATEGORIES = {abbr: f"cs.{abbr}" for abbr in _CS_ABBREVIATIONS.split()}  # noqa: SIM905
_CATEGORIES["ML"] = "stat.ML"


@dataclass
class _Block:
    """The lines of one paper: badge, glued title/authors line, abstract lines."""

    line: int
    badge: re.Match[str]
    lines: list[tuple[int, str]] = field(default_factory=list)

    @property
    def raw(self) -> str:
        return "\n".join([self.badge.group(0)] + [t for _, t in self.lines])


def detect(head: str, name: str) -> int:
    lines = [t.strip() for t in head.splitlines() if t.strip()]
    badges = [i for i, t in enumerate(lines) if _BADGE.match(t)]
    if not badges:
        return 0
    glued = sum(
        1
        for i in badges[:20]
        if i + 1 < len(lines) and _glued.split_title_authors(_strip_orgs(lines[i + 1])[0])
    )
    if glued >= 2 or (glued == 1 and len(badges) == 1):
        return 90
    return 30 if len(badges) >= 2 else 0


def parse(source: Source) -> Iterator[Record | ParseError]:
    blocks, leading = _read_blocks(source)
    if leading:
        first = leading[0][0]
        yield ParseError(
            source.path, first, f"{len(leading)} line(s) before the first paper badge were skipped"
        )
    title_lines = [_strip_orgs(b.lines[0][1])[0] for b in blocks if b.lines]
    known = _glued.confident_names(title_lines)
    for block in blocks:
        yield _record(source, block, known)


def _read_blocks(source: Source) -> tuple[list[_Block], list[tuple[int, str]]]:
    """Group lines into papers, each starting at a badge line; lines before the first badge come apart."""
    blocks: list[_Block] = []
    leading: list[tuple[int, str]] = []
    for lineno, text in source.lines():
        stripped = text.strip()
        m = _BADGE.match(stripped)
        if m:
            blocks.append(_Block(lineno, m))
        elif not stripped:
            continue
        elif blocks:
            blocks[-1].lines.append((lineno, stripped))
        else:
            leading.append((lineno, stripped))
    return blocks, leading


def _strip_orgs(line: str) -> tuple[str, list[str]]:
    if _ORG_SEP not in line:
        return line, []
    head, _, tail = line.rpartition(_ORG_SEP)
    return head.rstrip(), [o.strip() for o in tail.split(",") if o.strip()]


def _record(source: Source, block: _Block, known: set[str]) -> Record | ParseError:
    if not block.lines:
        return ParseError(source.path, block.line, "paper badge with no title line after it")
    title_line, title_text = block.lines[0]
    body, orgs = _strip_orgs(title_text)
    split = _glued.split_title_authors(body, known)
    if split is None:
        return ParseError(
            source.path,
            title_line,
            f"cannot tell the title from the authors in {_clip(body)!r}; record skipped",
        )
    abstract = clean_text(" ".join(t for _, t in block.lines[1:]))
    rec = Record(
        source=SourceRef(importer=NAME, path=source.path, line=block.line),
        title=clean_text(split_glued_text(split.title)),
        abstract=abstract,
        abstract_truncated=bool(abstract and abstract.endswith(("…", "..."))),
        authors=[Author(normalize_author(n)) for n in split.authors],
        authors_complete=not split.et_al,
        raw=block.raw,
    )
    _add_badge(rec, block.badge)
    if orgs:
        rec.organisation = ", ".join(orgs)
        rec.extra["organisations"] = orgs
    code = code_links_in(abstract)
    if code:
        rec.links["code"] = code
    return rec


def _add_badge(rec: Record, badge: re.Match[str]) -> None:
    cat = badge.group("cat")
    if cat in _CATEGORIES:
        rec.categories = [_CATEGORIES[cat]]
    else:
        rec.extra["category_badge"] = cat
    date = parse_date(badge.group("date"))
    if date:
        rec.dates["published"] = date
    else:
        rec.extra["date_text"] = badge.group("date")
    if badge.group("score"):
        rec.score = float(badge.group("score"))
    if badge.group("code"):
        rec.extra["has_code"] = True


def _clip(text: str, size: int = 80) -> str:
    return text if len(text) <= size else text[: size - 1] + "…"
