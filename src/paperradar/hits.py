"""What a search hit looks like: the `Hit`, its snippet and title as highlighted segments, the
reasons it matched, and its JSON shape (CLI `--json`, web API). Pure: no SQL, no ranking.

Snippets are segments `[(text, highlighted), ...]`, so each front end escapes the text and marks
the highlights its own way (`highlight_html` for the web, cli/search.py's rich markup for the CLI).
`search.py` does the searching and builds hits with these helpers.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from .models import Paper, paper_date
from .storage.fts import ELLIPSIS, MARK_CLOSE, MARK_OPEN

__all__ = [
    "Hit",
    "Segments",
    "first_words",
    "highlight_html",
    "hit_json",
    "match_reasons",
    "plain",
    "segments",
    "shown_segments",
    "spans",
]

SNIPPET_WORDS = 30  # the abstract's first words when nothing in it matched

Segments = list[tuple[str, bool]]


@dataclass
class Hit:
    paper: Paper
    score: float  # higher is better; comparable within one result only
    snippet: Segments  # the matching abstract fragment (or title), highlights marked
    reasons: list[str] = field(default_factory=list)
    title: Segments = field(default_factory=list)  # the title with its matches marked


# ---------------------------------------------------------------- segments


_MARKS = re.compile(f"([{MARK_OPEN}{MARK_CLOSE}])")


def segments(marked: str) -> Segments:
    """Text with MARK_OPEN/MARK_CLOSE around matches as [(text, highlighted), ...]; tolerant of
    unbalanced markers, never yields empty pieces."""
    out: Segments = []
    on = False
    for piece in _MARKS.split(marked):
        if piece in (MARK_OPEN, MARK_CLOSE):
            on = piece == MARK_OPEN
        elif piece:
            out.append((piece, on))
    return out


def shown_segments(marked: str) -> Segments:
    """A marked snippet as a reader should see it (display.display_text: no raw Markdown, LaTeX or
    HTML debris, glued words split), then split into segments; the marks survive the cleaning."""
    from .display import display_text

    return segments(display_text(marked))


def plain(segs: Segments) -> str:
    return "".join(text for text, _ in segs)


def spans(segs: Segments) -> list[list[int]]:
    """[start, end) character offsets of the highlights in `plain(segs)`."""
    out, pos = [], 0
    for text, on in segs:
        if on:
            out.append([pos, pos + len(text)])
        pos += len(text)
    return out


def highlight_html(segs: Segments) -> str:
    """Segments as safe HTML: text escaped, highlights in <mark>."""
    return "".join(f"<mark>{html.escape(t)}</mark>" if on else html.escape(t) for t, on in segs)


def marked(segs: Segments) -> bool:
    """Whether anything in `segs` is highlighted."""
    return any(on for _, on in segs)


def plain_title(text: str | None) -> Segments:
    """A title with nothing highlighted, cleaned for display (empty when there is none)."""
    from .display import display_text

    return [(display_text(text), False)] if text else []


def first_words(paper: Paper) -> Segments:
    """The abstract's first words, the snippet of a paper whose abstract matched nothing."""
    from .display import display_text

    words = display_text(paper.abstract).split()
    if not words:
        return []
    more = len(words) > SNIPPET_WORDS
    return [(" ".join(words[:SNIPPET_WORDS]) + (" " + ELLIPSIS if more else ""), False)]


# ---------------------------------------------------------------- reasons


def match_reasons(title: Segments, abstract: Segments, authors: Segments) -> list[str]:
    """Where the words matched, e.g. "title matches KV, cache", at most six words a field."""
    out = []
    for label, segs in (("title matches", title), ("abstract matches", abstract), ("authors match", authors)):
        words = _distinct(t for t, on in segs if on)
        if words:
            out.append(f"{label} {', '.join(words[:6])}" + (" …" if len(words) > 6 else ""))
    return out


def _distinct(words: Iterable[str]) -> list[str]:
    seen: dict[str, str] = {}
    for w in words:
        seen.setdefault(w.casefold(), w)
    return list(seen.values())


# ---------------------------------------------------------------- the JSON shape (CLI --json, web API)


def hit_json(hit: Hit) -> dict[str, Any]:
    """One result as documented in docs/cli.md: `snippet` is plain text and `highlights` the
    [start, end) character ranges of the matched words in it."""
    p = hit.paper
    return {
        "id": p.id,
        "ids": p.ids,
        "title": p.title,
        "score": round(hit.score, 4),
        "snippet": plain(hit.snippet),
        "highlights": spans(hit.snippet),
        "authors": [a.name for a in p.authors],
        "date": paper_date(p),
        "categories": p.categories,
        "reasons": hit.reasons,
    }
