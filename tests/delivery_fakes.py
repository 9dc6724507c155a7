"""Real servers on localhost for the delivery tests: an HTTP server answering like the arXiv API and
Hugging Face Daily Papers from saved responses, and an SMTP server (aiosmtpd) that keeps what it
receives. Tests import the fixtures `api` and `smtp` from here (as `api_server`, `smtp_server`).
"""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from conftest import http_server

DATA = Path(__file__).parent / "data"
SYNC = DATA / "sync"
_ENTRY = re.compile(r"  <entry>.*?</entry>\n", re.S)
_ID = re.compile(r"<id>http://arxiv.org/abs/([^<]+?)(v\d+)?</id>")


def saved_entries() -> dict[str, str]:
    """arXiv id -> the <entry> text, from every saved arXiv API answer (real entries)."""
    out: dict[str, str] = {}
    for path in [*sorted((DATA / "arxiv").glob("id_list_page*.xml")), *sorted(SYNC.glob("*.xml"))]:
        for entry in _ENTRY.findall(path.read_text(encoding="utf-8")):
            m = _ID.search(entry)
            if m:
                out.setdefault(m.group(1), entry)
    return out


def id_list_feed(ids: list[str], start: int, size: int) -> bytes:
    """An arXiv API answer to an id_list lookup, built from saved entries (unknown ids are left out)."""
    pool = saved_entries()
    found = [pool[i] for i in ids if i in pool]
    page = found[start : start + size]
    head = (SYNC / "cs.CL_run1_start0.xml").read_text(encoding="utf-8").split("  <entry>")[0]
    head = re.sub(r"(totalResults[^>]*>)\d+", rf"\g<1>{len(found)}", head)
    head = re.sub(r"(startIndex[^>]*>)\d+", rf"\g<1>{start}", head)
    head = re.sub(r"(itemsPerPage[^>]*>)\d+", rf"\g<1>{size}", head)
    return (head + "".join(page) + "</feed>\n").encode()


@dataclass
class FakeAPI:
    base: str = ""
    fail_first: int = 0  # answer 503 to this many requests first
    fail_after: int | None = None  # answer 503 to every request after this many good ones
    retry_after: str | None = None  # sent with the 503 answers (arXiv's OAI flow control)
    default_run: str = "none"  # the saved run that answers a category query for another window
    requests: list[dict[str, str]] = field(default_factory=list)
    good: int = 0

    @property
    def arxiv(self) -> str:
        return f"{self.base}/api/query"

    @property
    def oai(self) -> str:
        return f"{self.base}/oai"

    @property
    def hf(self) -> str:
        return f"{self.base}/api/daily_papers"

    def answer(self, path: str, q: dict[str, str]) -> tuple[int, bytes]:
        if path == "/api/query" and "id_list" in q:
            ids = q["id_list"].split(",")
            return 200, id_list_feed(ids, int(q.get("start", 0)), int(q.get("max_results", 10)))
        if path == "/api/query":
            run = {"202606290000 TO 202607012359": "run1", "202607010000 TO 202607022359": "run2"}
            window = re.search(r"\[(.*)\]", q.get("search_query", ""))
            name = (
                SYNC
                / f"cs.CL_{run.get(window.group(1) if window else '', self.default_run)}_start{q.get('start')}.xml"
            )
            return 200, (name if name.exists() else DATA / "arxiv" / "empty_page.xml").read_bytes()
        if path == "/oai":
            if q.get("resumptionToken") == "6961466|1001":
                return 200, (SYNC / "oai_cs_page2.xml").read_bytes()
            if q.get("resumptionToken"):
                bad = b'<?xml version="1.0"?><OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/"><error code="badResumptionToken">expired</error></OAI-PMH>'
                return 200, bad
            first = (
                q.get("set") == "cs" and q.get("from") == "2026-06-29" and q.get("metadataPrefix") == "arXiv"
            )
            return 200, (SYNC / ("oai_cs_page1.xml" if first else "oai_no_records.xml")).read_bytes()
        if path == "/api/daily_papers":
            day = DATA / "hf" / f"daily_papers_{q.get('date')}.json"
            return 200, day.read_bytes() if day.exists() else b"[]"  # a day without papers
        return 404, b"not found"


def _handler(api: FakeAPI) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            url = urlsplit(self.path)
            query = {k: v[-1] for k, v in parse_qs(url.query).items()}
            api.requests.append({"path": url.path, **query})
            failing = api.fail_after is not None and api.good >= api.fail_after
            if api.fail_first > 0 or failing:
                api.fail_first -= not failing
                status, body = 503, b"busy"
            else:
                api.good += 1
                status, body = api.answer(url.path, query)
            self.send_response(status)
            if status == 503 and api.retry_after:
                self.send_header("Retry-After", api.retry_after)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    return Handler


@pytest.fixture(name="api")
def api_server() -> Iterator[FakeAPI]:
    fake = FakeAPI()
    with http_server(_handler(fake)) as base:
        fake.base = base
        yield fake


def closed_port() -> int:
    """A localhost port nothing listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class NoSleep:
    """An injected sleep that records the pauses instead of waiting."""

    def __init__(self) -> None:
        self.sleeps: list[float] = []
        self.now = 1000.0

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def clock(self) -> float:
        return self.now


# ---------------------------------------------------------------- SMTP


@dataclass
class Inbox:
    host: str = "127.0.0.1"
    port: int = 0
    messages: list[EmailMessage] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)
    reject_rcpt: bool = False
    logins: list[str] = field(default_factory=list)


class _Handler:
    def __init__(self, inbox: Inbox) -> None:
        self.inbox = inbox

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if self.inbox.reject_rcpt:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        msg = message_from_bytes(envelope.content, policy=policy.default)
        self.inbox.messages.append(msg)  # type: ignore[arg-type]
        self.inbox.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 Message accepted for delivery"


def start_smtp(inbox: Inbox, **kwargs):  # type: ignore[no-untyped-def]
    """An aiosmtpd server on a free localhost port; returns the controller (call .stop())."""
    from aiosmtpd.controller import Controller

    inbox.port = closed_port()
    controller = Controller(_Handler(inbox), hostname=inbox.host, port=inbox.port, ready_timeout=30, **kwargs)
    controller.start()
    return controller


@pytest.fixture(name="smtp")
def smtp_server() -> Iterator[Inbox]:
    inbox = Inbox()
    controller = start_smtp(inbox)
    yield inbox
    controller.stop()
