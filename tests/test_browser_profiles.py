"""The profile flows of issue 15 in a real browser (Debian Chromium through Playwright, against the
app served by uvicorn on a free loopback port): a Like sent to the profile the reader chooses from
any card, a paper removed from a profile on its page, the profile page's sections (interests,
followed authors, keyword rules, feedback history: see, edit, reset), and search snippets free of
Markdown, LaTeX and HTML debris. Screenshots at 1280 and 390 px go where test_web_e2e puts them.
No sleeps: every step waits for an element or a response."""

from __future__ import annotations

import json
from urllib.parse import unquote

import pytest

from paperradar import profiles
from paperradar.importers.base import Source
from paperradar.ingest import import_source
from paperradar.storage import open_library
from test_web_e2e import CHROMIUM, playwright, running_app, shoot
from web_helpers import demo_library

DEBRIS_ID = "arxiv:2502.00002"
DEBRIS = {  # an abstract as some sources flatten it: Markdown, LaTeX and HTML left in, words glued
    "id": DEBRIS_ID,
    "title": "Zebrafish **holography** of eviction caches",
    "abstract": (
        "We propose **Zebracache**, \\ie, it attentionreduces holography cost by 78.27\\%.<p>Code: "
        "\\hrefhttps://git.io/zchttps://git.io/zc &amp; more."
    ),
    "authors": ["Ada Zebra"],
}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    path = demo_library(tmp_path_factory.mktemp("h15") / "lib.db")
    lib = open_library(path)
    import_source(lib, Source.from_text(json.dumps(DEBRIS) + "\n", "debris.jsonl"))
    profiles.create_profile(lib, "me", author="Yuandong Tian", pick=1)
    ids = [r[0] for r in lib.conn.execute("SELECT id FROM papers ORDER BY pk LIMIT 3")]
    profiles.create_profile(lib, "side project", papers=ids)
    lib.close()
    yield from running_app(path)


@pytest.fixture(scope="module")
def browser():
    assert CHROMIUM.exists()
    with playwright.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"])
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    pg = context.new_page()
    pg.on("dialog", lambda d: d.accept())  # the reset buttons ask first
    yield pg
    context.close()


def api(page, url: str) -> dict:  # type: ignore[type-arg]
    """A JSON twin, fetched by the page itself (same cookies)."""
    return page.evaluate("async (u) => (await fetch(u, {headers: {Accept: 'application/json'}})).json()", url)


def feedback_of(page, profile: str) -> list[tuple[str, str]]:
    got = api(page, f"/api/profiles/{profile.replace(' ', '%20')}")["profile"]["feedback"]
    return [(f["paper"], f["kind"]) for f in got]


def undo_all(page, profile: str) -> None:
    while feedback_of(page, profile):
        page.evaluate(
            """async (p) => {
              const token = document.querySelector('input[name="csrf_token"]').value;
              await fetch('/api/profiles/' + encodeURIComponent(p) + '/undo',
                          {method: 'POST', headers: {'X-CSRF-Token': token}});
            }""",
            profile,
        )


CARDS = {  # page -> (url, card selector)
    "search": ("/search?q=cache", ".result"),
    "library": ("/library", ".row"),
    "home": ("/?profile=me", ".rec"),
    "paper": (f"/paper/{DEBRIS_ID}", ".card-actions"),
}


@pytest.mark.parametrize("where", list(CARDS))
def test_a_like_goes_to_the_profile_chosen_on_the_card(server, page, where):
    url, selector = CARDS[where]
    page.goto(server + url)
    card = page.locator(selector).first
    card.wait_for()
    paper = card.get_attribute("data-paper") or DEBRIS_ID
    page.evaluate("() => { window.__stayed = true; }")
    card.locator("details.like-for summary").click()
    with page.expect_response(lambda r: "/api/profiles/side%20project/feedback" in r.url) as sent:
        card.locator("button.like-to", has_text="side project").click()
    assert sent.value.ok
    status = card.locator(".fb-status")
    status.filter(has_text="Liked for side project").wait_for()
    assert page.evaluate("() => window.__stayed") is True  # in place, no reload
    if where == "search":
        card.locator("details.like-for summary").click()
        shoot(page, "h15-like-for")
    assert (paper, "like") in feedback_of(page, "side project")
    assert paper not in [p for p, _ in feedback_of(page, "me")]  # not the page's default profile
    status.locator("button.undo").click()
    status.filter(has_text="Undone").wait_for()
    assert (paper, "like") not in feedback_of(page, "side project")


def test_without_javascript_a_like_for_another_profile_still_goes_there(browser, server):
    context = browser.new_context(java_script_enabled=False)
    pg = context.new_page()
    pg.goto(f"{server}/search?q=cache")
    card = pg.locator(".result").first
    paper = card.get_attribute("data-paper")
    card.locator("details.like-for summary").click()
    card.locator("button.like-to", has_text="side project").click()
    pg.wait_for_load_state("load")
    assert pg.url.startswith(f"{server}/search?q=cache")  # back where the reader was
    pg.goto(f"{server}/profiles/side%20project")
    assert pg.locator(".history li", has_text="like").count() == 1
    assert [
        unquote(h)
        for h in pg.locator(".history a").evaluate_all("els => els.map(e => e.getAttribute('href'))")
    ] == [f"/paper/{paper}"]
    pg.click("text=Undo last feedback")
    pg.wait_for_load_state("load")
    assert pg.locator(".history li").count() == 0
    context.close()


def test_remove_a_paper_from_the_profile_page(server, page):
    page.goto(f"{server}/profiles/side%20project")
    rows = page.locator(".profile-papers li[data-paper]")
    before = rows.evaluate_all("els => els.map(e => e.dataset.paper)")
    assert len(before) == 3
    shoot(page, "h15-profile")
    gone = before[0]
    with page.expect_navigation():
        rows.first.locator("button", has_text="remove").click()
    after = page.locator(".profile-papers li[data-paper]").evaluate_all(
        "els => els.map(e => e.dataset.paper)"
    )
    assert gone not in after and len(after) == 2
    assert gone not in api(page, "/api/profiles/side%20project")["profile"]["papers"]
    page.evaluate(  # put it back for the other tests
        """async (id) => {
          const token = document.querySelector('input[name="csrf_token"]').value;
          await fetch('/api/profiles/side%20project/papers',
            {method: 'POST', headers: {'X-CSRF-Token': token, 'Content-Type': 'application/json'},
             body: JSON.stringify({papers: [id]})});
        }""",
        gone,
    )


def test_profile_page_shows_and_edits_what_the_profile_learned(server, page):
    page.goto(f"{server}/profiles/me")
    assert page.locator(".interest-box h3").count() >= 1  # its interests, each with papers
    assert page.locator(".interest-box li a").count() >= 1
    steering = page.locator("#steering")
    # followed authors: follow, see, unfollow
    with page.expect_navigation():
        steering.get_by_placeholder("Author name").fill("Ada Zebra")
        steering.get_by_role("button", name="Follow", exact=True).click()
    assert page.locator("#steering li", has_text="Ada Zebra").count() == 1
    with page.expect_navigation():
        page.locator("#steering li", has_text="Ada Zebra").get_by_role("button", name="unfollow").click()
    assert page.locator("#steering li", has_text="Ada Zebra").count() == 0
    # keyword rules: add, see, remove
    with page.expect_navigation():
        steering.locator("select[name=action]").select_option("exclude")
        steering.get_by_placeholder("word or phrase").fill("holography")
        steering.get_by_role("button", name="Add rule").click()
    rule = page.locator("#steering li", has_text="holography")
    assert rule.count() == 1 and "exclude" in rule.inner_text()
    assert api(page, "/api/profiles/me")["profile"]["rules"]["exclude"] == ["holography"]
    with page.expect_navigation():
        rule.get_by_role("button", name="remove").click()
    assert page.locator("#steering li", has_text="holography").count() == 0
    # feedback history: a like shows, then "Forget feedback" resets it
    page.goto(f"{server}/?profile=me")
    card = page.locator(".rec").first
    card.wait_for()
    liked = card.get_attribute("data-paper")
    card.locator("button.like").click()
    page.wait_for_selector(".rec.done-like")
    page.goto(f"{server}/profiles/me")
    history = page.locator(".history li")
    assert history.count() == 1 and "like" in history.inner_text()
    assert unquote(history.locator("a").get_attribute("href") or "") == f"/paper/{liked}"
    with page.expect_navigation():
        page.get_by_role("button", name="Forget feedback").click()
    assert page.locator(".history li").count() == 0
    assert "No feedback yet" in page.inner_text("main")
    assert feedback_of(page, "me") == []


def test_search_snippets_are_clean_text_with_highlights(server, page):
    page.goto(f"{server}/search?q=holography&mode=keyword")
    card = page.locator(f'.result[data-paper="{DEBRIS_ID}"]')
    card.wait_for()
    snippet = card.locator(".snippet").inner_text()
    title = card.locator(".title").inner_text()
    for debris in ("**", "\\", "<p>", "&amp;", "hrefhttps"):
        assert debris not in snippet and debris not in title, (debris, snippet)
    assert "attention reduces" in snippet and "i.e.," in snippet and "78.27%" in snippet
    assert "https://git.io/zc & more" in snippet  # the URL once, not twice
    assert card.locator(".snippet mark").count() >= 1  # the matched words still highlighted
    assert "holography" in [m.lower() for m in card.locator(".snippet mark").all_inner_texts()]
    assert title == "Zebrafish holography of eviction caches"
    got = api(page, "/api/search?q=holography&mode=keyword")
    hit = next(i for i in got["items"] if i["id"] == DEBRIS_ID)
    assert "**" not in hit["snippet"] and "\\" not in hit["snippet"]
    for start, end in hit["highlights"]:  # the offsets point into the cleaned text
        assert hit["snippet"][start:end].lower() == "holography"


def test_screens_of_home_paper_search_and_profile(server, page):
    page.goto(f"{server}/?profile=me")
    page.locator(".rec").first.wait_for()
    shoot(page, "h15-home")
    page.goto(f"{server}/paper/{DEBRIS_ID}")
    page.wait_for_selector("#similar li, #similar p")
    shoot(page, "h15-paper")
    page.goto(f"{server}/search?q=cache")
    shoot(page, "h15-search")
    page.goto(f"{server}/profiles/me")
    shoot(page, "h15-profile-me")
    assert page.locator("h1").inner_text() == "me"
