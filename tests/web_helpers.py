"""Helpers for the web tests (test_api_*.py, test_web_e2e.py): a demo library, an HTTP client that
carries the CSRF token like a browser, and a hostile paper. Imported by those modules."""

from __future__ import annotations

import json
from pathlib import Path

from fastapi.testclient import TestClient

from paperradar.importers.base import Source
from paperradar.ingest import expand_paths, import_source
from paperradar.storage import open_library
from paperradar.web import create_app
from paperradar.web.security import CSRF_COOKIE

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples"
HOSTILE_ID = "arxiv:2501.00001"
HOSTILE_TITLE = "<script>alert(1)</script> & <b>bold</b>"
HOSTILE = {
    "id": HOSTILE_ID,
    "title": HOSTILE_TITLE,
    "abstract": "Evil abstract <img src=x onerror=alert(2)> about kv cache eviction.",
    "authors": ["Eve Mallory"],
}


def demo_library(path: Path, hostile: bool = True) -> str:
    """The examples/ pages imported into a new library at `path` (plus the hostile paper)."""
    lib = open_library(path)
    try:
        for p in expand_paths([EXAMPLES]):
            import_source(lib, Source.from_file(p))
        if hostile:
            import_source(lib, Source.from_text(json.dumps(HOSTILE) + "\n", "hostile.jsonl"))
    finally:
        lib.close()
    return str(path)


class Client(TestClient):
    """A test client that fetches a page first, like a browser, so its POSTs carry the CSRF token."""

    def csrf(self) -> str:
        if not self.cookies.get(CSRF_COOKIE):
            self.get("/login")  # open even on a server that needs its access token
        return str(self.cookies.get(CSRF_COOKIE))

    def post_csrf(self, url: str, **kw):  # type: ignore[no-untyped-def]
        headers = {"x-csrf-token": self.csrf(), **kw.pop("headers", {})}
        return self.post(url, headers=headers, **kw)


def client_for(lib_path: str, **app_options) -> Client:  # type: ignore[no-untyped-def]
    return Client(
        create_app(lib_path, **app_options), base_url="http://127.0.0.1", raise_server_exceptions=False
    )


def is_error(response, status: int) -> bool:  # type: ignore[no-untyped-def]
    """The one error shape of the API."""
    body = response.json()
    return (
        response.status_code == status
        and set(body) >= {"ok", "error", "status"}
        and body["ok"] is False
        and body["status"] == status
        and isinstance(body["error"], str)
        and body["error"]
    )
