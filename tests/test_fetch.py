"""Fetchers against a real HTTP server on localhost that serves saved API responses.

The server can fail the first N requests, answer 429 with Retry-After, or stall; it records every
request so paging, resuming and headers can be checked. Pages go through the real parsers.
Waiting is tested with an injected clock and sleep: nothing really sleeps for seconds.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from conftest import http_server
from paperradar.errors import InvalidInput, NetworkError
from paperradar.fetch import fetch_arxiv, fetch_hf_daily
from paperradar.importers import arxiv_atom, hf_daily
from paperradar.importers.base import Source
from paperradar.models import Record

DATA = Path(__file__).parent / "data"
IDS = ["2403.03507", "2407.08296", "2410.09918"]


@dataclass
class Request:
    path: str
    query: dict[str, str]
    headers: dict[str, str]


@dataclass
class FakeAPI:
    """What the local server does; tests change these fields."""

    base: str = ""
    fail_first: int = 0
    fail_status: int = 503
    retry_after: str | None = None
    stall: float = 0.0
    requests: list[Request] = field(default_factory=list)

    def answer(self, path: str, q: dict[str, str]) -> tuple[int, str, bytes]:
        if path == "/api/query":
            if q.get("id_list") == "1234.12345":
                return 400, "application/atom+xml", (DATA / "arxiv/error_feed.xml").read_bytes()
            if q.get("search_query") == "html":
                return 200, "text/html", b"<html><body>Please log in</body></html>"
            pages = {"0": "id_list_page1.xml", "2": "id_list_page2.xml"} if "id_list" in q else {}
            name = pages.get(q.get("start", ""), "empty_page.xml")
            return 200, "application/atom+xml", (DATA / "arxiv" / name).read_bytes()
        if path == "/api/daily_papers":
            day = DATA / "hf" / f"daily_papers_{q.get('date')}.json"
            if day.exists():
                return 200, "application/json", day.read_bytes()
            return 404, "application/json", b'{"error": "Not Found"}'
        return 404, "text/plain", b"not found"


def _handler(api: FakeAPI) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            url = urlsplit(self.path)
            query = {k: v[-1] for k, v in parse_qs(url.query).items()}
            api.requests.append(Request(url.path, query, dict(self.headers)))
            if api.stall:
                time.sleep(api.stall)
            if api.fail_first > 0:
                api.fail_first -= 1
                self._send(api.fail_status, "text/plain", b"busy", api.retry_after)
                return
            self._send(*api.answer(url.path, query))

        def _send(self, status: int, ctype: str, body: bytes, retry_after: str | None = None) -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            if retry_after:
                self.send_header("Retry-After", retry_after)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    return Handler


@pytest.fixture
def api() -> Iterator[FakeAPI]:
    fake = FakeAPI()
    with http_server(_handler(fake)) as base:
        fake.base = base
        yield fake


class FakeTime:
    """A monotonic clock that moves only when slept on (plus `per_call` each time it is read)."""

    def __init__(self, per_call: float = 0.0) -> None:
        self.now = 1000.0
        self.per_call = per_call
        self.sleeps: list[float] = []

    def clock(self) -> float:
        self.now += self.per_call
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(round(seconds, 6))
        self.now += seconds


def records_of(pages: list[bytes]) -> list[Record]:
    out = []
    for i, page in enumerate(pages):
        out += [r for r in arxiv_atom.parse(Source.from_bytes(page, f"page{i}")) if isinstance(r, Record)]
    return out


# ---------------------------------------------------------------- arXiv


def test_arxiv_pages_through_all_results(api):
    t = FakeTime()
    progress: list[int] = []
    pages = list(
        fetch_arxiv(
            ids=IDS, page_size=2, base_url=f"{api.base}/api/query",
            on_page=progress.append, sleep=t.sleep, clock=t.clock,
        )
    )  # fmt: skip
    assert len(pages) == 2
    assert [r.ids[0] for r in records_of(pages)] == [f"arxiv:{i}" for i in IDS]
    assert [(q.query["start"], q.query["max_results"]) for q in api.requests] == [("0", "2"), ("2", "2")]
    assert api.requests[0].query["id_list"] == ",".join(IDS)
    assert progress == [2, 3]
    assert api.requests[0].headers["User-Agent"].startswith("paperradar/")


def test_arxiv_waits_between_requests(api):
    t = FakeTime(per_call=0.5)  # each clock reading moves half a second: requests take time
    list(fetch_arxiv(ids=IDS, page_size=2, base_url=f"{api.base}/api/query", sleep=t.sleep, clock=t.clock))
    assert len(api.requests) == 2
    assert len(t.sleeps) == 1 and 0 < t.sleeps[0] < 3.0  # the rest of the 3 s since the last request


def test_arxiv_resumes_from_saved_offset(api):
    t = FakeTime()
    progress: list[int] = []
    pages = list(
        fetch_arxiv(
            ids=IDS, start=2, page_size=2, base_url=f"{api.base}/api/query",
            on_page=progress.append, sleep=t.sleep, clock=t.clock,
        )
    )  # fmt: skip
    assert [r.title.split(":")[0] for r in records_of(pages)] == ["Dualformer"]
    assert [q.query["start"] for q in api.requests] == ["2"]
    assert progress == [3]
    assert t.sleeps == []


def test_arxiv_max_results_caps_the_fetch(api):
    t = FakeTime()
    pages = list(
        fetch_arxiv(
            ids=IDS, page_size=100, max_results=2, base_url=f"{api.base}/api/query",
            sleep=t.sleep, clock=t.clock,
        )
    )  # fmt: skip
    assert len(pages) == 1
    assert api.requests[0].query["max_results"] == "2"


def test_arxiv_stops_on_empty_result(api):
    t = FakeTime()
    pages = list(fetch_arxiv("ti:qwzxqwzx", base_url=f"{api.base}/api/query", sleep=t.sleep, clock=t.clock))
    assert len(pages) == 1 and records_of(pages) == []
    assert api.requests[0].query["search_query"] == "ti:qwzxqwzx"


def test_arxiv_retries_with_backoff(api):
    api.fail_first = 2
    t = FakeTime()
    pages = list(
        fetch_arxiv(ids=IDS, start=2, base_url=f"{api.base}/api/query", delay=0, sleep=t.sleep, clock=t.clock)
    )
    assert len(records_of(pages)) == 1
    assert len(api.requests) == 3
    assert t.sleeps == [2.0, 4.0]


def test_arxiv_honours_retry_after(api):
    api.fail_first, api.fail_status, api.retry_after = 1, 429, "7"
    t = FakeTime()
    list(
        fetch_arxiv(ids=IDS, start=2, base_url=f"{api.base}/api/query", delay=0, sleep=t.sleep, clock=t.clock)
    )
    assert t.sleeps == [7.0]


def test_arxiv_server_that_keeps_failing(api):
    api.fail_first = 100
    t = FakeTime()
    with pytest.raises(NetworkError) as err:
        list(fetch_arxiv(ids=IDS, base_url=f"{api.base}/api/query", retries=2, sleep=t.sleep, clock=t.clock))
    message = str(err.value)
    assert "HTTP 503" in message and "3 attempts" in message and "try again later" in message
    assert "\n" not in message
    assert len(api.requests) == 3


def test_arxiv_error_feed_is_reported(api):
    t = FakeTime()
    with pytest.raises(InvalidInput, match="incorrect id format for 1234.12345"):
        list(fetch_arxiv(ids=["1234.12345"], base_url=f"{api.base}/api/query", sleep=t.sleep, clock=t.clock))
    assert len(api.requests) == 1  # a refused query is not retried


def test_arxiv_answer_that_is_not_a_feed(api):
    t = FakeTime()
    with pytest.raises(NetworkError, match="did not answer with an arXiv API feed"):
        list(fetch_arxiv("html", base_url=f"{api.base}/api/query", sleep=t.sleep, clock=t.clock))


def test_arxiv_needs_a_query():
    with pytest.raises(InvalidInput):
        list(fetch_arxiv())


def test_offline_gives_a_readable_network_error():
    with socket.socket() as s:  # a port that nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    t = FakeTime()
    with pytest.raises(NetworkError) as err:
        list(
            fetch_arxiv(
                "all:galore", base_url=f"http://127.0.0.1:{port}/api/query", sleep=t.sleep, clock=t.clock
            )
        )
    message = str(err.value)
    assert message.startswith(f"cannot reach 127.0.0.1:{port}: ")
    assert message.endswith("are you offline?")
    assert "Traceback" not in message and "\n" not in message
    assert t.sleeps == [3.0, 4.0, 8.0, 16.0]  # backoff 2, 4, 8, 16 s, but never under the 3 s pace


def test_timeout_gives_a_network_error(api):
    api.stall = 0.5
    with pytest.raises(NetworkError, match=r"did not answer within 0.2s"):
        fetch_hf_daily("2024-10-15", base_url=f"{api.base}/api/daily_papers", timeout=0.2, retries=0)


# ---------------------------------------------------------------- Hugging Face


def test_hf_daily_fetch_and_parse(api):
    body = fetch_hf_daily("2024-10-15", base_url=f"{api.base}/api/daily_papers")
    assert api.requests[0].query == {"date": "2024-10-15"}
    records = [r for r in hf_daily.parse(Source.from_bytes(body, "hf")) if isinstance(r, Record)]
    assert [r.ids[0] for r in records] == ["arxiv:2410.09918", "arxiv:2410.10630"]


def test_hf_daily_retries_then_succeeds(api):
    api.fail_first = 1
    t = FakeTime()
    body = fetch_hf_daily("2024-03-07", base_url=f"{api.base}/api/daily_papers", sleep=t.sleep, clock=t.clock)
    assert b"2403.03507" in body
    assert t.sleeps == [2.0]


def test_hf_daily_bad_date_and_missing_day(api):
    with pytest.raises(InvalidInput, match="YYYY-MM-DD"):
        fetch_hf_daily("15/10/2024", base_url=f"{api.base}/api/daily_papers")
    assert api.requests == []
    with pytest.raises(NetworkError, match="HTTP 404"):
        fetch_hf_daily("1999-01-01", base_url=f"{api.base}/api/daily_papers")
