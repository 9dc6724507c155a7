"""BibTeX export of library papers, plus the name splitting and citation keys the other
exporters share. Pure, no I/O: `to_bibtex(papers)` returns the text.

Entries are `@article` when the paper has a journal venue, `@inproceedings` for a conference
venue ("Proceedings of...", "...Conference..."), else `@misc`; arXiv papers carry `eprint`,
`archivePrefix = {arXiv}` and `primaryClass`. Citation keys are `lastnameYEARfirstword`
(ASCII, lowercase), repeated keys get `a`, `b`, ... in order. Text is escaped for BibTeX
(`& % # _ { } $ ~ ^ \\`), titles are case-protected with an extra pair of braces, and a date
without a year exports no year (one is never guessed).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from ..models import Paper, PartialDate, shown_date
from ..normalize import PARTICLES, is_name_suffix
from ..stopwords import CITEKEY_SKIP

_PROCEEDINGS = re.compile(r"(?i)\b(?:proceedings|conference|workshop|symposium)\b|^advances in neural")
_WORD = re.compile(r"(?<![\\\w])[^\W_]+")
_ID_FIELDS = {"pmid": "pmid", "s2": "s2id", "corpus": "corpusid"}  # read back by importers.bibtex
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_ESCAPES = str.maketrans(
    {
        "\\": r"\textbackslash{}",
        "&": r"\&",
        "%": r"\%",
        "#": r"\#",
        "_": r"\_",
        "{": r"\{",
        "}": r"\}",
        "$": r"\$",
        "~": r"\textasciitilde{}",
        "^": r"\textasciicircum{}",
    }
)


# ---------------------------------------------------------------- shared with ris / csljson


def split_name(name: str) -> tuple[str, str, str]:
    """A display name -> (given, family, suffix): "Ludwig van Beethoven" -> ("Ludwig",
    "van Beethoven", ""); "Martin Luther King Jr." -> ("Martin Luther", "King", "Jr.").
    A one-word name (an organisation, a mononym) is all family."""
    tokens = name.split()
    suffix = ""
    if len(tokens) > 2 and is_name_suffix(tokens[-1]):
        suffix, tokens = tokens[-1], tokens[:-1]
    if len(tokens) < 2:
        return "", " ".join(tokens), suffix
    start = next((i for i in range(1, len(tokens) - 1) if tokens[i] in PARTICLES), len(tokens) - 1)
    return " ".join(tokens[:start]), " ".join(tokens[start:]), suffix


def citekeys(papers: list[Paper]) -> list[str]:
    """One stable key per paper, `lastnameYEARfirstword`; repeats get a, b, c... suffixes."""
    out: list[str] = []
    used: set[str] = set()
    for paper in papers:
        base = _base_key(paper)
        key, n = base, 0
        while key in used:
            n += 1
            key = base + _letters(n)
        used.add(key)
        out.append(key)
    return out


def _base_key(paper: Paper) -> str:
    last = _ascii_word(split_name(paper.authors[0].name)[1]) if paper.authors else ""
    year = str(paper.year) if paper.year else ""
    words = [_ascii_word(w) for w in (paper.title or "").split()]
    first = next((w for w in words if w and w not in CITEKEY_SKIP), "")
    key = f"{last}{year}{first}"
    if not last and not first:
        key = _ascii_word(paper.id) or "paper"
    return key


def _ascii_word(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]", "", folded.lower())


def _letters(n: int) -> str:
    """1 -> a, 26 -> z, 27 -> aa (bijective base 26)."""
    out = ""
    while n:
        n, r = divmod(n - 1, 26)
        out = chr(ord("a") + r) + out
    return out


def main_date(paper: Paper) -> PartialDate | None:
    """The date a citation shows: the paper's date everywhere (`models.shown_date`)."""
    return shown_date(paper.dates, paper.ids)


def main_doi(paper: Paper) -> str | None:
    """The publisher DOI if there is one, else the arXiv DOI (in arXiv's spelling)."""
    dois = [i.removeprefix("doi:") for i in paper.ids if i.startswith("doi:")]
    other = [d for d in dois if not d.startswith("10.48550/arxiv.")]
    if other:
        return other[0]
    if dois:
        return "10.48550/arXiv." + dois[0].removeprefix("10.48550/arxiv.")
    return None


def arxiv_eprint(paper: Paper) -> str | None:
    """The arXiv id as an export writes it: with the latest version the library knows (2403.03507v2)."""
    base = paper.arxiv_id
    if not base:
        return None
    versions = [
        int(i.rsplit("v", 1)[1]) for i in paper.ids if re.fullmatch(rf"arxiv:{re.escape(base)}v\d+", i)
    ]
    return f"{base}v{max(versions)}" if versions else base


def other_ids(paper: Paper) -> list[str]:
    """The ids exports carry beside arXiv and DOI: PubMed, Semantic Scholar paper and corpus ids."""
    return [i for i in paper.ids if i.split(":", 1)[0] in ("pmid", "s2", "corpus")]


def date_text(date: PartialDate) -> str:
    """A date as BibLaTeX/EDTF writes it: `2024-03-07`, `2024-03`, `2024`; `--04-07` without a year."""
    return date.iso()


def main_url(paper: Paper) -> str | None:
    for kind in ("abs", "url"):
        if paper.links.get(kind):
            return paper.links[kind][0]
    if paper.arxiv_id:
        return f"https://arxiv.org/abs/{paper.arxiv_id}"
    doi = main_doi(paper)
    return f"https://doi.org/{doi}" if doi else None


def venue_kind(paper: Paper) -> tuple[str | None, str | None]:
    """(venue, "proceedings" | "journal"), or (None, None) for a preprint (an "arXiv" venue is none)."""
    venue = paper.venue
    if not venue or re.match(r"(?i)\s*(?:arxiv|corr)\b", venue):
        return None, None
    return venue, "proceedings" if _PROCEEDINGS.search(venue) else "journal"


def one_line(text: str | None) -> str:
    return re.sub(r"\s+", " ", text or "").strip()


# ---------------------------------------------------------------- BibTeX


def escape(text: str) -> str:
    """Plain text -> BibTeX text: special characters escaped, whitespace collapsed."""
    return one_line(text).translate(_ESCAPES)


def protect_case(text: str) -> str:
    """Brace every word holding a capital ({GaLore}, {BERT}), as Zotero does, so styles keep its case.
    (Per word, not the whole title: a brace pair around text with `$` or `\\` survives importing.)"""
    return _WORD.sub(lambda m: f"{{{m.group(0)}}}" if _has_capital(m.group(0)) else m.group(0), text)


def _has_capital(word: str) -> bool:
    return any(c.isupper() for c in word)


def bibtex_name(name: str) -> str:
    given, family, suffix = split_name(one_line(name))
    if not given or " and " in name.lower() or "," in name:
        return "{" + escape(name) + "}"  # an organisation or a mononym: keep as one unit
    parts = [escape(family)] + ([escape(suffix)] if suffix else []) + [escape(given)]
    return ", ".join(parts)


def to_bibtex(papers: Iterable[Paper]) -> str:
    """BibTeX entries for `papers`, separated by blank lines."""
    papers = list(papers)
    return "\n".join(_entry(p, key) for p, key in zip(papers, citekeys(papers), strict=True))


def _entry(paper: Paper, key: str) -> str:
    venue, venue_type = venue_kind(paper)
    fields: list[tuple[str, str]] = []
    if paper.title:
        fields.append(("title", protect_case(escape(paper.title))))
    if paper.authors:
        names = [bibtex_name(a.name) for a in paper.authors]
        fields.append(("author", " and ".join(names + ([] if paper.authors_complete else ["others"]))))
    date = main_date(paper)
    if date and date.year:
        fields.append(("year", str(date.year)))
        if date.month:
            fields.append(("month", _MONTHS[date.month - 1]))
    if date and (date.day or not date.year):  # the day, or a date without a year: BibLaTeX's date
        fields.append(("date", date_text(date)))
    kind = {"proceedings": "inproceedings", "journal": "article"}.get(venue_type or "", "misc")
    if venue:
        fields.append(("booktitle" if kind == "inproceedings" else "journal", escape(venue)))
    eprint = arxiv_eprint(paper)
    if eprint:
        fields += [("eprint", eprint), ("archivePrefix", "arXiv")]
        if paper.categories:
            fields.append(("primaryClass", paper.categories[0]))
    if paper.categories:
        fields.append(("keywords", escape(", ".join(paper.categories))))
    fields += [(k, _verbatim(v)) for k, v in (("doi", main_doi(paper)), ("url", main_url(paper))) if v]
    for ns, name in _ID_FIELDS.items():  # several ids of one kind: one field, separated by spaces
        values = [i.split(":", 1)[1] for i in other_ids(paper) if i.startswith(ns + ":")]
        if values:
            fields.append((name, " ".join(values)))
    if paper.abstract:
        fields.append(("abstract", escape(paper.abstract)))
    if paper.comment:
        fields.append(("note", escape(paper.comment)))
    body = ",\n".join(f"  {k} = {v if k == 'month' else '{' + v + '}'}" for k, v in fields)
    return f"@{kind}{{{key},\n{body}\n}}\n"


def _verbatim(value: str) -> str:
    """URLs and DOIs are kept as they are; only braces would break the entry."""
    return value.replace("{", "%7B").replace("}", "%7D")
