"""Accounts in the web app (issue 16): who is asking, and what they may do.

A library with users (`paperradar users add`) serves nobody anonymously, on loopback too: a page
asks for a sign-in (name and password; a session cookie, HttpOnly, SameSite=Lax, Secure over
HTTPS) and the API takes `Authorization: Bearer <API token>`. Each user sees and changes only their
own profiles, their feedback and digests: another user's profile is "not found" (404) everywhere,
through accounts.viewing_as (the viewer scope), set here for the request. The library is shared; writing
to it (imports, fetching a paper from arXiv, job progress) is for admins. A library without users
keeps the single-user behaviour (and the shared access token beyond loopback: web/login.py).

Routes: /login (both kinds), /logout, /api/me, /api/me/token (a user's own API token), and for
admins /api/users (list, add, remove). Does I/O through the library (accounts.py).
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, Field

from .. import accounts
from ..storage import Library
from . import login as token_login
from . import schemas
from .deps import Lib, over_https, render
from .errors import WebError, error_response, wants_html
from .security import AUTH_COOKIE, CSRF_COOKIE, SAFE_METHODS, LoginLimiter

router = APIRouter()
SESSION_COOKIE = "paperradar_session"
# a member (not admin) may write only to their profiles and digests (and sign out, and export a
# selection, which is a POST that reads); every other state change is an admin's: deny by default
MEMBER_WRITE_EXACT = frozenset({"/profiles", "/api/profiles", "/api/export", "/logout", "/api/me/token"})
MEMBER_WRITE_PREFIX = ("/profiles/", "/api/profiles/", "/digest/", "/api/digest/")
ADMIN_READ_EXACT = frozenset({"/import", "/api/users"})
ADMIN_READ_PREFIX = ("/api/jobs/",)


def admit(request: Request, lib: Library) -> Response | None:
    """For a library with users: the answer to a request without a valid session or API token,
    or by a member where only admins may go; None to let it through (request.state.user set)."""
    user = identify(request, lib)
    if user is None:
        if errors_as_page(request):
            return RedirectResponse(f"/login?next={quote(request.url.path)}", status_code=303)
        return error_response(request, 401, "sign in, or send an API token (Authorization: Bearer ...)")
    if not user.admin and needs_admin(request.method, request.url.path):
        return error_response(request, 403, "only an admin may change the shared library")
    request.state.user = user
    return None


def identify(request: Request, lib: Library) -> accounts.User | None:
    """The user behind the request's bearer token (when it sends one) or session cookie."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer":
        user = accounts.token_user(lib, token.strip())
        request.state.bearer = user is not None  # not an ambient credential: no CSRF token needed
        return user
    return accounts.session_user(lib, request.cookies.get(SESSION_COOKIE, ""))


def errors_as_page(request: Request) -> bool:
    return wants_html(request) and request.method in SAFE_METHODS


def needs_admin(method: str, path: str) -> bool:
    if method in SAFE_METHODS:
        return path in ADMIN_READ_EXACT or path.startswith(ADMIN_READ_PREFIX)
    return not (path in MEMBER_WRITE_EXACT or path.startswith(MEMBER_WRITE_PREFIX))


def name_limiter() -> LoginLimiter:
    """Wrong passwords per user name from all addresses together (app.state.name_limit)."""
    return LoginLimiter(attempts=10, window=300.0)


# ---------------------------------------------------------------- routes


def _safe_next(target: str) -> str:
    return target if target.startswith("/") and not target.startswith(("//", "/\\")) else "/"


@router.get("/login", response_class=HTMLResponse, include_in_schema=False)
def login_page(request: Request, lib: Lib, next: str = "/") -> HTMLResponse:
    if not accounts.has_users(lib):
        return token_login.login_page(request, next)
    return render(request, "account_login.html", {"next": _safe_next(next), "error": None, "name": ""})


@router.post("/login", response_class=HTMLResponse, include_in_schema=False)
def login(
    request: Request,
    lib: Lib,
    next: Annotated[str, Form()] = "/",
    name: Annotated[str, Form(max_length=64)] = "",
    password: Annotated[str, Form(max_length=accounts.MAX_PASSWORD)] = "",
    token: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """A user's name and password (a library with users), or the access token (one without)."""
    if not accounts.has_users(lib):
        return token_login.login(request, token, next)
    ctx = {"next": _safe_next(next), "name": name}
    limits = (request.app.state.login_limit, _client(request)), (request.app.state.name_limit, name.lower())
    wait = max(limiter.retry_after(key) for limiter, key in limits)
    if wait:
        error = f"Too many wrong passwords: try again in {wait} s."
        slow = render(request, "account_login.html", ctx | {"error": error}, 429)
        slow.headers["Retry-After"] = str(wait)
        return slow
    user = accounts.check_password(lib, name, password)
    if user is None:
        for limiter, key in limits:
            limiter.failed(key)
        return render(request, "account_login.html", ctx | {"error": "Wrong name or password."}, 401)
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        accounts.start_session(lib, user),
        httponly=True,
        samesite="lax",  # links from a digest email open signed in; every POST still needs the CSRF token
        max_age=accounts.SESSION_DAYS * 86400,
        secure=over_https(request),
    )
    return response


@router.post("/logout", include_in_schema=False)
def logout(request: Request, lib: Lib) -> Response:
    """End this browser's session (on the server too) and forget its cookies; back to sign-in."""
    accounts.end_session(lib, request.cookies.get(SESSION_COOKIE, ""))
    response = RedirectResponse("/login", status_code=303)
    secure = over_https(request)
    response.delete_cookie(SESSION_COOKIE, httponly=True, samesite="lax", secure=secure)
    for cookie in (AUTH_COOKIE, CSRF_COOKIE):
        response.delete_cookie(cookie, httponly=True, samesite="strict", secure=secure)
    return response


@router.get("/api/me", tags=["accounts"], response_model=schemas.Me, **schemas.JSON)
def api_me(request: Request) -> dict[str, Any]:
    """Who the request is signed in as: `user` is null on a library without users."""
    user = getattr(request.state, "user", None)
    if user is None:
        return {"ok": True, "user": None}
    return {"ok": True, "user": {"name": user.name, "admin": user.admin}}


# ---------------------------------------------------------------- managing accounts (JSON)


class NewUser(BaseModel):
    name: Annotated[str, Field(min_length=1, max_length=64)]
    password: Annotated[str, Field(min_length=accounts.MIN_PASSWORD, max_length=accounts.MAX_PASSWORD)]
    admin: bool = False


class TokenLabel(BaseModel):
    label: Annotated[str, Field(max_length=100)] = ""


def signed_in(request: Request, admin: bool = False) -> accounts.User:
    """The signed-in user (an admin when `admin`); accounts are managed only by an account."""
    user = getattr(request.state, "user", None)
    if user is None:
        raise WebError(
            403, "this library has no accounts yet: add the first with `paperradar users add NAME --admin`"
        )
    if admin and not user.admin:
        raise WebError(403, "only an admin may manage users")
    return user  # type: ignore[no-any-return]


@router.get("/api/users", tags=["accounts"], response_model=schemas.UserList, **schemas.JSON)
def api_users(request: Request, lib: Lib) -> dict[str, Any]:
    """Every user with their role and what they own (admins only; never a secret)."""
    signed_in(request, admin=True)
    items = [accounts.summary_json(s) for s in accounts.list_users(lib)]
    return {"ok": True, "total": len(items), "items": items}


@router.post("/api/users", tags=["accounts"], response_model=schemas.UserBody, **schemas.JSON)
def api_add_user(request: Request, lib: Lib, body: NewUser) -> dict[str, Any]:
    """Add a user (admins only; the first user is added with `paperradar users add`)."""
    signed_in(request, admin=True)
    user = accounts.add_user(lib, body.name, body.password, admin=body.admin)
    return {"ok": True, "user": {"name": user.name, "admin": user.admin}}


@router.post("/api/users/{name}/remove", tags=["accounts"], response_model=schemas.Removed, **schemas.JSON)
def api_remove_user(request: Request, lib: Lib, name: str) -> dict[str, Any]:
    """Remove a user with their sessions and tokens; their profiles pass to the admins (admins only)."""
    if signed_in(request, admin=True).name.lower() == name.lower():
        raise WebError(400, "an admin cannot remove themselves here (use `paperradar users remove`)")
    return {"ok": True, "removed": accounts.remove_user(lib, name).name}


@router.post("/api/me/token", tags=["accounts"], response_model=schemas.NewToken, **schemas.JSON)
def api_new_token(request: Request, lib: Lib, body: TokenLabel) -> dict[str, Any]:
    """A new API token for the signed-in user, shown this once (only its hash is kept)."""
    user = signed_in(request)
    return {"ok": True, "token": accounts.new_api_token(lib, user.name, body.label)}


def _client(request: Request) -> str:
    return request.client.host if request.client else "?"
