"""Accounts in the web app (issue 16), through the real HTTP server on 127.0.0.1: two users on one
library cannot see or change each other's profiles, feedback or digests (API and pages); a
library with users asks for a sign-in even on loopback; API tokens work for the API and a wrong
one gets 401; only admins write to the shared library; a library without users is unchanged."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from conftest import free_port
from paperradar import accounts, profiles
from paperradar.search import search
from paperradar.storage import open_library
from paperradar.storage import users as store
from paperradar.web.auth import SESSION_COOKIE
from paperradar.web.security import CSRF_COOKIE
from web_helpers import client_for, demo_library, is_error

PASSWORD = {"alice": "alice's long password", "bob": "bob's long password", "root": "the admin's password"}


def serve(path: str) -> Iterator[str]:
    """The web app served by uvicorn in a thread on a free loopback port: yields its base URL."""
    import uvicorn

    from paperradar.web import create_app

    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(path), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "the server did not start"
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


def library_location(request, tmp_path_factory) -> str:  # type: ignore[no-untyped-def]
    """A new library's file (SQLite) or a fresh database's address (PostgreSQL, dropped at the end)."""
    if request.param == "sqlite":
        return str(tmp_path_factory.mktemp("team") / "lib.db")
    from conftest import postgres_url
    from pg_databases import copy_database, drop_database

    url = postgres_url()
    name, address = copy_database(url, request.getfixturevalue("pg_template"))
    request.addfinalizer(lambda: drop_database(url, name))  # runs after the server stops
    return address


def sign_in(base: str, name: str) -> httpx.Client:
    """A client holding `name`'s session cookie, sending the CSRF token like a page's script."""
    c = httpx.Client(base_url=base, timeout=60)
    c.get("/login")
    csrf = c.cookies[CSRF_COOKIE]
    data = {"name": name, "password": PASSWORD[name], "csrf_token": csrf, "next": "/profiles"}
    r = c.post("/login", data=data)
    assert r.status_code == 303 and r.headers["location"] == "/profiles", r.text
    c.headers["x-csrf-token"] = csrf
    return c


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def team(request, tmp_path_factory) -> Iterator[dict[str, object]]:
    """A demo library, on each backend, with alice and bob (members) and root (admin); alice and
    bob each made a profile through the API and liked a paper in it; one profile predates the
    accounts."""
    path = demo_library(library_location(request, tmp_path_factory))  # type: ignore[arg-type]
    lib = open_library(path)
    try:
        ids = [hit.paper.id for hit in search(lib, "attention", limit=6).hits]
        profiles.create_profile(lib, "from-before", papers=ids[:2])
        accounts.add_user(lib, "alice", PASSWORD["alice"])
        accounts.add_user(lib, "bob", PASSWORD["bob"])
        accounts.add_user(lib, "root", PASSWORD["root"], admin=True)
        bob_token = accounts.new_api_token(lib, "bob")
    finally:
        lib.close()
    for base in serve(path):
        clients = {name: sign_in(base, name) for name in ("alice", "bob", "root")}
        for name, paper in (("alice", ids[0]), ("bob", ids[1])):
            c = clients[name]
            assert c.post("/api/profiles", json={"name": f"{name}-ml", "papers": ids[2:5]}).status_code == 200
            assert c.post(
                f"/api/profiles/{name}-ml/feedback", json={"paper": paper, "kind": "like"}
            ).is_success
        yield {"base": base, "path": path, "ids": ids, "bob_token": bob_token, **clients}
        for c in clients.values():
            c.close()


def names(client: httpx.Client) -> list[str]:
    return [p["name"] for p in client.get("/api/profiles").json()["items"]]


def test_each_user_lists_only_their_own_profiles(team):
    assert names(team["alice"]) == ["alice-ml"]
    assert names(team["bob"]) == ["bob-ml"]
    assert names(team["root"]) == ["from-before"]  # an admin also sees the profiles nobody owns
    for page in ("/profiles", "/digest", "/", "/search?q=attention"):
        text = team["alice"].get(page).text
        assert "alice-ml" in text and "bob-ml" not in text and "from-before" not in text, page


@pytest.mark.parametrize(
    ("method", "url", "body"),
    [
        ("GET", "/api/profiles/bob-ml", None),
        ("GET", "/profiles/bob-ml", None),
        ("GET", "/api/digest/bob-ml", None),
        ("GET", "/api/digest/bob-ml/history", None),
        ("GET", "/digest/bob-ml", None),
        ("GET", "/digest/bob-ml/feed.atom", None),
        ("GET", "/digest/bob-ml/email", None),
        ("GET", "/api/home?profile=bob-ml", None),
        ("GET", "/api/profiles/bob-ml/rate", None),
        ("POST", "/api/profiles/bob-ml/feedback", {"paper": "PAPER", "kind": "dislike"}),
        ("POST", "/api/profiles/bob-ml/undo", {}),
        ("POST", "/api/profiles/bob-ml/papers", {"papers": ["PAPER"]}),
        ("POST", "/api/profiles/bob-ml/follow", {"author": "Someone"}),
        ("POST", "/api/profiles/bob-ml/reset", {"what": ["feedback"]}),
        ("POST", "/api/profiles/bob-ml/delete", {}),
        ("POST", "/api/digest/bob-ml/send", {}),
    ],
)
def test_another_users_profile_is_not_found(team, method, url, body):
    paper = team["ids"][0]
    json_body = None if body is None else {k: _fill(v, paper) for k, v in body.items()}
    r = team["alice"].request(method, url, json=json_body)
    assert r.status_code == 404, (url, r.status_code, r.text[:200])
    assert "bob-ml" not in names(team["alice"])
    bob = team["bob"].get("/api/profiles/bob-ml").json()["profile"]  # bob's profile is untouched
    assert [(f["paper"], f["kind"]) for f in bob["feedback"]] == [(team["ids"][1], "like")]


def _fill(value, paper):  # type: ignore[no-untyped-def]
    if value == "PAPER":
        return paper
    return [paper if v == "PAPER" else v for v in value] if isinstance(value, list) else value


@pytest.mark.parametrize(
    "url",
    [
        "/profiles/alice-ml",
        "/api/digest/alice-ml",
        "/api/digest/alice-ml/history",
        "/digest/alice-ml",
        "/digest/alice-ml/feed.atom",
        "/api/home?profile=alice-ml",
    ],
)
def test_ones_own_profile_works_as_before(team, url):
    assert team["alice"].get(url).status_code == 200, url


def test_another_users_profile_is_not_found_from_page_forms(team):
    alice, paper = team["alice"], team["ids"][0]
    csrf = alice.cookies[CSRF_COOKIE]
    for url, data in [
        ("/profiles/bob-ml/feedback", {"paper": paper, "kind": "dislike"}),
        ("/profiles/bob-ml/delete", {}),
        ("/profiles/bob-ml/steer", {"action": "must", "value": "spam"}),
        ("/digest/bob-ml/send", {}),
    ]:
        r = alice.post(url, data={**data, "csrf_token": csrf}, headers={"accept": "text/html"})
        assert r.status_code == 404, (url, r.status_code)
    assert team["bob"].get("/api/profiles/bob-ml").json()["profile"]["rules"] == {"must": [], "exclude": []}


def test_a_library_with_users_asks_everyone_to_sign_in(team):
    with httpx.Client(base_url=team["base"], timeout=30) as anonymous:
        assert is_error(anonymous.get("/api/profiles"), 401)
        assert is_error(anonymous.get("/api/search?q=attention"), 401)  # the library too, on loopback
        page = anonymous.get("/profiles", headers={"accept": "text/html"})
        assert page.status_code == 303 and page.headers["location"] == "/login?next=/profiles"
        assert 'name="password"' in anonymous.get("/login").text
        assert anonymous.get("/static/app.css").status_code == 200
    assert team["alice"].get("/api/me").json()["user"] == {"name": "alice", "admin": False}


def test_api_tokens_work_for_the_api_and_a_wrong_one_gets_401(team):
    base, token = team["base"], team["bob_token"]
    with httpx.Client(base_url=base, timeout=30, headers={"authorization": f"Bearer {token}"}) as bob:
        assert names(bob) == ["bob-ml"]  # as bob, with no cookie and no CSRF token
        r = bob.post("/api/profiles/bob-ml/follow", json={"author": "Ada Lovelace"})
        assert r.status_code == 200 and r.json()["profile"]["follows"] == ["Ada Lovelace"]
        assert bob.post("/api/profiles/bob-ml/unfollow", json={"author": "Ada Lovelace"}).is_success
        assert bob.get("/api/profiles/alice-ml").status_code == 404
    for wrong in (token[:-2] + "xx", "prt_nothing", "x", team["alice"].cookies[SESSION_COOKIE]):
        r = httpx.get(f"{base}/api/profiles", headers={"authorization": f"Bearer {wrong}"})
        assert is_error(r, 401), wrong


def test_only_admins_write_to_the_shared_library(team):
    alice, root = team["alice"], team["root"]
    assert is_error(alice.post("/api/import", data={"text": ""}), 403)
    assert alice.get("/import", headers={"accept": "text/html"}).status_code == 403
    assert is_error(alice.post(f"/api/papers/{team['ids'][0]}/fetch"), 403)
    assert root.post("/api/import", data={"text": ""}).status_code not in (
        401,
        403,
    )  # empty: a 4xx of its own
    assert root.get("/import").status_code == 200
    assert alice.get("/api/search?q=attention").status_code == 200  # reading the library is for everyone


def test_sign_out_ends_the_session_on_the_server(team):
    c = sign_in(team["base"], "alice")
    cookie = c.cookies[SESSION_COOKIE]
    assert c.post("/logout", data={"csrf_token": c.cookies[CSRF_COOKIE]}).status_code == 303
    with httpx.Client(base_url=team["base"], cookies={SESSION_COOKIE: cookie}, timeout=30) as replay:
        assert is_error(replay.get("/api/profiles"), 401)  # the old cookie is dead, not just forgotten
    assert names(team["alice"]) == ["alice-ml"]  # another session of hers is untouched
    c.close()


def test_wrong_passwords_cookie_flags_and_rate_limit(tmp_path):
    path = str(tmp_path / "lib.db")
    lib = open_library(path)
    accounts.add_user(lib, "alice", PASSWORD["alice"])
    lib.close()
    c = client_for(path)
    c.base_url = c.base_url.copy_with(scheme="https")  # as behind an HTTPS proxy uvicorn trusts
    csrf = c.csrf()
    data = {"name": "alice", "password": PASSWORD["alice"], "csrf_token": csrf}
    ok = c.post("/login", data=data, follow_redirects=False)
    cookie = ok.headers["set-cookie"]
    assert ok.status_code == 303 and f"{SESSION_COOKIE}=" in cookie
    assert "HttpOnly" in cookie and "Secure" in cookie and "samesite=lax" in cookie.lower()
    no_csrf = client_for(path).post("/login", data={"name": "alice", "password": PASSWORD["alice"]})
    assert no_csrf.status_code == 403  # login CSRF: the form needs the page's token
    guesser = client_for(path)
    csrf = guesser.csrf()
    codes = [
        guesser.post("/login", data={"name": n, "password": "wrong pass", "csrf_token": csrf}).status_code
        for n in ("alice", "alice", "nobody", "alice", "alice", "alice")
    ]
    assert codes == [401] * 5 + [429]  # an unknown name answers like a wrong password


def test_a_library_without_users_is_unchanged(tmp_path):
    path = str(tmp_path / "lib.db")
    lib = open_library(path)
    profiles.create_profile(lib, "mine")
    lib.close()
    c = client_for(path)
    assert [p["name"] for p in c.get("/api/profiles").json()["items"]] == ["mine"]
    assert c.get("/api/me").json() == {"ok": True, "user": None}
    assert "Access token" in c.get("/login").text  # the token form of a server beyond loopback
    lib = open_library(path)
    try:
        assert store.has_users(lib) is False
    finally:
        lib.close()


def test_admins_manage_users_and_members_make_their_own_tokens(team):
    alice, root = team["alice"], team["root"]
    assert is_error(alice.get("/api/users"), 403)
    assert is_error(
        alice.post("/api/users", json={"name": "mallory", "password": "x" * 12, "admin": True}), 403
    )
    made = root.post("/api/users", json={"name": "carol", "password": "carol's password"})
    assert made.status_code == 200 and made.json()["user"] == {"name": "carol", "admin": False}
    listed = {u["name"]: u for u in root.get("/api/users").json()["items"]}
    assert listed["alice"]["profiles"] == 1 and "password" not in str(listed).lower()
    assert root.post("/api/users/carol/remove").json()["removed"] == "carol"

    token = alice.post("/api/me/token", json={"label": "script"}).json()["token"]
    with httpx.Client(base_url=team["base"], headers={"authorization": f"Bearer {token}"}) as script:
        assert names(script) == ["alice-ml"]


def test_a_profile_made_from_the_page_form_belongs_to_its_maker(team):
    alice = team["alice"]
    form = {"name": "alice-form", "csrf_token": alice.cookies[CSRF_COOKIE]}
    made = alice.post("/profiles", data=form, headers={"accept": "text/html"})
    assert made.status_code == 303 and made.headers["location"] == "/profiles/alice-form"
    assert "alice-form" in names(alice) and "alice-form" not in names(team["bob"])
    assert alice.post("/api/profiles/alice-form/delete").is_success
