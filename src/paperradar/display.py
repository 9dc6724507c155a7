"""Text as a reader should see it on a page, in a search snippet or in a digest: raw Markdown marks
removed (`**bold**`, `*italic*`, `` `code` ``, `[text](url)`, leading `#`), LaTeX and HTML debris
that sources left (`\\hrefhttps://x.orghttps://x.org`, `\\ie`, `\\(m\\)`, `78\\%`, `<p>`, `&amp;`)
turned back into text (inline tags such as `<i>` stay, shown literally), and words glued by a
lost space split ("attentionreduces" -> "attention reduces") when both halves are common words.
The stored record is never changed: this is for display only. Pure functions; reads wordninja's
word list once.

It is also the one home of how a paper is presented wherever it appears (CLI, web, digests):
`paper_label` (the title, or the label of an untitled paper), `author_line` and `paper_links`.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from functools import lru_cache

from .latex import flattened_macros
from .models import Paper
from .normalize import split_glued_text
from .urls import safe_url

_MD = [
    (re.compile(r"\[([^\]\n]{1,300})\]\((?:https?://|/)[^)\s]{0,500}\)"), r"\1"),  # [text](url)
    (re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*"), r"\1"),  # **bold**
    (re.compile(r"(?<![\w*])\*(?=[^\s*])([^*\n]+?)(?<=\S)\*(?![\w*])"), r"\1"),  # *italic*
    (re.compile(r"`([^`\n]+)`"), r"\1"),  # `code`
    (re.compile(r"(^|\n)\s{0,3}#{1,6}\s+"), r"\1"),  # headings
]
# LaTeX and HTML left in stored text by sources that flattened it (issue 15: search snippets):
# \\href, \\url and \\ie-like macros first (latex.flattened_macros, which imports use too)
_DEBRIS: list[tuple[re.Pattern[str], str | Callable[[re.Match[str]], str]]] = [
    (
        re.compile(
            r"\\(?:text(?:bf|it|tt|sc|rm|sf)?|emph|math(?:rm|bf|it|cal|bb|sf|tt))\{([^{}\n]{0,300})\}"
        ),
        r"\1",
    ),
    (re.compile(r"\\textcolor\{[A-Za-z]+\}\{([^{}\n]{0,300})\}"), r"\1"),
    (re.compile(r"\{\\(?:em|bf|it|tt|sc)\s+([^{}\n]{0,300})\}"), r"\1"),
    (re.compile(r"\\[()\[\]]"), ""),  # \\( \\) \\[ \\] math delimiters
    (re.compile(r"\\([%&_#$])"), r"\1"),  # escaped characters
    (re.compile(r"\\-"), ""),  # discretionary hyphen
    (re.compile(r"\\'9[12]"), "\u2019"),  # an RTF apostrophe
    (re.compile(r"\$([^\w\s$]{1,2})\$"), r"\1"),  # $≥$, $±$: one symbol in math mode
    (re.compile(r"</?(?:p|br|div)(?:\s[^<>]{0,200})?/?>", re.I), " "),  # block tags: a space
    (re.compile(r"&(?:amp|lt|gt|quot|nbsp|#\d{1,6});"), lambda m: html.unescape(m.group(0))),
]
_STRAY_BOLD = re.compile(r"\*\*+")
_SPACES = re.compile(r"[ \t]{2,}")
_TOKEN = re.compile(r"\b[a-z]{10,}\b")
COMMON = 20_000  # both halves of a split must be among this many most frequent English words
MIN_PART = 5
# first halves that make real compounds, not glued words (multimodal, hyperparameter...)
_PREFIXES = {"multi", "hyper", "super", "inter", "intra", "cross", "under", "counter", "semi", "trans"}


def display_text(text: str | None) -> str:
    """`text` without raw Markdown marks and with glued words split, for showing to a reader."""
    if not text:
        return ""
    if "\\" in text or "<" in text or "&" in text or "$" in text:
        text = flattened_macros(text)
        for debris, fix in _DEBRIS:
            text = debris.sub(fix, text)
    for pattern, repl in _MD:
        text = pattern.sub(repl, text)
    text = _SPACES.sub(" ", _STRAY_BOLD.sub("", text))
    text = split_glued_text(text)
    return _TOKEN.sub(lambda m: split_common(m.group(0)), text)


@lru_cache(maxsize=1)
def _ranks() -> dict[str, int]:
    from .normalize import word_costs

    costs = word_costs()
    return {w: i for i, w in enumerate(sorted(costs, key=costs.__getitem__)) if i < COMMON}


def split_common(token: str) -> str:
    """Split a lower-case token that is no known word into two common words, if it is exactly
    that ("languagemodels" -> "language models"); otherwise return it unchanged."""
    from .normalize import is_known_word

    if is_known_word(token):
        return token
    ranks = _ranks()
    best: tuple[int, int] | None = None
    for i in range(MIN_PART, len(token) - MIN_PART + 1):
        head, tail = token[:i], token[i:]
        if head in ranks and tail in ranks and head not in _PREFIXES:
            cost = ranks[head] + ranks[tail]
            best = min(best or (cost, i), (cost, i))
    return token if best is None else f"{token[: best[1]]} {token[best[1] :]}"


def paper_label(title: str | None, abstract: str | None, paper_id: str, arxiv_id: str | None) -> str:
    """What to call a paper in a list: its title; an untitled one with an arXiv id by that id (its
    metadata can be fetched); any other untitled one by how its abstract begins, or its id."""
    if title:
        return display_text(title)
    return untitled_label(abstract, paper_id, arxiv_id)


def untitled_label(abstract: str | None, paper_id: str, arxiv_id: str | None) -> str:
    """The one label of a paper without a title (CLI, web pages, digests, feeds)."""
    if arxiv_id:
        return f"arXiv {arxiv_id} (title not fetched yet)"
    head = display_text(abstract).split()
    return " ".join(head[:12]) + ("…" if len(head) > 12 else "") if head else paper_id


def label_of(title: str | None, paper_id: str) -> str:
    """`paper_label` when only the title and id are at hand (topic listings)."""
    arxiv_id = paper_id.removeprefix("arxiv:") if paper_id.startswith("arxiv:") else None
    return paper_label(title, None, paper_id, arxiv_id)


def title_of(paper: Paper) -> str:
    """`paper_label` of a Paper."""
    return paper_label(paper.title, paper.abstract, paper.id, paper.arxiv_id)


def author_line(paper: Paper, limit: int = 3) -> str:
    """The first `limit` author names, then "et al." when the paper has more or a source showed
    only some of them; "" when no name is known."""
    names = [a.name for a in paper.authors[:limit]]
    more = len(paper.authors) > limit or not paper.authors_complete
    return ", ".join(names) + (" et al." if more and names else "")


# the order links are shown in; kinds not named here follow, in the order the paper has them
LINK_ORDER = ("abs", "pdf", "code", "project", "doi", "hf", "url")


def paper_links(paper: Paper) -> dict[str, str]:
    """One link per kind, in `LINK_ORDER`: arXiv's canonical abstract and PDF pages first for an
    arXiv paper, else each kind's first link that `urls.safe_url` lets through."""
    out: dict[str, str] = {}
    if aid := paper.arxiv_id:
        out = {"abs": f"https://arxiv.org/abs/{aid}", "pdf": f"https://arxiv.org/pdf/{aid}"}
    for kind, urls in paper.links.items():
        safe = [u for u in map(safe_url, urls or []) if u]
        if safe and kind not in out:
            out[kind] = safe[0].replace("http://arxiv.org/", "https://arxiv.org/")
    rank = {k: i for i, k in enumerate(LINK_ORDER)}
    return dict(sorted(out.items(), key=lambda kv: rank.get(kv[0], len(rank))))


@lru_cache(maxsize=4096)
def _key_sentences(abstract: str | None) -> tuple[str | None, str | None]:
    from .highlights import highlight

    h = highlight(display_text(abstract))
    return h.idea, h.result


def key_sentences(abstract: str | None) -> dict[str, str | None]:
    """The idea and result sentences of an abstract, cleaned for display (see highlights.py);
    remembered for the last 4,096 abstracts, so a page seen again costs nothing here."""
    idea, result = _key_sentences(abstract)
    return {"idea": idea, "result": result}
