"""The real-world corpus audit: import a folder of real bibliography files into a fresh library and
measure what a user would see wrong. Used by tests/test_real_world.py and by
`python tests/realworld.py tests/data/realworld/dev` (prints the numbers). Does I/O (a library file).

Measures, over the papers of the library:
- residue: LaTeX/BibTeX markup left in a title, an author name or a venue (`{`, `}`, `\\macro`, `$`,
  `~`, `--`, ` # `, HTML entities);
- unsplit: an author "name" that is really a list (" and ", ";", two commas);
- bad_ids: an id whose value does not have its namespace's shape (a DOI ending in `}` or `.`);
- doi_conflicts: papers made of records whose titles clearly disagree (a false merge);
- round trips: each paper exported (BibTeX, RIS, CSL-JSON, JSONL) and imported into an empty library,
  every field the format carries compared.
"""

from __future__ import annotations

import re
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

from rapidfuzz import fuzz

RESIDUE = re.compile(r"\\[A-Za-z]+|\\.|[{}$]|~| # |(?<![-\w])--(?!-)|---|&(?:[A-Za-z]{2,8}|#\d+);")
UNSPLIT = re.compile(r"(?i)\s and \s|;|,.*,")
ID_SHAPES = {
    "arxiv": re.compile(r"^(?:\d{4}\.\d{4,5}|[a-z-]+(?:\.[A-Z]{2})?/\d{7})(?:v\d+)?$"),
    "doi": re.compile(r"^10\.\d{4,9}/[^\s{}\"<>\\]*[^\s{}\"<>\\.,;:]$"),
    "pmid": re.compile(r"^\d{1,9}$"),
    "pmcid": re.compile(r"^PMC\d+$"),
    "s2": re.compile(r"^[0-9a-f]{40}$"),
    "corpus": re.compile(r"^\d+$"),
    "paperradar": re.compile(r"^[0-9a-f]{12}$"),
    "isbn": re.compile(r"^\d{9}[\dX]$|^\d{13}$"),
    "zotero": re.compile(r"^[\w-]+/[A-Z0-9]{8}$"),
}
FORMATS = ("bibtex", "ris", "csljson", "jsonl")


def residue_in(paper: Any) -> list[str]:
    texts = [paper.title or "", paper.venue or ""] + [a.name for a in paper.authors]
    return [t for t in texts if RESIDUE.search(t)]


def bad_ids(paper: Any) -> list[str]:
    out = []
    for i in paper.ids:
        ns, _, value = i.partition(":")
        shape = ID_SHAPES.get(ns)
        if shape is None or not shape.match(value):
            out.append(i)
    return out


def title_conflict(paper: Any) -> bool:
    """Records of one paper whose titles clearly disagree (a merge a reader would call wrong)."""
    titles = [s.fields.get("title") for s in paper.sources if s.fields.get("title")]
    keys = {re.sub(r"[^a-z0-9]", "", t.lower()) for t in titles}
    keys = sorted(k for k in keys if k)
    return any(fuzz.ratio(a, b) < 60 for i, a in enumerate(keys) for b in keys[i + 1 :])


def audit(folder: Path, workdir: Path) -> dict[str, Any]:
    from paperradar.importers.base import Source
    from paperradar.ingest import expand_paths, import_source
    from paperradar.papers import list_papers, load_paper
    from paperradar.storage import open_library

    lib = open_library(workdir / "audit.db")
    files, rejected, failed = 0, 0, []
    for path in expand_paths([folder]):
        files += 1
        try:
            report = import_source(lib, Source.from_file(path))
        except Exception as e:  # noqa: BLE001 - a file that cannot be read at all is counted
            failed.append(f"{path.name}: {e}")
            continue
        rejected += len(report.rejected)
    pks = lib.list_pks(None)
    papers = [load_paper(lib, pk) for pk in pks]
    problems: dict[str, list[str]] = {"residue": [], "unsplit": [], "bad_ids": [], "conflicts": []}
    for p in papers:
        problems["residue"] += [f"{p.id}: {t}" for t in residue_in(p)]
        problems["unsplit"] += [f"{p.id}: {a.name}" for a in p.authors if UNSPLIT.search(a.name)]
        problems["bad_ids"] += [f"{p.id}: {i}" for i in bad_ids(p)]
        if title_conflict(p):
            problems["conflicts"].append(p.id)
    n = len(papers) or 1
    result: dict[str, Any] = {
        "files": files,
        "failed_files": failed,
        "rejected_records": rejected,
        "papers": len(papers),
        "records": sum(len(p.sources) for p in papers),
        "residue_papers": len({x.split(": ")[0] for x in problems["residue"]}),
        "unsplit_papers": len({x.split(": ")[0] for x in problems["unsplit"]}),
        "bad_id_papers": len({x.split(": ")[0] for x in problems["bad_ids"]}),
        "title_conflicts": len(problems["conflicts"]),
        "problems": problems,
    }
    result["clean_share"] = 1 - result["residue_papers"] / n
    result["round_trips"] = {fmt: round_trip(list_papers(lib, None), fmt, workdir) for fmt in FORMATS}
    lib.close()
    return result


# ---------------------------------------------------------------- round trips

CARRIED = {
    "bibtex": ("title", "authors", "venue", "date", "ids", "categories", "comment", "abstract"),
    "ris": ("title", "authors", "venue", "date", "ids", "categories", "comment", "abstract"),
    "csljson": ("title", "authors", "venue", "date", "ids", "categories", "comment", "abstract"),
    "jsonl": ("title", "authors", "venue", "date", "ids", "categories", "comment", "abstract", "links"),
}


def _view(paper: Any, field: str) -> Any:
    from paperradar.export.bibtex import main_date

    if field == "authors":
        return [a.name for a in paper.authors] + ([] if paper.authors_complete else ["et al."])
    if field == "date":
        d = main_date(paper)
        return d.iso() if d else None
    if field == "ids":
        return sorted(i for i in paper.ids if not i.startswith("paperradar:"))
    if field == "links":
        return {k: sorted(v) for k, v in paper.links.items()}
    return getattr(paper, field)


def round_trip(papers: list[Any], fmt: str, workdir: Path) -> dict[str, Any]:
    """Export `papers` in `fmt` as one file, read it back with the importer auto-detection picks, and
    compare each paper with the paper its record makes (what importing it into an empty library
    gives: one record's fields), field by field."""
    from paperradar import importers
    from paperradar.errors import ParseError
    from paperradar.importers.base import Source
    from paperradar.models import Paper
    from paperradar.papers import export_papers

    suffix = {"bibtex": ".bib", "ris": ".ris", "csljson": ".json", "jsonl": ".jsonl"}[fmt]
    source = Source.from_bytes(export_papers(papers, fmt).encode(), f"export{suffix}")
    module = importers.detect(source)
    got = list(module.parse(source))
    errors = [g for g in got if isinstance(g, ParseError)]
    records = [g for g in got if not isinstance(g, ParseError)]
    lost: Counter[str] = Counter()
    examples = [f"{module.NAME}: {e}" for e in errors[:10]]
    if len(records) != len(papers):
        return {"compared": 0, "lost": {"records": abs(len(papers) - len(records))}, "examples": examples}
    for paper, rec in zip(papers, records, strict=True):
        back = Paper(id="", ids=list(rec.ids), title=rec.title, abstract=rec.abstract, authors=rec.authors,
                     authors_complete=rec.authors_complete, categories=rec.categories, dates=rec.dates,
                     comment=rec.comment, links=rec.links, venue=rec.venue)  # fmt: skip
        for field in CARRIED[fmt]:
            want, have = _view(paper, field), _view(back, field)
            if want not in (None, "", [], {}) and have != want:
                lost[field] += 1
                if len(examples) < 30:
                    examples.append(f"{paper.id} {field}: {want!r} -> {have!r}")
    compared = len(papers) * len(CARRIED[fmt])
    return {"compared": compared, "lost": dict(lost), "examples": examples, "importer": module.NAME}


def main(argv: list[str]) -> None:
    import json

    with tempfile.TemporaryDirectory() as tmp:
        result = audit(Path(argv[0]), Path(tmp))
    show = "-v" in argv
    if not show:
        for key in result["problems"]:
            result["problems"][key] = result["problems"][key][:15]
    print(json.dumps(result, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main(sys.argv[1:])
