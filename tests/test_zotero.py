"""Zotero: the web API (saved real responses served by a real HTTP server on 127.0.0.1, read through
the real client and parser), a local zotero.sqlite (read from a copy while Zotero holds it locked),
collections as profile sources, and `sync zotero` picking up new items."""

from __future__ import annotations

import json
import sqlite3
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

from conftest import http_server

DATA = Path(__file__).parent / "data" / "zotero"
ITEMS = json.loads((DATA / "items_doc.json").read_text())  # pyzotero's saved API responses
COLLECTIONS = json.loads((DATA / "collections_doc.json").read_text())
USER = "475425"


class ZoteroAPI(BaseHTTPRequestHandler):
    """The Zotero web API, version 3, over the saved responses. `hidden` items appear only from
    library version 101 on (a paper added to Zotero between two syncs)."""

    version = 100
    hidden: list[dict] = []
    seen: list[dict] = []

    def do_GET(self) -> None:  # noqa: N802 - the http.server API
        url = urlparse(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        type(self).seen.append({"path": url.path, **query, "key": self.headers.get("Zotero-API-Key")})
        parts = url.path.strip("/").split("/")
        if parts[:2] != ["users", USER]:
            return self._send(403, [])
        if parts[2:] == ["collections"]:
            return self._send(200, COLLECTIONS)
        items = [i for i in ITEMS if i not in self.hidden] if self.version == 100 else ITEMS
        if len(parts) == 6 and parts[2] == "collections":
            items = [i for i in items if parts[3] in i["data"]["collections"]]
        if "since" in query:
            items = [i for i in items if i in self.hidden and int(query["since"]) < 101]
        start, limit = int(query.get("start", 0)), int(query.get("limit", 100))
        self._send(200, items[start : start + limit], total=len(items))

    def _send(self, status: int, body: list, total: int | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Last-Modified-Version", str(self.version))
        self.send_header("Total-Results", str(len(body) if total is None else total))
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def api(monkeypatch):
    ZoteroAPI.version, ZoteroAPI.hidden, ZoteroAPI.seen = 100, [], []
    with http_server(ZoteroAPI) as url:
        monkeypatch.setenv("PAPERRADAR_ZOTERO_API", url)
        monkeypatch.setenv("PAPERRADAR_ZOTERO_USER", USER)
        monkeypatch.setenv("PAPERRADAR_ZOTERO_KEY", "secret-key")
        yield ZoteroAPI


def papers(cli) -> dict[str, dict]:
    return {p["title"]: p for p in json.loads(cli("papers", "list", "--limit", "100", "--json").stdout)}


def test_import_zotero_reads_the_web_library(api, cli):
    report = json.loads(cli("import", "zotero:", "--json", "--no-index").stdout)
    [file] = report["files"]
    assert file["format"] == "zotero_json" and file["read"] == 20 and file["rejected"] == []
    assert {"path": f"/users/{USER}/items/top", "format": "json", "limit": "100", "start": "0",
            "key": "secret-key"}.items() <= api.seen[0].items()  # fmt: skip
    holmes = papers(cli)["Sherlock Holmes in Babylon"]
    assert holmes["authors"][0]["name"] == "R. Creighton Buck"
    assert holmes["dates"]["published"] == "1980-05-01" and "doi:10.2307/2321200" in holmes["ids"]
    assert holmes["venue"] == "The American Mathematical Monthly"


def test_a_collection_by_name_and_an_unknown_one(api, cli):
    report = json.loads(cli("import", "zotero:Sherlock Films", "--json", "--no-index").stdout)
    assert report["files"][0]["read"] == 1  # the collection "sherlock films" (TVPC4XK4) holds one item
    assert list(papers(cli)) == ["Sherlock Holmes"]
    bad = json.loads(cli("import", "zotero:Nope", "--json", "--no-index").stdout)
    assert "no Zotero collection named 'Nope'" in bad["failed"][0] and "Sherlock Holmes" in bad["failed"][0]


def test_a_collection_becomes_a_profiles_sources(api, cli):
    made = json.loads(cli("profile", "create", "films", "--zotero", "sherlock films", "--json").stdout)
    assert len(made["papers"]) == 1


def test_sync_picks_up_new_items(api, cli):
    api.hidden = [i for i in ITEMS if i["data"]["title"].startswith("Biscrolling")]
    first = json.loads(cli("sync", "zotero", "--json").stdout)
    assert (first[0]["new"], first[0]["cursor"]) == (19, {"version": 100})
    api.version = 101  # the paper is added to Zotero
    second = json.loads(cli("sync", "zotero", "--json").stdout)
    assert (second[0]["read"], second[0]["new"], second[0]["cursor"]) == (1, 1, {"version": 101})
    assert api.seen[-1]["since"] == "100"  # only what changed since the last sync was asked for
    assert any(t.startswith("Biscrolling") for t in papers(cli))


def test_missing_settings_say_what_to_set(cli, monkeypatch):
    monkeypatch.delenv("PAPERRADAR_ZOTERO_USER", raising=False)
    out = json.loads(cli("import", "zotero:", "--json", "--no-index").stdout)
    assert "PAPERRADAR_ZOTERO_USER" in out["failed"][0]


# ---------------------------------------------------------------- a local zotero.sqlite

SCHEMA = """
CREATE TABLE itemTypes (itemTypeID INTEGER PRIMARY KEY, typeName TEXT);
CREATE TABLE items (itemID INTEGER PRIMARY KEY, itemTypeID INT, key TEXT);
CREATE TABLE deletedItems (itemID INTEGER PRIMARY KEY);
CREATE TABLE fields (fieldID INTEGER PRIMARY KEY, fieldName TEXT);
CREATE TABLE itemDataValues (valueID INTEGER PRIMARY KEY, value);
CREATE TABLE itemData (itemID INT, fieldID INT, valueID INT);
CREATE TABLE creators (creatorID INTEGER PRIMARY KEY, firstName TEXT, lastName TEXT, fieldMode INT);
CREATE TABLE creatorTypes (creatorTypeID INTEGER PRIMARY KEY, creatorType TEXT);
CREATE TABLE itemCreators (itemID INT, creatorID INT, creatorTypeID INT, orderIndex INT);
CREATE TABLE collections (collectionID INTEGER PRIMARY KEY, collectionName TEXT, key TEXT);
CREATE TABLE collectionItems (collectionID INT, itemID INT, orderIndex INT);
INSERT INTO itemTypes VALUES (1, 'journalArticle'), (2, 'preprint'), (3, 'attachment');
INSERT INTO items VALUES (1, 1, 'AAAA1111'), (2, 2, 'BBBB2222'), (3, 3, 'CCCC3333'), (4, 1, 'DDDD4444');
INSERT INTO deletedItems VALUES (4);
INSERT INTO fields VALUES (1, 'title'), (2, 'date'), (3, 'DOI'), (4, 'publicationTitle'), (5, 'url');
INSERT INTO itemDataValues VALUES (1, 'Attention Is All You Need'), (2, '2017-06-12 2017-06-12'),
  (3, '10.5555/3295222.3295349'), (4, 'Advances in Neural Information Processing Systems'),
  (5, 'GaLore: Memory-Efficient LLM Training'), (6, '2024-03-00 March 2024'),
  (7, 'http://arxiv.org/abs/2403.03507'), (8, 'In the trash'), (9, 'a.pdf');
INSERT INTO itemData VALUES (1, 1, 1), (1, 2, 2), (1, 3, 3), (1, 4, 4), (2, 1, 5), (2, 2, 6), (2, 5, 7),
  (4, 1, 8), (3, 1, 9);
INSERT INTO creators VALUES (1, 'Ashish', 'Vaswani', 0), (2, 'Noam', 'Shazeer', 0), (3, 'Jiawei', 'Zhao', 0),
  (4, NULL, 'OpenAI', 1);
INSERT INTO creatorTypes VALUES (1, 'author'), (2, 'editor');
INSERT INTO itemCreators VALUES (1, 1, 1, 0), (1, 2, 1, 1), (2, 3, 1, 0), (2, 4, 1, 1);
INSERT INTO collections VALUES (1, 'Reading', 'COLL0001');
INSERT INTO collectionItems VALUES (1, 2, 0);
"""


@pytest.fixture
def zotero_sqlite(tmp_path) -> Path:
    path = tmp_path / "zotero.sqlite"
    conn = sqlite3.connect(path)
    conn.executescript(SCHEMA)
    conn.close()
    return path


def test_a_local_zotero_sqlite_is_read_from_a_copy_while_zotero_holds_it(zotero_sqlite, cli):
    before = zotero_sqlite.read_bytes()
    running = sqlite3.connect(zotero_sqlite, isolation_level=None)
    running.execute("BEGIN EXCLUSIVE")  # Zotero running: its database is locked
    try:
        report = json.loads(cli("import", f"zotero:{zotero_sqlite}", "--json", "--no-index").stdout)
    finally:
        running.execute("ROLLBACK")
        running.close()
    assert report["files"][0]["read"] == 2  # the attachment and the item in the trash are not papers
    got = papers(cli)
    assert [a["name"] for a in got["Attention Is All You Need"]["authors"]] == [
        "Ashish Vaswani",
        "Noam Shazeer",
    ]
    assert got["Attention Is All You Need"]["dates"]["published"] == "2017-06-12"
    galore = got["GaLore: Memory-Efficient LLM Training"]
    assert galore["id"] == "arxiv:2403.03507" and galore["dates"]["published"] == "2024-03"
    assert [a["name"] for a in galore["authors"]] == ["Jiawei Zhao", "OpenAI"]
    assert zotero_sqlite.read_bytes() == before  # never written


def test_one_collection_of_a_local_zotero_sqlite(zotero_sqlite, cli):
    report = json.loads(cli("import", f"zotero:{zotero_sqlite}#Reading", "--json", "--no-index").stdout)
    assert report["files"][0]["read"] == 1
    assert list(papers(cli)) == ["GaLore: Memory-Efficient LLM Training"]
