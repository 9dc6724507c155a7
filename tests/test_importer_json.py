"""CSL-JSON, JSON paper arrays and API responses (Semantic Scholar), Web of Science plain text:
real files from tests/data/realworld/dev, read through auto-detection and the real parsers."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import names, split
from paperradar import importers
from paperradar.importers.base import Source
from paperradar.models import PartialDate

DEV = Path(__file__).parent / "data" / "realworld" / "dev"


def parsed(name: str) -> tuple[str, list, list]:
    source = Source.from_file(DEV / name)
    module = importers.detect(source)
    recs, errors = split(module.parse(source))
    return module.NAME, recs, errors


def test_semantic_scholar_search_response():
    fmt, recs, errors = parsed(
        "s2__search_paper.json"
    )  # {"total": 70499, "offset": 0, "next": 100, "data": [...]}
    assert fmt == "json_papers" and errors == [] and len(recs) == 100
    first = recs[0]
    assert first.ids == ["s2:7cbc2a7843411a1768ab762930707af0a3c33a19"] and first.source.line == 6
    assert first.title.startswith("Using DeepSpeed and Megatron to Train Megatron-Turing NLG 530B")


def test_semantic_scholar_batch_array():
    fmt, recs, errors = parsed("s2__paper_batch.json")
    assert fmt == "json_papers" and errors == [] and len(recs) == 3
    assert names(recs[0]) == ["Marianne Bertrand", "E. Duflo", "S. Mullainathan"]


def test_csl_json_from_better_bibtex():
    fmt, recs, errors = parsed("bbt__Deterministic_ordering_for_CSL_1178_1400.csl.json")
    assert fmt == "csljson" and errors == []
    brittain = next(r for r in recs if r.extra.get("citekey") == "brittain2004")
    assert names(brittain) == ["Ian Brittain"] and brittain.venue == "Journal of Sport and Social Issues"
    assert brittain.dates["published"] == PartialDate(2004) and brittain.extra["page"] == "429–452"


def test_web_of_science_plain_text():
    fmt, recs, errors = parsed("jabref__IsiImporterTestWOS.isi")
    assert fmt == "wos" and errors == []
    first = recs[0]
    assert first.title == "Optical and photoelectric spectroscopy of photorefractive Sn2P2S6 crystals"
    assert names(first)[:2] == ["RV Gamernyk", "YP Gnatenko"]  # initials kept as given
    assert first.venue == "JOURNAL OF PHYSICS-CONDENSED MATTER"
    assert first.dates["published"] == PartialDate(2006, 6, 14) and first.extra["ut"] == "ISI:000238592600006"


def test_a_top_level_array_of_plain_paper_objects():
    text = json.dumps(
        [{"title": "One", "doi": "10.1000/one", "year": 1999.0}, {"title": "Two", "pmid": "123"}], indent=1
    )
    fmt = importers.detect(Source.from_text(text, "papers.json")).NAME
    recs, errors = split(importers.load(fmt).parse(Source.from_text(text, "papers.json")))
    assert fmt == "json_papers" and errors == []
    assert recs[0].ids == ["doi:10.1000/one"] and recs[0].dates["published"] == PartialDate(1999)
    assert recs[1].ids == ["pmid:123"] and recs[1].source.line == 7


def test_a_csv_year_written_as_a_float():
    text = "title,year\nA paper,1999.0\n"
    [rec] = split(importers.load("tabular_csv").parse(Source.from_text(text, "x.csv")))[0]
    assert rec.dates["published"] == PartialDate(1999)
