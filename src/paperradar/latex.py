"""LaTeX as it appears in titles, abstracts, names and venues, turned into readable Unicode. Pure
functions, no I/O; `normalize.clean_text` is the one caller every importer goes through.

Only LaTeX fragments are converted: math between `$...$` (H$_2$O -> H₂O, `$\\overline{1}$` -> 1̅),
macros with their arguments (accents, nested accents `\\c{\\u{e}}` -> ḝ, font and text macros,
symbols from pylatexenc's table, TeX's logos), case-protecting braces (nested too), ties (`A~B`)
and TeX dashes (`--`, `---`). The text around them is left as it is, so "$5" or "95%" stay.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pylatexenc is imported on first use
    from pylatexenc.latex2text import LatexNodes2Text

# pylatexenc reports macros it cannot expand on stderr; we keep the source text instead
logging.getLogger("pylatexenc").addHandler(logging.NullHandler())
logging.getLogger("pylatexenc").propagate = False

_SUB = str.maketrans("0123456789+-=()aeoxhklmnpst", "₀₁₂₃₄₅₆₇₈₉₊₋₌₍₎ₐₑₒₓₕₖₗₘₙₚₛₜ")
_SUP = str.maketrans("0123456789+-=()ni", "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁼⁽⁾ⁿⁱ")
_SUBSUP = re.compile(r"([_^])(?:\{([^{}$]*)\}|([^\s{}$\\]))")
# $...$ math: the opening $ is followed, and the closing $ preceded, by a non-space, and no digit
# follows the closing $, so "costs $5 and $6" is left alone.
_MATH = re.compile(r"(?<!\\)\$(\$?)(?!\s)([^$]+?)(?<![\s\\])\1\$(?!\d)", re.S)
LATEX_HINT = re.compile(r"[\\$^_{}~]|--")  # text without these holds no LaTeX


def _script(match: re.Match[str]) -> str:
    """`_2` -> ₂ and `^{10}` -> ¹⁰ when every character has a Unicode sub/superscript form."""
    body = match.group(2) if match.group(2) is not None else match.group(3)
    table = _SUB if match.group(1) == "_" else _SUP
    if body and all(ord(ch) in table for ch in body):
        return body.translate(table)
    return match.group(0)


@lru_cache(maxsize=1)
def _latex_converter() -> LatexNodes2Text:
    from pylatexenc.latex2text import LatexNodes2Text

    return LatexNodes2Text(math_mode="text", strict_latex_spaces=True)


def _math_to_text(match: re.Match[str]) -> str:
    body = _SUBSUP.sub(_script, match.group(2))
    fast = _fast_math(body)
    return fast if fast is not None else _latex_fragment(body)


@lru_cache(maxsize=1)
def _symbol_table() -> dict[str, str]:
    """Argument-less macros with a plain replacement (\\alpha -> α), from pylatexenc's own table."""
    from pylatexenc.latex2text import get_default_latex_context_db

    table = {}
    for spec in get_default_latex_context_db().iter_macro_specs():
        repl = getattr(spec, "simplify_repl", None)
        if isinstance(repl, str) and "%" not in repl and not spec.macroname.startswith("@"):
            table[spec.macroname] = repl
    return table


_FONT = re.compile(
    r"\\(?:math(?:bf|rm|it|cal|bb|sf|tt|frak)|text(?:bf|rm|it|sf|tt)?|operatorname|boldsymbol)\s*\{([^{}]*)\}"
)
_SYMBOL = re.compile(r"\\([A-Za-z]+)(?![A-Za-z])|\\([%&#_$,;!{} ])")


_OVER = re.compile(r"\\(overline|bar|hat|tilde|vec|dot)\s*(?:\{\s*([A-Za-z0-9])\s*\}|([A-Za-z0-9]))")
_OVER_MARK = {
    "overline": "\u0305",
    "bar": "\u0304",
    "hat": "\u0302",
    "tilde": "\u0303",
    "vec": "\u20d7",
    "dot": "\u0307",
}


def _fast_math(body: str) -> str | None:
    """Most math in abstracts is a symbol or two: convert it by table; None if it needs a parser."""
    body = _FONT.sub(r"\1", body)
    body = _OVER.sub(lambda m: (m.group(2) or m.group(3)) + _OVER_MARK[m.group(1)], body)
    table = _symbol_table()
    failed = False

    def sym(m: re.Match[str]) -> str:
        nonlocal failed
        if m.group(2) is not None:
            return m.group(2).strip() or " "
        repl = table.get(m.group(1))
        if repl is None:
            failed = True
            return m.group(0)
        return repl

    out = _SYMBOL.sub(sym, body)
    if failed or "\\" in out:
        return None
    return out.replace("{", "").replace("}", "").strip()


@lru_cache(maxsize=20000)
def _latex_fragment(fragment: str) -> str:
    """One small piece of LaTeX (a math body, a macro with its argument) as text. Cached:
    the same fragments recur across abstracts, and the parser is slow on long inputs."""
    try:
        return str(_latex_converter().latex_to_text(fragment)).strip()
    except Exception:  # pylatexenc gives up on malformed input: keep the source text
        return fragment


# A macro with its braced arguments (\emph{x}, \"{o}, \'e, \%), or a braced accent group {\"o}.
_MACRO = re.compile(
    r"\\(?:[A-Za-z]+\*?(?:\s*\{[^{}$]*\})*|[\"'`^~=.uvHckbdrt](?:\{[^{}$]*\}|[A-Za-z0-9])|[%&#_$ ,;!{}])"
    r"|\{\\[^{}$]*\}"
)
_BRACES = re.compile(r"\{([^{}\\$]*)\}")


_ACCENTS = {
    '"': "\u0308",
    "'": "\u0301",
    "`": "\u0300",
    "^": "\u0302",
    "~": "\u0303",
    "=": "\u0304",
    ".": "\u0307",
    "u": "\u0306",
    "v": "\u030c",
    "H": "\u030b",
    "c": "\u0327",
    "k": "\u0328",
    "r": "\u030a",
}
_ACCENT = re.compile(r"^\{?\\([\"'`^~=.uvHckr])\s*(?:\{\s*\\?([A-Za-z0-9])\s*\}|\\?([A-Za-z0-9]))\}?$")
# an accent on an accented letter: \c{\u{e}} -> ḝ (the inner accent first)
_NESTED_ACCENT = re.compile(
    r"\\([\"'`^~=.uvHckr])\s*\{\s*\\([\"'`^~=.uvHckr])\s*(?:\{\s*([A-Za-z])\s*\}|([A-Za-z]))\s*\}"
)
# TeX's logos, which pylatexenc drops: "The \TeX book" keeps its word
_LOGOS = {
    "TeX": "TeX",
    "LaTeX": "LaTeX",
    "LaTeXe": "LaTeX2ε",
    "BibTeX": "BibTeX",
    "XeTeX": "XeTeX",
    "LuaTeX": "LuaTeX",
    "AmS": "AMS",
    "AMSTeX": "AMS-TeX",
    "ConTeXt": "ConTeXt",
    "METAFONT": "METAFONT",
}
_LOGO = re.compile(r"\\(" + "|".join(sorted(_LOGOS, key=len, reverse=True)) + r")(?![A-Za-z])(?:\{\})?")
# a tie between two words is a space ("Fig.~3"); a leading "~5" means "about" and is kept
_TIE = re.compile(r"(?<=\S)(?<!\\)~(?=\S)")
# TeX dashes between words or numbers: "1--2" -> "1–2", "A---B" -> "A—B" ("--flag" is left alone)
_EM_DASH = re.compile(r"(?<=[\w\s).,])---(?=[\w\s(])")
_EN_DASH = re.compile(r"(?<=[\w).,:;])--(?=[\w\s(])|(?<=\s)--(?=\s)")
_TEXT_MACRO = re.compile(
    r"^\\(?:emph|text(?:bf|it|tt|sc|sf|rm|up|normal)?|underline|mbox|url)\s*\{([^{}$]*)\}$"
)


def _accent(letter: str, accent: str) -> str:
    return unicodedata.normalize("NFC", letter + _ACCENTS[accent])


def _nested_accent(m: re.Match[str]) -> str:
    return _accent(_accent(m.group(3) or m.group(4), m.group(2)), m.group(1))


def _macro_to_text(match: re.Match[str]) -> str:
    """One macro outside math: accents, font and text macros and symbols by table, else the parser."""
    frag = match.group(0)
    if frag[1:2] == " ":
        return " "
    m = _ACCENT.match(frag)
    if m:
        return _accent(m.group(2) or m.group(3), m.group(1))
    m = _TEXT_MACRO.match(frag)
    if m:
        return m.group(1)
    if frag[1:].isalpha() and frag[1:] in _symbol_table():
        return _symbol_table()[frag[1:]]
    if frag.startswith(("\\cite", "\\ref", "\\label")):
        return ""  # a citation or cross-reference means nothing outside its paper
    if len(frag) == 2 and frag[1] in "%&#_$,;!{}":
        return frag[1] if frag[1] not in ",;!" else " "
    return _latex_fragment(frag)


# macros that sources leave flattened, which the macro table below would drop with their text
# (issue 15): \\href with its braces lost (the URL glued to its text, often itself), \\url, and
# the abbreviation macros papers define (\\ie, \\eg, \\etal)
_URL_ARG = re.compile(r"\\url\{([^{}\s]+)\}")
_HREF_TEXT = re.compile(r"\\href\s*\{(https?://[^\s{}]+)\}\{([^{}\n]{0,300})\}")  # both braces kept
_FLAT_HREF = re.compile(r"\\href\s*[{\[]?(https?://[^\s{}\]]+?)[}\]]?\{?(?:\1|here)\}?(?=[\s.,;:)\]]|$)")
# what is left of an \\href or \\url goes; the text glued to it stays (\\hrefGitHub -> GitHub)
_BARE_LINK = re.compile(r"\\(?:href|url)[a-z]{0,20}\s*[{\[]?(?=https?://)|\\(?:href|url)\{?")

_GLUED_URL = re.compile(r"(?<=[\w./])(?=https?://)")


def _href_text(m: re.Match[str]) -> str:
    """\\href{url}{text}: the URL when the text is the URL again (or a bare address), else both."""
    url, text = m.group(1), m.group(2).strip()
    return url if not text or (" " not in text and "." in text) else f"{text} ({url})"


_ABBREVIATION = re.compile(r"\\(ie|eg|etal|wrt|cf)(?![A-Za-z])\.?")
_ABBREVIATIONS = {"ie": "i.e.", "eg": "e.g.", "etal": "et al.", "wrt": "w.r.t.", "cf": "cf."}


def flattened_macros(text: str) -> str:
    """\\href, \\url and abbreviation macros as the text they stand for (each URL once)."""
    if "\\" not in text:
        return text
    links = "\\href" in text
    text = _FLAT_HREF.sub(r"\1", _HREF_TEXT.sub(_href_text, _URL_ARG.sub(r"\1", text)))
    text = _BARE_LINK.sub("", text)
    if links:  # a flattened \\href{a}{b} with two different URLs: a space between them
        text = _GLUED_URL.sub(" ", text)
    return _ABBREVIATION.sub(lambda m: _ABBREVIATIONS[m.group(1)], text)


def latex_to_unicode(text: str) -> str:
    """Turn the LaTeX that appears in titles and abstracts into readable Unicode.

    Only LaTeX fragments are converted (math between $...$, macros, accents, case-protecting
    braces); the text around them is left as it is, so a literal "$5" or "95%" stays.
    """
    if not LATEX_HINT.search(text):
        return text
    # escaped braces are literal text: keep them away from case-protection stripping below
    text = text.replace("\\{", "\ue003").replace("\\}", "\ue004")
    text = _MATH.sub(_math_to_text, text)
    if "\\" in text:
        text = flattened_macros(text)
        text = text.replace("\\-", "")  # a discretionary hyphen: Lan\-guage is Language
        text = _LOGO.sub(lambda m: _LOGOS[m.group(1)], text)
        text = _NESTED_ACCENT.sub(_nested_accent, text)
        text = _MACRO.sub(_macro_to_text, text)
    while "{" in text:  # nested case protection, {{Language} {Models}}, one level per pass
        text, n = _BRACES.subn(r"\1", text)
        if not n:
            break
    if "~" in text:
        text = _TIE.sub(" ", text)
    if "--" in text:
        text = _EN_DASH.sub("\u2013", _EM_DASH.sub("\u2014", text))
    return text.replace("\ue003", "{").replace("\ue004", "}")
