"""The digest pages, feeds and feedback links of the web app, over a library of real cs.CL papers
(tests/data/sync) with the profile "rag" made of two RAG papers."""

from __future__ import annotations

import time
from pathlib import Path

import feedparser
import pytest

from paperradar import profiles
from paperradar.digest import FeedbackClaim, sign_feedback
from paperradar.digest.service import link_settings
from paperradar.importers.base import Source
from paperradar.ingest import import_source
from paperradar.storage import open_library
from web_helpers import client_for, is_error

SYNC = Path(__file__).parent / "data" / "sync"
OWN = ["arxiv:2606.28737", "arxiv:2606.29090"]
PAPER = "arxiv:2606.31033"


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    path = tmp_path_factory.mktemp("digest") / "lib.db"
    lib = open_library(path)
    for f in sorted(SYNC.glob("*.xml")):
        import_source(lib, Source.from_bytes(f.read_bytes(), f.name), "arxiv_atom")
    profiles.create_profile(lib, "rag", papers=OWN)
    secret = link_settings(lib).secret
    lib.close()
    return client_for(str(path)), secret, str(path)


def token(secret: str, kind: str = "not_interested", expires: float | None = None) -> str:
    claim = FeedbackClaim("rag", PAPER, kind, int(expires or time.time() + 3600))
    return sign_feedback(secret, claim)


def test_preview_json_and_page(setup):
    client, _, _ = setup
    body = client.get("/api/digest/rag", params={"limit": 3}).json()
    ids = [p["id"] for p in body["digest"]["papers"]]
    assert body["ok"] and len(ids) == 3 and not set(ids) & set(OWN)
    page = client.get("/digest/rag", params={"limit": 3}, headers={"accept": "text/html"})
    assert page.status_code == 200 and "3 new papers for rag" in page.text
    assert 'href="/digest/rag/feed.atom"' in page.text
    email = client.get("/digest/rag/email", params={"limit": 3})
    assert email.status_code == 200 and "paperradar digest" in email.text.lower()
    assert ids and all(f"https://arxiv.org/abs/{i[6:]}" in email.text for i in ids)
    assert "Digests" in client.get("/digest", headers={"accept": "text/html"}).text


def test_feeds_are_atom(setup):
    client, _, _ = setup
    twin = feedparser.parse(client.get("/api/digest/rag/feed.atom").content)
    r = client.get("/digest/rag/feed.atom")
    assert r.headers["content-type"].startswith("application/atom+xml")
    feed = feedparser.parse(r.content)
    assert not feed.bozo and len(feed.entries) == 9  # 11 papers less the profile's 2
    assert [e.id for e in twin.entries] == [e.id for e in feed.entries]  # the same feed under /api/
    s = feedparser.parse(client.get("/digest/search.atom", params={"q": "speech"}).content)
    assert not s.bozo and s.entries and all("speech" in (e.title + e.summary).lower() for e in s.entries)


def test_feedback_link_confirms_then_records(setup):
    client, secret, _ = setup
    t = token(secret)
    page = client.get("/digest/feedback", params={"t": t}, headers={"accept": "text/html"})
    assert page.status_code == 200 and "Not interested?" in page.text
    assert (
        client.get("/api/profiles/rag").json()["profile"]["feedback"] == []
    )  # opening the link changes nothing
    done = client.post(
        "/digest/feedback", data={"token": t, "csrf_token": client.csrf()}, headers={"accept": "text/html"}
    )
    assert done.status_code == 200 and "Recorded" in done.text
    history = client.get("/api/profiles/rag").json()["profile"]["feedback"]
    assert [(f["paper"], f["kind"]) for f in history] == [(PAPER, "not_interested")]
    assert PAPER not in [p["id"] for p in client.get("/api/digest/rag").json()["digest"]["papers"]]
    client.post_csrf("/api/profiles/rag/undo")


def test_feedback_api_and_bad_links(setup):
    client, secret, _ = setup
    r = client.post_csrf("/api/digest/feedback", json={"token": token(secret, "like")})
    assert r.json()["feedback"]["kind"] == "like"
    client.post_csrf("/api/profiles/rag/undo")
    forged = token("not the secret", "like")
    assert is_error(client.post_csrf("/api/digest/feedback", json={"token": forged}), 400)
    expired = token(secret, "like", expires=time.time() - 1)
    assert "expired" in client.post_csrf("/api/digest/feedback", json={"token": expired}).json()["error"]
    assert is_error(client.get("/digest/feedback", params={"t": forged}), 400)
    assert is_error(client.get("/api/digest/nobody"), 404)


@pytest.fixture
def fresh(tmp_path, monkeypatch):
    """A library of its own (sending changes it) and a loopback JSON webhook as the channel."""
    from conftest import http_server
    from test_webhook import Chat, _handler

    path = tmp_path / "lib.db"
    lib = open_library(path)
    for f in sorted(SYNC.glob("*.xml")):
        import_source(lib, Source.from_bytes(f.read_bytes(), f.name), "arxiv_atom")
    profiles.create_profile(lib, "rag", papers=OWN)
    lib.close()
    monkeypatch.delenv("PAPERRADAR_MAIL_TO", raising=False)
    chat = Chat()
    with http_server(_handler(chat)) as base:
        chat.base = base
        yield str(path), chat, monkeypatch


def test_send_digest_now_from_the_page_goes_once_to_the_configured_channels(fresh):
    path, chat, env = fresh
    page = client_for(path).get("/digest/rag", headers={"accept": "text/html"}).text
    assert "Send digest now" not in page and "set <code>mail_to</code>" in page  # no channel yet
    env.setenv("PAPERRADAR_WEBHOOKS", f"json={chat.base}/json/in")
    client = client_for(path)  # a server reads its settings once, as it starts
    page = client.get("/digest/rag", headers={"accept": "text/html"}).text
    assert "Send digest now" in page and "json webhook at 127.0.0.1" in page
    preview = [p["id"] for p in client.get("/api/digest/rag").json()["digest"]["papers"]]
    sent = client.post_csrf("/digest/rag/send", follow_redirects=False)
    assert sent.status_code == 303 and sent.headers["location"] == "/digest/rag?sent=sent"
    assert "Sent." in client.get(sent.headers["location"], headers={"accept": "text/html"}).text
    [got] = chat.got
    assert [p["id"] for p in got["body"]["papers"]] == preview  # what the preview showed
    again = client.post_csrf("/api/digest/rag/send").json()
    assert again["ok"] and again["result"]["status"] == "nothing_new" and len(chat.got) == 1


def test_a_refused_send_is_a_502_in_the_error_shape(fresh):
    path, chat, env = fresh
    env.setenv("PAPERRADAR_WEBHOOKS", f"json={chat.base}/json/in")
    client = client_for(path)
    chat.fail = True
    r = client.post_csrf("/api/digest/rag/send")
    assert is_error(r, 502) and "answered HTTP 500" in r.json()["error"]
    assert r.json()["result"]["message_id"]
    chat.fail = False
    assert client.post_csrf("/api/digest/rag/send").json()["result"]["retried"] is True


def test_the_first_preview_never_blocks_the_page_and_shows_when_ready(tmp_path, monkeypatch):
    import paperradar.web.cache

    monkeypatch.setattr(paperradar.web.cache, "FIRST_WAIT_S", 0.0)  # as on a big library
    path = tmp_path / "lib.db"
    lib = open_library(path)
    for f in sorted(SYNC.glob("*.xml")):
        import_source(lib, Source.from_bytes(f.read_bytes(), f.name), "arxiv_atom")
    profiles.create_profile(lib, "rag", papers=OWN)
    lib.close()
    c = client_for(str(path))
    page = c.get("/digest/rag").text
    assert "Preparing the preview" in page and 'data-poll="/api/digest/rag?limit=10&amp;wait=false"' in page
    deadline = time.monotonic() + 60
    while (body := c.get("/api/digest/rag", params={"wait": "false"}).json()).get("preparing"):
        assert body["digest"] is None and time.monotonic() < deadline
        time.sleep(0.1)
    assert body["digest"]["papers"] and "Preparing" not in c.get("/digest/rag").text
