"""Hugging Face Daily Papers API responses -> Records (hf_daily)."""

from __future__ import annotations

import json
from pathlib import Path

from paperradar.errors import ParseError
from paperradar.importers import detect, hf_daily
from paperradar.importers.base import Source
from paperradar.models import Author, PartialDate, Record

DATA = Path(__file__).parent / "data" / "hf"
MARCH = DATA / "daily_papers_2024-03-07.json"  # one line, as the API sends it
OCTOBER = DATA / "daily_papers_2024-10-15.json"  # pretty-printed


def split(results) -> tuple[list[Record], list[ParseError]]:
    results = list(results)
    return [r for r in results if isinstance(r, Record)], [r for r in results if isinstance(r, ParseError)]


def read(path: Path) -> tuple[list[Record], list[ParseError]]:
    return split(hf_daily.parse(Source.from_file(path)))


def test_daily_list_gives_one_record_per_paper():
    records, errors = read(MARCH)
    assert errors == []
    assert [r.ids[0] for r in records] == ["arxiv:2403.03507", "arxiv:2403.03853", "arxiv:2403.03950"]
    galore = records[0]
    assert galore.ids == ["arxiv:2403.03507", "doi:10.48550/arxiv.2403.03507"]
    assert galore.title == "GaLore: Memory-Efficient LLM Training by Gradient Low-Rank Projection"
    assert galore.abstract.startswith("Training Large Language Models (LLMs) presents significant memory")
    assert galore.authors[0] == Author("Jiawei Zhao") and galore.authors[-1] == Author("Yuandong Tian")
    assert len(galore.authors) == 6
    assert galore.dates == {"published": PartialDate(2024, 3, 6), "listed": PartialDate(2024, 3, 7)}
    assert galore.upvotes == 183
    assert galore.links["code"] == ["https://github.com/jiaweizzhao/galore"]
    assert galore.links["url"] == ["https://huggingface.co/papers/2403.03507"]
    assert galore.extra["keywords"][:2] == ["Gradient Low-Rank Projection", "GaLore"]
    assert galore.extra["numComments"] == 6
    assert galore.extra["hf_users"] == {"Jiawei Zhao": "jiaweizhao", "Yuandong Tian": "tydsh"}
    assert galore.extra["submitted_by"] == "akhaliq"


def test_organisation_and_non_ascii_author():
    records, _ = read(MARCH)
    shortgpt, stop_regressing = records[1], records[2]
    assert shortgpt.organisation == "Baichuan Intelligent Technology"
    assert shortgpt.extra["hf_organization"] == "baichuan-inc"
    assert stop_regressing.organisation == "Google"
    assert Author("Adrien Ali Taïga") in stop_regressing.authors
    assert len(stop_regressing.authors) == 12
    assert "code" not in stop_regressing.links


def test_project_page_and_raw_item_with_its_line():
    records, errors = read(OCTOBER)
    assert errors == []
    dualformer, thinking = records
    assert dualformer.links["project"] == ["https://dualformer.github.io"]
    assert dualformer.organisation == "AI at Meta"
    assert dualformer.dates == {"published": PartialDate(2024, 10, 13), "listed": PartialDate(2024, 10, 15)}
    assert thinking.title == "Thinking LLMs: General Instruction Following with Thought Generation"
    text = OCTOBER.read_text()
    assert [r.source.line for r in records] == [2, text.splitlines().index("  {", 2) + 1]
    assert json.loads(dualformer.raw)["paper"]["id"] == "2410.09918"
    assert json.loads(thinking.raw)["paper"]["id"] == "2410.10630"
    assert dualformer.source.importer == "hf_daily"


def test_bare_paper_object():
    item = json.loads(MARCH.read_text())[0]
    [r] = list(hf_daily.parse(Source.from_text(json.dumps(item["paper"]), "paper.json")))
    assert r.ids[0] == "arxiv:2403.03507"
    assert r.dates["listed"] == PartialDate(2024, 3, 7)


def test_empty_day_and_api_error():
    assert list(hf_daily.parse(Source.from_text("[]", "empty.json"))) == []
    [e] = list(hf_daily.parse(Source.from_text('{"error": "Invalid date"}', "err.json")))
    assert isinstance(e, ParseError) and "Invalid date" in e.reason


def test_bad_items_do_not_lose_their_neighbours():
    items = json.loads(OCTOBER.read_text())
    text = json.dumps([items[0], "not a paper", {"paper": {"id": "", "upvotes": 3}}, items[1]], indent=1)
    records, errors = split(hf_daily.parse(Source.from_text(text, "mixed.json")))
    assert [r.ids[0] for r in records] == ["arxiv:2410.09918", "arxiv:2410.10630"]
    assert len(errors) == 2
    assert "JSON object" in errors[0].reason and "no arXiv id, title or summary" in errors[1].reason


def test_cut_off_response_keeps_complete_items():
    text = OCTOBER.read_text()
    cut = text[: text.index('"Thinking LLMs')]
    records, errors = split(hf_daily.parse(Source.from_text(cut, "cut.json")))
    assert [r.ids[0] for r in records] == ["arxiv:2410.09918"]
    assert len(errors) == 1 and "invalid JSON" in errors[0].reason


def test_detection():
    assert hf_daily.detect(MARCH.read_text()[:65536], "daily.json") >= 90
    assert hf_daily.detect(OCTOBER.read_text()[:65536], "daily.json") >= 90
    assert hf_daily.detect('[{"title": "x", "year": 2020}]', "papers.json") == 0
    assert hf_daily.detect('{"id": "2410.09918", "title": "x"}\n', "papers.jsonl") == 0
    assert detect(Source.from_file(MARCH)) is hf_daily
