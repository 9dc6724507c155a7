"""SMTP delivery against a real SMTP server (aiosmtpd) on localhost: plain, STARTTLS with login,
implicit TLS, a server that refuses the recipient, and a port nothing listens on.
TLS uses a throwaway certificate authority (trustme) that only these tests trust.
"""

from __future__ import annotations

import ssl
from datetime import UTC, datetime

import pytest
import trustme
from aiosmtpd.smtp import AuthResult

from delivery_fakes import Inbox, closed_port, smtp_server, start_smtp  # noqa: F401 - fixtures
from paperradar.config import load_settings, with_flags
from paperradar.errors import InvalidInput, NetworkError
from paperradar.mail import SMTPSettings, build_message, send_message, smtp_settings

PASSWORD = "correct horse battery staple"


def message(to: str = "reader@example.org"):
    return build_message(
        subject="paperradar: 2 new papers for rag", sender="radar@example.org", to=to,
        text="plain words https://arxiv.org/abs/2606.28737", html="<p><a href='https://arxiv.org/abs/2606.28737'>paper</a></p>",
        message_id="<digest.1@paperradar.local>", date=datetime(2026, 7, 1, 8, tzinfo=UTC),
    )  # fmt: skip


def test_plain_smtp_delivers_a_multipart_alternative_message(smtp):
    send_message(message(), SMTPSettings(smtp.host, smtp.port, security="none"))
    [got] = smtp.messages
    assert smtp.envelopes == [("radar@example.org", ["reader@example.org"])]
    assert got.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in got.iter_parts()] == ["text/plain", "text/html"]
    assert got["Subject"] == "paperradar: 2 new papers for rag"
    assert got["Message-ID"] == "<digest.1@paperradar.local>"
    assert got["Date"] == "Wed, 01 Jul 2026 08:00:00 +0000"


@pytest.fixture
def tls():
    ca = trustme.CA()
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server)
    client = ssl.create_default_context()
    ca.configure_trust(client)
    return server, client


def _auth(logins: list[str]):
    def check(server, session, envelope, mechanism, auth_data):
        ok = auth_data.login == b"radar" and auth_data.password == PASSWORD.encode()
        logins.append(f"{auth_data.login.decode()}:{'ok' if ok else 'refused'}")
        return AuthResult(success=ok, handled=False)

    return check


def test_starttls_with_login(tls):
    server_ctx, client_ctx = tls
    inbox = Inbox()
    ctl = start_smtp(inbox, tls_context=server_ctx, require_starttls=True, authenticator=_auth(inbox.logins))
    try:
        settings = SMTPSettings(inbox.host, inbox.port, "starttls", "radar", PASSWORD)
        send_message(message(), settings, ssl_context=client_ctx)
        assert len(inbox.messages) == 1 and inbox.logins == ["radar:ok"]
        wrong = SMTPSettings(inbox.host, inbox.port, "starttls", "radar", "wrong password")
        with pytest.raises(NetworkError) as err:
            send_message(message(), wrong, ssl_context=client_ctx)
        assert "refused the login of 'radar': 535" in str(err.value)
        assert "wrong password" not in str(err.value) and "wrong password" not in repr(wrong)
        assert len(inbox.messages) == 1
    finally:
        ctl.stop()


def test_starttls_refuses_a_server_it_cannot_trust(tls):
    server_ctx, _ = tls
    inbox = Inbox()
    ctl = start_smtp(inbox, tls_context=server_ctx, require_starttls=True)
    try:
        with pytest.raises(NetworkError, match="TLS with 127.0.0.1"):
            send_message(message(), SMTPSettings(inbox.host, inbox.port, "starttls"))  # the system's trust
        assert inbox.messages == []
    finally:
        ctl.stop()


def test_implicit_tls(tls):
    server_ctx, client_ctx = tls
    inbox = Inbox()
    ctl = start_smtp(inbox, ssl_context=server_ctx)
    try:
        send_message(message(), SMTPSettings(inbox.host, inbox.port, "ssl"), ssl_context=client_ctx)
        assert len(inbox.messages) == 1
    finally:
        ctl.stop()


def test_refused_recipient_raises(smtp):
    smtp.reject_rcpt = True
    with pytest.raises(NetworkError, match="refused the recipient: reader@example.org: 550"):
        send_message(message(), SMTPSettings(smtp.host, smtp.port, security="none"))
    assert smtp.messages == []


def test_nothing_listening_raises_a_readable_error():
    port = closed_port()
    with pytest.raises(NetworkError) as err:
        send_message(message(), SMTPSettings("127.0.0.1", port, security="none", timeout=5))
    assert str(err.value) == f"cannot reach the SMTP server 127.0.0.1:{port}: connection refused"


def test_settings_come_from_flags_then_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("PAPERRADAR_HOME", str(tmp_path))
    monkeypatch.setenv("PAPERRADAR_SMTP_HOST", "mail.example.org")
    monkeypatch.setenv("PAPERRADAR_SMTP_SECURITY", "ssl")
    monkeypatch.setenv("PAPERRADAR_SMTP_PASSWORD", PASSWORD)
    settings = load_settings()
    s = smtp_settings(settings)
    assert (s.host, s.port, s.security) == ("mail.example.org", 465, "ssl")
    assert PASSWORD not in repr(s) and s.public()["password"] == "(set)"
    assert PASSWORD not in repr(settings) and PASSWORD not in settings.model_dump_json()
    s = smtp_settings(with_flags(settings, smtp_host="127.0.0.1", smtp_port=2525, smtp_security="none"))
    assert (s.host, s.port, s.security) == ("127.0.0.1", 2525, "none")
    (tmp_path / "paperradar.toml").write_text('smtp_port = 2465\nsmtp_user = "radar"\n')
    s = smtp_settings(load_settings())
    assert s.port == 2465 and s.user == "radar"
    assert smtp_settings(load_settings(smtp_port=25)).port == 25  # a flag wins over the file


def test_a_bad_smtp_setting_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("PAPERRADAR_SMTP_SECURITY", "tls")
    with pytest.raises(InvalidInput, match="smtp_security must be one of ssl, starttls, none, not 'tls'"):
        smtp_settings(load_settings())  # when mail is sent: a sync with this setting still runs
    monkeypatch.setenv("PAPERRADAR_SMTP_SECURITY", "SSL")
    monkeypatch.setenv("PAPERRADAR_SMTP_PORT", "twenty-five")
    with pytest.raises(InvalidInput, match="smtp_port .* not 'twenty-five'"):
        load_settings()
