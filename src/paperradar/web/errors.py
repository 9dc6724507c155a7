"""One error shape for the whole app: `{"ok": false, "error": message, "status": N}` for the API
and any client that does not ask for HTML; a page with the same message for browsers. No I/O.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from starlette.exceptions import HTTPException

from ..errors import RadarError

log = logging.getLogger(__name__)

REASONS = {
    400: "Bad request",
    401: "Access token needed",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    413: "Too large",
    422: "Invalid input",
    429: "Too many attempts",
    500: "Internal error",
    503: "Not available yet",
}


class WebError(RadarError):
    """An error the web layer raises itself, with its HTTP status."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.http_status = status


class ErrorBody(BaseModel):
    """Every error of the API."""

    ok: bool = False
    error: str
    status: int


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody, "description": REASONS[code]}
    for code in (400, 401, 403, 404, 413, 422, 500, 503)
}


def error_body(status: int, message: str) -> dict[str, Any]:
    return {"ok": False, "error": message, "status": status}


def wants_html(request: Request) -> bool:
    return not request.url.path.startswith("/api/") and "text/html" in request.headers.get("accept", "")


def error_response(
    request: Request, status: int, message: str, headers: dict[str, str] | None = None
) -> Response:
    if wants_html(request) and hasattr(request.app.state, "templates"):
        from .deps import render

        ctx = {"status": status, "reason": REASONS.get(status, "Error"), "message": message}
        response = render(request, "error.html", ctx, status=status)
        response.headers.update(headers or {})
        return response
    return JSONResponse(error_body(status, message), status_code=status, headers=headers)


HINTS = {
    "since": "a date like 2024, 2024-10 or 2024-10-13",
    "until": "a date like 2024, 2024-10 or 2024-10-13",
}


def _describe(errors: list[Any]) -> str:
    parts = []
    for e in errors[:5]:
        loc = [str(x) for x in e.get("loc", ()) if x != "body"]
        where = ".".join(loc) or "request"
        hint = HINTS.get(loc[-1]) if loc and e.get("type") == "string_pattern_mismatch" else None
        parts.append(
            f"{where}: wants {hint}, not {e.get('input')!r}"
            if hint
            else f"{where}: {e.get('msg', 'invalid')}"
        )
    return "; ".join(parts) or "invalid request"


def install(app: FastAPI) -> None:
    @app.exception_handler(RadarError)
    async def radar_error(request: Request, exc: RadarError) -> Response:
        return error_response(request, exc.http_status, str(exc))

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        message = str(exc.detail)
        if exc.status_code == 404 and message == "Not Found":
            message = f"no such page: {request.url.path}"
        return error_response(request, exc.status_code, message, getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        return error_response(request, 422, _describe(list(exc.errors())))

    @app.exception_handler(Exception)
    async def crash(request: Request, exc: Exception) -> Response:
        from .security import SECURITY_HEADERS  # this answer bypasses the app's middleware

        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return error_response(
            request, 500, "internal error: the server log has the details", SECURITY_HEADERS
        )
