"""Fuzz every importer with generated inputs (hypothesis), CI-sized: what bench/fuzz.py runs 10,000
times per importer, a few hundred times here. A user who imports a hostile or broken file gets no
traceback, every rejection names the file and a reason, and a broken record never costs its valid
neighbours. Inputs are derandomized (the same examples every run), so a failure here is never a
fluke of the draw. No I/O beyond the in-memory sources and the sample files in tests/data.
"""

from __future__ import annotations

import csv
import importlib.util
import io
import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from paperradar import importers
from paperradar.errors import ParseError
from paperradar.importers.base import UPLOAD_LIMITS, Source
from paperradar.ingest import _parse
from paperradar.models import Record


def _load_bench_fuzz() -> Any:
    """bench/fuzz.py, the campaign's own input generator and checker (one implementation)."""
    path = Path(__file__).resolve().parents[1] / "bench" / "fuzz.py"
    spec = importlib.util.spec_from_file_location("bench_fuzz", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_fuzz"] = module
    spec.loader.exec_module(module)
    return module


fuzz = _load_bench_fuzz()

# The eight importers the first campaign did not reach get a few hundred inputs; the ten it ran
# 10,000 times (docs/benchmarks.md) keep a smaller standing guard.
NEW = [
    "csljson",
    "json_papers",
    "ris",
    "tabular_csv",
    "tabular_jsonl",
    "tabular_parquet",
    "wos",
    "zotero_json",
]
EXAMPLES = {name: 200 if name in NEW else 40 for name in importers.IMPORTERS}
# FUZZ_HUNT=N turns the neighbour tests into a campaign: N random (not derandomized) examples each
# (docs/benchmarks.md: `FUZZ_HUNT=10000 pytest tests/test_fuzz_importers.py -k around`).
HUNT = int(os.environ.get("FUZZ_HUNT", "0"))
DERANDOMIZED = settings(
    derandomize=not HUNT,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    max_examples=HUNT or 100,
)


@pytest.mark.parametrize("name", sorted(importers.IMPORTERS))
def test_generated_inputs_never_crash_and_every_rejection_is_clear(name):
    tally = dict.fromkeys(
        ["inputs", "accepted_inputs", "crashes", "rejections", "unclear", "no_line", "records"], 0
    )
    tally["examples"], tally["no_line_reasons"] = [], []

    @settings(DERANDOMIZED, max_examples=EXAMPLES[name])
    @given(fuzz.inputs())
    def run(data: bytes) -> None:
        fuzz.check_one(name, data, tally)

    run()
    assert tally["crashes"] == 0, tally["examples"]
    assert tally["unclear"] == 0
    assert tally["inputs"] == EXAMPLES[name]


# -- valid neighbours survive a broken record between them -------------------------------------

ALPHA, OMEGA = "Alpha neighbour of a broken record", "Omega neighbour of a broken record"
_BREAKS = "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"
line_text = st.text(st.characters(blacklist_characters=_BREAKS, codec="utf-8"), max_size=60)
hostile = st.one_of(line_text, st.sampled_from(fuzz.TOKENS).filter(lambda t: not set(t) & set(_BREAKS)))
json_value = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | hostile,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(hostile, inner, max_size=4),
    max_leaves=12,
)


def parsed(name: str, data: bytes) -> list[Record | ParseError]:
    source = Source.from_bytes(data, "neighbours.in", UPLOAD_LIMITS)
    return list(_parse(importers.load(name), source, None)) + list(source.issues)


def assert_neighbours_kept(name: str, data: bytes) -> None:
    items = parsed(name, data)
    titles = [i.title for i in items if isinstance(i, Record)]
    assert ALPHA in titles and OMEGA in titles, (titles, [str(i) for i in items if isinstance(i, ParseError)])
    for e in (i for i in items if isinstance(i, ParseError)):
        assert e.source == "neighbours.in" and e.reason


def tag_lines(tags: list[str], sep: str, forbidden: set[str]) -> st.SearchStrategy[list[str]]:
    """Tagged lines of a broken record: known and random tags, hostile values, never a tag that
    would end the record or start another one."""
    tag = st.one_of(
        st.sampled_from(tags), st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", min_size=2, max_size=2)
    )
    line = st.one_of(
        st.tuples(tag, hostile).map(lambda t: f"{t[0]}{sep}{t[1]}"), hostile.map(lambda v: "   " + v)
    )
    return st.lists(line.filter(lambda x: x[:2] not in forbidden), max_size=12)


RIS_TAGS = [
    "TI",
    "T1",
    "AU",
    "A1",
    "PY",
    "Y1",
    "DA",
    "UR",
    "L1",
    "DO",
    "AB",
    "N2",
    "KW",
    "JO",
    "T2",
    "ID",
    "SN",
]


@DERANDOMIZED
@given(tag_lines(RIS_TAGS, "  - ", {"ER", "TY"}))
def test_ris_keeps_the_records_around_a_broken_one(lines):
    def record(title: str) -> str:
        return f"TY  - JOUR\nTI  - {title}\nAU  - Doe, Jane\nPY  - 2024\nER  - \n\n"

    middle = "TY  - JOUR\n" + "".join(x + "\n" for x in lines) + "ER  - \n\n"
    assert_neighbours_kept("ris", (record(ALPHA) + middle + record(OMEGA)).encode())


WOS_TAGS = ["TI", "AU", "AF", "AB", "SO", "PY", "PD", "DI", "PM", "UT", "DE", "C1", "CR", "DT"]


@DERANDOMIZED
@given(tag_lines(WOS_TAGS, " ", {"ER", "PT", "EF", "FN", "VR"}))
def test_wos_keeps_the_records_around_a_broken_one(lines):
    def record(title: str) -> str:
        return f"PT J\nAU Doe, J\nAF Doe, Jane\nTI {title}\nPY 2024\nER\n\n"

    middle = "PT J\n" + "".join(x + "\n" for x in lines) + "ER\n\n"
    text = "FN Clarivate Analytics Web of Science\nVR 1.0\n" + record(ALPHA) + middle + record(OMEGA) + "EF\n"
    assert_neighbours_kept("wos", text.encode())


CSV_HEADER = ["id", "title", "abstract", "authors", "year", "url", "pdf_url", "categories"]


@DERANDOMIZED
@given(st.lists(hostile, max_size=len(CSV_HEADER) + 3))
def test_csv_keeps_the_rows_around_a_broken_one(cells):
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    writer.writerow(["arxiv:2401.00001", ALPHA, "An abstract.", "Jane Doe", "2024", "", "", "cs.CL"])
    writer.writerow(cells)
    writer.writerow(["arxiv:2401.00002", OMEGA, "An abstract.", "Jane Doe", "2024", "", "", "cs.CL"])
    assert_neighbours_kept("tabular_csv", out.getvalue().encode("utf-8", "surrogatepass"))


def paper(title: str, n: int) -> dict[str, Any]:
    return {"id": f"arxiv:2401.0000{n}", "title": title, "abstract": "An abstract.", "authors": "Jane Doe"}


PAPER_KEYS = ["id", "title", "abstract", "authors", "year", "url", "pdf", "doi", "categories", "published"]
paper_like = st.dictionaries(st.sampled_from(PAPER_KEYS) | hostile, json_value, max_size=8)


@DERANDOMIZED
@given(st.one_of(line_text, paper_like.map(json.dumps)))
def test_jsonl_keeps_the_lines_around_a_broken_one(middle):
    text = json.dumps(paper(ALPHA, 1)) + "\n" + middle + "\n" + json.dumps(paper(OMEGA, 2)) + "\n"
    assert_neighbours_kept("tabular_jsonl", text.encode("utf-8", "surrogatepass"))


@settings(DERANDOMIZED, max_examples=HUNT or 40)  # each example writes a Parquet file in memory
@given(st.lists(st.none() | hostile, min_size=4, max_size=4))
def test_parquet_keeps_the_rows_around_a_broken_one(cells):
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    cells = [c.encode("utf-8", "replace").decode() if c is not None else None for c in cells]
    columns = {"id": ["arxiv:2401.00001", cells[0], "arxiv:2401.00002"], "title": [ALPHA, cells[1], OMEGA]}
    columns |= {
        "abstract": ["An abstract.", cells[2], "An abstract."],
        "authors": ["Jane Doe", cells[3], "Jane Doe"],
    }
    out = io.BytesIO()
    pq.write_table(pa.table(columns), out)
    assert_neighbours_kept("tabular_parquet", out.getvalue())


def json_array(items: list[Any]) -> bytes:
    return json.dumps(items, indent=1).encode("utf-8", "surrogatepass")


CSL_KEYS = ["id", "type", "title", "author", "issued", "DOI", "URL", "number", "container-title", "note"]
CSL_KEYS += ["keyword", "abstract", "PMID", "custom", "editor"]


def csl(title: str, n: int) -> dict[str, Any]:
    return {
        "id": f"p{n}",
        "type": "article-journal",
        "title": title,
        "author": [{"family": "Doe", "given": "Jane"}],
    }


@DERANDOMIZED
@given(st.one_of(json_value, st.dictionaries(st.sampled_from(CSL_KEYS), json_value, max_size=8)))
def test_csljson_keeps_the_items_around_a_broken_one(middle):
    assert_neighbours_kept("csljson", json_array([csl(ALPHA, 1), middle, csl(OMEGA, 2)]))


S2_KEYS = ["paperId", "externalIds", "publicationDate", "year", "journal", "openAccessPdf", "venue"]


@DERANDOMIZED
@given(st.one_of(json_value, st.dictionaries(st.sampled_from(PAPER_KEYS + S2_KEYS), json_value, max_size=8)))
def test_json_papers_keeps_the_items_around_a_broken_one(middle):
    items = [{**paper(ALPHA, 1), "year": 2024}, middle, {**paper(OMEGA, 2), "year": 2024}]
    assert_neighbours_kept("json_papers", json_array(items))


ZOTERO_KEYS = ["itemType", "title", "creators", "date", "DOI", "url", "extra", "abstractNote"]
ZOTERO_KEYS += ["publicationTitle", "archiveID", "collections", "tags", "key"]


def zotero(title: str, n: int) -> dict[str, Any]:
    creators = [{"creatorType": "author", "firstName": "Jane", "lastName": "Doe"}]
    data = {
        "key": f"KEY{n}",
        "itemType": "journalArticle",
        "title": title,
        "creators": creators,
        "date": "2024",
    }
    return {"key": f"KEY{n}", "version": 1, "data": data}


zotero_like = st.dictionaries(st.sampled_from(ZOTERO_KEYS), json_value, max_size=8)


@DERANDOMIZED
@given(st.one_of(json_value, zotero_like, zotero_like.map(lambda d: {"key": "BROKEN", "data": d})))
def test_zotero_json_keeps_the_items_around_a_broken_one(middle):
    assert_neighbours_kept("zotero_json", json_array([zotero(ALPHA, 1), middle, zotero(OMEGA, 2)]))


def test_a_zotero_item_with_odd_json_types_costs_nothing_around_it():
    # found by the fuzz: an itemType that is a list raised TypeError (unhashable) and lost the file
    broken = {"key": "ODD", "data": {"itemType": ["journalArticle"], "creators": 5, "title": "Odd types"}}
    data = json_array([zotero(ALPHA, 1), broken, {"itemType": {"a": 1}}, zotero(OMEGA, 2)])
    assert_neighbours_kept("zotero_json", data)
    assert "Odd types" in [i.title for i in parsed("zotero_json", data) if isinstance(i, Record)]


def test_a_parquet_row_with_text_that_is_not_utf8_costs_nothing_around_it():
    # found by `bench/fuzz.py --own`: pyarrow raised UnicodeDecodeError and the whole file was lost
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    titles = pa.array([ALPHA.encode(), b"\xf7broken", OMEGA.encode()], type=pa.binary()).view(pa.string())
    out = io.BytesIO()
    pq.write_table(
        pa.table({"id": ["arxiv:2401.00001", "arxiv:2401.00003", "arxiv:2401.00002"], "title": titles}), out
    )
    assert_neighbours_kept("tabular_parquet", out.getvalue())
    errors = [e for e in parsed("tabular_parquet", out.getvalue()) if isinstance(e, ParseError)]
    assert [(e.line, "not UTF-8" in e.reason) for e in errors] == [(2, True)]


def test_a_parquet_file_whose_column_name_is_not_utf8_is_one_clear_rejection():
    # found by `bench/fuzz.py --own` after the row fix: pyarrow raised UnicodeDecodeError on opening
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    out = io.BytesIO()
    pq.write_table(pa.table({"title": [ALPHA], "qqqqq": ["x"]}), out)
    data = out.getvalue().replace(b"qqqqq", b"q\xffqqq")
    errors = [e for e in parsed("tabular_parquet", data) if isinstance(e, ParseError)]
    assert len(errors) == 1 and "not a readable Parquet file" in errors[0].reason
