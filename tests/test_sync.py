"""Sync against a real HTTP server on localhost answering with saved arXiv and Hugging Face responses.

The arXiv pages hold real cs.CL entries (tests/data/sync/make_pages.py says how they were saved);
run 1 covers 2026-06-29..07-01 in two pages of 5 and 3, run 2 the next day with one paper again.
"""

from __future__ import annotations

from datetime import date

import pytest

from delivery_fakes import NoSleep, api_server, closed_port  # noqa: F401 - fixtures
from paperradar.errors import InvalidInput
from paperradar.storage import cursors
from paperradar.storage.cursors import Cursor
from paperradar.sync import SyncOptions, parse_sources, sync

RUN1, RUN2 = date(2026, 7, 1), date(2026, 7, 2)


def options(api, today: date, t: NoSleep | None = None, **kw) -> SyncOptions:
    t = t or NoSleep()
    base = dict(arxiv_api=api.arxiv, hf_api=api.hf, arxiv_oai=api.oai, today=today, page_size=5, retries=1)
    return SyncOptions(**(base | kw), sleep=t.sleep, clock=t.clock)


def paper_count(lib) -> int:
    return lib.counts()["papers"]


def test_first_sync_pages_through_the_window_and_imports_everything(lib, api):
    t = NoSleep()
    [report] = sync(lib, ["arxiv:cs.CL"], options(api, RUN1, t))
    assert report.error is None and report.done
    assert (report.requests, report.read, report.new) == (2, 8, 8)
    queries = [r["search_query"] for r in api.requests]
    assert queries == ["cat:cs.CL AND submittedDate:[202606290000 TO 202607012359]"] * 2
    assert [r["start"] for r in api.requests] == ["0", "5"]
    assert t.sleeps == [3.0]  # arXiv's 3 s between the two pages
    assert paper_count(lib) == 8
    p = lib.resolve("arxiv:2606.28737")
    assert "cs.CL" in lib.paper_row(p).data["categories"]
    assert cursors.get_cursor(lib, "arxiv:cs.CL") == Cursor(until="2026-07-01")


def test_next_sync_starts_where_the_last_one_stopped(lib, api):
    sync(lib, ["arxiv:cs.CL"], options(api, RUN1))
    api.requests.clear()
    [report] = sync(lib, ["arxiv:cs.CL"], options(api, RUN2))
    assert api.requests[0]["search_query"].endswith("[202607010000 TO 202607022359]")
    assert (report.read, report.new, report.unchanged) == (4, 3, 1)  # the repeated paper is not doubled
    assert paper_count(lib) == 11


def test_failure_midway_keeps_the_first_page_and_resumes_after_it(lib, api):
    api.fail_after = 1  # the first page arrives, then the server fails
    [report] = sync(lib, ["arxiv:cs.CL"], options(api, RUN1))
    assert "HTTP 503" in report.error and "try again later" in report.error
    assert paper_count(lib) == 5
    cursor = cursors.get_cursor(lib, "arxiv:cs.CL")
    assert cursor == Cursor(window=("2026-06-29", "2026-07-01"), start=5)
    assert cursor.as_json() == {"window": ["2026-06-29", "2026-07-01"], "start": 5}  # as stored
    [state] = cursors.sync_states(lib)
    assert state.source == "arxiv:cs.CL" and state.cursor == cursor and state.last_error == report.error

    api.fail_after, api.requests = None, []
    [again] = sync(lib, ["arxiv:cs.CL"], options(api, RUN2))  # a day later: the old window is finished first
    assert [r["start"] for r in api.requests] == ["5"]
    assert api.requests[0]["search_query"].endswith("[202606290000 TO 202607012359]")
    assert again.error is None and again.new == 3 and paper_count(lib) == 8
    assert cursors.get_cursor(lib, "arxiv:cs.CL") == Cursor(until="2026-07-01")
    assert cursors.sync_states(lib)[0].last_error is None


def test_offline_changes_nothing_and_says_so(lib):
    port = closed_port()
    url = f"http://127.0.0.1:{port}"
    opts = SyncOptions(arxiv_api=f"{url}/api/query", hf_api=f"{url}/api/daily_papers", today=RUN1, retries=0)
    reports = sync(lib, ["arxiv:cs.CL", "hf"], opts)
    assert [r.error for r in reports] == [
        f"cannot reach 127.0.0.1:{port}: connection refused (1 attempt); are you offline?"
    ] * 2
    assert paper_count(lib) == 0
    assert cursors.get_cursor(lib, "arxiv:cs.CL") == Cursor() == cursors.get_cursor(lib, "hf")


def test_server_error_before_any_page_changes_nothing(lib, api):
    api.fail_first = 10
    [report] = sync(lib, ["arxiv:cs.CL"], options(api, RUN1))
    assert "HTTP 503" in report.error and paper_count(lib) == 0
    assert cursors.get_cursor(lib, "arxiv:cs.CL") == Cursor()


def test_hf_daily_fetches_each_day_since_the_last_finished_one(lib, api):
    [report] = sync(lib, ["hf"], options(api, date(2024, 10, 16), days=2))
    assert [r["date"] for r in api.requests] == ["2024-10-14", "2024-10-15", "2024-10-16"]
    assert report.new == 2 and paper_count(lib) == 2
    assert cursors.get_cursor(lib, "hf") == Cursor(done="2024-10-15")  # today is fetched again next time
    api.requests.clear()
    sync(lib, ["hf"], options(api, date(2024, 10, 16)))
    assert [r["date"] for r in api.requests] == ["2024-10-16"]


def test_hf_and_arxiv_dedupe_through_the_same_import_path(lib, api):
    # HF Daily of 2024-03-07 lists GaLore, and an id lookup of arXiv brings the same paper
    sync(lib, ["hf"], options(api, date(2024, 3, 7), days=0))
    before = paper_count(lib)
    from paperradar.enrich import enrich

    t = NoSleep()
    enrich(lib, base_url=api.arxiv, sleep=t.sleep, clock=t.clock)
    assert paper_count(lib) == before
    assert lib.resolve("arxiv:2403.03507") is not None


def test_oai_harvest_follows_the_resumption_token_and_keeps_one_category(lib, api):
    t = NoSleep()
    [report] = sync(lib, ["arxiv-oai:cs.CL"], options(api, RUN1, t))
    assert report.error is None and report.done
    first, second = api.requests
    assert first == {
        "path": "/oai",
        "verb": "ListRecords",
        "metadataPrefix": "arXiv",
        "set": "cs",
        "from": "2026-06-29",
    }
    assert second == {"path": "/oai", "verb": "ListRecords", "resumptionToken": "6961466|1001"}
    assert t.sleeps == [3.0]  # arXiv's pace between pages
    assert report.new == 6 and paper_count(lib) == 6  # the 3 cs.CV/cs.LG records of the set stay out
    p = lib.paper_row(lib.resolve("arxiv:2606.28667"))
    assert p.title == "Phonological Perception of Sign Language Models"
    assert [a["name"] for a in p.data["authors"]][:2] == ["Kayo Yin", "Jessica Carter"]
    # the next harvest starts from the date of the last answer, and an empty one is not an error
    assert cursors.get_cursor(lib, "arxiv-oai:cs.CL") == Cursor(from_="2026-07-01")
    api.requests.clear()
    [again] = sync(lib, ["arxiv-oai:cs.CL"], options(api, RUN2))
    assert api.requests[0]["from"] == "2026-07-01" and again.error is None and again.new == 0
    assert cursors.get_cursor(lib, "arxiv-oai:cs.CL") == Cursor(from_="2026-07-02")


def test_oai_whole_set_and_resume_after_a_failure(lib, api):
    api.fail_after = 1  # the first page arrives, then the server fails
    [report] = sync(lib, ["arxiv-oai:cs"], options(api, RUN1))
    assert "HTTP 503" in report.error and paper_count(lib) == 6
    assert cursors.get_cursor(lib, "arxiv-oai:cs").as_json() == {
        "from": "2026-06-29",
        "token": "6961466|1001",
    }
    api.fail_after, api.requests = None, []
    [again] = sync(lib, ["arxiv-oai:cs"], options(api, RUN2))
    assert [r.get("resumptionToken") for r in api.requests] == ["6961466|1001"]
    assert again.error is None and paper_count(lib) == 9


def test_oai_flow_control_is_waited_out(lib, api):
    api.fail_first, api.retry_after = 1, "20"  # arXiv answers 503 with Retry-After when busy
    t = NoSleep()
    [report] = sync(lib, ["arxiv-oai:cs"], options(api, RUN1, t))
    assert report.error is None and paper_count(lib) == 9
    assert t.sleeps[0] == 20.0


def test_same_paper_from_oai_and_the_api_is_one_paper(lib, api):
    sync(lib, ["arxiv-oai:cs.CL", "arxiv:cs.CL"], options(api, RUN1))
    # 2606.28737 is in both answers (6 cs.CL records harvested, 8 from the API): 13 papers
    assert paper_count(lib) == 13
    paper = lib.paper_row(lib.resolve("arxiv:2606.28737"))
    assert lib.conn.execute("SELECT count(*) FROM records WHERE paper_pk = ?", (paper.pk,)).fetchone()[0] == 2


def test_sources_are_checked():
    assert parse_sources("arxiv:cs.CL, hf arxiv:cs.CL") == ["arxiv:cs.CL", "hf"]
    assert parse_sources("arxiv-oai:physics:hep-th arxiv-oai:cs.CL") == [
        "arxiv-oai:physics:hep-th",
        "arxiv-oai:cs.CL",
    ]
    with pytest.raises(InvalidInput, match="unknown sync source 'arxiv'"):
        parse_sources("arxiv")
    with pytest.raises(InvalidInput, match="no sync sources"):
        parse_sources("")


OAI_DC = """<?xml version="1.0" encoding="UTF-8"?>
<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/">
<responseDate>2026-07-01T09:12:44Z</responseDate>
<ListRecords>
<record><header status="deleted"><identifier>oai:arXiv.org:2606.00001</identifier><datestamp>2026-06-30</datestamp></header></record>
<record><header><identifier>oai:arXiv.org:2403.03507</identifier><datestamp>2024-06-04</datestamp><setSpec>cs</setSpec></header>
<metadata><oai_dc:dc xmlns:oai_dc="http://www.openarchives.org/OAI/2.0/oai_dc/" xmlns:dc="http://purl.org/dc/elements/1.1/">
<dc:title>GaLore: Memory-Efficient LLM Training by Gradient Low-Rank Projection</dc:title>
<dc:creator>Zhao, Jiawei</dc:creator><dc:creator>Zhang, Zhenyu</dc:creator>
<dc:subject>Computer Science - Machine Learning</dc:subject>
<dc:description>Training Large Language Models (LLMs) presents significant memory challenges.</dc:description>
<dc:date>2024-03-06</dc:date><dc:date>2024-06-02</dc:date>
<dc:type>text</dc:type><dc:identifier>http://arxiv.org/abs/2403.03507</dc:identifier>
</oai_dc:dc></metadata></record>
<record><header><identifier>oai:arXiv.org:x</identifier></header><metadata><oai_dc:dc xmlns:oai_dc="http://www.openarchives.org/OAI/2.0/oai_dc/" xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>No id</dc:title></oai_dc:dc></metadata></record>
</ListRecords>
</OAI-PMH>
"""


def test_oai_importer_reads_oai_dc_skips_deleted_and_reports_bad_records():
    from paperradar import importers
    from paperradar.importers import arxiv_oai
    from paperradar.importers.base import Source
    from paperradar.models import Record

    source = Source.from_text(OAI_DC, "oai.xml")
    assert importers.detect(source).NAME == "arxiv_oai"
    [rec, bad] = list(arxiv_oai.parse(source))
    assert isinstance(rec, Record) and rec.ids[0] == "arxiv:2403.03507"
    assert [a.name for a in rec.authors] == ["Jiawei Zhao", "Zhenyu Zhang"]
    assert {k: d.iso() for k, d in rec.dates.items()} == {"published": "2024-03-06", "updated": "2024-06-02"}
    assert rec.source.line == 6 and rec.raw.startswith("<record><header><identifier>oai:arXiv.org:2403.03507")
    assert not isinstance(bad, Record) and "without an arXiv identifier" in bad.reason and bad.line == 15


def test_sync_and_index_reports_the_ranking_features_build(lib, api):
    """`paperradar sync` shows each long step on a terminal: after the papers arrive, the ranking
    features build says so too (the progress message is the last argument in every protocol)."""
    from paperradar.rank.features import current_features
    from paperradar.sync import sync_and_index

    messages: list[str] = []
    [report] = sync_and_index(lib, ["arxiv:cs.CL"], options(api, RUN1), lambda *a: messages.append(a[-1]))
    assert report.new == 8
    assert messages and messages[-1] == "building the ranking features"
    feats = current_features(lib)
    assert feats is not None and len(feats.pks) == 8
