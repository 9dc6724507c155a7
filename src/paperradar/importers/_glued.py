"""Split a title glued to its author list ("...Inference TimeZichang Liu, Jue Wang et al."). No I/O.

Pasted profile pages lose the line break between a paper's title and its authors. The boundary
is one of the places where a non-space character is directly followed by a capital letter. Every
such place is tried: the text after it must read as a comma-separated list of person names, the
text before it must read as a complete title, and the candidates left are scored (a first author
seen elsewhere on the page, a title ending in a real word, plain name shapes). Nothing plausible
gives None, never a guess.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass

from ..normalize import PARTICLES, is_known_word, is_name_suffix

_ET_AL = re.compile(r"\s*,?\s+et\s+al\.?\s*$")
_NAME_SEP = re.compile(r"\s*,\s*(?:and\s+)?|\s+and\s+|\s*&\s*")
_NOT_IN_NAMES = re.compile(r"[:;()\[\]{}$?!/\\|\"“”_=+*<>@#%^~0-9]")
_DANGLING = {
    "a", "an", "the", "of", "for", "and", "or", "with", "in", "on", "to", "via", "from", "by", "at", "as",
    "is", "are", "vs", "versus", "into", "over", "under", "without", "towards", "toward", "through", "using",
    "its", "their", "our", "than", "that", "which",
}  # fmt: skip
_TITLE_BAD_END = ("-", ",", ":", ";", "(", "[", "/", "&", "+", "–", "—")
_INITIAL = re.compile(r"[^\W\d_]\.(?:-?[^\W\d_]\.)*")


@dataclass
class TitleAuthors:
    """One reading of a glued line: the title, the authors in order, and whether the list goes on."""

    title: str
    authors: list[str]
    et_al: bool
    score: float


def strip_et_al(text: str) -> tuple[str, bool]:
    """("A, B et al.") -> ("A, B", True)."""
    m = _ET_AL.search(text)
    return (text[: m.start()], True) if m else (text.strip(), False)


def parse_names(text: str) -> list[str] | None:
    """A comma-separated list of person names, or None when any piece is not a plausible name."""
    if not text.strip() or _NOT_IN_NAMES.search(text):
        return None
    names = [p.strip() for p in _NAME_SEP.split(text.strip())]
    if not names or not all(names):
        return None
    return names if all(is_person_name(n) for n in names) else None


def is_person_name(name: str) -> bool:
    """2 to 5 tokens, each a capitalised name part, an initial or a particle ("Simon S. Du", "DiJia Su")."""
    tokens = name.split()
    if not 2 <= len(tokens) <= 5:
        return False
    if is_name_suffix(tokens[-1]):
        tokens = tokens[:-1]
    first, last = tokens[0], tokens[-1]
    if first.lower() in PARTICLES or len(last) < 2 or not _name_part_ok(last):
        return False
    if not ((len(first) >= 2 and _name_part_ok(first)) or _INITIAL.fullmatch(first)):
        return False
    return all(_middle_token_ok(t) for t in tokens[1:-1])


def _middle_token_ok(token: str) -> bool:
    if token.lower() in PARTICLES or _INITIAL.fullmatch(token):
        return True
    if len(token) == 1 and token.isupper():  # "Simon S Du"
        return True
    return _name_part_ok(token)


def _name_part_ok(token: str) -> bool:
    """ "Liu", "DiJia", "Jean-Pierre", "O'Brien", "Müller"; not "LLMs", "2.8M", "of"."""
    parts = re.split(r"[-'’]", token)
    if not parts or not parts[0]:
        return False
    for i, part in enumerate(parts):
        if not part.isalpha():
            return False
        if i == 0 and not part[0].isupper():
            return False
        if not _one_camel_hump(part):
            return False
    return True


def _one_camel_hump(part: str) -> bool:
    """At most one inner capital, between lowercase letters ("DiJia", "McDonald"); single letters pass."""
    if len(part) == 1:
        return True
    inner = [i for i, ch in enumerate(part[1:], 1) if ch.isupper()]
    if not any(ch.islower() for ch in part):
        return False
    if len(inner) > 1:
        return False
    if inner:
        i = inner[0]
        return part[i - 1].islower() and i + 1 < len(part) and part[i + 1].islower()
    return True


def confident_names(lines: Iterable[str]) -> set[str]:
    """Authors that are certainly names: every author after the first on each glued line.

    The first author is glued to the title, but those after a comma stand alone. Authors recur
    across a profile page, so these names help place the boundary on other lines.
    """
    known: set[str] = set()
    for line in lines:
        body, _ = strip_et_al(line)
        pieces = [p.strip() for p in body.split(",")]
        chain: list[str] = []
        for piece in reversed(pieces):
            if not is_person_name(piece) or _NOT_IN_NAMES.search(piece):
                break
            chain.append(piece)
        if chain and _glue_points(chain[-1]):
            chain.pop()  # the earliest piece may hold the end of the title
        known.update(chain)
    return known


def _glue_points(text: str) -> list[int]:
    """Where a title could end and a name begin: a capital right after a non-space character."""
    return [i for i in range(1, len(text)) if text[i].isupper() and not text[i - 1].isspace()]


def split_title_authors(text: str, known: Collection[str] = ()) -> TitleAuthors | None:
    """Find where the title ends and the author list begins; None when no split is plausible."""
    body, et_al = strip_et_al(text)
    best: TitleAuthors | None = None
    for i in _glue_points(body):
        title = body[:i].strip()
        if not _title_ok(title):
            continue
        names = parse_names(body[i:])
        if names is None:
            continue
        score = _title_end_score(title) + _first_author_score(names[0], known)
        if best is None or score > best.score:
            best = TitleAuthors(title, names, et_al, score)
    return best


def _title_ok(title: str) -> bool:
    if len(title) < 2 or not any(ch.isalpha() for ch in title) or title.endswith(_TITLE_BAD_END):
        return False
    last = title.split()[-1]
    return last.lower() not in _DANGLING


def _title_end_score(title: str) -> float:
    last = title.split()[-1].strip(".,;:!?)]}'\"’”")
    word = last.split("-")[-1]
    if len(word) >= 3 and word.isalpha() and word[1:].islower() and is_known_word(word):
        return 2.0  # "Questions", "Time", "Confidence"
    if re.fullmatch(r"[A-Z0-9][A-Z0-9.]*[A-Z0-9]s?", word):
        return 1.5  # an acronym: "LLM", "LLMs", "RLHF"
    if any(ch.isdigit() for ch in word):
        return 1.0
    if re.search(r"[a-z][A-Z]", word):
        return 0.0  # camel case: a product name, or a glue artefact ("TracesDi")
    return 0.5


def _first_author_score(name: str, known: Collection[str]) -> float:
    score = 5.0 if name in known else 0.0
    tokens = name.split()
    if re.search(r"[a-z][A-Z]", tokens[0]):
        score -= 1.0  # "DiJia" is a real name shape, but rarer than a glued title word
    score -= {2: 0.0, 3: 0.5}.get(len(tokens), 1.5)
    return score
