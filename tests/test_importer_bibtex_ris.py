"""BibTeX and RIS importers, on Zotero/Scholar/DBLP/arXiv-style exports with broken records."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import names, split
from paperradar.errors import ParseError
from paperradar.importers import bibtex, ris
from paperradar.importers.base import Source
from paperradar.models import PartialDate, Record

DATA = Path(__file__).parent / "data"


# ---------------------------------------------------------------- BibTeX


@pytest.fixture(scope="module")
def bib() -> dict[str, Record | ParseError]:
    records, errors = split(bibtex.parse(Source.from_file(DATA / "bibtex" / "zotero_export.bib")))
    out: dict[str, Record | ParseError] = {r.extra["citekey"]: r for r in records}
    out.update({f"error@{e.line}": e for e in errors})
    return out


def test_bibtex_entries_kept_around_a_syntax_error(bib):
    assert sorted(k for k in bib if not k.startswith("error@")) == sorted(
        [
            "zhao_galore_2024", "hu2021lora", "vaswani2017attention", "balazs2007calculation",
            "abushammala2007dyadic", "DBLP:conf/naacl/DevlinCLT19", "openai2023gpt4",
        ]
    )  # fmt: skip
    broken = bib["error@50"]
    assert "broken_entry_2020" in broken.reason and "Expected comma after entry key" in broken.reason
    assert "no id, title or abstract" in bib["error@92"].reason  # @misc{toread2020, note = ...}


def test_bibtex_zotero_arxiv_entry(bib):
    galore = bib["zhao_galore_2024"]
    assert galore.source.line == 5 and galore.source.importer == "bibtex"
    assert galore.raw.startswith("@misc{zhao_galore_2024,") and galore.raw.rstrip().endswith("}")
    assert galore.ids == ["arxiv:2403.03507", "doi:10.48550/arxiv.2403.03507"]
    assert galore.title == "GaLore: Memory-Efficient LLM Training by Gradient Low-Rank Projection"
    assert names(galore) == [
        "Jiawei Zhao",
        "Zhenyu Zhang",
        "Beidi Chen",
        "Zhangyang Wang",
        "Anima Anandkumar",
        "Yuandong Tian",
    ]
    assert galore.dates == {"published": PartialDate(2024, 3)}  # month = mar (a macro)
    assert galore.links == {
        "abs": ["http://arxiv.org/abs/2403.03507"],
        "code": ["https://github.com/jiaweizzhao/GaLore"],
    }
    assert galore.extra["keywords"] == [
        "Computer Science - Machine Learning",
        "Computer Science - Computation and Language",
    ]
    assert galore.extra["shorttitle"] == "GaLore" and galore.extra["note"] == "arXiv:2403.03507 [cs]"
    assert galore.venue is None


def test_bibtex_google_scholar_arxiv_journal(bib):
    lora = bib["hu2021lora"]
    assert lora.ids == ["arxiv:2106.09685", "doi:10.48550/arxiv.2106.09685"]
    assert lora.venue is None and lora.extra["journal"] == "arXiv preprint arXiv:2106.09685"
    assert names(lora)[0] == "Edward J Hu" and len(lora.authors) == 8


def test_bibtex_string_macro_accents_and_venue(bib):
    attention = bib["vaswani2017attention"]
    assert attention.venue == "Advances in Neural Information Processing Systems"  # @string neurips
    assert names(attention)[6] == "Łukasz Kaiser"
    assert attention.dates == {"published": PartialDate(2017, 12)}
    assert attention.ids == []


def test_bibtex_eprint_with_version_doi_and_primary_class(bib):
    diphoton = bib["balazs2007calculation"]
    assert diphoton.ids == [
        "arxiv:0704.0001", "arxiv:0704.0001v2",
        "doi:10.48550/arxiv.0704.0001", "doi:10.1103/physrevd.76.013009",
    ]  # fmt: skip
    assert (
        diphoton.title
        == "Calculation of prompt diphoton production cross sections at Tevatron and LHC energies"
    )
    assert names(diphoton) == ["C. Balázs", "E. L. Berger", "P. M. Nadolsky", "C.-P. Yuan"]
    assert diphoton.categories == ["hep-ph"] and diphoton.venue == "Phys. Rev. D"
    assert diphoton.extra["pages"] == "013009" and "eprint" not in diphoton.extra


def test_bibtex_math_title_dblp_names_and_others(bib):
    assert bib["abushammala2007dyadic"].title == "From dyadic Λ_α to Λ_α"
    assert bib["abushammala2007dyadic"].categories == ["math.CA"]
    bert = bib["DBLP:conf/naacl/DevlinCLT19"]
    assert bert.title == "BERT: Pre-training of Deep Bidirectional Transformers for Language Understanding"
    assert names(bert) == ["Jacob Devlin", "Ming-Wei Chang", "Kenton Lee", "Kristina Toutanova"]
    assert bert.ids == ["doi:10.18653/v1/n19-1423"] and bert.venue.startswith(
        "Proceedings of the 2019 Conference"
    )
    gpt4 = bib["openai2023gpt4"]
    assert names(gpt4) == ["OpenAI", "Josh Achiam"] and gpt4.authors_complete is False
    assert gpt4.title == "GPT-4 Technical Report"


def test_bibtex_duplicate_keys_and_undecodable_line_keep_numbers():
    data = (
        b"% caf\xe9 -- not UTF-8\n"
        b"@misc{same, title = {One}, eprint = {2403.03507}}\n"
        b"@misc{same, title = {Two}, year = {2020}}\n"
    )
    source = Source.from_bytes(data, "refs.bib")
    records, errors = split(bibtex.parse(source))
    assert [(r.title, r.source.line) for r in records] == [("One", 2), ("Two", 3)] and not errors
    assert [i.line for i in source.issues] == [1]


def test_bibtex_detect():
    head = (DATA / "bibtex" / "zotero_export.bib").read_text()
    assert bibtex.detect(head, "library.bib") == 95
    assert bibtex.detect(head, "pasted") == 85
    assert bibtex.detect("TY  - JOUR\nER  - \n", "x.ris") == 0
    assert bibtex.detect("Contact me @twitter {soon}\n", "notes.txt") == 0


# ---------------------------------------------------------------- RIS


@pytest.fixture(scope="module")
def ris_results() -> tuple[list[Record], list[ParseError]]:
    return split(ris.parse(Source.from_file(DATA / "ris" / "zotero_export.ris")))


def test_ris_records_and_broken_ones(ris_results):
    records, errors = ris_results
    assert [r.source.line for r in records] == [1, 24, 54, 60, 85]
    assert [e.line for e in errors] == [44, 78]
    assert "no 'ER  -' before the next 'TY  -' on line 54" in errors[0].reason
    assert "line 80 is not a valid RIS tag line" in errors[1].reason


def test_ris_zotero_preprint(ris_results):
    galore = ris_results[0][0]
    assert galore.ids == ["arxiv:2403.03507", "doi:10.48550/arxiv.2403.03507"]
    assert galore.title == "GaLore: Memory-Efficient LLM Training by Gradient Low-Rank Projection"
    assert names(galore) == [
        "Jiawei Zhao",
        "Zhenyu Zhang",
        "Beidi Chen",
        "Zhangyang Wang",
        "Anima Anandkumar",
        "Yuandong Tian",
    ]
    assert galore.dates == {"published": PartialDate(2024, 3, 6)}
    assert galore.comment == "Code is at https://github.com/jiaweizzhao/GaLore"
    assert galore.links == {
        "abs": ["http://arxiv.org/abs/2403.03507"],
        "code": ["https://github.com/jiaweizzhao/GaLore"],
    }
    assert galore.extra["type"] == "GEN" and galore.extra["notes"] == ["arXiv:2403.03507 [cs]"]
    assert galore.extra["keywords"][0] == "Computer Science - Machine Learning"
    assert galore.raw.splitlines()[0] == "TY  - GEN" and galore.raw.splitlines()[-1].startswith("ER  -")


def test_ris_journal_article_with_wrapped_abstract(ris_results):
    diphoton = ris_results[0][1]
    assert diphoton.ids == [
        "arxiv:0704.0001",
        "doi:10.48550/arxiv.0704.0001",
        "doi:10.1103/physrevd.76.013009",
    ]
    assert diphoton.abstract == (
        "A fully differential calculation in perturbative quantum chromodynamics is "
        "presented for the production of massive photon pairs at hadron colliders."
    )
    assert names(diphoton) == ["C. Balázs", "E. L. Berger", "P. M. Nadolsky", "C.-P. Yuan"]
    assert diphoton.venue == "Physical Review D" and diphoton.dates == {"published": PartialDate(2007, 7, 24)}
    assert diphoton.extra["volume"] == "76" and diphoton.extra["issn"] == "1550-7998"


def test_ris_conference_year_only_and_t1_a1_m1_tags(ris_results):
    attention = ris_results[0][3]
    assert attention.venue == "Advances in Neural Information Processing Systems"
    assert attention.dates == {"published": PartialDate(2017)}  # DA 2017///
    assert names(attention)[6] == "Łukasz Kaiser"
    bert = ris_results[0][4]
    assert bert.title == "BERT: Pre-training of Deep Bidirectional Transformers for Language Understanding"
    assert names(bert) == ["Jacob Devlin", "Ming-Wei Chang", "Kenton Lee", "Kristina Toutanova"]
    assert bert.ids == ["arxiv:1810.04805", "doi:10.48550/arxiv.1810.04805"]
    assert bert.dates == {"published": PartialDate(2018, 10, 11)}


def test_ris_unclosed_at_end_and_stray_text():
    text = "Exported by some tool\n\nTY  - JOUR\nTI  - Kept\nER  - \nTY  - JOUR\nTI  - Lost\n"
    records, errors = split(ris.parse(Source.from_text(text, "x.ris")))
    assert [r.title for r in records] == ["Kept"]
    assert [(e.line, e.reason.split(":")[0]) for e in errors] == [
        (1, "text outside a record (no 'TY  -' before it); skipped"),
        (6, "record is not closed"),
    ]


def test_ris_detect():
    head = (DATA / "ris" / "zotero_export.ris").read_text()
    assert ris.detect(head, "export.ris") == 95
    assert ris.detect(head, "clip") == 95
    assert ris.detect("@article{x, title={y}}\n", "a.bib") == 0
    assert bibtex.detect(head, "export.ris") == 0


# ---------------------------------------------------------------- what real files do (issue 14)

REAL_WORLD_BIB = r"""
@string{jc = "jean"}
@string{full = jc # " x"}
@article{dup, title = {{{Language} {Models} Are {Few-Shot Learners}}}, author = {Brown, Tom and Mann, Benjamin},
  journal = {{Advances} in {Neural} {Information} {Processing} {Systems}}, year = {2020}, doi = {10.5555/aaa}}
@article{dup, title = {SciPy 1.0}, author = {Virtanen, Pauli and Gommers, Ralf}, year = {2020},
  doi = {10.1038/s41592-019-0686-2}}
@article{strings, title = {Concatenated}, author = jc # " " # "cesar" # " and " # full, year = 1999}
@inproceedings{child, title = {A Child Paper}, author = {Doe, Jane}, crossref = {parent}}
@proceedings{parent, title = {Proceedings of the Parent Conference}, year = {2011}, month = jun}
@article{twice, title = {First Title}, title = {Second Title}, author = {Smith, Ann}, year = {2001}}
@article{author = {Eloubeidi M.A. and Tamhane A.}, title = {No Key Here}, year = {2003}}
@book{latex, title = {The \TeX book: A~Guide to 0.2\,mm$^2$ and $\overline{1}$ -- pages 1--2 --- and \c{\u{e}}},
  author = {Knuth, Donald E.}, year = {1984}}
"""


def test_what_real_bibtex_files_do_is_read_not_dropped():
    recs, errors = split(bibtex.parse(Source.from_text(REAL_WORLD_BIB, "real.bib")))
    assert errors == []
    by_title = {r.title: r for r in recs}
    assert "Language Models Are Few-Shot Learners" in by_title  # Better BibTeX's double braces
    assert (
        by_title["Language Models Are Few-Shot Learners"].venue
        == "Advances in Neural Information Processing Systems"
    )
    scipy = by_title["SciPy 1.0"]  # the repeated key: parsed like any entry
    assert names(scipy) == ["Pauli Virtanen", "Ralf Gommers"] and scipy.ids == [
        "doi:10.1038/s41592-019-0686-2"
    ]
    assert scipy.dates["published"] == PartialDate(2020)
    assert names(by_title["Concatenated"]) == ["jean cesar", "jean x"]  # @string with #
    child = by_title["A Child Paper"]  # crossref: year, month and venue from the parent
    assert (
        child.dates["published"] == PartialDate(2011, 6)
        and child.venue == "Proceedings of the Parent Conference"
    )
    assert "First Title" in by_title and "Second Title" not in by_title  # a repeated field: the first counts
    nokey = by_title["No Key Here"]  # EndNote's entry without a citation key, Medline's names
    assert names(nokey) == ["M. A. Eloubeidi", "A. Tamhane"] and "citekey" not in nokey.extra
    assert (
        by_title["The TeX book: A Guide to 0.2 mm² and 1̅ – pages 1–2 — and ḝ"].authors[0].name
        == "Donald E. Knuth"
    )


def test_a_ris_year_less_date_and_categories_come_back():
    text = "TY  - GEN\nTI  - A paper\nAU  - Smith JA\nDA  - /04/07/\nKW  - cs.CL\nKW  - parsing\nER  - \n"
    [rec] = split(ris.parse(Source.from_text(text, "x.ris")))[0]
    assert rec.dates == {"published": PartialDate(None, 4, 7)} and rec.categories == ["cs.CL"]
    assert rec.extra["keywords"] == ["parsing"] and names(rec) == ["J. A. Smith"]
