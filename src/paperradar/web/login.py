"""Logging in with the access token, for a server bound beyond loopback (see `paperradar serve`).
The token is compared with the stored hash; success sets an HttpOnly cookie. No library I/O."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from .deps import render
from .security import AUTH_COOKIE, auth_cookie, token_matches

router = APIRouter()


def _safe_next(target: str) -> str:
    """Only a path on this server (no `//host`, no scheme): never an open redirect."""
    return target if target.startswith("/") and not target.startswith(("//", "/\\")) else "/"


@router.get("/login", response_class=HTMLResponse, include_in_schema=False)
def login_page(request: Request, next: str = "/"):
    return render(request, "login.html", {"next": _safe_next(next), "error": None})


@router.post("/login", response_class=HTMLResponse, include_in_schema=False)
def login(request: Request, token: Annotated[str, Form(max_length=200)], next: Annotated[str, Form()] = "/"):
    stored = request.app.state.token_hash
    if not stored:
        return RedirectResponse(_safe_next(next), status_code=303)
    if not token_matches(token.strip(), stored):
        ctx = {"next": _safe_next(next), "error": "That is not this server's access token."}
        return render(request, "login.html", ctx, status=401)
    response: Response = RedirectResponse(_safe_next(next), status_code=303)
    value = auth_cookie(request.app.state.secret, stored)
    response.set_cookie(AUTH_COOKIE, value, httponly=True, samesite="strict", max_age=30 * 86400)
    return response
