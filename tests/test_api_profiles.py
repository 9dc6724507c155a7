"""/api/profiles, /api/home and the profile pages: create (author, ids, upload), feedback, undo."""

from __future__ import annotations

import json
import re

import pytest

from web_helpers import REPO, client_for, demo_library, is_error


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    return client_for(demo_library(tmp_path_factory.mktemp("profiles") / "lib.db"))


def _make(client, name: str = "me"):
    r = client.post_csrf("/api/profiles", json={"name": name, "author": "Yuandong Tian", "pick": 1})
    assert r.status_code == 200, r.text
    return r.json()["profile"]


def test_author_candidates_and_profile_from_an_author(client):
    people = client.get("/api/authors", params={"name": "Yuandong Tian"}).json()
    assert people["total"] >= 1 and people["items"][0]["papers"] > 0
    profile = _make(client, "tian")
    assert len(profile["papers"]) == people["items"][0]["papers"] and profile["interests"]
    assert "tian" in [p["name"] for p in client.get("/api/profiles").json()["items"]]


def test_profile_from_pasted_ids(client):
    r = client.post_csrf("/api/profiles", json={"name": "ids", "papers": ["arxiv:2410.09918", "2409.20370"]})
    assert r.json()["profile"]["papers"] == ["arxiv:2410.09918", "arxiv:2409.20370"]


def test_profile_errors(client):
    assert is_error(client.get("/api/profiles/nobody"), 404)
    assert is_error(
        client.post_csrf("/api/profiles", json={"name": "x", "papers": ["arxiv:0000.00000"]}), 404
    )
    assert is_error(client.post_csrf("/api/profiles", json={"name": ""}), 422)
    assert is_error(client.post_csrf("/api/profiles", json={"name": "x", "author": "Nobody Atall"}), 404)
    assert is_error(client.post_csrf("/api/profiles", json="not an object"), 422)
    assert is_error(client.post("/api/profiles", json={"name": "x", "papers": ["2410.09918"]}), 403)


def test_feedback_changes_recommendations_and_undo_restores(client):
    _make(client, "fb")
    before = client.get("/api/home", params={"profile": "fb"}).json()
    ids = [i["id"] for g in before["groups"] for i in g["items"]]
    assert before["profile"] == "fb" and len(ids) >= 2
    assert before["groups"] and all(i["reasons"] for g in before["groups"] for i in g["items"])
    r = client.post_csrf("/api/profiles/fb/feedback", json={"paper": ids[0], "kind": "not_interested"})
    assert r.json()["feedback"]["kind"] == "not_interested"
    after = [
        i["id"]
        for g in client.get("/api/home", params={"profile": "fb"}).json()["groups"]
        for i in g["items"]
    ]
    assert ids[0] not in after
    history = client.get("/api/profiles/fb").json()["profile"]["feedback"]
    assert [(f["paper"], f["kind"]) for f in history] == [(ids[0], "not_interested")]
    undone = client.post_csrf("/api/profiles/fb/undo").json()["undone"]
    assert undone["paper"] == ids[0]
    assert client.get("/api/profiles/fb").json()["profile"]["feedback"] == []
    assert client.post_csrf("/api/profiles/fb/undo").json()["undone"] is None


def test_feedback_errors(client):
    _make(client, "bad")
    assert is_error(
        client.post_csrf("/api/profiles/bad/feedback", json={"paper": "2410.09918", "kind": "love"}), 422
    )
    assert is_error(
        client.post_csrf("/api/profiles/bad/feedback", json={"paper": "0000.0000", "kind": "like"}), 404
    )
    assert is_error(
        client.post_csrf("/api/profiles/ghost/feedback", json={"paper": "2410.09918", "kind": "like"}), 404
    )


def test_add_remove_and_delete(client):
    _make(client, "edit")
    p = client.post_csrf("/api/profiles/edit/papers", json={"papers": ["arxiv:2409.20370"]}).json()["profile"]
    assert "arxiv:2409.20370" in p["papers"]
    p = client.post_csrf("/api/profiles/edit/papers/remove", json={"papers": ["arxiv:2409.20370"]}).json()[
        "profile"
    ]
    assert "arxiv:2409.20370" not in p["papers"]
    assert client.post_csrf("/api/profiles/edit/delete").json()["deleted"] == "edit"
    assert is_error(client.get("/api/profiles/edit"), 404)


def test_pages_create_like_and_undo_by_forms(client):
    token = client.csrf()
    bib = (REPO / "tests" / "data" / "bibtex" / "zotero_export.bib").read_bytes()
    r = client.post(
        "/profiles",
        data={"name": "form", "csrf_token": token},
        files={"file": ("mine.bib", bib, "text/plain")},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == "/profiles/form"
    home = client.get("/", params={"profile": "form"}).text
    assert "Like" in home and "Not interested" in home
    paper = client.get("/api/home", params={"profile": "form"}).json()["groups"][0]["items"][0]["id"]
    r = client.post(
        "/profiles/form/feedback",
        data={"paper": paper, "kind": "like", "next": "/?profile=form", "csrf_token": token},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == "/?profile=form"
    assert "like" in client.get("/profiles/form").text
    r = client.post(
        "/profiles/form/undo", data={"csrf_token": token, "next": "//evil.example"}, follow_redirects=False
    )
    assert r.headers["location"] == "/profiles/form"  # never an open redirect


def test_upload_fields_take_every_file_import_reads(client):
    """The profile page's seed-file picker offers the files the import page offers (one list:
    importers.FILE_EXTENSIONS), every sample file the importers are tested on among them, and a
    CSL-JSON file picked there seeds a profile."""

    def accept(page: str) -> set[str]:
        [found] = re.findall(r'<input type="file"[^>]*\saccept="([^"]*)"', client.get(page).text)
        return set(found.split(","))

    offered = accept("/profiles")
    assert offered == accept("/import") and {".json", ".jsonl", ".csv", ".bib", ".ris"} <= offered
    samples = [p for p in (REPO / "tests" / "data").rglob("*.*") if p.suffix not in (".md", ".py")]
    assert len(samples) > 50 and [p.name for p in samples if not p.name.endswith(tuple(offered))] == []
    csl = [{"id": "d", "type": "article", "title": "Dualformer", "DOI": "10.48550/arXiv.2410.09918"}]
    r = client.post(
        "/profiles",
        data={"name": "csl", "csrf_token": client.csrf()},
        files={"file": ("mine.json", json.dumps(csl).encode(), "application/json")},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    assert client.get("/api/profiles/csl").json()["profile"]["papers"] == ["arxiv:2410.09918"]


def test_create_page_asks_which_person_when_ambiguous(client):
    token = client.csrf()
    people = client.get("/api/authors", params={"name": "Kevin Yang"}).json()["items"]
    assert len(people) > 1  # two people share this name in examples/
    r = client.post("/profiles", data={"name": "amb", "author": "Kevin Yang", "csrf_token": token})
    assert r.status_code == 400 and r.text.count('name="pick"') == len(people)
    api = client.post_csrf("/api/profiles", json={"name": "amb", "author": "Kevin Yang"})
    assert is_error(api, 400) and len(api.json()["candidates"]) == len(people)
    data = {"name": "amb", "author": "Kevin Yang", "pick": "2", "csrf_token": token}
    assert client.post("/profiles", data=data, follow_redirects=False).status_code == 303
    made = client.get("/api/profiles/amb").json()["profile"]
    assert sorted(made["papers"]) == sorted(people[1]["paper_ids"])


def test_home_without_profiles_invites_to_make_one(tmp_path):
    c = client_for(demo_library(tmp_path / "lib.db", hostile=False))
    assert "Create a profile" in c.get("/").text
    assert c.get("/api/home").json() == {"ok": True, "profile": None, "profiles": [], "groups": []}
    assert is_error(c.get("/api/home", params={"profile": "ghost"}), 404)


def test_paper_page_adds_the_paper_to_a_profile(client):
    _make(client, "adder")
    html = client.get("/paper/arxiv:2409.20370").text
    assert 'action="/profiles/add"' in html and "<option>adder</option>" in html
    data = {"profile": "adder", "ids": "arxiv:2409.20370", "next": "/paper/arxiv%3A2409.20370"}
    r = client.post("/profiles/add", data={**data, "csrf_token": client.csrf()}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/paper/arxiv%3A2409.20370"
    assert "arxiv:2409.20370" in client.get("/api/profiles/adder").json()["profile"]["papers"]


def test_an_empty_profile_learns_from_rate_these_ten(client):
    assert client.post_csrf("/api/profiles", json={"name": "cold"}).json()["profile"]["papers"] == []
    offered = client.get("/api/profiles/cold/rate").json()
    assert offered["total"] == 10 and len({p["id"] for p in offered["items"]}) == 10
    page = client.get("/profiles/cold")  # an empty profile's page offers them at once
    assert "Rate these 10" in page.text and offered["items"][0]["id"] in page.text
    ratings = {offered["items"][0]["id"]: "like", offered["items"][1]["id"]: "dislike"}
    assert client.post_csrf("/api/profiles/cold/rate", json={"ratings": ratings}).json()["rated"] == 2
    home = client.get("/api/home", params={"profile": "cold", "days": 36500}).json()
    assert home["ok"] and any(g["items"] for g in home["groups"])  # it recommends now
    again = {p["id"] for p in client.get("/api/profiles/cold/rate").json()["items"]}
    assert not again & set(ratings)


def test_steering_through_the_api_and_the_profile_page(client):
    _make(client, "steer")
    p = client.post_csrf("/api/profiles/steer/follow", json={"author": "Ada Lovelace"}).json()["profile"]
    assert p["follows"] == ["Ada Lovelace"]
    p = client.post_csrf("/api/profiles/steer/rules", json={"kind": "exclude", "word": "diffusion"}).json()
    assert p["profile"]["rules"]["exclude"] == ["diffusion"]
    assert (
        client.post_csrf("/api/profiles/steer/threshold", json={"value": 0.9}).json()["profile"]["threshold"]
        == 0.9
    )
    assert is_error(client.post_csrf("/api/profiles/steer/threshold", json={"value": 2}), 422)
    page = client.get("/profiles/steer").text
    assert "Ada Lovelace" in page and "diffusion" in page and 'value="0.9"' in page
    r = client.post_csrf("/profiles/steer/steer", data={"action": "reset", "value": "follows"})
    assert r.status_code in (200, 303)
    p = client.post_csrf("/api/profiles/steer/reset", json={"what": ["rules", "threshold"]}).json()["profile"]
    assert p["follows"] == [] and p["rules"] == {"must": [], "exclude": []} and p["threshold"] is None
