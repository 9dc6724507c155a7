"""Zotero, where researchers keep their papers: a user's library read through the Zotero web API,
or a local `zotero.sqlite` read from a copy (so a running Zotero, which locks its database, is never
disturbed). Both give Zotero item JSON, which `importers.zotero_json` parses like any file.

`paperradar import zotero:` (the whole library), `zotero:"My collection"` (a collection, by name
or key) and `zotero:/path/to/zotero.sqlite[#collection]` go through `source_for`. The web API
needs the `zotero_user` (the numeric user id) and `zotero_key` settings; `zotero_api` moves the
endpoint (tests point it at a local server). pyzotero is not used: its current release requires
bibtexparser 1, and paperradar reads BibTeX with bibtexparser 2; the API is three GET requests.
Does network and file I/O.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from .config import Settings, load_settings
from .errors import BackendUnavailable, InvalidInput
from .importers.base import Source
from .storage.zotero_db import ZoteroRows, read_zotero_db

ZOTERO_API = "https://api.zotero.org"
PAGE = 100


@dataclass
class ZoteroAccount:
    user: str
    key: str | None = None
    api: str = ZOTERO_API


def account_from_settings(settings: Settings | None = None) -> ZoteroAccount:
    """The Zotero account of the settings: the edge's `settings` when it has them; None reads
    them now (tests/test_settings.py DEEP_READS), for a `zotero:` source named on any import path
    (CLI or web import, a profile's papers, sync) that was handed no account."""
    s = settings if settings is not None else load_settings()
    user = s.zotero_user
    if not user:
        raise InvalidInput(
            "reading Zotero needs your user id: set PAPERRADAR_ZOTERO_USER (and PAPERRADAR_ZOTERO_KEY, an API key"
            " from https://www.zotero.org/settings/keys), or pass zotero:/path/to/zotero.sqlite"
        )
    return ZoteroAccount(user, s.secret("zotero_key"), s.zotero_api or ZOTERO_API)


def source_for(
    spec: str,
    account: ZoteroAccount | None = None,
    since: int | None = None,
    settings: Settings | None = None,
) -> Source:
    """The Source of a `zotero:...` argument: the web library (or one collection), or a zotero.sqlite.
    The web library's account is `account`, else that of the edge's `settings` (account_from_settings)."""
    what = spec.removeprefix("zotero:")
    path, _, collection = what.partition("#")
    if path.endswith(".sqlite"):
        items = read_sqlite(Path(path).expanduser(), collection or None)
        return Source.from_bytes(json.dumps(items).encode(), spec)
    items, _ = fetch_items(account or account_from_settings(settings), what or None, since)
    return Source.from_bytes(json.dumps(items).encode(), spec)


# ---------------------------------------------------------------- the web API


def fetch_items(
    account: ZoteroAccount, collection: str | None = None, since: int | None = None
) -> tuple[list[dict[str, Any]], int | None]:
    """Every top-level item of the library (or of one collection, by name or key), modified after
    library version `since` when given; and the library's version now (for the next sync)."""
    headers = {"Zotero-API-Version": "3"} | ({"Zotero-API-Key": account.key} if account.key else {})
    with httpx.Client(base_url=account.api, headers=headers, timeout=30, follow_redirects=True) as client:
        base = f"/users/{account.user}"
        if collection:
            base += f"/collections/{collection_key(client, base, collection)}"
        params = {"since": str(since)} if since else {}
        return _pages(client, f"{base}/items/top", params)


def collection_key(client: httpx.Client, base: str, wanted: str) -> str:
    """The key of the collection named `wanted` (case-insensitive), or `wanted` if it is a key."""
    collections, _ = _pages(client, f"{base}/collections", {})
    names = {}
    for c in collections:
        data = c.get("data", c)
        names[str(data.get("name", "")).casefold()] = data.get("key")
        if data.get("key") == wanted:
            return wanted
    key = names.get(wanted.casefold())
    if key is None:
        known = ", ".join(sorted(str(c.get("data", c).get("name")) for c in collections)) or "none"
        raise InvalidInput(f"no Zotero collection named {wanted!r} (collections: {known})")
    return str(key)


def _pages(
    client: httpx.Client, path: str, params: dict[str, str]
) -> tuple[list[dict[str, Any]], int | None]:
    out: list[dict[str, Any]] = []
    version = None
    while True:
        try:
            r = client.get(
                path, params={**params, "format": "json", "limit": str(PAGE), "start": str(len(out))}
            )
        except httpx.HTTPError as e:
            raise BackendUnavailable(f"cannot reach the Zotero API at {client.base_url}: {e}") from e
        if r.status_code in (401, 403):
            raise InvalidInput(
                f"Zotero refused the request ({r.status_code}): check zotero_user and zotero_key"
            )
        if r.status_code >= 400:
            raise BackendUnavailable(f"the Zotero API answered {r.status_code} for {path}")
        page = r.json()
        version = int(r.headers["Last-Modified-Version"]) if "Last-Modified-Version" in r.headers else version
        out.extend(page)
        total = int(r.headers.get("Total-Results", len(out)))
        if not page or len(out) >= total:
            return out, version


# ---------------------------------------------------------------- a local zotero.sqlite


def read_sqlite(path: Path, collection: str | None = None) -> list[dict[str, Any]]:
    """The items of a Zotero database (or of one collection), as Zotero item JSON. The database
    (and its -wal) is copied first and the copy opened read-only (storage/zotero_db.py)."""
    return _items(read_zotero_db(path), collection)


def _items(rows: ZoteroRows, collection: str | None) -> list[dict[str, Any]]:
    items: dict[int, dict[str, Any]] = {item_id: {"key": key, "itemType": kind, "creators": [], "collections": []}
             for item_id, key, kind in rows.items}  # fmt: skip
    for item_id, name, value in rows.fields:
        if item_id in items:
            items[item_id][name] = _sql_date(value) if name == "date" else value
    for item_id, first, last, single, kind in rows.creators:
        if item_id in items:
            person = {"name": last} if single else {"firstName": first or "", "lastName": last or ""}
            items[item_id]["creators"].append({"creatorType": kind, **person})
    names: dict[str, str] = {}
    for item_id, key, name in rows.collections:
        names[key] = name
        if item_id in items:
            items[item_id]["collections"].append(key)
    if collection is None:
        return list(items.values())
    keys = {k for k, n in names.items() if collection in (k, n) or n.casefold() == collection.casefold()}
    if not keys:
        raise InvalidInput(
            f"no Zotero collection named {collection!r} (collections: {', '.join(sorted(names.values())) or 'none'})"
        )
    return [i for i in items.values() if keys & set(i["collections"])]


_SQL_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?: (.*))?$")


def _sql_date(value: str) -> str:
    """Zotero stores dates as "2011-03-00 March 2011" (00 = unknown); give the ISO part that is known."""
    m = _SQL_DATE.match(value or "")
    if not m:
        return value
    y, mo, d = m.group(1), m.group(2), m.group(3)
    if y == "0000":
        return m.group(4) or ""
    return y + (f"-{mo}" if mo != "00" else "") + (f"-{d}" if mo != "00" and d != "00" else "")
