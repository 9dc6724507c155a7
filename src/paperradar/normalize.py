"""Cleaning of text, ids, dates and names as sources give them. Pure functions, no I/O.

- `clean_text`: LaTeX to Unicode (H$_2$O -> H₂O, through `latex.py`), HTML entities, whitespace and
  line-break hyphenation.
- `split_glued`: words glued by copy-paste ("Recipefor") split only when confident.
- `parse_arxiv_id` / `arxiv_ids_in`: every arXiv id form (old and new style, versions, URLs,
  `arXiv:` prefix, arXiv DOIs).
- `parse_date`: full, partial and year-less dates; a missing year is never guessed.
- `normalize_author` / `author_key`: name forms ("Zhao, Jiawei", "J. Zhao") for matching.
- `title_key`: the matching key of a title (glued and spaced forms give the same key).
"""

from __future__ import annotations

import html
import re
import unicodedata
from datetime import datetime
from functools import lru_cache

from .latex import LATEX_HINT, latex_to_unicode
from .models import PartialDate

# ---------------------------------------------------------------- whitespace and LaTeX

_HYPHEN_BREAK = re.compile(r"(\w)-\n\s*(\w)")
_LATEX_HINT = LATEX_HINT
_ENTITY = re.compile(r"&(?:[A-Za-z][A-Za-z0-9]{1,7}|#\d{2,6}|#x[0-9A-Fa-f]{2,5});")


def collapse_whitespace(text: str) -> str:
    return " ".join(text.split())


def clean_text(text: str | None) -> str | None:
    """Whitespace, hyphenation at line breaks and LaTeX, in one step. None and blank give None.

    On the hot path of bulk imports: each step runs only when the text needs it.
    """
    if text is None:
        return None
    if not text.isascii():
        text = unicodedata.normalize("NFC", text)
    if "-\n" in text:
        # "large-\nscale": without a dictionary the hyphen is kept; a stray hyphen harms less than a glued word
        text = _HYPHEN_BREAK.sub(r"\1-\2", text)
    text = latex_to_unicode(text)
    if "&" in text and _ENTITY.search(text):  # HTML entities exporters leave in: G&ouml;ttingen, \&\#039;
        text = _ENTITY.sub(lambda m: html.unescape(m.group(0)), text)
    text = " ".join(text.split())
    return text or None


# ---------------------------------------------------------------- glued words


@lru_cache(maxsize=1)
def word_costs() -> dict[str, float]:
    import math

    import wordninja

    words = wordninja.DEFAULT_LANGUAGE_MODEL._wordcost  # noqa: SLF001 - the model's own table
    return dict(words) if isinstance(words, dict) else {w: math.inf for w in words}


def is_known_word(word: str) -> bool:
    return word.lower() in word_costs()


# Words that a lost space glues onto the end of the word before them. Short ones that are also
# common word endings ("an", "at", "or", "in", "on") are left out: "Rabbat", "distractor".
_GLUE_WORDS = ("for", "of", "and", "the", "with", "via", "from", "into", "that", "than")
_LOWER_UPPER = re.compile(r"\b([a-z]{3,})([A-Z][a-z]{2,})")


def split_glued(word: str) -> str:
    """Split one token glued by copy-paste ("Recipefor" -> "Recipe for"), only when confident.

    Confident means: the token is not itself a known word, and it is a known word of three or
    more letters joined to a short function word ("for", "of", "with"...), the way a lost space
    at a line break glues them. "pretraining" or "DejaVu" are left alone: a wrong split is
    worse than a glued word.
    """
    if len(word) < 5 or not word.isalpha() or is_known_word(word):
        return word
    if any(ch.isupper() for ch in word[1:]):
        return word  # CamelCase names (LoRA, DejaVu) are not glued words
    lower = word.lower()
    for glue in _GLUE_WORDS:
        head = lower[: -len(glue)]
        if lower.endswith(glue) and len(head) >= 3 and is_known_word(head):
            return f"{word[: -len(glue)]} {word[-len(glue) :]}"
    return word


def _split_lower_upper(m: re.Match[str]) -> str:
    left, right = m.group(1), m.group(2)
    if is_known_word(left) and is_known_word(right) and not is_known_word(left + right):
        return f"{left} {right}"
    return m.group(0)


def split_glued_text(text: str) -> str:
    """Undo copy-paste glue in a text: "Recipefor" -> "Recipe for", "introduceTransformer" ->
    "introduce Transformer". Only confident splits (see `split_glued`)."""
    text = _LOWER_UPPER.sub(_split_lower_upper, text)
    return _GLUE_TOKEN.sub(lambda m: split_glued(m.group(0)), text)


# a whole word, not part of a URL, a path or a hyphenated compound
_GLUE_TOKEN = re.compile(r"(?<![\w./-])[A-Za-z]{5,}(?![\w./-])")


# ---------------------------------------------------------------- arXiv ids and DOIs

_NEW_ID = r"(\d{4}\.\d{4,5})(v\d+)?"
_OLD_ID = r"([a-z][a-z-]*(?:\.[A-Z]{2})?/\d{7})(v\d+)?"
_ARXIV_ANY = re.compile(
    r"(?:arxiv\.org/(?:abs|pdf|html)/|arxiv:\s*|10\.48550/arxiv\.|\b)(?:"
    + _NEW_ID
    + r"|"
    + _OLD_ID
    + r")(?:\.pdf)?\b",
    re.I,
)
_ARXIV_EXACT = re.compile(
    r"^\s*(?:https?://)?(?:www\.|export\.)?(?:arxiv\.org/(?:abs|pdf|html)/|arxiv:\s*|(?:doi:\s*)?10\.48550/arxiv\.)?"
    r"(?:" + _NEW_ID + r"|" + _OLD_ID + r")(?:\.pdf)?/?\s*$",
    re.I,
)
_DOI = re.compile(r"\b(10\.\d{4,9}/[^\s\"<>]+)", re.I)


def parse_arxiv_id(text: str) -> tuple[str, str | None] | None:
    """`2410.09918v2`, `arXiv:2410.09918`, `https://arxiv.org/abs/hep-th/9901001v1`, the arXiv
    DOI `10.48550/arXiv.2410.09918` -> (base id, version or None). Anything else -> None."""
    m = _ARXIV_EXACT.match(text)
    if not m:
        return None
    return _id_parts(m)


def _id_parts(m: re.Match[str]) -> tuple[str, str | None]:
    if m.group(1):
        return m.group(1), m.group(2)
    archive, num = m.group(3).split("/")
    subject, _, cls = archive.partition(".")  # arXiv writes "math.GT/0309136": class in capitals
    return subject.lower() + ("." + cls.upper() if cls else "") + "/" + num, m.group(4)


def arxiv_ids_in(text: str) -> list[tuple[str, str | None]]:
    """Every arXiv id mentioned anywhere in a text, in order, without repeats."""
    seen: dict[str, tuple[str, str | None]] = {}
    for m in _ARXIV_ANY.finditer(text):
        base, ver = _id_parts(m)
        seen.setdefault(base + (ver or ""), (base, ver))
    return list(seen.values())


def arxiv_aliases(base: str, version: str | None = None) -> list[str]:
    """The namespaced ids one arXiv paper is known by: id, id with version, arXiv DOI."""
    out = [f"arxiv:{base}"]
    if version:
        out.append(f"arxiv:{base}{version}")
    out.append(f"doi:10.48550/arxiv.{base.lower()}")
    return out


def normalize_doi(text: str) -> str | None:
    """`https://doi.org/10.1000/XYZ` or `doi:10.1000/xyz` -> `10.1000/xyz` (DOIs are case-insensitive)."""
    m = _DOI.search(text.strip())
    if not m:
        return None
    return m.group(1).rstrip(".,;)").lower()


def ids_from_text(text: str) -> list[str]:
    """Namespaced ids for any id-like string: arXiv forms, DOIs, `s2:`/`corpus:` ids."""
    parsed = parse_arxiv_id(text)
    if parsed:
        return arxiv_aliases(*parsed)
    for pattern, namespace in _ID_URLS:
        if m := pattern.search(text):
            return [f"{namespace}:{m.group(1).lower() if namespace == 's2' else int(m.group(1))}"]
    doi = normalize_doi(text)
    if doi:
        arx = parse_arxiv_id(doi)
        return arxiv_aliases(*arx) if arx else [f"doi:{doi}"]
    s = text.strip()
    if re.fullmatch(r"(?:s2:)?[0-9a-f]{40}", s):
        return [f"s2:{s.removeprefix('s2:')}"]
    m = _PMID.fullmatch(s)
    if m:
        return [f"pmid:{int(m.group(1))}"]
    m = re.fullmatch(r"(?i)corpus(?:id)?\s*:\s*(\d+)", s)
    return [f"corpus:{int(m.group(1))}"] if m else []


# the pages of PubMed and Semantic Scholar name their paper's id
_ID_URLS = (
    (
        re.compile(
            r"(?i)^\s*https?://(?:pubmed\.ncbi\.nlm\.nih\.gov|www\.ncbi\.nlm\.nih\.gov/pubmed)/(\d{1,9})/?\s*$"
        ),
        "pmid",
    ),
    (
        re.compile(
            r"(?i)^\s*https?://(?:www\.|api\.)?semanticscholar\.org/(?:graph/v1/)?paper/(?:[^/\s]+/)?([0-9a-f]{40})/?\s*$"
        ),
        "s2",
    ),
    (re.compile(r"(?i)^\s*https?://api\.semanticscholar\.org/CorpusID:(\d+)\s*$"), "corpus"),
)


def id_url(namespaced: str) -> str | None:
    """The page URL that `ids_from_text` reads back as this id (pmid:, s2: and corpus: ids)."""
    ns, _, value = namespaced.partition(":")
    pages = {
        "pmid": "https://pubmed.ncbi.nlm.nih.gov/{}/",
        "s2": "https://www.semanticscholar.org/paper/{}",
        "corpus": "https://api.semanticscholar.org/CorpusID:{}",
    }
    return pages[ns].format(value) if ns in pages else None


_PMID = re.compile(r"(?i)(?:pmid|pubmed)\s*:?\s*(\d{1,9})")
_CATEGORY = re.compile(
    r"^(?:cs|math|stat|q-bio|q-fin|physics|astro-ph|cond-mat|nlin|eess|econ)\.[A-Za-z][A-Za-z-]*$"
    r"|^(?:hep-th|hep-ph|hep-ex|hep-lat|gr-qc|quant-ph|nucl-th|nucl-ex|math-ph|astro-ph|cond-mat)$"
)


_ARXIV_NOTE = re.compile(r"(?i)^\s*arxiv:\s*\S+(?:\s*\[[\w.-]+\])?\s*$")


def comment_from_note(note: str | None) -> str | None:
    """A bibliography note as a paper's comment ("Comment: " prefix dropped, LaTeX resolved), or
    None when the note only repeats the arXiv id (Zotero writes `arXiv:2403.03507 [cs]` there)."""
    if not note or not note.strip() or _ARXIV_NOTE.match(note):
        return None
    return clean_text(re.sub(r"(?i)^\s*comment:\s*", "", note))


def is_category(text: str) -> bool:
    """True for an arXiv category (cs.CL, hep-th, q-bio.NC): the only keywords kept as categories."""
    return bool(_CATEGORY.match(text.strip()))


# ---------------------------------------------------------------- code links

_CODE_URL = re.compile(
    r"https?://(?:www\.)?(?:github\.com|gitlab\.com|bitbucket\.org|huggingface\.co|codeberg\.org)/[^\s)\]}>,;\"']+",
    re.I,
)


def code_links_in(text: str | None) -> list[str]:
    """Repository URLs mentioned in a text (trailing punctuation removed), in order."""
    if not text:
        return []
    out: list[str] = []
    for m in _CODE_URL.finditer(text):
        url = m.group(0).rstrip(".")
        if url.count("/") >= 4 and url not in out:
            out.append(url)
    return out


# ---------------------------------------------------------------- dates

_MONTHS = {
    m: i + 1
    for i, names in enumerate(
        [
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ]
    )
    for m in names
}
_MON = r"([A-Za-z]{3,9})\.?"
_DATE_FORMS = [
    (re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ].*)?$"), ("y", "m", "d")),
    (re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})$"), ("y", "m", "d")),
    (re.compile(r"^(\d{4})-(\d{1,2})$"), ("y", "m")),
    (re.compile(r"^(\d{4})$"), ("y",)),
    (re.compile(r"^" + _MON + r"\s+(\d{1,2}),?\s+(\d{4})$"), ("mon", "d", "y")),
    (re.compile(r"^(\d{1,2})\s+" + _MON + r",?\s+(\d{4})$"), ("d", "mon", "y")),
    (re.compile(r"^(?:[A-Za-z]{3},\s+)?(\d{1,2})\s+" + _MON + r"\s+(\d{4})\s+\d.*$"), ("d", "mon", "y")),
    (re.compile(r"^" + _MON + r"\s+(\d{4})$"), ("mon", "y")),
    (re.compile(r"^" + _MON + r"\s+(\d{1,2})$"), ("mon", "d")),
    (re.compile(r"^(\d{1,2})\s+" + _MON + r"$"), ("d", "mon")),
]


def parse_date(text: str | None) -> PartialDate | None:
    """Parse the date forms sources use. A year-less "Apr 7" keeps month and day only; a year
    before 1000 is refused.

    Returns None for anything that is not a date (never raises on bad input).
    """
    if not text:
        return None
    s = collapse_whitespace(str(text))
    for pattern, parts in _DATE_FORMS:
        m = pattern.match(s)
        if not m:
            continue
        got: dict[str, int | None] = {"y": None, "m": None, "d": None}
        for part, value in zip(parts, m.groups(), strict=True):
            if part == "mon":
                month = _MONTHS.get(value.lower())
                if month is None:
                    break
                got["m"] = month
            else:
                got[part] = int(value)
        else:
            try:
                date = PartialDate(got["y"], got["m"], got["d"])
                if date.year is not None and date.year < 1000:
                    return None  # "0004-03": a typo or a test value, not the date of a paper
                if date.complete:
                    datetime(date.year, date.month, date.day)  # type: ignore[arg-type]
                return date
            except ValueError:
                return None
    return None


def valid_iso_date(text: str) -> bool:
    """True for a real calendar date written `2024`, `2024-10` or `2024-10-13` (`2024-13` and
    `2024-02-30` are not)."""
    return bool(re.fullmatch(r"\d{4}(?:-\d{2}(?:-\d{2})?)?", text)) and parse_date(text) is not None


_EDTF_SEASON = re.compile(r"^(\d{4})-(?:2[1-9]|3\d|4[01])$")  # 2019-21: spring 2019


def parse_edtf(text: str | None) -> PartialDate | None:
    """A BibLaTeX/EDTF date: `2019-03-01`, `2019-03-01/2019-03-05` (a range: its start),
    `2019?` or `2019~` (uncertain, approximate), `2019-21` (a season: the year), `2019-XX`
    (unspecified parts dropped), `--04-07` (no year). None when nothing of a date is known."""
    if not text:
        return None
    start, _, end = text.strip().partition("/")
    start = start if start.strip(". ") else end  # an open start ("../2019") falls back to the end
    s = re.sub(r"[?~%]", "", start).strip()
    if m := _EDTF_SEASON.match(s):
        return PartialDate(int(m.group(1)))
    if "X" in s.upper():
        kept = []
        for part in s.split("-"):
            if "X" in part.upper():
                break
            kept.append(part)
        s = "-".join(kept)
    if s.startswith("--"):
        try:
            return PartialDate.from_iso(s)
        except ValueError:
            return None
    return parse_date(s)


# ---------------------------------------------------------------- names and titles

# The one home of name particles and suffixes (BibTeX/RIS/CSL export, glued-line importers use these)
PARTICLES = {  # lowercase name particles: van, von, de...
    "van",
    "von",
    "der",
    "den",
    "de",
    "del",
    "della",
    "di",
    "da",
    "la",
    "le",
    "du",
    "dos",
    "das",
    "ter",
}


_SUFFIX = re.compile(r"(?i)^(?:jr\.?|sr\.?|ii|iii|iv)$")


def is_name_suffix(token: str) -> bool:
    """A generational suffix that follows a family name: Jr., Jr, Sr., Sr, II, III, IV (any case)."""
    return bool(_SUFFIX.match(token))


_INITIALS = re.compile(r"^(?:[A-Z]\.?-?){1,3}$")  # MA, M.A., M.-A. (Medline, Embase, Scopus)
_ROMAN = re.compile(r"^[IVX]+$")


def normalize_author(name: str) -> str:
    """The one display form of a person's name, whatever the source wrote:

    "Zhao, Jiawei" -> "Jiawei Zhao"; BibTeX's "King, Jr., Martin" and RIS's "King, Martin, Jr."
    -> "Martin King Jr."; Medline's "Eloubeidi M.A." or "Eloubeidi MA" -> "M. A. Eloubeidi";
    LaTeX accents resolved; whitespace collapsed. Initials are otherwise kept as given.
    """
    if "," not in name and not _LATEX_HINT.search(name) and name.isascii() and not _medline(name.split()):
        return " ".join(name.split()).strip(" ;")  # the common case, fast
    name = clean_text(name) or ""
    parts = [p.strip() for p in name.strip(" ,;").split(",")]
    if len(parts) == 2 and all(parts) and _SUFFIX.match(parts[1]):  # "Henry E. Kyburg, Jr."
        name = f"{parts[0]} {parts[1]}"
    elif len(parts) == 2 and all(parts):
        name = f"{parts[1]} {parts[0]}"
    elif len(parts) == 3 and all(parts) and _SUFFIX.match(parts[1]):  # BibTeX: von Last, Jr, First
        name = f"{parts[2]} {parts[0]} {parts[1]}"
    elif len(parts) == 3 and all(parts) and _SUFFIX.match(parts[2]):  # RIS: Last, First, Suffix
        name = f"{parts[1]} {parts[0]} {parts[2]}"
    tokens = name.split()
    if _medline(tokens):
        initials = " ".join(f"{c}." for c in tokens[-1] if c.isalpha())
        tokens = [initials, *tokens[:-1]]
    return collapse_whitespace(" ".join(tokens).strip(" ,;"))


def _medline(tokens: list[str]) -> bool:
    """A "Lastname Initials" name without a comma: "Eloubeidi M.A.", "Smith JA"."""
    if len(tokens) < 2 or "," in tokens[0]:
        return False
    last, first = tokens[-1], tokens[0]
    return (
        bool(_INITIALS.match(last))
        and not (len(last) > 1 and _ROMAN.match(last.replace(".", "")))
        and not _INITIALS.match(first)
        and any(c.islower() for c in first)
    )


_NAME_PART = re.compile(r"[A-Za-z][A-Za-z'-]*")


def _ascii_fold(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


@lru_cache(maxsize=200_000)
def author_key(name: str) -> str:
    """A matching key: folded last name + first initial ("Jiawei Zhao", "J. Zhao" -> "zhao j")."""
    if "," in name or "\\" in name:
        name = normalize_author(name)
    parts = _NAME_PART.findall(name if name.isascii() else _ascii_fold(name))
    if not parts:
        return ""
    last = parts[-1].lower()
    first = parts[0][0].lower() if len(parts) > 1 else ""
    return f"{last} {first}".strip()


def title_key(title: str | None) -> str:
    """The matching key of a title: lowercase letters and digits only, LaTeX resolved.

    Glued ("Recipefor") and spaced ("Recipe for") copies of a title get the same key.
    """
    if not title:
        return ""
    if _LATEX_HINT.search(title):
        title = clean_text(title) or ""
    if not title.isascii():
        title = _ascii_fold(title)
    return _NOT_ALNUM.sub("", title.lower())


_NOT_ALNUM = re.compile(r"[^a-z0-9]+")
