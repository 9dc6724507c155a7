"""Digests in the browser: a preview page per profile (and the email as it will look), Atom feeds
per profile and per search, and the page that takes a signed feedback link from a digest email.
JSON twins under `/api/digest/`. All over `paperradar.digest.service`. Does I/O through the library.

A feedback link opens a confirmation page; recording the feedback is a POST (so mail scanners
that open every link in a message change nothing). The signed token is checked both times.
"""

from __future__ import annotations

import time
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, Field

from .. import profiles as prof
from ..config import Settings
from ..digest import digest_json, render_html
from ..digest.links import FeedbackClaim
from ..digest.render import FEEDBACK_LABELS, authors_line, display_title, meta_line, short_abstract
from ..digest.service import check_feedback, digest_history, preview_digest, profile_feed, search_feed
from ..errors import NotFound
from ..papers import get_paper
from ..storage import Library
from . import schemas
from .deps import AppSettings, Lib, get_settings, render
from .errors import ErrorBody

router = APIRouter()
NAV = [("Digests", "/digest")]
ATOM_DOC: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "An Atom 1.0 feed",
        "content": {"application/atom+xml": {"schema": {"type": "string"}}},
    }
}


class AtomResponse(Response):
    media_type = "application/atom+xml"


Limit = Annotated[int, Query(ge=1, le=100, description="Papers in the digest.")]


class FeedbackToken(BaseModel):
    token: Annotated[str, Field(min_length=10, max_length=2000)]


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def _claim(lib: Library, token: str, settings: Settings) -> FeedbackClaim:
    return check_feedback(lib, token, time.time(), settings)


# ---------------------------------------------------------------- feeds (also at /digest/..., outside the API schema)


@router.get("/api/digest/search.atom", tags=["digest"], responses=ATOM_DOC)
@router.get("/digest/search.atom", include_in_schema=False)
def search_atom(
    request: Request, lib: Lib, q: Annotated[str, Query(min_length=1, max_length=500)]
) -> Response:
    """Atom feed of a saved search: its best matches."""
    return AtomResponse(search_feed(lib, q, base_url=_base(request), settings=get_settings(request)))


@router.get("/api/digest/{profile}/feed.atom", tags=["digest"], responses=ATOM_DOC)
@router.get("/digest/{profile}/feed.atom", include_in_schema=False)
def profile_atom(
    request: Request, lib: Lib, profile: str, days: Annotated[int, Query(ge=1, le=365)] = 7
) -> Response:
    """Atom feed of the profile's best papers added in the last `days` days."""
    return AtomResponse(
        profile_feed(lib, profile, days=days, base_url=_base(request), settings=get_settings(request))
    )


# ---------------------------------------------------------------- JSON


@router.get("/api/digest/{profile}", tags=["digest"], response_model=schemas.DigestPreview, **schemas.JSON)
def api_preview(
    request: Request,
    lib: Lib,
    profile: str,
    limit: Limit = 10,
    wait: Annotated[
        bool, Query(description="false: answer at once, `preparing` while the first preview is computed")
    ] = True,
) -> dict[str, Any]:
    """The digest `paperradar digest send` would send now (nothing is marked sent or seen).
    `stale`: served from before the latest feedback or import while a fresh one is computed;
    `preparing` (with `wait=false`): the first preview is being computed, `digest` is null."""
    digest, stale = cached_preview(request, lib, profile, limit, wait)
    if digest is None:
        return {"ok": True, "stale": True, "preparing": True, "digest": None}
    return {"ok": True, "stale": stale, "digest": digest_json(digest)}


def send_now(lib: Library, profile: str, limit: int | None, settings: Settings) -> Any:
    """Send the profile's digest now to the configured channels (the same as `digest send`; its
    size defaults to the digest_size setting)."""
    from ..digest.service import configured_channels, deliver_digest

    prof.get_profile(lib, profile)
    size = limit or settings.digest_size
    return deliver_digest(lib, profile, configured_channels(settings), limit=size, settings=settings)


SEND_REFUSED: dict[int | str, dict[str, Any]] = {
    502: {"model": ErrorBody, "description": "A channel refused the digest (it is retried on the next send)"}
}


@router.post(
    "/api/digest/{profile}/send",
    tags=["digest"],
    responses=SEND_REFUSED,
    response_model=schemas.Sent,
    **schemas.JSON,
)
def api_send(
    lib: Lib, settings: AppSettings, profile: str, limit: Annotated[int | None, Query(ge=1, le=100)] = None
) -> dict[str, Any] | JSONResponse:
    """Send the digest now by email and to the webhooks configured (mail_to, webhooks settings),
    each exactly once; `result.status` is sent or nothing_new; a refused send is a 502 (the same
    digest goes to the channels that missed it on the next send)."""
    from .errors import error_body

    result = send_now(lib, profile, limit, settings)
    if result.status == "failed":  # the one error shape, with what was attempted
        body = {**error_body(502, f"digest not sent: {result.error}"), "result": result.as_json()}
        return JSONResponse(body, status_code=502)
    return {"ok": True, "result": result.as_json()}


@router.post("/digest/{profile}/send", include_in_schema=False)
def send_form(lib: Lib, settings: AppSettings, profile: str) -> RedirectResponse:
    result = send_now(lib, profile, None, settings)
    return RedirectResponse(f"/digest/{quote(profile)}?sent={result.status}", status_code=303)


def _channel_names(settings: Settings) -> list[str]:
    from ..errors import InvalidInput

    try:
        from ..digest.service import configured_channels

        return [c.label for c in configured_channels(settings)]
    except InvalidInput:
        return []


@router.get(
    "/api/digest/{profile}/history", tags=["digest"], response_model=schemas.DigestHistory, **schemas.JSON
)
def api_history(lib: Lib, profile: str) -> dict[str, Any]:
    """The profile's digests, newest first: status (pending or sent), papers, attempts, last error."""
    prof.get_profile(lib, profile)
    return {"ok": True, "items": digest_history(lib, profile)}


@router.post("/api/digest/feedback", tags=["digest"], response_model=schemas.LinkFeedback, **schemas.JSON)
def api_feedback(lib: Lib, settings: AppSettings, body: FeedbackToken) -> dict[str, Any]:
    """Record the feedback a signed digest link carries (400 when altered or expired)."""
    claim = _claim(lib, body.token, settings)
    mark = prof.give_feedback(lib, claim.profile, claim.paper, claim.kind)
    return {
        "ok": True,
        "feedback": {"profile": claim.profile, "paper": mark.paper, "kind": mark.kind, "at": mark.at},
    }


# ---------------------------------------------------------------- pages


@router.get("/digest", response_class=HTMLResponse, include_in_schema=False)
def digest_index(request: Request, lib: Lib) -> HTMLResponse:
    rows = [{"name": name, "history": digest_history(lib, name, limit=1)} for name in prof.profile_names(lib)]
    return render(request, "digest_index.html", {"profiles": rows, "twin": "/api/profiles"})


@router.get("/digest/feedback", response_class=HTMLResponse, include_in_schema=False)
def feedback_page(request: Request, lib: Lib, t: Annotated[str, Query(max_length=2000)] = "") -> HTMLResponse:
    claim = _claim(lib, t, get_settings(request))
    ctx = {"claim": claim, "token": t, "label": FEEDBACK_LABELS[claim.kind], "paper": _card(lib, claim.paper)}
    return render(request, "digest_feedback.html", ctx)


@router.post("/digest/feedback", response_class=HTMLResponse, include_in_schema=False)
def feedback_form(request: Request, lib: Lib, token: Annotated[str, Form(max_length=2000)]) -> HTMLResponse:
    claim = _claim(lib, token, get_settings(request))
    prof.give_feedback(lib, claim.profile, claim.paper, claim.kind)
    ctx = {
        "claim": claim,
        "done": True,
        "label": FEEDBACK_LABELS[claim.kind],
        "paper": _card(lib, claim.paper),
    }
    return render(request, "digest_feedback.html", ctx)


@router.get("/digest/{profile}/email", response_class=HTMLResponse, include_in_schema=False)
def email_page(request: Request, lib: Lib, profile: str, limit: Limit = 10) -> HTMLResponse:
    """The digest email exactly as it would be sent (its own inline-styled HTML)."""
    return HTMLResponse(
        render_html(
            preview_digest(lib, profile, limit=limit, base_url=_base(request), settings=get_settings(request))
        )
    )


def _previewer(settings: Settings) -> Any:
    """The cache's compute function: the preview of a (profile, size, address) key."""

    def preview(lib: Library, key: tuple[str, int, str]) -> Any:
        profile, limit, base = key
        return preview_digest(lib, profile, limit=limit, base_url=base, settings=settings)

    return preview


def _preview_state(lib: Library, key: tuple[str, int, str]) -> str:
    from .. import freshness

    return freshness.digest_preview_state(lib, prof.find_profile(lib, key[0]).pk, key[0])


def _preview_pruned(lib: Library, key: tuple[str, int, str], digest: Any) -> Any:
    """A cached preview less the papers given feedback or sent since (shown while it refreshes)."""
    from dataclasses import replace

    from .. import freshness

    pks = [lib.resolve(it.paper.id) for it in digest.items]
    gone = freshness.acted_on(lib, prof.find_profile(lib, key[0]).pk, pks)
    return replace(digest, items=[it for it, pk in zip(digest.items, pks, strict=True) if pk not in gone])


def cached_preview(
    request: Request, lib: Library, profile: str, limit: int, wait: bool = True
) -> tuple[Any, bool]:
    """The digest preview, from the page cache (web/cache.py) keyed by profile, size and address;
    with `wait=False`, (None, True) while the first one is computed (after at most 3 s)."""
    from .cache import RefreshingCache, cache_on

    prof.get_profile(lib, profile)  # NotFound before anything is cached
    cache = cache_on(
        request.app.state,
        "digest",
        lambda: RefreshingCache(_previewer(get_settings(request)), _preview_state, _preview_pruned, "digest"),
    )
    return cache.get(lib, request.app.state.pool, (profile, limit, _base(request)), wait)


@router.get("/digest/{profile}", response_class=HTMLResponse, include_in_schema=False)
def preview_page(
    request: Request, lib: Lib, settings: AppSettings, profile: str, limit: Limit = 10
) -> HTMLResponse:
    """The preview never blocks long: the first one after a start is computed in the background
    (seconds on a big library) while the page says so and polls for it (issue 15)."""
    digest, stale = cached_preview(request, lib, profile, limit, wait=False)
    groups = [(name, [_item(it) for it in items]) for name, items in digest.groups] if digest else []
    ctx = {"digest": digest, "groups": groups, "profile": profile, "twin": f"/api/digest/{profile}"}
    ctx["preparing"] = f"/api/digest/{quote(profile)}?limit={limit}&wait=false" if digest is None else None
    ctx |= {"stale": stale, "channels": _channel_names(settings), "sent": request.query_params.get("sent")}
    return render(request, "digest.html", ctx)


def _card(lib: Library, paper_id: str) -> dict[str, Any]:
    try:
        p = get_paper(lib, paper_id)
    except NotFound:
        return {"id": paper_id, "title": paper_id, "authors": "", "meta": ""}
    return {"id": p.id, "title": display_title(p), "authors": authors_line(p), "meta": meta_line(p)}


def _item(it: Any) -> dict[str, Any]:
    from ..display import key_sentences

    extra = {"highlights": key_sentences(it.paper.abstract), "abstract": short_abstract(it.paper)}
    return _card_of(it) | {"links": it.links, "reasons": it.reasons} | extra


def _card_of(it: Any) -> dict[str, Any]:
    p = it.paper
    return {"id": p.id, "title": display_title(p), "authors": authors_line(p), "meta": meta_line(p)}
