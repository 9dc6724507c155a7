"""The topic pages and their JSON twins (/api/topics, /api/trends, /api/map) on the planted corpus."""

from __future__ import annotations

import shutil

import pytest

from paperradar import profiles
from paperradar.storage import open_library
from paperradar.topics import build_topics
from test_topics import planted  # noqa: F401  (the module-scoped fixture)
from web_helpers import client_for, is_error


@pytest.fixture
def app_path(planted, tmp_path):  # noqa: F811
    path = tmp_path / "lib.db"
    shutil.copy(planted[0], path)
    lib = open_library(path)
    build_topics(lib, fine=4, broad=2)
    profiles.create_profile(lib, "speechy", papers=["arxiv:2512.00400", "arxiv:2512.00401"])
    lib.close()
    return str(path)


def test_api_topics_lists_the_documented_shape(app_path):
    data = client_for(app_path).get("/api/topics").json()
    assert data["ok"] and data["total"] == 6 and data["build"]["papers"] == 414
    build = data["build"]  # the build's report, flat, as before typed rows (storage/topics.TopicBuild)
    assert {"built_at", "model_id", "model", "fine_topics", "broad_topics"} <= set(build)
    assert build["model"] == build["model_id"] and build["fine_topics"] == 4
    assert data["items"] and all({"id", "label", "size", "parent"} <= set(t) for t in data["items"])


def test_api_topic_and_its_page(app_path):
    client = client_for(app_path)
    one = client.get("/api/topics/protein folding").json()
    assert one["ok"] and one["size"] == 96 and len(one["central"]) == 10
    page = client.get(f"/topics/{one['id']}")
    assert page.status_code == 200 and "protein folding" in page.text and "Papers per month" in page.text
    missing = client.get("/api/topics/99999")
    assert is_error(missing, 404)


def test_api_trends_and_profile_trends(app_path):
    client = client_for(app_path)
    data = client.get("/api/trends").json()
    assert len(data["rising"]) == 1 and data["rising"][0]["recent"] == 90
    mine = client.get("/api/trends", params={"profile": "speechy"}).json()
    assert mine["profile"] == "speechy" and mine["topics"][0]["id"] == data["rising"][0]["id"]
    assert mine["topics"][0]["new_count"] == 88  # the window's 90 speech papers less the profile's 2
    page = client.get("/trends", params={"profile": "speechy"})
    assert page.status_code == 200 and "Rising topics" in page.text and "<svg" in page.text


def test_api_map_highlights_a_search(app_path):
    client = client_for(app_path)
    data = client.get("/api/map", params={"q": "diarization", "limit": 20}).json()
    hits = [p for p in data["points"] if p["hit"]]
    assert data["total"] == 414 and hits
    assert hits and all("diarization" in (p["title"] or "").lower() or p["title"] for p in hits)
    assert len(data["topics"]) == 6 and all("x" in t for t in data["topics"])
    assert client.get("/map").status_code == 200


def test_pages_before_any_build_say_how_to_build(planted, tmp_path):  # noqa: F811
    path = tmp_path / "empty.db"
    shutil.copy(planted[0], path)
    client = client_for(str(path))
    assert "paperradar topics build" in client.get("/topics").text
    assert "paperradar topics build" in client.get("/trends").text
    assert "paperradar topics build" in client.get("/map").text
    assert client.get("/api/topics").json()["items"] == []


def test_trends_default_to_the_first_profile_and_the_twin_lists_movers(app_path):
    client = client_for(app_path)
    page = client.get("/trends").text
    assert "New in speechy" in page and "88 papers in" in page  # what is new, with counts
    assert "New in" not in client.get("/trends", params={"profile": ""}).text  # "all topics"
    movers = client.get("/api/trends").json()["movers"]
    assert movers and all(m["low"] <= m["growth"] <= m["high"] for m in movers)
    assert abs(movers[0]["z"]) >= abs(movers[-1]["z"])
