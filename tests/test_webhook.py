"""Digests to Slack, Discord, Mattermost, Matrix and a generic JSON POST, through the CLI as a user
runs it: a real HTTP server on loopback plays the chat service; each digest arrives exactly once
per channel, with its key sentences and the same signed feedback links as the email."""

# ruff: noqa: F811 - test functions take the imported `env` fixture by name
from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlsplit

import pytest

from conftest import http_server
from delivery_fakes import api_server, smtp_server  # noqa: F401 - fixtures
from paperradar.digest import verify_feedback
from paperradar.errors import InvalidInput
from paperradar.signing import library_secret
from paperradar.storage import open_library
from test_cli_deliver import env, make_profile  # noqa: F401 - the env fixture


@dataclass
class Chat:
    """What the fake chat service received; `fail` answers 500 to everything while true."""

    base: str = ""
    fail: bool = False
    got: list[dict] = field(default_factory=list)  # type: ignore[type-arg]

    def of(self, kind: str) -> list[dict]:  # type: ignore[type-arg]
        return [g for g in self.got if g["path"].startswith(f"/{kind}")]


def _handler(chat: Chat) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _take(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            chat.got.append(
                {
                    "method": self.command,
                    "path": self.path,
                    "headers": dict(self.headers),
                    "body": json.loads(body),
                }
            )
            status = 500 if chat.fail else 200
            self.send_response(status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        do_POST = do_PUT = _take  # noqa: N815 - http.server's naming

        def log_message(self, *args: object) -> None:
            pass

    return Handler


@pytest.fixture
def chat() -> Iterator[Chat]:
    fake = Chat()
    with http_server(_handler(fake)) as base:
        fake.base = base
        yield fake


def _hooks(chat: Chat) -> list[str]:
    return [
        f"slack={chat.base}/slack/services/T0/B0/x",
        f"discord={chat.base}/discord/api/webhooks/1/abc",
        f"mattermost={chat.base}/mattermost/hooks/xyz",
        f"matrix={chat.base}/matrix/_matrix/client/v3/rooms/!r:x/send/m.room.message",
        f"json={chat.base}/json/in",
    ]


def _feedback_urls(text: str) -> list[str]:
    return [
        u
        for u in text.replace(")", " ").replace("|", " ").replace('"', " ").split()
        if "/digest/feedback?" in u
    ]


def test_every_kind_gets_the_digest_once_with_key_sentences_and_signed_links(
    cli, env, api, smtp, chat, monkeypatch, db_path
):
    monkeypatch.setenv("PAPERRADAR_MATRIX_TOKEN", "syt_secret")
    assert cli("sync").exit_code == 0
    make_profile(cli, env)
    args = ["digest", "send", "rag"] + [a for h in _hooks(chat) for a in ("--webhook", h)]
    sent = cli(*args)
    assert sent.exit_code == 0, sent.output
    assert len(smtp.messages) == 1 and len(chat.got) == 5
    assert "syt_secret" not in sent.output and "/slack/services" not in sent.output  # secrets stay out

    [slack] = chat.of("slack")
    assert slack["body"]["text"] == "paperradar: 3 new papers for rag"
    sections = [b["text"]["text"] for b in slack["body"]["blocks"] if b["type"] == "section"]
    assert len(sections) == 3 and all("_Idea:_" in s for s in sections)
    [discord] = chat.of("discord")
    assert len(discord["body"]["embeds"]) == 3 and discord["body"]["allowed_mentions"] == {"parse": []}
    [mm] = chat.of("mattermost")
    assert mm["body"]["text"].startswith("# 3 new papers for rag")
    [mx] = chat.of("matrix")
    assert mx["method"] == "PUT" and mx["headers"]["Authorization"] == "Bearer syt_secret"
    assert mx["body"]["msgtype"] == "m.text" and "<b><a href=" in mx["body"]["formatted_body"]
    [js] = chat.of("json")
    assert {p["id"] for p in js["body"]["papers"]} == {h for h in _ids(smtp)}
    assert js["body"]["papers"] and all(p["highlights"].get("idea") for p in js["body"]["papers"])
    message_id = js["body"]["message_id"]
    assert chat.got and all(g["headers"]["Idempotency-Key"] == message_id for g in chat.got)
    assert mx["path"].endswith("/m.room.message/" + message_id.strip("<>").replace("@", "%40"))

    # the feedback links are the email's: signed for this profile and paper, and they verify
    lib = open_library(db_path)
    secret = library_secret(lib)
    lib.close()
    for got in (slack, discord, js):
        urls = _feedback_urls(json.dumps(got["body"]).replace("\\u0026", "&"))
        assert len(urls) == 9, got["path"]  # three kinds for each of three papers
        token = parse_qs(urlsplit(urls[0].replace("&amp;", "&")).query)["t"][0]
        assert verify_feedback(token, secret, now=0).profile == "rag"

    again = cli(*args)
    assert again.exit_code == 0 and "nothing new" in again.stdout
    assert len(chat.got) == 5 and len(smtp.messages) == 1  # exactly once, every channel


def _ids(smtp) -> set[str]:  # type: ignore[no-untyped-def]
    from test_cli_deliver import papers_in

    return papers_in(smtp.messages[0])


def test_a_failing_hook_gets_the_same_digest_next_run_and_email_is_not_repeated(cli, env, api, smtp, chat):
    assert cli("sync").exit_code == 0
    make_profile(cli, env)
    chat.fail = True
    hook = f"slack={chat.base}/slack/services/T0/B0/x"
    failed = cli("digest", "send", "rag", "--webhook", hook)
    assert failed.exit_code == 1
    assert "slack webhook at 127.0.0.1 answered HTTP 500" in failed.output
    assert len(smtp.messages) == 1  # the email went out
    chat.fail = False
    retried = cli("digest", "send", "rag", "--webhook", hook)
    assert retried.exit_code == 0, retried.output
    assert "retrying an earlier failed send" in retried.stdout
    assert len(smtp.messages) == 1  # not emailed twice
    first, second = chat.of("slack")
    assert first["headers"]["Idempotency-Key"] == second["headers"]["Idempotency-Key"]
    assert first["body"] == second["body"]  # the same digest, same papers and links


def test_webhooks_alone_and_from_settings(cli, env, api, smtp, chat, monkeypatch):
    assert cli("sync").exit_code == 0
    make_profile(cli, env)
    monkeypatch.setenv("PAPERRADAR_WEBHOOKS", f"{chat.base}/json/in")  # a bare URL: generic JSON
    sent = cli("digest", "send", "rag", "--no-email")
    assert sent.exit_code == 0, sent.output
    assert smtp.messages == [] and len(chat.of("json")) == 1
    assert "json webhook at 127.0.0.1" in sent.stdout


def test_bad_webhooks_are_usage_errors(cli, env, api, smtp):
    assert cli("sync").exit_code == 0
    make_profile(cli, env)
    with pytest.raises(InvalidInput, match="needs an http"):
        cli("digest", "send", "rag", "--webhook", "slack=ftp://x")
    with pytest.raises(InvalidInput, match="access token"):
        cli("digest", "send", "rag", "--webhook", "matrix=https://m.org/_matrix/client/v3/x")
    assert smtp.messages == []  # nothing was sent before the hooks were checked
