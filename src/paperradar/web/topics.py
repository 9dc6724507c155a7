"""Topics, the map and trends: pages `/topics`, `/topics/{ref}`, `/map`, `/trends` and their JSON
twins under `/api/`, all over `paperradar.topics.views`. Does I/O through the library."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from ..errors import RadarError
from ..topics import views
from . import schemas
from .deps import Lib, render

router = APIRouter()
NAV = [("Topics", "/topics"), ("Map", "/map"), ("Trends", "/trends")]
MAP_POINTS = 20_000
HIGHLIGHT = 500

Level = Annotated[str | None, Query(pattern="^(broad|fine)$", description="broad or fine (default both).")]
Window = Annotated[int, Query(ge=1, le=24, description="Recent months compared with the months before.")]
Profile = Annotated[str | None, Query(max_length=200, description="A profile's name.")]
MinZ = Annotated[float, Query(ge=0, le=100, description="How many standard deviations a rise must be.")]


@router.get("/api/topics", tags=["topics"], response_model=schemas.TopicList, **schemas.JSON)
def api_topics(lib: Lib, level: Level = None) -> dict[str, Any]:
    """Every topic, biggest first: `{id, label, size, parent, level, terms}`; empty before a build."""
    items = [views.topic_json(t) for t in views.list_topics(lib, level)]
    return {"ok": True, "total": len(items), "build": views.last_build_json(lib), "items": items}


@router.get("/api/topics/{ref}", tags=["topics"], response_model=schemas.TopicDetail, **schemas.JSON)
def api_topic(lib: Lib, ref: str, limit: Annotated[int, Query(ge=1, le=100)] = 10) -> dict[str, Any]:
    """One topic (by id or words of its label): terms, parent or children, papers, papers per month."""
    return {"ok": True, **views.show_topic(lib, ref, limit)}


@router.get("/api/trends", tags=["topics"], response_model=schemas.Trends, **schemas.JSON)
def api_trends(
    lib: Lib, profile: Profile = None, window: Window = 3, level: Level = None, min_z: MinZ = 3.0
) -> dict[str, Any]:
    """Rising topics and papers per topic per month, and the largest movers (up or down, each with
    a 90% interval on its growth) for when nothing rises significantly; with `profile`, what is new
    in its topics."""
    if profile:
        return {"ok": True, **views.profile_trends(lib, profile, window)}
    data = views.trends_report(lib, window=window, level=level or "fine", min_z=min_z)
    return {"ok": True, **data, "movers": movers_json(data, window)}


def movers_json(data: dict[str, Any], window: int, limit: int = 8) -> list[dict[str, Any]]:
    """The topics of a trends report whose share moved most, with their uncertainty."""
    import numpy as np

    from ..topics import trends as tr

    if not data["topics"]:
        return []
    counts = np.array([t["counts"] for t in data["topics"]], dtype=np.int64)
    series = tr.Series(data["months"], [t["id"] for t in data["topics"]], counts)
    labels = {t["id"]: t["label"] for t in data["topics"]}
    return [
        {"id": m.topic, "label": labels[m.topic], **{k: v for k, v in m.__dict__.items() if k != "topic"}}
        for m in tr.movers(series, window, limit)
    ]


@router.get("/api/map", tags=["topics"], response_model=schemas.MapBody, **schemas.JSON)
def api_map(
    lib: Lib,
    q: Annotated[str, Query(max_length=500, description="Highlight the papers this search finds.")] = "",
    profile: Profile = None,
    limit: Annotated[int, Query(ge=1, le=200_000)] = MAP_POINTS,
) -> dict[str, Any]:
    """Map points `{id, title, x, y, topic, hit}` (an even sample of `limit`, highlighted ones always)
    and topics with their positions."""
    return {"ok": True, "query": q, "profile": profile, **_map(lib, q, profile, limit)}


def _map(lib: Any, q: str, profile: str | None, limit: int) -> dict[str, Any]:
    marked: list[int] = []
    if q.strip():
        from ..search import search

        marked += [lib.resolve(h.paper.id) for h in search(lib, q, limit=HIGHLIGHT).hits]
    if profile:
        from ..profiles import get_profile

        marked += list(get_profile(lib, profile).paper_pks)
    return views.map_points(lib, limit, marked)


@router.get("/topics", response_class=HTMLResponse, include_in_schema=False)
def topics_page(request: Request, lib: Lib) -> HTMLResponse:
    found = views.list_topics(lib)
    broad = [t for t in found if t.level == 1]
    children = {b.id: [t for t in found if t.parent == b.id] for b in broad}
    ctx = {"broad": broad, "children": children, "build": views.last_build_json(lib), "twin": "/api/topics"}
    return render(request, "topics.html", ctx)


@router.get("/topics/{ref}", response_class=HTMLResponse, include_in_schema=False)
def topic_page(request: Request, lib: Lib, ref: str) -> HTMLResponse:
    data = views.show_topic(lib, ref, 15)
    peak = max(data["counts"] or [1])
    ctx = {"t": data, "peak": peak, "twin": f"/api/topics/{data['id']}"}
    return render(request, "topic.html", ctx)


@router.get("/map", response_class=HTMLResponse, include_in_schema=False)
def map_page(request: Request, lib: Lib, q: str = "", profile: str = "") -> HTMLResponse:
    from ..profiles import profile_names

    names = profile_names(lib)
    ctx = {
        "q": q,
        "profile": profile,
        "profiles": names,
        "has_topics": views.last_build_json(lib) is not None,
    }
    ctx["twin"] = "/api/map" + (f"?{request.url.query}" if request.url.query else "")
    return render(request, "map.html", ctx)


@router.get("/trends", response_class=HTMLResponse, include_in_schema=False)
def trends_page(
    request: Request, lib: Lib, profile: str | None = None, window: Window = 3, min_z: MinZ = 3.0
) -> HTMLResponse:
    """Rising topics (or, when none rises significantly, the largest movers with their intervals)
    and what is new in a profile's topics (the first profile's unless "all topics" is chosen)."""
    from ..profiles import profile_names

    names = profile_names(lib)
    chosen = (names[0] if names else "") if profile is None else profile
    data, mine, error = None, None, None
    try:
        data = views.trends_report(lib, window=window, limit=12, min_z=min_z)
        mine = views.profile_trends(lib, chosen, window) if chosen else None
    except RadarError as e:
        error = str(e)
    done = data["complete_months"] if data else 0  # a month still filling would look like a fall
    series = {t["id"]: t["counts"][:done] for t in data["topics"]} if data else {}
    ctx = {
        "data": data,
        "movers": movers_json(data, window) if data and not data["rising"] else [],
        "mine": mine,
        "error": error,
        "series": series,
        "profile": chosen,
        "min_z": min_z,
        "profiles": names,
        "twin": "/api/trends" + (f"?{request.url.query}" if request.url.query else ""),
    }
    return render(request, "trends.html", ctx)
