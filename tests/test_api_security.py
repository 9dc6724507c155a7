"""Security and the error shape: escaping, CSRF, the access token, `paperradar serve`, and
404/405/422/500 answered as {"ok": false, "error", "status"}."""

from __future__ import annotations

import re

import pytest

from paperradar.accounts import access_token_hash
from paperradar.storage import open_library
from paperradar.web.security import hash_token
from web_helpers import HOSTILE_ID, client_for, demo_library, is_error


@pytest.fixture(scope="module")
def lib_path(tmp_path_factory):
    return demo_library(tmp_path_factory.mktemp("security") / "lib.db")


@pytest.fixture
def client(lib_path):
    return client_for(lib_path)


def test_hostile_text_is_escaped_on_every_page(client):
    for url in ["/search?q=script", f"/paper/{HOSTILE_ID}", "/library?q=script", "/library?sort=added"]:
        html = client.get(url).text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html or "&lt;<mark>script</mark>&gt;" in html, url
        assert "<script>alert(1)" not in html and "<img src=x" not in html and "<b>bold" not in html, url


def test_pages_load_nothing_from_other_hosts(client):
    html = client.get("/search?q=cache").text
    assert not re.search(r'<(script|link|img)[^>]+(src|href)="(https?:)?//', html)
    assert client.get("/static/app.css").status_code == 200
    assert client.get("/static/app.js").status_code == 200


@pytest.mark.parametrize(
    ("method", "url", "status"),
    [
        ("get", "/api/nothing-here", 404),
        ("get", "/api/papers/arxiv:0000.00000", 404),
        ("delete", "/api/search", 405),
        ("get", "/api/search?limit=-5", 422),
        ("get", "/api/export?ids=x&format=pdf", 422),
        ("post", "/api/import", 403),
    ],
)
def test_errors_have_one_shape(client, method, url, status):
    assert is_error(getattr(client, method)(url), status)


def test_internal_errors_have_the_shape_and_hide_details(client, monkeypatch):
    from paperradar.web import library

    def boom(lib):  # type: ignore[no-untyped-def]
        raise RuntimeError("secret internals /etc/passwd")

    monkeypatch.setattr(library, "stats_of", boom)
    r = client.get("/api/stats")
    assert is_error(r, 500) and "secret" not in r.text


def test_browsers_get_an_error_page(client):
    r = client.get("/nowhere", headers={"accept": "text/html"})
    assert r.status_code == 404 and "<html" in r.text and "/nowhere" in r.text
    r = client.get("/nowhere", headers={"accept": "application/json"})
    assert is_error(r, 404)


def test_csrf_token_must_match_the_cookie_and_be_ours(client):
    client.csrf()
    assert is_error(client.post("/api/profiles/x/undo", headers={"x-csrf-token": "abc.def"}), 403)
    other = client_for(demo_library(client.app.state.pool.path + ".other.db", hostile=False))
    forged = other.csrf()  # a valid token of another server
    client.cookies.set("paperradar_csrf", forged)
    assert is_error(client.post("/api/profiles/x/undo", headers={"x-csrf-token": forged}), 403)


def test_access_token_guards_everything_but_login(lib_path):
    c = client_for(lib_path, token_hash=hash_token("s3cret-token"))
    assert is_error(c.get("/api/stats"), 401)
    assert is_error(c.get("/api/papers/arxiv:2410.09918"), 401)
    page = c.get("/library", headers={"accept": "text/html"}, follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"].startswith("/login")
    assert c.get("/static/app.css").status_code == 200
    ok = c.get("/api/stats", headers={"authorization": "Bearer s3cret-token"})
    assert ok.status_code == 200
    # a Bearer header is not ambient, so it needs no CSRF token
    r = c.post("/api/profiles/ghost/undo", headers={"authorization": "Bearer s3cret-token"})
    assert is_error(r, 404)


def test_login_sets_a_cookie_only_for_the_right_token(lib_path):
    c = client_for(lib_path, token_hash=hash_token("s3cret-token"))
    token = c.csrf()
    bad = c.post("/login", data={"token": "guess", "csrf_token": token, "next": "/library"})
    assert bad.status_code == 401 and is_error(c.get("/api/stats"), 401)
    good = c.post(
        "/login",
        data={"token": "s3cret-token", "csrf_token": token, "next": "//evil.example"},
        follow_redirects=False,
    )
    assert good.status_code == 303 and good.headers["location"] == "/"
    assert c.get("/api/stats").status_code == 200


def test_serve_on_the_network_makes_a_token_once(cli, db_path, monkeypatch):
    import uvicorn

    apps = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: apps.append((app, kw)))
    first = cli("serve", "--host", "0.0.0.0", "--port", "8123")
    token = re.search(r"access token \(shown once, keep it\): (\S+)", first.output).group(1)
    lib = open_library(db_path)
    stored = access_token_hash(lib)
    lib.close()
    assert stored == hash_token(token) and token not in stored
    app, kw = apps[0]
    assert kw["host"] == "0.0.0.0" and kw["port"] == 8123 and app.state.token_hash == stored
    second = cli("serve", "--host", "0.0.0.0")
    assert token not in second.output and apps[1][0].state.token_hash == stored


def test_serve_on_loopback_needs_no_token(cli, monkeypatch):
    import uvicorn

    apps = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: apps.append((app, kw)))
    result = cli("serve")
    assert "access token" not in result.output
    assert apps[0][1]["host"] == "127.0.0.1" and apps[0][0].state.token_hash is None
