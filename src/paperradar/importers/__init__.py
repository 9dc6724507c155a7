"""The importer registry: every format paperradar reads, and auto-detection. No I/O here.

Each module listed in `IMPORTERS` follows the contract in `base.py`.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from ..errors import InvalidInput
from .base import Source

# Module names under paperradar.importers. Detection picks the highest score; a tie goes to the earlier one.
IMPORTERS: tuple[str, ...] = (
    "page_arxiv_listing",
    "page_dataset_viewer",
    "page_hf_papers",
    "page_profile_feed",
    "page_abstract_list",
    "arxiv_atom",
    "arxiv_oai",
    "arxiv_snapshot",
    "hf_daily",
    "tabular_csv",
    "tabular_jsonl",
    "tabular_parquet",
    "bibtex",
    "ris",
    "csljson",
    "openalex",
    "json_papers",
    "wos",
    "zotero_json",
)

# The endings of the file names `import` reads, for file pickers (the web's upload fields, as their
# `accept`): a hint only, since the importer is chosen by the content (`detect`) and gzip or xz by
# their magic bytes. An importer whose files end otherwise adds its endings here.
FILE_EXTENSIONS: tuple[str, ...] = (
    ".txt",  # pasted pages saved as text, Web of Science plain text
    ".bib", ".bibtex", ".biblatex", ".ris", ".isi",  # BibTeX and BibLaTeX, RIS, Web of Science (ISI)
    ".json", ".jsonl", ".ndjson",  # CSL-JSON, OpenAlex, Zotero, HF daily, arXiv snapshot, JSON lists
    ".csv", ".tsv", ".parquet",  # tabular files
    ".xml", ".atom",  # arXiv API and OAI-PMH responses
    ".gz", ".xz",  # any of these compressed
)  # fmt: skip


def load(name: str) -> ModuleType:
    if name not in IMPORTERS:
        raise InvalidInput(f"unknown format {name!r}; choose from: auto, {', '.join(sorted(IMPORTERS))}")
    return importlib.import_module(f"{__name__}.{name}")


def available() -> list[ModuleType]:
    out = []
    for name in IMPORTERS:
        try:
            out.append(importlib.import_module(f"{__name__}.{name}"))
        except ModuleNotFoundError as e:
            if e.name != f"{__name__}.{name}":
                raise
    return out


def detect(source: Source) -> ModuleType:
    """The importer most sure it can read `source`, or InvalidInput naming the file."""
    head_bytes = source.head()
    if b"\x00" in head_bytes[:8192] and not head_bytes.startswith(b"PAR1"):
        raise InvalidInput(f"{source.path}: binary file, not a format paperradar reads")
    head = head_bytes.decode("utf-8", errors="replace")
    scored = [(mod.detect(head, source.path), mod) for mod in available()]
    scored = [(s, m) for s, m in scored if s > 0]
    if not scored:
        raise InvalidInput(
            f"{source.path}: could not recognise the format; pass --format (see docs/formats.md)"
        )
    scored.sort(key=lambda sm: -sm[0])
    return scored[0][1]


def parse_column_map(text: str) -> dict[str, str]:
    """A `--map` option (`title=paper_title,abstract=summary`) as the tabular importers' column map;
    InvalidInput when it is malformed."""
    from ._columns import parse_map_option

    return parse_map_option(text)
