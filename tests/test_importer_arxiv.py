"""arXiv importers: API Atom pages (arxiv_atom) and JSON-lines metadata dumps (arxiv_snapshot)."""

from __future__ import annotations

import gzip
import json
import lzma
from itertools import islice
from pathlib import Path

import pytest

from conftest import need_shared
from paperradar.errors import ParseError
from paperradar.importers import arxiv_atom, arxiv_snapshot, detect
from paperradar.importers.base import Source
from paperradar.models import Author, PartialDate, Record

DATA = Path(__file__).parent / "data" / "arxiv"
SHARED = Path(__file__).resolve().parents[2] / "shared"
CORPUS = "corpora/arxiv-118k"


def shared(rel: str) -> Path:
    return need_shared(SHARED / rel)


def split(results) -> tuple[list[Record], list[ParseError]]:
    results = list(results)
    return [r for r in results if isinstance(r, Record)], [r for r in results if isinstance(r, ParseError)]


def atom(name: str) -> tuple[list[Record], list[ParseError]]:
    return split(arxiv_atom.parse(Source.from_file(DATA / name)))


# ---------------------------------------------------------------- Atom: records


def test_atom_page_gives_full_records():
    records, errors = atom("id_list_page1.xml")
    assert errors == []
    assert [r.title for r in records] == [
        "GaLore: Memory-Efficient LLM Training by Gradient Low-Rank Projection",
        "Q-GaLore: Quantized GaLore with INT4 Projection and Layer-Adaptive Low-Rank Gradients",
    ]
    galore = records[0]
    assert galore.ids == ["arxiv:2403.03507", "arxiv:2403.03507v4", "doi:10.48550/arxiv.2403.03507"]
    assert [a.name for a in galore.authors] == [
        "Jiawei Zhao", "Zhenyu Zhang", "Beidi Chen", "Zhangyang Wang", "Anima Anandkumar", "Yuandong Tian",
    ]  # fmt: skip
    assert galore.categories == ["cs.LG"]
    assert galore.dates == {"published": PartialDate(2024, 3, 6), "updated": PartialDate(2024, 6, 2)}
    assert galore.links["abs"] == ["http://arxiv.org/abs/2403.03507v4"]
    assert galore.links["pdf"] == ["http://arxiv.org/pdf/2403.03507v4"]
    assert galore.comment == "ICML 2024 (Oral)"
    assert galore.abstract.startswith(
        "Training Large Language Models (LLMs) presents significant memory challenges,"
    )
    assert galore.abstract.endswith("without model parallel, checkpointing, or offloading strategies.")


def test_atom_code_link_from_abstract():
    qgalore = atom("id_list_page1.xml")[0][1]
    assert qgalore.links["code"] == ["https://github.com/VITA-Group/Q-GaLore"]


def test_atom_record_keeps_entry_text_and_line():
    records, _ = atom("id_list_page1.xml")
    assert [r.source.line for r in records] == [10, 59]
    assert records[1].source.importer == "arxiv_atom"
    raw = records[1].raw
    assert raw.startswith("<entry>") and raw.endswith("</entry>")
    assert "<id>http://arxiv.org/abs/2407.08296v1</id>" in raw
    assert "2403.03507" not in raw  # only its own entry


def test_atom_primary_category_first_without_repeats():
    dualformer = atom("id_list_page2.xml")[0][0]
    assert dualformer.title == (
        "Dualformer: Controllable Fast and Slow Thinking by Learning with Randomized Reasoning Traces"
    )
    assert dualformer.categories == ["cs.AI", "cs.LG", "cs.LO"]


def test_atom_journal_doi_venue_and_affiliations():
    records, errors = atom("classic_search.xml")
    assert errors == []
    diphoton, sparsity, gyro, h1 = records
    assert "doi:10.1103/physrevd.76.013009" in diphoton.ids
    assert diphoton.venue == "Phys.Rev.D76:013009,2007"
    assert diphoton.authors[0] == Author("C. Balázs")
    assert diphoton.links["doi"] == ["http://dx.doi.org/10.1103/PhysRevD.76.013009"]
    assert gyro.authors[:2] == [Author("A. A. Schekochihin", ["Oxford"]), Author("S. C. Cowley", ["Culham"])]
    assert gyro.categories == ["astro-ph", "nlin.CD", "physics.plasm-ph", "physics.space-ph"]
    assert (
        gyro.comment == "aastex using emulateapj, 65 pages, 10 figures; replaced to match published version"
    )
    assert "(k,ℓ)-pebble game with colors" in sparsity.abstract
    assert h1.ids == ["arxiv:hep-ex/0307015", "arxiv:hep-ex/0307015v1", "doi:10.48550/arxiv.hep-ex/0307015"]
    assert h1.authors == [Author("H1 Collaboration")]
    assert h1.dates["published"] == PartialDate(2003, 7, 7)


def test_atom_error_feed_is_a_parse_error():
    records, errors = atom("error_feed.xml")
    assert records == []
    assert len(errors) == 1
    assert errors[0].line == 10
    assert "incorrect id format for 1234.12345" in errors[0].reason
    assert (
        arxiv_atom.api_error((DATA / "error_feed.xml").read_bytes()) == "incorrect id format for 1234.12345"
    )
    assert arxiv_atom.api_error((DATA / "id_list_page1.xml").read_bytes()) is None


def test_atom_cut_off_download_keeps_complete_entries():
    data = (DATA / "id_list_page1.xml").read_bytes()
    cut = data[: data.index(b"<name>Lu Yin</name>")]
    records, errors = split(arxiv_atom.parse(Source.from_bytes(cut, "cut.xml")))
    assert [r.ids[0] for r in records] == ["arxiv:2403.03507"]
    assert len(errors) == 1 and "not well-formed XML" in errors[0].reason


def test_atom_not_xml():
    records, errors = split(arxiv_atom.parse(Source.from_text("<html><body>Rate exceeded", "page.xml")))
    assert records == [] and len(errors) == 1


def test_page_info():
    assert arxiv_atom.page_info((DATA / "id_list_page1.xml").read_bytes()) == (3, 0, 2)
    assert arxiv_atom.page_info((DATA / "id_list_page2.xml").read_bytes()) == (3, 2, 2)
    assert arxiv_atom.page_info((DATA / "empty_page.xml").read_bytes()) == (0, 0, 100)
    assert arxiv_atom.entry_count((DATA / "empty_page.xml").read_bytes()) == 0
    with pytest.raises(ParseError):
        arxiv_atom.page_info(b"<html>Service Unavailable</html>")


def test_atom_detection():
    head = (DATA / "id_list_page1.xml").read_text()
    assert arxiv_atom.detect(head, "response.xml") >= 90
    assert arxiv_atom.detect('<?xml version="1.0"?><rss version="2.0"><channel>', "feed.xml") == 0
    assert detect(Source.from_file(DATA / "classic_search.xml")) is arxiv_atom


# ---------------------------------------------------------------- Kaggle snapshot


@pytest.fixture(scope="module")
def kaggle() -> tuple[list[Record], list[ParseError]]:
    data = gzip.decompress(shared(f"{CORPUS}/kaggle_snapshot_format_sample_200.jsonl.gz").read_bytes())
    return split(arxiv_snapshot.parse(Source.from_bytes(data, "arxiv-metadata-oai-snapshot.json")))


def by_id(records: list[Record], arxiv_id: str) -> Record:
    return next(r for r in records if r.ids[0] == f"arxiv:{arxiv_id}")


def test_kaggle_sample_all_parse(kaggle):
    records, errors = kaggle
    assert errors == []
    assert len(records) == 200
    assert records and all(r.ids and r.title and r.abstract and r.authors and r.categories for r in records)
    assert records and all("published" in r.dates for r in records)


def test_kaggle_first_record(kaggle):
    r = by_id(kaggle[0], "0704.0001")
    assert r.title == "Calculation of prompt diphoton production cross sections at Tevatron and LHC energies"
    assert [a.name for a in r.authors] == ["C. Balázs", "E. L. Berger", "P. M. Nadolsky", "C.-P. Yuan"]
    assert r.ids == [
        "arxiv:0704.0001",
        "arxiv:0704.0001v2",
        "doi:10.48550/arxiv.0704.0001",
        "doi:10.1103/physrevd.76.013009",
    ]
    assert r.dates == {"published": PartialDate(2007, 4, 2), "updated": PartialDate(2007, 7, 24)}
    assert r.categories == ["hep-ph"]
    assert r.venue == "Phys.Rev.D76:013009,2007"
    assert r.comment == "37 pages, 15 figures; published version"
    assert r.extra["report_no"] == "ANL-HEP-PR-07-12"
    assert r.extra["submitter"] == "Pavel Nadolsky"
    assert r.abstract.startswith("A fully differential calculation in perturbative quantum chromodynamics is")
    assert r.source.line == 1 and r.raw.startswith('{"id":"0704.0001"')


def test_kaggle_authors_suffix_affiliations_and_et_al(kaggle):
    records = kaggle[0]
    assert Author("Neal J. Evans II") in by_id(records, "0704.0009").authors
    gyro = by_id(records, "0704.0044")
    assert gyro.authors[0] == Author("A. A. Schekochihin", ["Oxford"])
    assert gyro.dates["updated"] == PartialDate(2009, 5, 9)  # v4
    assert "arxiv:0704.0044v4" in gyro.ids
    babar = by_id(records, "0704.0020")  # "The BABAR Collaboration, B. Aubert, et al"
    assert [a.name for a in babar.authors] == ["The BABAR Collaboration", "B. Aubert"]
    assert babar.authors_complete is False
    polarons = by_id(records, "0704.0025")  # affiliations given as footnote numbers "(1 and 2)"
    assert polarons.authors[0].name == "A. S. Mishchenko"
    assert polarons.authors[0].affiliations[0] == "CREST, Japan Science and Technology Agency"
    assert "Kurchatov" in polarons.authors[0].affiliations[1]
    assert polarons.authors[1].affiliations[1] == "The University of Tokyo"


def test_kaggle_categories_and_latex(kaggle):
    sparsity = by_id(kaggle[0], "0704.0002")
    assert sparsity.categories == ["math.CO", "cs.CG"]
    assert "(k,ℓ)-pebble game" in sparsity.abstract


def test_compressed_files_are_read_directly():
    gz = shared(f"{CORPUS}/kaggle_snapshot_format_sample_200.jsonl.gz")
    records, errors = split(arxiv_snapshot.parse(Source.from_file(gz)))
    assert len(records) == 200 and errors == []
    first_lines = b"".join(gzip.decompress(gz.read_bytes()).splitlines(keepends=True)[:3])
    records, _ = split(arxiv_snapshot.parse(Source.from_bytes(lzma.compress(first_lines), "x.jsonl.xz")))
    assert [r.ids[0] for r in records] == ["arxiv:0704.0001", "arxiv:0704.0002", "arxiv:0704.0003"]


# ---------------------------------------------------------------- the 118k daily-listing corpus


def test_listing_corpus_first_2000_lines():
    path = shared(f"{CORPUS}/arxiv_metadata.jsonl.xz")
    with lzma.open(path, "rb") as f:
        head = b"".join(islice(f, 2000))
    records, errors = split(arxiv_snapshot.parse(Source.from_bytes(head, "arxiv_metadata.jsonl")))
    assert errors == []
    assert len(records) == 2000
    for r in records:
        assert r.ids and r.title and r.abstract and r.authors and r.categories, r.raw[:80]
        assert r.dates["listed"].complete
    first = records[0]
    assert first.ids == ["arxiv:1804.06498", "doi:10.48550/arxiv.1804.06498"]
    assert first.title == "Deep Multimodal Subspace Clustering Networks"
    assert first.authors == [Author("Mahdi Abavisani"), Author("Vishal M. Patel")]
    assert first.categories == ["cs.LG", "cs.AI", "cs.CV", "stat.ML"]
    assert first.dates == {"listed": PartialDate(2025, 10, 13)}
    assert first.extra["other_classes"] == ["68T45, 62H30", "I.5.3; I.2.10"]
    assert "\n" not in first.abstract


def test_listing_record_with_published_and_updated():
    line = json.dumps(
        {
            "id": "2606.17545",
            "title": "Continuous-time Optimal Stopping through Deep Reinforcement Learning",
            "abstract": "Simulation based solvers for optimal stopping problems discretize the decision.",
            "authors": ["Cosmin Borsa", "Michael Ludkovski"],
            "categories": ["cs.LG", "q-fin.CP", "q-fin.PR"],
            "other_classes": [],
            "comment": "33 pages",
            "published": "2026-06-16T05:49:43+00:00",
            "updated": "2026-06-16T05:49:43+00:00",
            "listing_date": "2026-06-17",
            "last_listing_date": "2026-06-17",
        }
    )
    [r] = list(arxiv_snapshot.parse(Source.from_text(line, "corpus.jsonl")))
    assert r.dates == {
        "listed": PartialDate(2026, 6, 17),
        "published": PartialDate(2026, 6, 16),
        "updated": PartialDate(2026, 6, 16),
    }
    assert r.comment == "33 pages"
    assert "other_classes" not in r.extra


def test_arxiv_shaped_line_keeps_a_plain_date_or_year():
    # An arXiv id and categories make a JSON line the snapshot's; its date under a common name
    # (`date`, `year`) was dropped, so such a library had no dates and `recommend --days` found nothing.
    lines = [
        {"id": "2401.00001", "title": "One", "abstract": "A.", "categories": ["cs.LG"], "date": "2025-10-13"},
        {"id": "2401.00002", "title": "Two", "abstract": "B.", "categories": ["cs.CL"], "year": 2023},
    ]
    text = "\n".join(json.dumps(line) for line in lines)
    assert detect(Source.from_text(text, "papers.jsonl")) is arxiv_snapshot
    one, two = arxiv_snapshot.parse(Source.from_text(text, "papers.jsonl"))
    assert one.dates == {"published": PartialDate(2025, 10, 13)}
    assert two.dates == {"published": PartialDate(2023)}


def test_bad_lines_are_reported_with_line_numbers():
    good = (
        '{"id": "2410.09918", "title": "Dualformer", "abstract": "Fast and slow.", "authors": ["DiJia Su"]}'
    )
    text = "\n".join(
        [
            good,
            '{"id": "2403.03507", "title": "GaLore: Memory-Eff',  # cut off
            "[1, 2, 3]",
            '{"id": "2407.08296", "authors": ["Zhenyu Zhang"]}',  # no title, no abstract
            "",
            good.replace("2410.09918", "2407.08296"),
        ]
    )
    records, errors = split(arxiv_snapshot.parse(Source.from_text(text, "dump.jsonl")))
    assert [r.source.line for r in records] == [1, 6]
    assert [(e.line, e.source) for e in errors] == [(2, "dump.jsonl"), (3, "dump.jsonl"), (4, "dump.jsonl")]
    assert "invalid JSON" in errors[0].reason
    assert "JSON object" in errors[1].reason
    assert "no title and no abstract" in errors[2].reason


def test_snapshot_detection():
    kaggle_line = gzip.decompress(
        shared(f"{CORPUS}/kaggle_snapshot_format_sample_200.jsonl.gz").read_bytes()
    ).decode()[:65536]
    assert arxiv_snapshot.detect(kaggle_line, "arxiv-metadata-oai-snapshot.json") >= 90
    corpus_line = (
        '{"id": "1804.06498", "title": "T", "abstract": "A", "authors": [], "categories": ["cs.LG"], '
    )
    corpus_line += '"other_classes": [], "comment": null, "listing_date": "2025-10-13"}\n'
    assert arxiv_snapshot.detect(corpus_line, "arxiv_metadata.jsonl") >= 90
    assert arxiv_snapshot.detect('{"title": "x", "year": 2020}\n', "papers.jsonl") == 0
    assert arxiv_snapshot.detect((DATA / "id_list_page1.xml").read_text(), "page.xml") == 0
    # compressed files are decompressed by Source before detection: the registry picks this importer
    from paperradar import importers

    kaggle_gz = shared(f"{CORPUS}/kaggle_snapshot_format_sample_200.jsonl.gz")
    assert importers.detect(Source.from_file(kaggle_gz)).NAME == "arxiv_snapshot"
    assert arxiv_snapshot.detect(kaggle_line, "x") > 30  # above a generic JSON-lines reader
    assert detect(Source.from_text(kaggle_line.split("\n")[0], "snap.json")) is arxiv_snapshot
