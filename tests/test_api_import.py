"""/api/import and /import: pasted pages and uploads, sniffed by content, with the report."""

from __future__ import annotations

import pytest

from web_helpers import REPO, client_for, demo_library, is_error

PAGES = REPO / "tests" / "data" / "pages"


@pytest.fixture
def client(tmp_path):
    return client_for(demo_library(tmp_path / "lib.db", hostile=False), max_upload=256 * 1024)


def test_pasted_page_reports_rejected_lines(client):
    text = (PAGES / "hf-papers-malformed.txt").read_text(encoding="utf-8")
    body = client.post_csrf("/api/import", data={"text": text}).json()
    (report,) = body["files"]
    assert body["ok"] and report["format"] == "page_hf_papers" and report["path"] == "<pasted>"
    assert report["rejected"] and report["rejected"][0]["line"] == 28
    assert report["read"] == report["new"] + report["merged"] + report["unchanged"]


def test_upload_is_sniffed_not_trusted_by_name(client):
    bib = (REPO / "tests" / "data" / "bibtex" / "zotero_export.bib").read_bytes()
    files = {"files": ("../../etc/passwd.csv", bib, "text/csv")}
    body = client.post_csrf("/api/import", files=files).json()
    (report,) = body["files"]
    assert report["format"] == "bibtex"  # by content, whatever the name says
    assert report["path"] == "upload:passwd.csv"  # the name is only a label, never a path
    assert report["new"] + report["merged"] + report["unchanged"] > 0


def test_imported_papers_are_searchable(client):
    ris = (REPO / "tests" / "data" / "ris" / "zotero_export.ris").read_bytes()
    client.post_csrf("/api/import", files={"files": ("refs.ris", ris, "application/octet-stream")})
    assert client.get("/api/search", params={"q": "GaLore"}).json()["total"] >= 1


def test_binary_and_unknown_input_are_refused(client):
    r = client.post_csrf("/api/import", files={"files": ("x.bib", b"\x00\x01\x02" * 100, "text/plain")})
    assert is_error(r, 400) and "binary" in r.json()["error"]
    r = client.post_csrf("/api/import", data={"text": "just a sentence, not a page"})
    assert is_error(r, 400)
    assert is_error(client.post_csrf("/api/import", data={"text": "   "}), 400)
    assert is_error(client.post_csrf("/api/import", data={"text": "x", "format": "exe"}), 422)


def test_upload_size_limit(client):
    big = b"@misc{a, title={x}}\n" * 20000  # ~400 KB, over this app's 256 KB limit
    r = client.post_csrf("/api/import", files={"files": ("big.bib", big, "text/plain")})
    assert is_error(r, 413)


def test_import_needs_csrf(client):
    assert is_error(client.post("/api/import", data={"text": "x"}), 403)


def test_import_page_shows_the_report(client):
    token = client.csrf()
    text = (PAGES / "arxiv-listing-malformed.txt").read_text(encoding="utf-8")
    r = client.post("/import", data={"text": text, "csrf_token": token, "format": "auto"})
    assert r.status_code == 200 and "Import report" in r.text and "Rejected lines" in r.text
    bad = client.post("/import", data={"text": "", "csrf_token": token})
    assert bad.status_code == 400 and "nothing to import" in bad.text


def test_pasted_text_over_a_megabyte_is_refused_cleanly(tmp_path):
    c = client_for(demo_library(tmp_path / "lib.db", hostile=False))
    r = c.post_csrf("/api/import", data={"text": "x" * 1_100_000})
    assert is_error(r, 400)  # a form field is capped at 1 MB: upload bigger files instead
