"""The app factory: one FastAPI app over one library, with a router per area.

To add an area: write `web/<area>.py` with `router = APIRouter()` (and `NAV = [("Label", "/path")]`
for the top navigation), put its templates in `templates/` (extend `base.html`), and add its
module name to `ROUTERS` below. Every page has a JSON twin under `/api/`.
Does I/O through the library pool.
"""

from __future__ import annotations

import importlib
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import quote

from fastapi import Depends, FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartParser
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .. import __version__, accounts
from ..config import Settings, load_settings
from ..jobs import JobRunner
from ..signing import library_secret
from . import auth, errors
from .deps import STATIC, LibraryPool, make_templates
from .errors import WebError, error_response
from .security import (
    AUTH_COOKIE,
    CSRF_COOKIE,
    CSRF_FIELD,
    CSRF_HEADER,
    SAFE_METHODS,
    SECURITY_HEADERS,
    LoginLimiter,
    auth_cookie,
    csrf_valid,
    host_allowed,
    host_set,
    token_matches,
)

# the modules under paperradar.web that add routes; each area adds its own line
ROUTERS = [
    "home",
    "search",
    "papers",
    "library",
    "imports",
    "profiles",
    "digest",
    "auth",  # /login and /logout for accounts (issue 16) and for the access token (login.py)
    "topics",
]

MAX_UPLOAD = 20 * 1024 * 1024  # bytes in one request (an upload or a pasted page)
# reachable without the access token, matched exactly (a digest feedback link carries its own
# signed, expiring token); plus the files under /static/
OPEN_PATHS = frozenset({"/login", "/openapi.json", "/digest/feedback", "/api/digest/feedback"})
OPEN_PREFIX = "/static/"


def create_app(
    lib_path: str,
    *,
    token_hash: str | None = None,
    max_upload: int = MAX_UPLOAD,
    allowed_hosts: Sequence[str] | None = None,
    settings: Settings | None = None,
) -> FastAPI:
    """The web app over the library at `lib_path`. With `token_hash` (see security.hash_token)
    every request needs the access token, as a Bearer header or the cookie /login sets.

    `allowed_hosts` are the names the browser may use for this server (the Host header, port
    aside; "*" for any). By default a server without a token answers only to loopback names,
    which stops DNS rebinding; a server with a token answers to any name unless told otherwise.

    `settings` are read once, here, unless given (config.load_settings); routes get them through
    `deps.AppSettings`."""
    pool = LibraryPool(lib_path)

    jobs = JobRunner(lib_path)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        from .warm import start_warming  # issue 15: first views find Home and similar papers ready

        warmer = start_warming(app.state)
        yield
        warmer.stop()
        jobs.close()
        pool.close()

    app = FastAPI(
        title="paperradar",
        version=__version__,
        description="A local-first research radar. Every page has a JSON twin under /api/.",
        docs_url=None,  # FastAPI's docs page loads its scripts from a CDN; the schema is enough
        redoc_url=None,
        lifespan=lifespan,
        dependencies=[Depends(csrf_protect)],
    )
    app.state.settings = settings if settings is not None else load_settings()
    with pool.use() as lib:
        app.state.secret = library_secret(lib, app.state.settings.secret("link_secret"))
        jobs.recover(lib)  # jobs a killed server left running are reported as interrupted
    app.state.jobs = jobs
    app.state.pool = pool
    app.state.token_hash = token_hash
    app.state.max_upload = max_upload
    # uploads under the limit stay in memory: nothing from a request is written to /tmp
    MultiPartParser.spool_max_size = max(MultiPartParser.spool_max_size, max_upload + 1)
    app.state.allowed_hosts = host_set(allowed_hosts, token_hash)
    app.state.login_limit = LoginLimiter()
    app.state.name_limit = auth.name_limiter()
    app.state.templates = make_templates()
    app.state.nav = []
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    for name in ROUTERS:
        module = importlib.import_module(f"{__package__}.{name}")
        app.include_router(module.router, responses=errors.ERROR_RESPONSES)
        app.state.nav.extend(getattr(module, "NAV", []))
    errors.install(app)
    app.add_middleware(BodyLimit, limit=max_upload)
    app.add_middleware(BaseHTTPMiddleware, dispatch=guard)
    return app


async def guard(request: Request, call_next: RequestResponseEndpoint) -> Response:
    """Every request: the Host check, the declared size limit, authentication when the library has
    users (web/auth.py) or the app has an access token, then the route, seeing only the signed-in
    user's profiles; every response: the security headers and the time taken, as a `Server-Timing`
    header (what bench/web.py measures)."""
    started = time.perf_counter()
    response = refuse(request)
    if response is None:
        with accounts.viewing_as(getattr(request.state, "user", None)):  # profiles the route may see
            response = await call_next(request)
    response.headers.update(SECURITY_HEADERS)
    response.headers["Server-Timing"] = f"app;dur={(time.perf_counter() - started) * 1000:.2f}"
    return response


def refuse(request: Request) -> Response | None:
    """The answer to a request that must not reach the routes, or None to let it through."""
    state = request.app.state
    request.state.bearer = False
    request.state.user = None
    if not host_allowed(request.headers.get("host", ""), state.allowed_hosts):
        return error_response(request, 400, "unknown Host header (see `paperradar serve --allowed-host`)")
    size = request.headers.get("content-length", "")
    if size.isdigit() and int(size) > state.max_upload:
        return error_response(request, 413, too_large(state.max_upload))
    if is_open(request.url.path):
        return None
    with state.pool.use() as lib:
        if accounts.has_users(lib):  # accounts (issue 16): a user signed in, on loopback too
            return auth.admit(request, lib)
    if state.token_hash:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer" and token_matches(token.strip(), state.token_hash):
            request.state.bearer = True  # not an ambient credential: no CSRF token needed
        elif request.cookies.get(AUTH_COOKIE) != auth_cookie(state.secret, state.token_hash):
            if errors.wants_html(request) and request.method in SAFE_METHODS:
                return RedirectResponse(f"/login?next={quote(request.url.path)}", status_code=303)
            return error_response(request, 401, "this server needs its access token (see `paperradar serve`)")
    return None


def is_open(path: str) -> bool:
    """Paths served without the access token: exact matches only (no prefix tricks)."""
    return path in OPEN_PATHS or (path.startswith(OPEN_PREFIX) and ".." not in path)


def too_large(limit: int) -> str:
    return f"the request is over the {limit / 1024 / 1024:.0f} MB limit"


class BodyLimit:
    """Counts a request body's bytes as they arrive (chunked uploads declare no length) and stops
    the request with a 413 as soon as it passes `limit`. Pure ASGI: nothing is buffered here."""

    def __init__(self, app: ASGIApp, limit: int):
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.limit:
                raise HTTPException(413, too_large(self.limit))
            return message

        await self.app(scope, counted, send)


async def csrf_protect(request: Request) -> None:
    """Every state change (POST, PUT, DELETE...) carries the CSRF token of the page it came from:
    the `X-CSRF-Token` header or the `csrf_token` form field, equal to the cookie."""
    if request.method in SAFE_METHODS or getattr(request.state, "bearer", False):
        return
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and "form" in request.headers.get("content-type", ""):
        form = await request.form()
        value: Any = form.get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    if not csrf_valid(request.app.state.secret, request.cookies.get(CSRF_COOKIE), sent):
        raise WebError(403, "missing or stale CSRF token: reload the page and try again")
