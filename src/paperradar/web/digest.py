"""Digests in the browser: a preview page per profile (and the email as it will look), Atom feeds
per profile and per search, and the page that takes a signed feedback link from a digest email.
JSON twins under `/api/digest/`. All over `paperradar.digest.service`. Does I/O through the library.

A feedback link opens a confirmation page; recording the feedback is a POST (so mail scanners
that open every link in a message change nothing). The signed token is checked both times.
"""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, Field

from .. import profiles as prof
from ..digest import digest_json, render_html, verify_feedback
from ..digest.links import FeedbackClaim
from ..digest.render import FEEDBACK_LABELS, authors_line, display_title, meta_line, short_abstract
from ..digest.service import link_settings, preview_digest, profile_feed, search_feed
from ..errors import NotFound
from ..papers import get_paper
from ..storage import delivery
from ..storage.sqlite import SQLiteLibrary
from .deps import Lib, render

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


def _claim(lib: SQLiteLibrary, token: str) -> FeedbackClaim:
    return verify_feedback(token, link_settings(lib).secret, time.time())


# ---------------------------------------------------------------- feeds (also at /digest/..., outside the API schema)


@router.get("/api/digest/search.atom", tags=["digest"], responses=ATOM_DOC)
@router.get("/digest/search.atom", include_in_schema=False)
def search_atom(request: Request, lib: Lib, q: Annotated[str, Query(min_length=1, max_length=500)]):
    """Atom feed of a saved search: its best matches."""
    return AtomResponse(search_feed(lib, q, base_url=_base(request)))


@router.get("/api/digest/{profile}/feed.atom", tags=["digest"], responses=ATOM_DOC)
@router.get("/digest/{profile}/feed.atom", include_in_schema=False)
def profile_atom(request: Request, lib: Lib, profile: str, days: Annotated[int, Query(ge=1, le=365)] = 7):
    """Atom feed of the profile's best papers added in the last `days` days."""
    return AtomResponse(profile_feed(lib, profile, days=days, base_url=_base(request)))


# ---------------------------------------------------------------- JSON


@router.get("/api/digest/{profile}", tags=["digest"])
def api_preview(request: Request, lib: Lib, profile: str, limit: Limit = 10):
    """The digest `paperradar digest send` would send now (nothing is marked sent or seen)."""
    digest = preview_digest(lib, profile, limit=limit, base_url=_base(request))
    return {"ok": True, "digest": digest_json(digest)}


@router.get("/api/digest/{profile}/history", tags=["digest"])
def api_history(lib: Lib, profile: str):
    """The profile's digests, newest first: status (pending or sent), papers, attempts, last error."""
    prof.get_profile(lib, profile)
    return {"ok": True, "items": delivery.digests_of(lib, profile)}


@router.post("/api/digest/feedback", tags=["digest"])
def api_feedback(lib: Lib, body: FeedbackToken):
    """Record the feedback a signed digest link carries (400 when altered or expired)."""
    claim = _claim(lib, body.token)
    mark = prof.give_feedback(lib, claim.profile, claim.paper, claim.kind)
    return {
        "ok": True,
        "feedback": {"profile": claim.profile, "paper": mark.paper, "kind": mark.kind, "at": mark.at},
    }


# ---------------------------------------------------------------- pages


@router.get("/digest", response_class=HTMLResponse, include_in_schema=False)
def digest_index(request: Request, lib: Lib):
    rows = [
        {"name": p.name, "history": delivery.digests_of(lib, p.name, limit=1)}
        for p in prof.list_profiles(lib)
    ]
    return render(request, "digest_index.html", {"profiles": rows, "twin": "/api/profiles"})


@router.get("/digest/feedback", response_class=HTMLResponse, include_in_schema=False)
def feedback_page(request: Request, lib: Lib, t: Annotated[str, Query(max_length=2000)] = ""):
    claim = _claim(lib, t)
    ctx = {"claim": claim, "token": t, "label": FEEDBACK_LABELS[claim.kind], "paper": _card(lib, claim.paper)}
    return render(request, "digest_feedback.html", ctx)


@router.post("/digest/feedback", response_class=HTMLResponse, include_in_schema=False)
def feedback_form(request: Request, lib: Lib, token: Annotated[str, Form(max_length=2000)]):
    claim = _claim(lib, token)
    prof.give_feedback(lib, claim.profile, claim.paper, claim.kind)
    ctx = {
        "claim": claim,
        "done": True,
        "label": FEEDBACK_LABELS[claim.kind],
        "paper": _card(lib, claim.paper),
    }
    return render(request, "digest_feedback.html", ctx)


@router.get("/digest/{profile}/email", response_class=HTMLResponse, include_in_schema=False)
def email_page(request: Request, lib: Lib, profile: str, limit: Limit = 10):
    """The digest email exactly as it would be sent (its own inline-styled HTML)."""
    return HTMLResponse(render_html(preview_digest(lib, profile, limit=limit, base_url=_base(request))))


@router.get("/digest/{profile}", response_class=HTMLResponse, include_in_schema=False)
def preview_page(request: Request, lib: Lib, profile: str, limit: Limit = 10):
    digest = preview_digest(lib, profile, limit=limit, base_url=_base(request))
    groups = [(name, [_item(it) for it in items]) for name, items in digest.groups]
    ctx = {"digest": digest, "groups": groups, "profile": profile, "twin": f"/api/digest/{profile}"}
    return render(request, "digest.html", ctx)


def _card(lib: SQLiteLibrary, paper_id: str) -> dict[str, Any]:
    try:
        p = get_paper(lib, paper_id)
    except NotFound:
        return {"id": paper_id, "title": paper_id, "authors": "", "meta": ""}
    return {"id": p.id, "title": display_title(p), "authors": authors_line(p), "meta": meta_line(p)}


def _item(it: Any) -> dict[str, Any]:
    return _card_of(it) | {"links": it.links, "reasons": it.reasons, "abstract": short_abstract(it.paper)}


def _card_of(it: Any) -> dict[str, Any]:
    p = it.paper
    return {"id": p.id, "title": display_title(p), "authors": authors_line(p), "meta": meta_line(p)}
