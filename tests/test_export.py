"""BibTeX, RIS and CSL-JSON export, and round trips through our own importers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from paperradar.errors import InvalidInput
from paperradar.export import export, to_bibtex, to_csljson, to_ris
from paperradar.export.bibtex import citekeys, split_name
from paperradar.importers import bibtex, ris
from paperradar.importers.base import Source
from paperradar.models import Author, Paper, PartialDate, Record
from paperradar.normalize import clean_text

DATA = Path(__file__).parent / "data"

TRICKY_TITLE = "Bounds for $x$ & 10% of {sets}: a_b #1 ~ ^ \\ back"


def paper_from_record(rec: Record) -> Paper:
    return Paper(
        id=rec.ids[0] if rec.ids else f"title:{rec.title}",
        ids=list(rec.ids),
        title=rec.title,
        abstract=rec.abstract,
        authors=list(rec.authors),
        authors_complete=rec.authors_complete,
        categories=list(rec.categories),
        dates=dict(rec.dates),
        comment=rec.comment,
        links=dict(rec.links),
        venue=rec.venue,
    )


def records(results) -> list[Record]:
    return [r for r in results if isinstance(r, Record)]


@pytest.fixture(scope="module")
def papers() -> list[Paper]:
    source = Source.from_file(DATA / "bibtex" / "zotero_export.bib")
    out = [paper_from_record(r) for r in records(bibtex.parse(source))]
    out.append(
        Paper(
            id="arxiv:2501.00001",
            ids=["arxiv:2501.00001", "arxiv:2501.00001v3", "doi:10.48550/arxiv.2501.00001"],
            title=TRICKY_TITLE,
            abstract="We bound 50% of cases & more.",
            authors=[Author(n) for n in ("Csaba Balázs", "Ludwig van Beethoven", "Martin Luther King Jr.")],
            categories=["math.CO", "cs.DM"],
            dates={"listed": PartialDate(None, 4, 7)},
            comment="12 pages",
        )
    )
    zhao = [Author("Jiawei Zhao")]
    out.append(
        Paper(
            "x",
            ["arxiv:2501.00002"],
            title="GaLore Again",
            authors=zhao,
            dates={"published": PartialDate(2024, 3, 6)},
        )
    )
    out.append(
        Paper(
            "y",
            ["arxiv:2501.00003"],
            title="The GaLore Sequel",
            authors=zhao,
            dates={"published": PartialDate(2024)},
        )
    )
    return out


def test_split_name():
    assert split_name("Ludwig van Beethoven") == ("Ludwig", "van Beethoven", "")
    assert split_name("Martin Luther King Jr.") == ("Martin Luther", "King", "Jr.")
    assert split_name("Hamid Reza Vaezi Joze") == ("Hamid Reza Vaezi", "Joze", "")
    assert split_name("OpenAI") == ("", "OpenAI", "")


def test_citekeys_are_stable_and_deduplicated(papers):
    keys = citekeys(papers)
    assert keys[:7] == [
        "zhao2024galore", "hu2021lora", "vaswani2017attention", "balazs2007calculation",
        "abushammala2007dyadic", "devlin2019bert", "openai2023gpt4",
    ]  # fmt: skip
    assert keys[7:] == ["balazsbounds", "zhao2024galorea", "zhao2024galoreb"]  # "The" is skipped
    assert citekeys(papers) == keys


def test_bibtex_entry_shape(papers):
    text = to_bibtex(papers)
    galore = text.split("\n\n")[0]
    assert galore.splitlines()[0] == "@misc{zhao2024galore,"
    title = "{{GaLore}: {Memory}-{Efficient} {LLM} {Training} by {Gradient} {Low}-{Rank} {Projection}}"
    assert f"  title = {title}," in galore  # capitalised words case-protected, as Zotero does
    assert "  author = {Zhao, Jiawei and Zhang, Zhenyu and Chen, Beidi and Wang, Zhangyang and" in galore
    assert "  year = {2024},\n  month = mar," in galore
    assert "  eprint = {2403.03507},\n  archivePrefix = {arXiv}," in galore
    assert "  doi = {10.48550/arXiv.2403.03507}," in galore
    assert "@article{balazs2007calculation," in text and "  journal = {Phys. Rev. D}," in text
    assert "  primaryClass = {hep-ph}," in text and "  doi = {10.1103/physrevd.76.013009}," in text
    assert "@inproceedings{vaswani2017attention," in text
    assert "  booktitle = {Advances in Neural Information Processing Systems}" in text
    assert "  author = {{OpenAI} and Achiam, Josh and others}," in text


def test_bibtex_escapes_and_never_guesses_a_year(papers):
    entry = next(e for e in to_bibtex(papers).split("\n\n") if "balazsbounds" in e)
    assert r"title = {{Bounds} for \$x\$ \& 10\% of \{sets\}: a\_b \#1" in entry
    assert r"abstract = {We bound 50\% of cases \& more.}" in entry
    assert "author = {Balázs, Csaba and van Beethoven, Ludwig and King, Jr., Martin Luther}" in entry
    assert "year" not in entry and "month" not in entry  # the date was "Apr 7", no year
    assert "date = {--04-07}" in entry  # BibLaTeX's date keeps month and day, without a year
    assert "note = {12 pages}" in entry


def test_bibtex_round_trip(papers):
    back = records(bibtex.parse(Source.from_text(to_bibtex(papers), "export.bib")))
    assert len(back) == len(papers)
    for paper, rec in zip(papers, back, strict=True):
        assert rec.title == paper.title
        assert [a.name for a in rec.authors] == [a.name for a in paper.authors]
        assert rec.authors_complete == paper.authors_complete
        assert set(rec.ids) >= {i for i in paper.ids if "v" not in i.rsplit(".", 1)[-1]}
        assert rec.abstract == paper.abstract and rec.venue == paper.venue
    tricky = back[7]
    assert tricky.title == TRICKY_TITLE
    assert [a.name for a in tricky.authors] == [
        "Csaba Balázs",
        "Ludwig van Beethoven",
        "Martin Luther King Jr.",
    ]
    assert tricky.dates == {"published": PartialDate(None, 4, 7)} and tricky.categories == [
        "math.CO",
        "cs.DM",
    ]
    assert tricky.comment == "12 pages"  # the note comes back as the comment
    assert back[0].dates == {"published": PartialDate(2024, 3)}


def test_ris_round_trip(papers):
    text = to_ris(papers)
    assert text.startswith("TY  - GEN\nTI  - GaLore: Memory-Efficient LLM Training by Gradient Low-Rank")
    assert "TY  - CONF\nTI  - Attention is All you Need\n" in text and "TY  - JOUR\nTI  - Calculation" in text
    back = records(ris.parse(Source.from_text(text, "export.ris")))
    assert len(back) == len(papers)
    for paper, rec in zip(papers, back, strict=True):
        # RIS is plain text and importers read LaTeX in it (arXiv titles keep $...$), so a title
        # with literal "$x$" and braces comes back as LaTeX read; every other title is exact.
        assert rec.title == (clean_text(paper.title) if paper.title == TRICKY_TITLE else paper.title)
        assert [a.name for a in rec.authors] == [a.name for a in paper.authors]
        arxiv = {i for i in paper.ids if i.startswith("arxiv:") and "v" not in i.rsplit(".", 1)[-1]}
        publisher_dois = {i for i in paper.ids if i.startswith("doi:") and "arxiv" not in i}
        assert set(rec.ids) >= arxiv | publisher_dois
        assert rec.abstract == paper.abstract and rec.venue == paper.venue
        assert rec.comment == paper.comment
    assert back[7].title == "Bounds for x & 10% of sets: a_b #1 ~ ^ back"
    assert back[7].dates == {"published": PartialDate(None, 4, 7)}  # DA  - /04/07/: no year, never guessed
    assert back[7].categories == ["math.CO", "cs.DM"]  # KW lines
    assert back[8].dates == {"published": PartialDate(2024, 3, 6)}


def _check_csl_item(item: dict) -> None:
    assert isinstance(item["id"], str) and item["id"]
    assert item["type"] in {"article", "article-journal", "paper-conference"}
    assert isinstance(item["title"], str)
    for author in item.get("author", []):
        assert set(author) <= {"family", "given", "suffix", "literal"}
        assert ("literal" in author) != ("family" in author)
        assert author and all(isinstance(v, str) and v for v in author.values())
    if "issued" in item and "raw" not in item["issued"]:
        (parts,) = item["issued"]["date-parts"]
        assert 1 <= len(parts) <= 3 and all(isinstance(p, int) for p in parts)
    for key in ("DOI", "URL", "abstract", "container-title", "number", "publisher", "keyword", "note"):
        assert isinstance(item.get(key, ""), str)


def test_csljson_items(papers):
    items = json.loads(to_csljson(papers))
    assert isinstance(items, list) and len(items) == len(papers)
    for item in items:
        _check_csl_item(item)
    assert len({i["id"] for i in items}) == len(items)
    galore = items[0]
    assert galore["type"] == "article" and galore["publisher"] == "arXiv"
    assert galore["number"] == "arXiv:2403.03507"
    assert galore["author"][0] == {"family": "Zhao", "given": "Jiawei"}
    assert galore["issued"] == {"date-parts": [[2024, 3]]}
    assert galore["DOI"] == "10.48550/arXiv.2403.03507" and galore["URL"] == "http://arxiv.org/abs/2403.03507"
    diphoton = items[3]
    assert diphoton["type"] == "article-journal" and diphoton["container-title"] == "Phys. Rev. D"
    assert diphoton["DOI"] == "10.1103/physrevd.76.013009"
    assert items[6]["author"][0] == {"literal": "OpenAI"}
    tricky = items[7]
    assert tricky["title"] == TRICKY_TITLE and tricky["issued"] == {"raw": "--04-07"}
    assert tricky["author"][2] == {"family": "King", "given": "Martin Luther", "suffix": "Jr."}


def test_export_by_name(papers):
    assert export(papers[:1], "ris") == to_ris(papers[:1])
    with pytest.raises(InvalidInput, match="unknown export format 'endnote'"):
        export(papers, "endnote")
    assert to_bibtex([]) == "" and json.loads(to_csljson([])) == []
