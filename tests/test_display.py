"""Text as a reader sees it (display.py): Markdown marks, LaTeX and HTML debris that sources left in
stored abstracts, and glued words, cleaned for pages and search snippets; search highlights survive
the cleaning. The examples are shaped like abstracts of the shared 118k arXiv library."""

from __future__ import annotations

import pytest

from paperradar.display import display_text
from paperradar.hits import plain, shown_segments, spans
from paperradar.normalize import clean_text
from paperradar.storage.fts import MARK_CLOSE, MARK_OPEN

CASES = [
    ("we propose **CK-PLUG**, a plug-and-play", "we propose CK-PLUG, a plug-and-play"),
    ("the **L**earning to **P**lay framework", "the Learning to Play framework"),
    (
        "Code is available at \\hrefhttps://github.com/a/CaThttps://github.com/a/CaT.",
        "Code is available at https://github.com/a/CaT.",
    ),
    ("Code \\hrefhttps://github.com/q/ChainHOIhere.", "Code https://github.com/q/ChainHOI."),
    ("audio natures, \\ie, (1) feature", "audio natures, i.e., (1) feature"),
    ("available at: \\hrefgithub{https://github.com/a/Homo", "available at: https://github.com/a/Homo"),
    ("at \\href https://x.io/DNAhttps://x.io/DNA. Then", "at https://x.io/DNA. Then"),
    ("at \\href[https://g.io/c.githttps://g.io/c. Then", "at https://g.io/c.git https://g.io/c. Then"),
    (
        "see \\href{https://g.io/r}{g.io/r}, or \\href{https://p.org}{our page}.",
        "see https://g.io/r, or our page (https://p.org).",
    ),
    ("our \\href https://g.io/a Project page", "our https://g.io/a Project page"),
    ("found at \\hrefGitHub https://g.io/b.", "found at GitHub https://g.io/b."),
    ("an accuracy of 78.27\\% on", "an accuracy of 78.27% on"),
    ("up to \\(10.61%\\) over an \\(m\\)-class", "up to 10.61% over an m-class"),
    (
        "the Student\\_100 data, m\\&m-Ant, under-investi\\-gated",
        "the Student_100 data, m&m-Ant, under-investigated",
    ),
    ("at $≥$768x512 for $4 per test", "at ≥768x512 for $4 per test"),
    ("one.<p>Two<br/>next &amp; more", "one. Two next & more"),
    ("the cost attentionreduces", "the cost attention reduces"),
    ("tags (e.g., <think> ... </think>) stay", "tags (e.g., <think> ... </think>) stay"),
]


@pytest.mark.parametrize(("raw", "shown"), CASES)
def test_debris_is_shown_as_text(raw, shown):
    assert display_text(raw) == shown


def test_highlights_survive_the_cleaning():
    marked = (
        f"we propose **{MARK_OPEN}Zebracache{MARK_CLOSE}**, \\ie, {MARK_OPEN}holography{MARK_CLOSE} at 9\\%"
    )
    segs = shown_segments(marked)
    text = plain(segs)
    assert text == "we propose Zebracache, i.e., holography at 9%"
    assert [text[a:b] for a, b in spans(segs)] == ["Zebracache", "holography"]


def test_an_import_keeps_links_and_abbreviations_that_lost_their_braces():
    raw = "See \\url{https://a.b/c}, \\ie, code at \\hrefhttps://git.io/zchttps://git.io/zc and \\href{https://x.y}{here}."
    assert clean_text(raw) == "See https://a.b/c, i.e., code at https://git.io/zc and here (https://x.y)."
