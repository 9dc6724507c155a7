"""The web app in a real browser: headless Debian Chromium driven by Playwright, against the app
served by uvicorn in a thread on a free loopback port. Saves screenshots of every page at a desktop
and a phone width to bench/out/screenshots/ (or $PAPERRADAR_SCREENSHOTS)."""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import free_port
from paperradar import profiles
from paperradar.storage import open_library
from web_helpers import HOSTILE_ID, HOSTILE_TITLE, REPO, demo_library

CHROMIUM = Path("/usr/bin/chromium")
SHOTS = Path(os.environ.get("PAPERRADAR_SCREENSHOTS", REPO / "bench" / "out" / "screenshots"))
SIZES = {"desktop": (1280, 900), "phone": (390, 844)}
MAX_HEIGHT = 2000  # long pages are cut here: the top is what a reader sees first

if not CHROMIUM.exists():
    if os.environ.get("CI"):
        pytest.fail(
            "/usr/bin/chromium is missing (`make test` installs it: apt-get install chromium, as root)",
            pytrace=False,
        )
    pytest.skip("no /usr/bin/chromium (apt-get install chromium)", allow_module_level=True)
playwright = pytest.importorskip("playwright.sync_api")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    yield from running_app(e2e_library(tmp_path_factory.mktemp("e2e")))


def e2e_library(folder: Path) -> Path:
    """The demo library with the profile "me"."""
    path = demo_library(folder / "lib.db")
    lib = open_library(path)
    profiles.create_profile(lib, "me", author="Yuandong Tian", pick=1)
    lib.close()
    return Path(path)


def server_with(folder: Path) -> contextlib.AbstractContextManager[str]:
    """A server of its own, started now: a server reads its settings once, as it starts, so a test
    that sets PAPERRADAR_* sets them first and then starts this one."""
    return contextlib.contextmanager(running_app)(e2e_library(folder))


def running_app(path) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """`paperradar serve` in a thread on a free loopback port: yields its base URL, then stops it."""
    import uvicorn

    from paperradar.web import create_app

    port = free_port()
    srv = uvicorn.Server(
        uvicorn.Config(create_app(str(path)), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(10)


@pytest.fixture(scope="module")
def browser():
    with playwright.sync_playwright() as pw:
        b = pw.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    pg = context.new_page()
    pg.dialogs = []  # type: ignore[attr-defined]
    pg.on("dialog", lambda d: (pg.dialogs.append(d.message), d.dismiss()))  # type: ignore[attr-defined]
    yield pg
    context.close()


def shoot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    """Screenshots of the current page at each width."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    for label, (w, h) in SIZES.items():
        page.set_viewport_size({"width": w, "height": h})
        height = min(page.evaluate("() => document.documentElement.scrollHeight"), MAX_HEIGHT)
        clip = {"x": 0, "y": 0, "width": w, "height": max(height, h)}
        page.screenshot(path=str(SHOTS / f"{name}-{label}.png"), full_page=True, clip=clip)
    page.set_viewport_size({"width": 1280, "height": 900})


def test_search_then_open_a_paper(server, page):
    page.goto(f"{server}/search")
    page.fill("input.big", "KV cache")
    page.press("input.big", "Enter")
    page.wait_for_selector("#result-count")
    assert "of" in page.inner_text("#result-count") and " ms" in page.inner_text("#result-count")
    first = page.locator(".result .title a").first
    assert "kv" in first.inner_text().lower() or page.locator(".result mark").count() > 0
    shoot(page, "search")
    title = first.inner_text()
    first.click()
    page.wait_for_selector("h1.paper-title")
    assert page.inner_text("h1.paper-title") == title
    assert page.locator(".sources li").count() >= 1  # every source with its provenance
    assert page.locator(".panel h2", has_text="Similar papers").count() == 1
    page.wait_for_selector("#similar li")  # fetched after the page showed
    assert page.locator(".key-sentences dt", has_text="Idea").count() == 1
    shoot(page, "paper")


def test_like_changes_recommendations(server, page):
    page.goto(f"{server}/?profile=me")
    before = page.locator(".rec").evaluate_all("els => els.map(e => e.dataset.paper)")
    assert len(before) >= 2, "the demo profile should get recommendations"
    assert page.locator(".rec .key-sentences").count() >= 1  # the idea and result sentences
    shoot(page, "home")
    liked = before[0]
    page.evaluate("() => { window.__stayed = true; }")
    page.locator(".rec").first.locator("button.like").click()
    page.wait_for_selector(".rec.done-like")
    assert "Liked" in page.locator(".rec").first.locator(".fb-status").inner_text()
    assert page.evaluate("() => window.__stayed") is True  # updated in place, no reload
    shoot(page, "home-liked")
    page.reload()
    after = page.locator(".rec").evaluate_all("els => els.map(e => e.dataset.paper)")
    assert liked not in after and after != before
    page.goto(f"{server}/profiles/me")
    assert page.locator(".history li", has_text="like").count() == 1
    shoot(page, "profile")
    page.click("text=Undo last feedback")
    page.wait_for_load_state("load")
    assert page.locator(".history li").count() == 0


def test_keyboard_moves_and_dislikes_in_place(server, page):
    page.goto(f"{server}/?profile=me")
    page.keyboard.press("j")
    assert page.locator(".rec.current").count() == 1
    first = page.locator(".rec.current").get_attribute("data-paper")
    page.keyboard.press("j")
    page.keyboard.press("k")
    assert page.locator(".rec.current").get_attribute("data-paper") == first
    page.keyboard.press("d")
    page.wait_for_selector(".rec.done-dislike")
    assert page.locator(".rec.done-dislike").get_attribute("data-paper") == first
    page.locator(".rec.done-dislike button.undo").click()
    page.wait_for_function("() => !document.querySelector('.rec.done-dislike')")
    page.keyboard.press("/")
    assert page.evaluate("() => document.activeElement.getAttribute('aria-label')") == "Search papers"


def test_without_javascript_feedback_still_works(browser, server):
    context = browser.new_context(java_script_enabled=False)
    pg = context.new_page()
    pg.goto(f"{server}/?profile=me")
    first = pg.locator(".rec").first.get_attribute("data-paper")
    pg.locator(".rec").first.locator("button.dislike").click()
    pg.wait_for_load_state("load")
    assert pg.url.startswith(f"{server}/?profile=me")
    assert pg.locator(f'.rec[data-paper="{first}"]').count() == 0
    pg.goto(f"{server}/profiles/me")
    pg.click("text=Undo last feedback")
    context.close()


def test_import_a_pasted_page_shows_the_report(server, page):
    page.goto(f"{server}/import")
    shoot(page, "import-empty")
    text = (REPO / "tests" / "data" / "pages" / "hf-papers-malformed.txt").read_text(encoding="utf-8")
    page.fill("textarea[name=text]", text)
    page.click("button:has-text('Import')")
    page.wait_for_selector("#import-report")
    report = page.inner_text("#import-report")
    assert "page_hf_papers" in report
    assert "line 28" in report  # the rejected entry, with its line and reason
    shoot(page, "import-report")


def test_export_bibtex_from_a_paper(server, page):
    page.goto(f"{server}/paper/arxiv:2410.09918")
    with page.expect_download() as info:
        page.click("text=BibTeX")
    text = Path(info.value.path()).read_text(encoding="utf-8")
    assert text.lstrip().startswith("@") and "2410.09918" in text


def test_library_select_and_export(server, page):
    page.goto(f"{server}/library")
    shoot(page, "library")
    page.locator(".row input[name=ids]").nth(0).check()
    page.locator(".row input[name=ids]").nth(1).check()
    with page.expect_download() as info:
        page.click("button:has-text('Export selected')")
    assert Path(info.value.path()).read_text(encoding="utf-8").count("@") == 2


def test_hostile_title_shows_literally_and_nothing_runs(server, page):
    page.goto(f"{server}/search?q=script")
    page.wait_for_selector(".result")
    assert page.locator(".result .title a").first.inner_text() == HOSTILE_TITLE
    assert page.locator("main script").count() == 0 and page.locator("main b").count() == 0
    page.goto(f"{server}/paper/{HOSTILE_ID}")
    assert page.inner_text("h1.paper-title") == HOSTILE_TITLE
    assert page.locator("main img").count() == 0
    page.goto(f"{server}/library?q=script")
    page.wait_for_timeout(200)
    assert page.dialogs == []  # type: ignore[attr-defined]
    assert page.evaluate("() => window.__pwned === undefined")


def test_screens_of_the_other_pages(server, page):
    page.goto(f"{server}/profiles")
    shoot(page, "profiles")
    page.goto(f"{server}/no/such/page")
    assert "Not found" in page.inner_text("main")
    shoot(page, "not-found")
    page.goto(f"{server}/search?q=attention&mode=keyword&since=2024&category=cs")
    shoot(page, "search-filtered")
    page.goto(f"{server}/digest/me")
    page.wait_for_selector(".key-sentences")  # the first preview may be prepared in the background
    assert page.locator(".key-sentences").count() >= 1  # each entry's idea and result
    shoot(page, "digest")


def test_search_cards_have_pdf_and_like_and_search_sorts_newest_first(server, page):
    page.goto(f"{server}/search?q=attention&order=newest")
    dates = [d for d in page.locator(".result .meta span:nth-child(2)").all_inner_texts() if d[:1].isdigit()]
    assert dates == sorted(dates, reverse=True) and len(dates) >= 2
    card = page.locator(".result").first
    assert card.locator("a.pdf").count() + card.locator("button.like").count() >= 1
    page.evaluate("() => { window.__stayed = true; }")
    card.locator("button.like").click()
    page.wait_for_selector(".result.done-like")
    assert page.evaluate("() => window.__stayed") is True
    page.goto(f"{server}/profiles/me")
    page.click("text=Undo last feedback")
    page.goto(f"{server}/library")
    assert page.locator(".row a.pdf").count() >= 1 and page.locator(".row button.like").count() >= 1


def test_untitled_paper_is_named_by_its_arxiv_id_once(server, page):
    page.goto(f"{server}/library?q=2405.08944")
    titles = page.locator(".row a.title.fetchable").all_inner_texts()
    assert titles and all(t.startswith("arXiv ") and t.endswith("(title not fetched yet)") for t in titles)
    page.goto(f"{server}/paper/arxiv:2405.08944")
    assert page.inner_text("h1.paper-title") == "arXiv 2405.08944 (title not fetched yet)"
    assert page.locator("button", has_text="Fetch title and authors from arXiv").count() == 1
    shoot(page, "paper-untitled")


def test_send_digest_now_from_the_digest_page(browser, monkeypatch, tmp_path):
    from conftest import http_server
    from test_webhook import Chat, _handler

    chat = Chat()
    with http_server(_handler(chat)) as base:
        chat.base = base
        monkeypatch.setenv("PAPERRADAR_WEBHOOKS", f"json={base}/json/in")
        monkeypatch.delenv("PAPERRADAR_MAIL_TO", raising=False)
        with server_with(tmp_path) as server:
            _send_now(browser, server)
    [got] = chat.got
    assert got["body"]["papers"] and all(p["highlights"].get("idea") for p in got["body"]["papers"][:1])


def _send_now(browser, server: str) -> None:  # type: ignore[no-untyped-def]
    """Send the digest of "me" with the page's button; the page says Sent."""
    context = browser.new_context()
    pg = context.new_page()
    pg.on("dialog", lambda d: d.accept())  # "Send this digest now to ...?"
    pg.goto(f"{server}/digest/me")
    assert "json webhook at 127.0.0.1" in pg.inner_text("main")
    pg.click("button:has-text('Send digest now')")
    pg.wait_for_selector("#sent-note")
    assert pg.inner_text("#sent-note") == "Sent."
    shoot(pg, "digest-sent")
    context.close()


def test_fetch_title_and_authors_of_an_untitled_paper(page, monkeypatch, tmp_path):
    import re
    from http.server import BaseHTTPRequestHandler

    from conftest import http_server
    from delivery_fakes import id_list_feed

    class ArxivAPI(BaseHTTPRequestHandler):  # answers any id with a real saved entry, renamed
        def do_GET(self) -> None:  # noqa: N802
            wanted = re.search(r"id_list=([^&]+)", self.path).group(1)  # type: ignore[union-attr]
            body = id_list_feed(["2403.03507"], 0, 10).decode().replace("2403.03507", wanted)
            body = re.sub(r"<title>GaLore[^<]*</title>", "<title>A Title Fetched From arXiv</title>", body)
            self.send_response(200)
            self.send_header("Content-Length", str(len(body.encode())))
            self.end_headers()
            self.wfile.write(body.encode())

        def log_message(self, *args: object) -> None:
            pass

    with http_server(ArxivAPI) as base:
        monkeypatch.setenv("PAPERRADAR_ARXIV_API", f"{base}/api/query")
        monkeypatch.setenv("PAPERRADAR_ARXIV_DELAY", "0")
        with server_with(tmp_path) as server:  # started after the arXiv address is set
            page.goto(f"{server}/paper/arxiv:2406.07394")
            assert page.inner_text("h1.paper-title") == "arXiv 2406.07394 (title not fetched yet)"
            page.click("button:has-text('Fetch title and authors from arXiv')")
            page.wait_for_selector("h1.paper-title:has-text('A Title Fetched From arXiv')")
            assert page.locator("button:has-text('Fetch title and authors')").count() == 0


def test_at_390_px_every_navigation_link_is_in_sight(server, page):
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{server}/")
    links = page.locator("nav.nav a")
    names = links.all_inner_texts()
    assert {"Digests", "Topics", "Map", "Trends"} <= set(names)
    for i in range(links.count()):
        box = links.nth(i).bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= 390, names[i]  # not scrolled away
