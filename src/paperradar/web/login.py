"""Logging in and out with the access token, for a server bound beyond loopback (see `paperradar
serve`). The token is compared with the stored hash; success sets an HttpOnly, SameSite=Strict
cookie (also `Secure` when the request came over HTTPS). Wrong tokens are rate limited per client
address (security.LoginLimiter). No library I/O."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from .deps import over_https, render
from .security import AUTH_COOKIE, CSRF_COOKIE, auth_cookie, token_matches

router = APIRouter()


def _safe_next(target: str) -> str:
    """Only a path on this server (no `//host`, no scheme): never an open redirect."""
    return target if target.startswith("/") and not target.startswith(("//", "/\\")) else "/"


@router.get("/login", response_class=HTMLResponse, include_in_schema=False)
def login_page(request: Request, next: str = "/") -> HTMLResponse:
    return render(request, "login.html", {"next": _safe_next(next), "error": None})


@router.post("/login", response_class=HTMLResponse, include_in_schema=False)
def login(
    request: Request, token: Annotated[str, Form(max_length=200)], next: Annotated[str, Form()] = "/"
) -> Response:
    stored = request.app.state.token_hash
    if not stored:
        return RedirectResponse(_safe_next(next), status_code=303)
    limiter, client = request.app.state.login_limit, _client(request)
    wait = limiter.retry_after(client)
    if wait:
        ctx = {"next": _safe_next(next), "error": f"Too many wrong tokens: try again in {wait} s."}
        slow = render(request, "login.html", ctx, status=429)
        slow.headers["Retry-After"] = str(wait)
        return slow
    if not token_matches(token.strip(), stored):
        limiter.failed(client)
        ctx = {"next": _safe_next(next), "error": "That is not this server's access token."}
        return render(request, "login.html", ctx, status=401)
    response: Response = RedirectResponse(_safe_next(next), status_code=303)
    value = auth_cookie(request.app.state.secret, stored)
    response.set_cookie(
        AUTH_COOKIE, value, httponly=True, samesite="strict", max_age=30 * 86400, secure=over_https(request)
    )
    return response


@router.post("/logout", include_in_schema=False)
def logout(request: Request) -> Response:
    """Forget the login (and the CSRF cookie) in this browser; back to the sign-in page."""
    response = RedirectResponse("/login", status_code=303)
    for name in (AUTH_COOKIE, CSRF_COOKIE):
        response.delete_cookie(name, httponly=True, samesite="strict", secure=over_https(request))
    return response


def _client(request: Request) -> str:
    return request.client.host if request.client else "?"
