"""The map, topics and trends pages in a real browser (headless Chromium via Playwright) over the
planted corpus of test_topics.py. Screenshots go where test_web_e2e.py puts them."""

from __future__ import annotations

import shutil

import pytest

from paperradar import profiles
from paperradar.storage import open_library
from paperradar.topics import build_topics
from test_topics import planted  # noqa: F401  (the module-scoped fixture)
from test_web_e2e import browser, page, running_app, shoot  # noqa: F401  (fixtures)


@pytest.fixture(scope="module")
def server(planted, tmp_path_factory):  # noqa: F811

    path = tmp_path_factory.mktemp("topics-e2e") / "lib.db"
    shutil.copy(planted[0], path)
    lib = open_library(path)
    build_topics(lib, fine=4, broad=2)
    profiles.create_profile(lib, "speechy", papers=["arxiv:2512.00400", "arxiv:2512.00401"])
    lib.close()
    yield from running_app(path)


def test_map_hover_shows_the_title_and_click_opens_the_paper(server, page):  # noqa: F811
    page.goto(f"{server}/map")
    page.wait_for_selector("canvas#map[data-drawn=yes]")
    assert "414 of 414 papers" in page.inner_text("#map-status")
    shoot(page, "topics-map")
    page.reload()  # screenshots resize the page; start again from a settled drawing
    page.wait_for_selector("canvas#map[data-drawn=yes]")
    points = page.evaluate("() => window.topicMap.points()")
    assert len(points) == 414
    box = page.locator("canvas#map").bounding_box()
    target = points[len(points) // 2]
    page.mouse.move(box["x"] + target["x"], box["y"] + target["y"])
    page.wait_for_selector("#map-tip:not([hidden])")
    shown = page.inner_text("#map-tip")
    near = [p for p in points if (p["x"] - target["x"]) ** 2 + (p["y"] - target["y"]) ** 2 <= 49]
    hovered = next(p for p in near if p["title"] in shown)  # the tip names a paper under the mouse
    page.mouse.click(box["x"] + target["x"], box["y"] + target["y"])
    page.wait_for_selector("h1.paper-title")
    assert page.inner_text("h1.paper-title") == hovered["title"]


def test_map_highlights_a_search_and_a_profile(server, page):  # noqa: F811
    page.goto(f"{server}/map")
    page.wait_for_selector("canvas#map[data-drawn=yes]")
    page.fill(".map-form input[name=q]", "diarization")
    page.click(".map-form button[type=submit]")
    page.wait_for_url("**/map?q=diarization*")
    page.wait_for_selector("canvas#map[data-drawn=yes]")
    status = page.inner_text("#map-status")
    assert "highlighted" in status
    hits = {p["id"] for p in page.evaluate("() => window.topicMap.points()") if p["hit"]}
    found = page.request.get(f"{server}/api/search?q=diarization&limit=200").json()
    assert hits and hits == {item["id"] for item in found["items"]}  # what the search finds, no more
    shoot(page, "topics-map-search")
    page.goto(f"{server}/map?profile=speechy")
    page.wait_for_selector("canvas#map[data-drawn=yes]")
    assert "2 highlighted" in page.inner_text("#map-status")


def test_trends_page_charts_the_rising_topic(server, page):  # noqa: F811
    page.goto(f"{server}/trends")
    rows = page.locator("#rising .rising-row")
    assert rows.count() == 1
    assert "90 papers in the window" in rows.first.inner_text()
    assert page.locator("#rising svg.spark polyline").count() == 1
    shoot(page, "trends")
    page.select_option("select[name=profile]", "speechy")
    page.click("form.map-form button")
    page.wait_for_selector("#profile-trends")
    assert "88 new" in page.inner_text("#profile-trends")
    shoot(page, "trends-profile")


def test_topics_page_links_to_a_topic(server, page):  # noqa: F811
    page.goto(f"{server}/topics")
    assert page.locator(".topic-group").count() == 2
    shoot(page, "topics")
    page.locator(".topic-list a", has_text="protein folding").first.click()
    page.wait_for_selector(".bars")
    assert "96 papers" in page.inner_text(".lede")
    shoot(page, "topic")


def test_map_labels_never_overlap_on_desktop_or_phone(server, page):  # noqa: F811
    overlap = """() => { const b = window.__mapLabels; let n = 0;
      for (let i = 0; i < b.length; i++) for (let j = i + 1; j < b.length; j++)
        if (b[i].l < b[j].r && b[j].l < b[i].r && b[i].t < b[j].b && b[j].t < b[i].b) n++;
      return [b.length, n]; }"""
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 844})
        page.goto(f"{server}/map")
        page.wait_for_selector("canvas#map[data-drawn=yes]")
        shown, overlapping = page.evaluate(overlap)
        assert shown >= 2 and overlapping == 0, width


def test_trends_without_a_rise_shows_movers_with_intervals(server, page):  # noqa: F811
    page.goto(f"{server}/trends?min_z=50")  # a guard nothing passes: what does the page offer?
    assert page.locator("#no-rise").count() == 1
    movers = page.locator(".mover-row")
    assert movers.count() >= 2 and "90% interval" in movers.first.inner_text()
    assert "speaker diarization" in movers.first.inner_text()  # the biggest move comes first
    shoot(page, "trends-movers")
    page.goto(f"{server}/trends")
    assert "88 papers in 1 topic" in page.inner_text("#profile-trends")  # the first profile, counted
    shoot(page, "trends-default")
