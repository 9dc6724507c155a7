"""Tabular importers: CSV/TSV, JSON Lines and Parquet rows -> Records, column guessing and --map."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from conftest import names, need_shared, split
from paperradar.errors import InvalidInput, ParseError
from paperradar.importers import tabular_csv, tabular_jsonl, tabular_parquet
from paperradar.importers.base import Source
from paperradar.models import Author, PartialDate, Record

DATA = Path(__file__).parent / "data" / "tabular"
SHARED = Path(__file__).resolve().parents[2] / "shared"


def shared(rel: str) -> Path:
    return need_shared(SHARED / rel)


# ---------------------------------------------------------------- CSV


@pytest.fixture(scope="module")
def csv_rows() -> tuple[list[Record], list[ParseError]]:
    return split(tabular_csv.parse(Source.from_file(DATA / "papers.csv")))


def test_csv_keeps_good_rows_and_reports_bad_ones_with_their_lines(csv_rows):
    records, errors = csv_rows
    assert [r.source.line for r in records] == [2, 7, 10, 11]
    assert [(e.line, e.reason) for e in errors] == [
        (9, "row has 7 cells, the header has 10"),
        (12, errors[1].reason),
    ]
    assert "no id, title or abstract" in errors[1].reason
    assert records and all(r.source.importer == "tabular_csv" for r in records)


def test_csv_multiline_quoted_abstract_is_one_record_at_its_first_line(csv_rows):
    flux = csv_rows[0][0]
    assert flux.ids == ["arxiv:2504.11478", "doi:10.48550/arxiv.2504.11478"]
    assert flux.title == "Flux Already Knows - Activating Subject-Driven Image Generation without Training"
    assert flux.abstract.startswith(
        "We propose a simple yet effective zero-shot framework for subject-driven image"
    )
    assert flux.abstract.endswith("without any additional data, training, or inference-time fine-tuning.")
    assert flux.raw.count("\n") == 4 and flux.raw.startswith("2504.11478,Flux Already Knows")
    assert names(flux) == [
        "Hao Kang", "Stathi Fotiadis", "Liming Jiang", "Qing Yan",
        "Yumin Jia", "Zichuan Liu", "Min Jin Chong", "Xin Lu",
    ]  # fmt: skip
    assert flux.categories == ["cs.CV", "cs.AI"]
    assert flux.dates == {"listed": PartialDate(2025, 4, 17)}
    assert flux.extra == {"my_rating": "5"}  # an unknown column is kept, not dropped


def test_csv_authors_as_json_list_and_comma_separated_categories(csv_rows):
    spiral = csv_rows[0][1]
    assert names(spiral) == [
        "Dekai Zhu",
        "Yixuan Hu",
        "Youquan Liu",
        "Dongyue Lu",
        "Lingdong Kong",
        "Slobodan Ilic",
    ]
    assert spiral.categories == ["cs.CV", "cs.RO"]
    assert spiral.comment == "Project page: https://dekai21.github.io/SPIRAL/"


def test_csv_et_al_yearless_date_truncated_abstract_code_and_upvotes(csv_rows):
    lora = csv_rows[0][2]
    assert names(lora) == ["Edward J. Hu", "Yelong Shen", "Phillip Wallis"]
    assert lora.authors_complete is False
    assert lora.dates["listed"] == PartialDate(None, 6, 17)  # "Jun 17": no year is guessed
    assert lora.abstract_truncated is True
    assert lora.links["code"] == ["https://github.com/microsoft/LoRA"]
    assert lora.upvotes == 42


def test_csv_id_column_accepts_a_doi(csv_rows):
    diphoton = csv_rows[0][3]
    assert diphoton.ids == ["doi:10.1103/physrevd.76.013009"]
    assert names(diphoton) == ["C. Balázs", "E. L. Berger", "P. M. Nadolsky", "C.-P. Yuan"]


def test_csv_unclosed_quote_is_reported_and_rows_before_it_kept():
    text = 'id,title\n2403.03507,GaLore\n2106.09685,"LoRA\n1706.03762,Attention\n'
    records, errors = split(tabular_csv.parse(Source.from_text(text, "x.csv")))
    assert [r.title for r in records] == ["GaLore"]
    assert len(errors) == 1 and errors[0].line == 3 and "never closed" in errors[0].reason


def test_tsv_and_semicolon_files(tmp_path):
    tsv = tmp_path / "papers.tsv"
    tsv.write_text("title\tauthors\tyear\nAttention Is All You Need\tAshish Vaswani; Noam Shazeer\t2017\n")
    (rec,), errors = split(tabular_csv.parse(Source.from_file(tsv)))
    assert not errors and rec.title == "Attention Is All You Need"
    assert names(rec) == ["Ashish Vaswani", "Noam Shazeer"] and rec.dates["published"] == PartialDate(2017)
    text = "Title;DOI\nPhoton pairs;https://doi.org/10.1103/PhysRevD.76.013009\n"
    (rec,), _ = split(tabular_csv.parse(Source.from_text(text)))
    assert rec.ids == ["doi:10.1103/physrevd.76.013009"]


def test_csv_detect_scores():
    head = (DATA / "papers.csv").read_text()
    assert 30 <= tabular_csv.detect(head, "papers.csv") <= 40
    assert tabular_csv.detect(head, "clipboard") == 30
    assert tabular_csv.detect('{"title": "x", "abstract": "y"}\n', "a.jsonl") == 0
    assert tabular_csv.detect("@article{key,\n title = {x}}\n", "refs.bib") == 0
    assert tabular_csv.detect("TY  - JOUR\nTI  - x\nER  - \n", "refs.ris") == 0
    assert tabular_csv.detect("Some pasted page text, with a comma.\nMore text.\n", "page.txt") == 0


# ---------------------------------------------------------------- --map


def test_parse_map_option():
    assert tabular_csv.parse_map_option("title=paper_title, abstract=summary") == {
        "title": "paper_title",
        "abstract": "summary",
    }
    assert tabular_csv.parse_map_option("date=pub,arxiv_id=key") == {"published": "pub", "arxiv": "key"}
    with pytest.raises(InvalidInput, match="unknown fields in column map: titel, abstrakt"):
        tabular_csv.parse_map_option("titel=a,abstrakt=b")
    with pytest.raises(InvalidInput, match="not FIELD=COLUMN"):
        tabular_csv.parse_map_option("title")
    with pytest.raises(InvalidInput, match="twice"):
        tabular_csv.parse_map_option("title=a,title=b")


def test_column_map_overrides_guessing_and_missing_column_is_invalid_input():
    text = (
        "key,paper_title,summary_text,who,title\n"
        "arXiv:2403.03507,GaLore: Memory-Efficient LLM Training,Training LLMs is memory-bound.,"
        '"Zhao, Jiawei and Zhang, Zhenyu",working title\n'
    )
    cmap = {"title": "paper_title", "abstract": "summary_text", "authors": "who", "id": "key"}
    (rec,), errors = split(tabular_csv.parse(Source.from_text(text), cmap))
    assert not errors
    assert rec.ids[0] == "arxiv:2403.03507"
    assert rec.title == "GaLore: Memory-Efficient LLM Training"
    assert rec.abstract == "Training LLMs is memory-bound."
    assert names(rec) == ["Jiawei Zhao", "Zhenyu Zhang"]
    assert rec.extra == {"title": "working title"}  # the column displaced by the map is kept
    with pytest.raises(InvalidInput, match="column 'paper_titel' not found; columns are: key, paper_title"):
        list(tabular_csv.parse(Source.from_text(text), {"title": "paper_titel"}))


# ---------------------------------------------------------------- JSONL


def test_jsonl_rows_ids_and_errors():
    records, errors = split(tabular_jsonl.parse(Source.from_file(DATA / "papers.jsonl")))
    assert [r.source.line for r in records] == [1, 2, 3, 7]
    assert [e.line for e in errors] == [4, 5]
    assert "truncated" in errors[0].reason and "JSON object" in errors[1].reason

    order = records[0]  # a row of the reviewer-expertise data set, as published
    assert order.ids == [
        "s2:0025b963134b1c0b64c1389af19610d038ab7072",
        "arxiv:1105.5464",
        "doi:10.48550/arxiv.1105.5464",
    ]
    assert order.title == "Learning to Order Things"
    assert names(order) == ["William W. Cohen", "R. Schapire", "Y. Singer"]
    assert order.dates == {"published": PartialDate(1997)}
    assert order.links == {"pdf": ["https://arxiv.org/pdf/1105.5464.pdf"]}
    assert order.extra == {"openAccess": True}
    assert json.loads(order.raw)["ssId"] == "0025b963134b1c0b64c1389af19610d038ab7072"

    lora = records[1]  # Semantic Scholar API shape
    assert lora.ids == ["corpus:235458009", "arxiv:2106.09685", "doi:10.48550/arxiv.2106.09685"]
    assert lora.authors == [Author("J. E. Hu"), Author("Yelong Shen")]
    assert lora.venue == "International Conference on Learning Representations"
    assert lora.dates == {"published": PartialDate(2021, 6, 17)}
    assert lora.extra["year"] == 2021 and lora.extra["externalIds"]["DBLP"] == "journals/corr/abs-2106-09685"

    flux = records[3]
    assert flux.upvotes == 17 and flux.dates == {"published": PartialDate(None, 4, 16)}


def test_jsonl_detect_stays_below_arxiv_specific_importers():
    line = (DATA / "papers.jsonl").read_text().splitlines()[0]
    assert tabular_jsonl.detect(line + "\n", "papers.jsonl") == 30
    arxiv_line = '{"id": "0704.0001", "submitter": "Pavel Nadolsky", "title": "x", "versions": []}\n'
    assert 0 < tabular_jsonl.detect(arxiv_line, "arxiv.json") <= 30
    assert tabular_jsonl.detect('{\n  "title": 1\n}\n', "a.json") == 0
    assert tabular_jsonl.detect("id,title\n", "a.csv") == 0


def test_jsonl_real_reviewer_papers(tmp_path):
    path = tmp_path / "papers.jsonl"
    path.write_bytes(gzip.decompress(shared("eval/reviewer-expertise/papers.jsonl.gz").read_bytes()))
    records, errors = split(tabular_jsonl.parse(Source.from_file(path)))
    assert len(records) == 3374 and errors == []
    assert sum(bool(r.ids) for r in records) == 3373  # one row says paperId "no_ss": no id at all
    assert records[-1].extra["paperId"] == "no_ss"
    assert records[0].title == "Learning to Order Things"


def test_csv_real_csfcube_queries():
    records, errors = split(tabular_csv.parse(Source.from_file(shared("eval/csfcube/queries-release.csv"))))
    assert len(records) == 50 and errors == []
    first = records[0]
    assert first.title == "Naturalizing a Programming Language via Interactive Learning"
    assert first.dates == {"published": PartialDate(2017)}
    assert first.extra == {"pid": "10695055", "facet": "background", "paper type": "data-driven approach"}


# ---------------------------------------------------------------- Parquet


def _write_parquet(path: Path, rows: list[dict]) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.Table.from_pylist(rows), path, row_group_size=1000)


def test_parquet_rows_streamed_with_row_numbers(tmp_path):
    import datetime as dt

    rows = [
        {
            "paper_id": f"2501.{i:05d}",
            "title": f"Paper number {i}",
            "summary": "An abstract.",
            "authors": ["Ada Lovelace", "Alan Turing"],
            "categories": ["cs.LG", "stat.ML"],
            "created": dt.datetime(2025, 1, 2, 3, 4, 5),
            "score": 0.5,
            "source_split": "train",
        }
        for i in range(1, 2501)
    ]
    rows[1500] = {k: None for k in rows[0]} | {"source_split": "test"}
    path = tmp_path / "hf.parquet"
    _write_parquet(path, rows)
    source = Source.from_file(path)
    assert tabular_parquet.detect(source.head().decode("utf-8", errors="replace"), "data.bin") == 95
    records, errors = split(tabular_parquet.parse(source))
    assert len(records) == 2499 and [e.line for e in errors] == [1501]
    first, last = records[0], records[-1]
    assert first.source.line == 1 and last.source.line == 2500
    assert first.ids[:1] == ["arxiv:2501.00001"] and last.title == "Paper number 2500"
    assert first.abstract == "An abstract." and names(first) == ["Ada Lovelace", "Alan Turing"]
    assert first.categories == ["cs.LG", "stat.ML"] and first.score == 0.5
    assert first.dates == {"created": PartialDate(2025, 1, 2)}
    assert first.extra == {"source_split": "train"}
    assert json.loads(first.raw)["created"] == "2025-01-02T03:04:05"


def test_parquet_column_map_and_broken_file(tmp_path):
    path = tmp_path / "t.parquet"
    _write_parquet(path, [{"Headline": "Attention Is All You Need", "Blurb": "Transformers."}])
    (rec,), _ = split(
        tabular_parquet.parse(Source.from_file(path), {"title": "Headline", "abstract": "Blurb"})
    )
    assert rec.title == "Attention Is All You Need" and rec.abstract == "Transformers."
    bad = tmp_path / "bad.parquet"
    bad.write_bytes(b"PAR1 this is not really parquet")
    (err,) = list(tabular_parquet.parse(Source.from_file(bad)))
    assert isinstance(err, ParseError) and "not a readable Parquet file" in err.reason
    assert tabular_parquet.detect("id,title\n", "x.csv") == 0


def test_jsonl_real_csfcube_corpus_with_map(tmp_path):
    path = tmp_path / "corpus.jsonl"
    path.write_bytes(gzip.decompress(shared("eval/csfcube/corpus.jsonl.gz").read_bytes()))
    guessed, errors = split(tabular_jsonl.parse(Source.from_file(path)))
    assert len(guessed) == 4205 and errors == []
    assert guessed[0].ids == [] and guessed[0].extra["paper_id"] == "10010426"  # a bare number: no namespace
    cmap = tabular_jsonl.parse_map_option("corpus=paper_id")
    mapped, _ = split(tabular_jsonl.parse(Source.from_file(path), cmap))
    first = mapped[0]
    assert first.ids == ["corpus:10010426"]  # the README: "S2ORC/Semantic Scholar corpus ids"
    assert first.title == (
        "And That's A Fact: Distinguishing Factual and Emotional Argumentation in Online Dialogue"
    )
    assert first.abstract.startswith("We investigate the characteristics of factual and emotional")
    assert first.dates == {"published": PartialDate(2017)}


def test_numeric_arxiv_ids_keep_their_trailing_zeros(tmp_path):
    """JSON and Parquet writers store 2410.10010 as the float 2410.1001; it must not become another paper."""
    from paperradar.importers import tabular_jsonl
    from paperradar.importers.base import Source

    path = tmp_path / "numbers.jsonl"
    path.write_text('{"arxiv_id": 2410.1001, "title": "A"}\n{"arxiv_id": 1409.1556, "title": "VGG"}\n')
    ids = [r.ids[0] for r in tabular_jsonl.parse(Source.from_file(path))]
    assert ids == ["arxiv:2410.10010", "arxiv:1409.1556"]
