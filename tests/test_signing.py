"""One settings table, one secret, one signer (issue 18): a library made before migration 14 keeps
its settings on both backends; feedback links emailed in the old format still work, tampered ones
never; a value signed for one use (a feedback link) is refused for another (a CSRF token)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from conftest import postgres_url
from paperradar import profiles, signing
from paperradar.digest import FeedbackClaim, sign_feedback, verify_feedback
from paperradar.digest.service import check_feedback, link_settings
from paperradar.errors import InvalidInput
from paperradar.storage import migrations as sqlite_migrations
from paperradar.storage import open_library, pg_migrations, settings
from paperradar.web.security import csrf_valid, new_csrf
from pg_databases import drop_database, with_database
from web_helpers import client_for, demo_library, is_error

WEB_SECRET = "ab" * 32  # what web_settings held: the web's CSRF and cookie key
OLD_LINK_SECRET = "old-link-secret"  # what delivery_settings held: the feedback links' key
PAPER = "arxiv:2410.09918"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def old_link_token(secret: str, claim: FeedbackClaim) -> str:
    """A feedback link's token as digests signed them before migration 14 (base64 JSON, a dot,
    HMAC-SHA256): what readers still have in their mailboxes."""
    payload = [claim.profile, claim.paper, claim.kind, claim.expires]
    body = _b64(json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode())
    mac = hmac.new(secret.encode(), b"paperradar-feedback:" + body.encode(), hashlib.sha256).digest()
    return f"{body}.{_b64(mac)}"


OLD_ROWS = (
    "INSERT INTO web_settings (key, value, updated_at) VALUES"
    f" ('secret', '{WEB_SECRET}', '2026-01-01T00:00:00+00:00'),"
    " ('token_hash', 'sha256:abc', '2026-01-01T00:00:00+00:00')",
    f"INSERT INTO delivery_settings (key, value) VALUES ('link_secret', '{OLD_LINK_SECRET}')",
)


def sqlite_before_14(path: Path) -> str:
    conn = sqlite3.connect(path, isolation_level=None)
    for number, script in enumerate(sqlite_migrations.MIGRATIONS[:13], start=1):
        for statement in sqlite_migrations._statements(script):
            conn.execute(statement)
        conn.execute(f"PRAGMA user_version = {number}")
    for statement in OLD_ROWS:
        conn.execute(statement)
    conn.close()
    return str(path)


def postgres_before_4(name: str) -> str:
    url = postgres_url()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')  # type: ignore[arg-type]
    address = with_database(url, name)
    with psycopg.connect(address, autocommit=True) as conn:
        conn.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
        for number, script in enumerate(pg_migrations.MIGRATIONS[:3], start=1):
            conn.execute(script)  # type: ignore[arg-type]
            conn.execute("INSERT INTO schema_version (version) VALUES (%s)", (number,))
        for statement in OLD_ROWS:
            conn.execute(statement)  # type: ignore[arg-type]
    return address


@pytest.fixture(params=["sqlite", "postgresql"])
def old_library(request, tmp_path) -> Iterator[str]:
    """A library made before the settings tables were merged, with a value in each of them."""
    if request.param == "sqlite":
        yield sqlite_before_14(tmp_path / "old.db")
        return
    name = f"paperradar_old_{tmp_path.name[-20:].replace('-', '_')}"
    yield postgres_before_4(name)
    drop_database(postgres_url(), name)


def test_the_merge_keeps_every_setting_and_the_web_secret_becomes_the_one_secret(old_library):
    lib = open_library(old_library)
    try:
        assert settings.get_setting(lib, "token_hash") == "sha256:abc"
        assert signing.library_secret(lib) == WEB_SECRET == link_settings(lib).secret
        assert signing.old_link_secrets(lib) == (OLD_LINK_SECRET,)
    finally:
        lib.close()


def test_links_emailed_before_still_work_and_tampered_or_expired_ones_do_not(old_library):
    now = time.time()
    claim = FeedbackClaim("rag", PAPER, "like", int(now) + 3600)
    old = old_link_token(OLD_LINK_SECRET, claim)
    lib = open_library(old_library)
    try:
        assert check_feedback(lib, old, now) == claim
        new = sign_feedback(link_settings(lib).secret, claim)
        assert new != old and check_feedback(lib, new, now) == claim
        other_kind = old_link_token(OLD_LINK_SECRET, FeedbackClaim("rag", PAPER, "dislike", claim.expires))
        for bad in (
            other_kind.split(".")[0] + "." + old.split(".")[1],  # the claim changed, the signature kept
            old_link_token("a guess", claim),  # signed with another secret
            sign_feedback("a guess", claim),
            new[:-2] + ("AA" if not new.endswith("AA") else "BB"),
        ):
            with pytest.raises(InvalidInput, match="not valid"):
                check_feedback(lib, bad, now)
        with pytest.raises(InvalidInput, match="expired"):
            check_feedback(lib, old, claim.expires + 1)
    finally:
        lib.close()


def test_a_signature_made_for_one_use_is_refused_for_another():
    claim = FeedbackClaim("rag", PAPER, "like", int(time.time()) + 3600)
    link = sign_feedback("s3cret", claim)
    assert not csrf_valid("s3cret", link, link)  # a feedback link is no CSRF token
    csrf = new_csrf("s3cret")
    assert csrf_valid("s3cret", csrf, csrf) and not csrf_valid("another", csrf, csrf)
    with pytest.raises(InvalidInput, match="not valid"):
        verify_feedback(csrf, "s3cret", time.time())


@pytest.fixture
def web_lib(tmp_path) -> str:
    """The examples library with the profile "rag" and the link secret an old library carried."""
    path = demo_library(tmp_path / "lib.db", hostile=False)
    lib = open_library(path)
    profiles.create_profile(lib, "rag", papers=[])
    settings.set_setting(lib, signing.OLD_LINK_SECRET_KEY, OLD_LINK_SECRET)
    lib.close()
    return path


def test_the_web_takes_old_and_new_links_and_signs_csrf_with_the_same_secret(web_lib):
    client = client_for(web_lib)
    lib = open_library(web_lib)
    secret = link_settings(lib).secret
    lib.close()
    assert client.app.state.secret == secret  # one secret for links and the web's cookies
    claim = FeedbackClaim("rag", PAPER, "like", int(time.time()) + 3600)
    old = old_link_token(OLD_LINK_SECRET, claim)
    assert client.post_csrf("/api/digest/feedback", json={"token": old}).json()["feedback"]["kind"] == "like"
    client.post_csrf("/api/profiles/rag/undo")
    new = sign_feedback(secret, claim)
    assert client.post_csrf("/api/digest/feedback", json={"token": new}).json()["feedback"]["kind"] == "like"
    other = old_link_token(OLD_LINK_SECRET, FeedbackClaim("rag", PAPER, "dislike", claim.expires))
    tampered = other.split(".")[0] + "." + new.split(".")[1]  # another kind under this link's signature
    assert is_error(client.post_csrf("/api/digest/feedback", json={"token": tampered}), 400)
    # CSRF still enforced: no token, and a token signed for a feedback link, are both refused
    assert is_error(client.post("/api/profiles/rag/undo"), 403)
    client.cookies.set("paperradar_csrf", new)
    assert is_error(client.post("/api/profiles/rag/undo", headers={"x-csrf-token": new}), 403)
