"""Home: today's recommendations for the chosen profile, grouped by interest, each with its
reasons and like / dislike / not-interested buttons. Page `/`, JSON twin `/api/home`, both over
`paperradar.recommend.recommend`. Views do not mark papers seen; feedback does. Does I/O."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from ..errors import RadarError
from ..storage.sqlite import SQLiteLibrary
from .deps import Lib, render
from .papers import paper_brief

router = APIRouter()
HOME_LIMIT = 12


def home_data(lib: SQLiteLibrary, profile: str | None, days: int | None, limit: int) -> dict[str, Any]:
    """The recommendations of one profile (the first by name when none is chosen), by interest."""
    from .. import profiles as prof
    from ..recommend import recommend

    names = [p.name for p in prof.list_profiles(lib)]
    chosen = profile or (names[0] if names else None)
    if chosen is None:
        return {"profile": None, "profiles": names, "groups": []}
    prof.get_profile(lib, chosen)  # NotFound for an unknown name
    recs = recommend(lib, chosen, days=days, limit=limit, mark_seen=False)
    groups: dict[str, list[Any]] = {}
    for rec in recs:
        groups.setdefault(rec.interest or "Recommended", []).append(rec)
    return {"profile": chosen, "profiles": names, "groups": list(groups.items())}


Days = Annotated[int | None, Query(ge=1, le=36500, description="Papers dated in the last N days.")]
HomeLimit = Annotated[int, Query(ge=1, le=100)]


@router.get("/api/home", tags=["home"])
def api_home(
    lib: Lib,
    profile: Annotated[str | None, Query(max_length=100)] = None,
    days: Days = None,
    limit: HomeLimit = HOME_LIMIT,
):
    """Recommendations for `profile` (default: the first), grouped by interest, best first."""
    from ..recommend import recommendation_json

    data = home_data(lib, profile, days, limit)
    groups = [
        {"interest": name, "items": [recommendation_json(r) for r in recs]} for name, recs in data["groups"]
    ]
    return {"ok": True, "profile": data["profile"], "profiles": data["profiles"], "groups": groups}


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
def home_page(
    request: Request,
    lib: Lib,
    profile: Annotated[str | None, Query(max_length=100)] = None,
    days: Days = None,
):
    error: str | None = None
    data: dict[str, Any] = {"profile": profile, "profiles": [], "groups": []}
    try:
        data = home_data(lib, profile, days, HOME_LIMIT)
    except RadarError as e:
        error = str(e)
    groups = [(name, [_rec_view(r) for r in recs]) for name, recs in data["groups"]]
    ctx = {**data, "groups": groups, "error": error, "days": days, "counts": lib.counts()}
    ctx["twin"] = "/api/home" + (f"?{request.url.query}" if request.url.query else "")
    return render(request, "home.html", ctx)


def _rec_view(rec: Any) -> dict[str, Any]:
    shown = f"serves your interest: {rec.interest}"  # the group heading says it already
    return {**paper_brief(rec.paper), "score": rec.score, "reasons": [r for r in rec.reasons if r != shown]}
