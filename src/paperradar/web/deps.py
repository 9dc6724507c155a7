"""What every router shares: the library for a request, the templates, paging, and JSON replies.

A pool of library connections (SQLite, one per concurrent request) lives on `app.state.pool`.
Does I/O through the libraries it hands out.
"""

from __future__ import annotations

import queue
import re
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Query, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, select_autoescape

from ..config import Settings
from ..importers import FILE_EXTENSIONS
from ..models import FEEDBACK_KINDS
from ..storage import Library, open_library
from .security import CSRF_COOKIE, new_csrf

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"
MAX_PAGE = 200
MAX_PAGE_NUMBER = 100_000  # page numbers above this are a 422, never an OverflowError (issue 13)


class LibraryPool:
    """Open libraries to hand out, one per request at a time (a connection is not shared)."""

    def __init__(self, path: str):
        self.path = path
        self._free: queue.SimpleQueue[Library] = queue.SimpleQueue()
        self._all: list[Library] = []
        self._lock = threading.Lock()

    @contextmanager
    def use(self) -> Iterator[Library]:
        try:
            lib = self._free.get_nowait()
        except queue.Empty:
            lib = open_library(self.path)
            with self._lock:
                self._all.append(lib)
        try:
            yield lib
        finally:
            self._free.put(lib)

    def close(self) -> None:
        with self._lock:
            for lib in self._all:
                lib.close()
            self._all.clear()


async def get_lib(request: Request) -> AsyncIterator[Library]:
    """A library from the pool for this request (async: no thread hop just to hand it out)."""
    with request.app.state.pool.use() as lib:
        yield lib


Lib = Annotated[Library, Depends(get_lib)]


def get_settings(request: Request) -> Settings:
    """The settings create_app read once (config.py)."""
    return request.app.state.settings  # type: ignore[no-any-return]


AppSettings = Annotated[Settings, Depends(get_settings)]
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE, description="How many items per page.")]
Offset = Annotated[int, Query(ge=0, le=1_000_000, description="Skip this many first.")]
PageNumber = Annotated[int, Query(ge=1, le=MAX_PAGE_NUMBER, description="Which page, from 1.")]


def make_templates() -> Jinja2Templates:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        auto_reload=False,  # templates change with the package, not while it runs
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["feedback_kinds"] = FEEDBACK_KINDS  # the buttons Home shows (models.FEEDBACK_KINDS)
    env.globals["upload_accept"] = ",".join(FILE_EXTENSIONS)  # every upload field: what `import` reads
    return Jinja2Templates(env=env)


def render(request: Request, name: str, context: dict[str, Any], status: int = 200) -> HTMLResponse:
    """A page from `templates/`, with the CSRF token its forms need (set as a cookie when missing)."""
    token = request.cookies.get(CSRF_COOKIE)
    fresh = token is None or not _ours(request, token)
    if fresh:
        token = new_csrf(request.app.state.secret)
    state = request.app.state
    ctx = {"csrf": token, "nav": state.nav, "path": request.url.path, **context}
    response = state.templates.TemplateResponse(request, name, ctx, status_code=status)
    if fresh:
        response.set_cookie(CSRF_COOKIE, token, httponly=True, samesite="strict", secure=over_https(request))
    return response


def over_https(request: Request) -> bool:
    """True when the browser reached us over HTTPS (directly, or through a trusted proxy that
    uvicorn believes): then every cookie we set is `Secure`."""
    return request.url.scheme == "https"


def shown_path(path: str) -> str:
    """A source's path as pages and the API show it: a URL or an upload name as it is, a file
    path by its base name only (the server's folders are nobody's business)."""
    if "://" in path or path.startswith(("upload:", "<")):
        return path
    return re.split(r"[\\/]", path.rstrip("/\\"))[-1] or path


def hide_paths(paper: dict[str, Any]) -> dict[str, Any]:
    """A paper's JSON with its sources' file paths cut to their base names."""
    for source in paper.get("sources", []):
        source["path"] = shown_path(source["path"])
    return paper


def _ours(request: Request, token: str) -> bool:
    from .security import csrf_valid

    return csrf_valid(request.app.state.secret, token, token)


def page_json(items: list[Any], total: int, limit: int, offset: int, **extra: Any) -> dict[str, Any]:
    """The paging envelope of every list in the API."""
    more = offset + len(items) < total
    return {
        "ok": True,
        "total": total,
        "limit": limit,
        "offset": offset,
        "next_offset": offset + len(items) if more else None,
        **extra,
        "items": items,
    }


def page_base(request: Request) -> str:
    """This page's URL with its query but without `page=`, ready for `page=N` to be appended."""
    from urllib.parse import urlencode

    kept = [(k, v) for k, v in request.query_params.multi_items() if k != "page"]
    return request.url.path + "?" + (urlencode(kept) + "&" if kept else "")
