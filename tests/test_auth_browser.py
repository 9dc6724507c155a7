"""Accounts in a real browser (issue 16): headless Debian Chromium, driven by Playwright, signs in
as each of two users of one library, on SQLite and on PostgreSQL, and sees only that user's
profiles; another user's profile page is "not found"; signing out asks for the sign-in again."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from paperradar import accounts, profiles
from paperradar.storage import open_library
from paperradar.storage import users as store
from test_auth_accounts import serve

CHROMIUM = Path("/usr/bin/chromium")
PASSWORD = {"alice": "alice's long password", "bob": "bob's long password"}

if not CHROMIUM.exists():
    if os.environ.get("CI"):
        pytest.fail("/usr/bin/chromium is missing (apt-get install chromium, as root)", pytrace=False)
    pytest.skip("no /usr/bin/chromium (apt-get install chromium)", allow_module_level=True)
playwright = pytest.importorskip("playwright.sync_api")


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def server(request, tmp_path_factory):
    """The app over a library on each backend, with alice and bob owning one profile each."""
    if request.param == "sqlite":
        path = str(tmp_path_factory.mktemp("accounts-browser") / "lib.db")
    else:
        from conftest import postgres_url
        from pg_databases import copy_database, drop_database

        url = postgres_url()
        name, path = copy_database(url, request.getfixturevalue("pg_template"))
        request.addfinalizer(lambda: drop_database(url, name))  # runs after the server stops
    lib = open_library(path)
    try:
        for name in PASSWORD:
            accounts.add_user(lib, name, PASSWORD[name])
            profiles.create_profile(lib, f"{name}-reading")
            store.set_owner(lib, f"{name}-reading", store.get_user(lib, name).pk)
    finally:
        lib.close()
    yield from serve(path)


@pytest.fixture(scope="module")
def browser():
    with playwright.sync_playwright() as pw:
        b = pw.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield b
        b.close()


def sign_in(page, server: str, name: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{server}/profiles")
    assert "/login" in page.url  # asked to sign in first, even on loopback
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", PASSWORD[name])
    page.click("form.account-login button[type=submit]")
    page.wait_for_url(f"{server}/profiles")


@pytest.mark.parametrize(("me", "other"), [("alice", "bob"), ("bob", "alice")])
def test_each_user_sees_only_their_own_profiles(browser, server, me, other):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    try:
        sign_in(page, server, me)
        body = page.inner_text("main")
        assert f"{me}-reading" in body and f"{other}-reading" not in body
        assert page.inner_text(".signed-in") == me
        page.click(f"text={me}-reading")
        page.wait_for_url(f"{server}/profiles/{me}-reading")
        response = page.goto(f"{server}/profiles/{other}-reading")
        assert response is not None and response.status == 404
        page.goto(f"{server}/profiles")
        page.click("form.logout button")
        page.wait_for_url(f"{server}/login")
        page.goto(f"{server}/profiles")
        assert "/login" in page.url  # signed out for good
    finally:
        context.close()


def test_a_wrong_password_is_refused_in_the_page(browser, server):
    context = browser.new_context()
    page = context.new_page()
    try:
        page.goto(f"{server}/login")
        page.fill("input[name=name]", "alice")
        page.fill("input[name=password]", "not her password")
        page.click("form.account-login button[type=submit]")
        page.wait_for_selector(".alert")
        assert "Wrong name or password" in page.inner_text(".alert")
        assert "alice-reading" not in page.content()
    finally:
        context.close()
