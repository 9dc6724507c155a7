"""The whole delivery flow through the CLI, as a user runs it on a fresh machine: configure sources
and SMTP, `paperradar sync` (a local server answering with saved arXiv responses), make a profile,
`paperradar digest send`, and a real SMTP server on localhost (aiosmtpd) receives the email.
"""

from __future__ import annotations

import json
import re
import time
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit

import feedparser
import pytest

from delivery_fakes import api_server, closed_port, smtp_server  # noqa: F401 - fixtures
from paperradar import profiles
from paperradar.digest import verify_feedback
from paperradar.signing import library_secret
from paperradar.storage import open_library

OWN = ["arxiv:2606.28737", "arxiv:2606.29090"]


@pytest.fixture
def env(monkeypatch, tmp_path, api, smtp):
    for name, value in {
        "HOME": str(tmp_path / "home"), "ARXIV_API": api.arxiv, "HF_API": api.hf, "ARXIV_DELAY": "0",
        "FETCH_RETRIES": "0", "SYNC_SOURCES": "arxiv:cs.CL", "SMTP_HOST": smtp.host,
        "SMTP_PORT": str(smtp.port), "SMTP_SECURITY": "none", "MAIL_FROM": "radar@example.org",
        "MAIL_TO": "me@example.org", "DIGEST_SIZE": "3", "PUBLIC_URL": "http://radar.test",
    }.items():  # fmt: skip
        monkeypatch.setenv(f"PAPERRADAR_{name}", value)
    api.default_run = "run1"
    return tmp_path


def make_profile(cli, tmp_path):
    ids = tmp_path / "rag.txt"
    ids.write_text("\n".join(OWN) + "\n")
    result = cli("profile", "create", "rag", "--papers", str(ids))
    assert result.exit_code == 0, result.output


class Hrefs(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.hrefs += [v for k, v in attrs if k == "href" and v]


def papers_in(msg) -> set[str]:
    html = msg.get_body(("html",)).get_content()
    parser = Hrefs()
    parser.feed(html)
    return {re.sub(r"^https://arxiv.org/abs/", "arxiv:", h) for h in parser.hrefs if "/abs/" in h}


def test_sync_then_digest_arrives_once_and_never_twice(cli, env, api, smtp, db_path):
    before = cli("sync", "--status")  # a fresh machine: says so rather than printing nothing
    assert before.exit_code == 0 and before.stdout.strip() == (
        "No source has been synced yet; `paperradar sync` fetches arxiv:cs.CL."
    )
    assert json.loads(cli("sync", "--status", "--json").stdout) == []  # the list it fills below
    result = cli("sync")
    assert result.exit_code == 0, result.output
    assert "arxiv:cs.CL: 2 requests, read 8, new 8" in result.stdout
    [status] = json.loads(cli("sync", "--status", "--json").stdout)
    assert set(status) == {"source", "cursor", "last_ok", "last_error", "updated_at"}
    assert status["source"] == "arxiv:cs.CL" and status["last_error"] is None
    assert list(status["cursor"]) == ["until"]  # the window finished: next time from its last day
    make_profile(cli, env)

    sent = cli("digest", "send", "rag")
    assert sent.exit_code == 0, sent.output
    assert "rag: sent 3 papers to me@example.org" in sent.stdout
    [first] = smtp.messages
    assert first.get_content_type() == "multipart/alternative"
    assert first["Subject"] == "paperradar: 3 new papers for rag"
    assert first["From"] == "radar@example.org" and first["To"] == "me@example.org"
    assert first["Message-ID"].endswith("@paperradar.local>")
    plain = first.get_body(("plain",)).get_content()
    papers1 = papers_in(first)
    assert len(papers1) == 3 and not papers1 & set(OWN)
    assert papers1 and all(f"https://arxiv.org/abs/{p[6:]}" in plain for p in papers1)

    # one-click feedback links carry a signed claim the web app can verify
    parser = Hrefs()
    parser.feed(first.get_body(("html",)).get_content())
    feedback = [h for h in parser.hrefs if h.startswith("http://radar.test/digest/feedback?t=")]
    assert len(feedback) == 9
    lib = open_library(db_path)
    secret = library_secret(lib)
    lib.close()
    claims = [verify_feedback(parse_qs(urlsplit(h).query)["t"][0], secret, time.time()) for h in feedback]
    assert {c.paper for c in claims} == papers1 and {c.kind for c in claims} == {
        "like",
        "dislike",
        "not_interested",
    }

    # the next day: three new papers arrive; the digest holds only papers never sent
    api.default_run = "run2"
    assert "new 3" in cli("sync").stdout
    assert cli("digest", "send", "rag").exit_code == 0
    second = smtp.messages[1]
    papers2 = papers_in(second)
    assert papers2 and not papers2 & papers1
    assert papers2 <= {"arxiv:2606.31033", "arxiv:2606.31608", "arxiv:2606.31642"}

    again = cli("digest", "send", "rag")
    assert again.exit_code == 0 and "nothing new since the last digest" in again.stdout
    assert len(smtp.messages) == 2


def test_a_refused_digest_is_sent_on_the_next_run_exactly_once(cli, env, smtp):
    cli("sync")
    make_profile(cli, env)
    smtp.reject_rcpt = True
    failed = cli("digest", "send", "rag")
    assert failed.exit_code == 1
    assert "rag: digest not sent:" in failed.stderr and "550" in failed.stderr
    assert "it is sent on the next run" in failed.stderr
    assert smtp.messages == []

    smtp.reject_rcpt = False
    retry = cli("digest", "send", "rag", "--json")
    assert retry.exit_code == 0
    assert '"retried": true' in retry.stdout
    assert len(smtp.messages) == 1
    assert (
        cli("digest", "send", "rag").stdout.strip() == "rag: nothing new since the last digest; no email sent"
    )
    assert len(smtp.messages) == 1


def test_closed_smtp_port_fails_with_exit_1_and_sends_later(cli, env, smtp):
    cli("sync")
    make_profile(cli, env)
    down = cli("digest", "send", "rag", "--smtp-port", str(closed_port()))
    assert down.exit_code == 1 and "connection refused" in down.stderr
    up = cli("digest", "send", "rag")  # the configured, working server
    assert up.exit_code == 0 and "retrying an earlier failed send" in up.stdout
    assert len(smtp.messages) == 1


def test_offline_sync_says_so_and_changes_nothing(cli, env, monkeypatch):
    port = closed_port()
    monkeypatch.setenv("PAPERRADAR_ARXIV_API", f"http://127.0.0.1:{port}/api/query")
    result = cli("sync")
    assert result.exit_code == 1
    assert f"cannot reach 127.0.0.1:{port}" in result.stderr and "are you offline?" in result.stderr
    assert '"papers": 0' in cli("stats", "--json").stdout


def test_preview_and_feed_change_nothing(cli, env, smtp, tmp_path):
    cli("sync")
    make_profile(cli, env)
    preview = cli("digest", "preview", "rag", "--format", "markdown")
    assert preview.exit_code == 0 and preview.stdout.startswith("# 3 new papers for rag")
    out = tmp_path / "rag.atom"
    assert cli("digest", "feed", "rag", "--out", str(out)).exit_code == 0
    feed = feedparser.parse(out.read_text())
    assert not feed.bozo and len(feed.entries) == 6  # the 8 synced papers less the profile's own 2
    assert cli("digest", "send", "rag").exit_code == 0  # the preview marked nothing as sent
    assert len(papers_in(smtp.messages[0])) == 3


def test_watch_once_syncs_sends_and_logs(cli, env, smtp):
    cli("sync")  # first fill the library so the profile can be made
    make_profile(cli, env)
    result = cli("watch", "--once")
    assert result.exit_code == 0, result.output
    assert "watch run" in result.stderr and ": ok" in result.stderr
    assert len(smtp.messages) == 1
    log = (env / "home" / "watch.log").read_text().splitlines()
    assert len(log) == 1 and '"errors": []' in log[0]


def test_send_all_goes_on_past_a_profile_that_cannot_be_ranked(cli, env, smtp, db_path):
    cli("sync")
    make_profile(cli, env)
    lib = open_library(db_path)
    profiles.create_profile(lib, "empty", papers=OWN[:1])
    profiles.remove_papers(lib, "empty", OWN[:1])  # nothing left to learn from
    lib.close()
    result = cli("digest", "send", "--all")
    assert result.exit_code == 1
    assert "rag: sent 3 papers" in result.stdout
    assert "empty: digest not sent:" in result.stderr and "next run" not in result.stderr
    assert len(smtp.messages) == 1
