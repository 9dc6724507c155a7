"""Home: today's recommendations for the chosen profile, grouped by interest, each with its key
sentences (idea, result), reasons, PDF link and like / dislike / not-interested buttons. Page `/`,
JSON twin `/api/home`, both over `paperradar.recommend.recommend`.

Recommendations are cached per (profile, window) by web/cache.py, stamped with a fingerprint of
what they depend on (freshness.py: new papers or embeddings, feedback, profile edits). A
view whose stamp still matches is served from the cache; after a change the cached list is served
at once without the papers acted on since, while one background thread recomputes it (never
blocking a page on a refit). Views do not mark papers seen; feedback does. Does I/O.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from .. import freshness
from ..errors import RadarError
from ..storage import Library
from . import schemas
from .cache import RefreshingCache, cache_on
from .deps import Lib, render
from .papers import paper_brief
from .warm import warmer_of

router = APIRouter()
HOME_LIMIT = 12


Key = tuple[str, int | None, int]  # profile, days, limit


def _profile_pk(lib: Library, name: str) -> int:
    from ..profiles import find_profile

    return find_profile(lib, name).pk


def _profile_name(lib: Library, name: str) -> str:
    """The profile's name as stored (names match without regard to case); NotFound if none."""
    from ..profiles import find_profile

    return find_profile(lib, name).name


def _compute(lib: Library, key: Key) -> list[Any]:
    from ..recommend import recommend

    name, days, limit = key
    return recommend(lib, name, days=days, limit=limit, mark_seen=False)


def _state(lib: Library, key: Key) -> str:
    return freshness.profile_state(lib, _profile_pk(lib, key[0]))


def _unseen(lib: Library, key: Key, recs: list[Any]) -> list[Any]:
    """The cached recommendations less those seen or given feedback since."""
    pks = [lib.resolve(r.paper.id) for r in recs]
    gone = freshness.acted_on(lib, _profile_pk(lib, key[0]), pks)
    return [r for r, pk in zip(recs, pks, strict=True) if pk not in gone]


def home_cache(request: Request) -> RefreshingCache:
    return home_cache_of(request.app.state)


def home_cache_of(app_state: Any) -> RefreshingCache:
    """The app's Home cache; each list it computes queues its cards' similar papers (web/warm.py)."""

    def compute(lib: Library, key: Key) -> list[Any]:
        recs = _compute(lib, key)
        for rec in recs:  # the cards' key sentences too (remembered per abstract): the view only renders
            _key_sentences(rec)
        warmer = warmer_of(app_state)
        if warmer is not None:
            warmer.similar_later([lib.resolve(r.paper.id) for r in recs])
        return recs

    return cache_on(app_state, "home", lambda: RefreshingCache(compute, _state, _unseen, "home"))


def home_data(
    lib: Library,
    profile: str | None,
    days: int | None,
    limit: int,
    request: Request | None = None,
    wait: bool = True,
) -> dict[str, Any]:
    """The recommendations of one profile (the first by name when none is chosen), by interest;
    `stale` when they predate the latest change and a fresh list is being computed; `preparing`
    when there are none yet and `wait` is false (the first list is being computed)."""
    from ..profiles import profile_names

    names = profile_names(lib)
    chosen = profile or (names[0] if names else None)
    if chosen is None:
        return {"profile": None, "profiles": names, "groups": [], "stale": False, "preparing": False}
    chosen = _profile_name(lib, chosen)  # NotFound for an unknown name
    key = (chosen, days, limit)
    if request is None:
        recs, stale = _compute(lib, key), False
    else:
        recs, stale = home_cache(request).get(lib, request.app.state.pool, key, wait)
    preparing = recs is None
    groups: dict[str, list[Any]] = {}
    for rec in recs or []:
        groups.setdefault(rec.interest or "Recommended", []).append(rec)
    out = {"profile": chosen, "profiles": names, "groups": list(groups.items()), "stale": stale}
    return out | {"preparing": preparing}


Days = Annotated[int | None, Query(ge=1, le=36500, description="Papers dated in the last N days.")]
HomeLimit = Annotated[int, Query(ge=1, le=100)]


@router.get("/api/home", tags=["home"], response_model=schemas.Home, **schemas.JSON)
def api_home(
    request: Request,
    lib: Lib,
    profile: Annotated[str | None, Query(max_length=100)] = None,
    days: Days = None,
    limit: HomeLimit = HOME_LIMIT,
    wait: Annotated[
        bool, Query(description="false: answer at once, `preparing` while the first list is computed")
    ] = True,
) -> dict[str, Any]:
    """Recommendations for `profile` (default: the first), grouped by interest, best first, each
    with its key sentences. `stale`: true when served from before the latest feedback or import
    while a fresh list is computed in the background (papers acted on since are left out)."""
    from ..recommend import recommendation_json

    data = home_data(lib, profile, days, limit, request, wait)
    groups = [
        {"interest": name, "items": [{**recommendation_json(r), **_key_sentences(r)} for r in recs]}
        for name, recs in data["groups"]
    ]
    out = {"ok": True, "profile": data["profile"], "profiles": data["profiles"], "groups": groups}
    if data["profile"] is not None:  # with no profile there is nothing to be stale
        out["stale"] = data["stale"]
        if data["preparing"]:
            out["preparing"] = True
    return out


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
def home_page(
    request: Request,
    lib: Lib,
    profile: Annotated[str | None, Query(max_length=100)] = None,
    days: Days = None,
) -> HTMLResponse:
    error: str | None = None
    data: dict[str, Any] = {"profile": profile, "profiles": [], "groups": [], "stale": False}
    try:  # the page never waits: the first list after a start is computed in the background
        data = home_data(lib, profile, days, HOME_LIMIT, request, wait=False)
    except RadarError as e:  # e.g. a profile with nothing to learn from: say so above its controls
        from ..profiles import profile_names

        error, names = str(e), profile_names(lib)
        data |= {"profiles": names, "profile": profile or (names[0] if names else None)}
    groups = [(name, [_rec_view(r) for r in recs]) for name, recs in data["groups"]]
    ctx = {**data, "groups": groups, "error": error, "days": days}
    if not data["profiles"]:  # the welcome needs the library's size; counting costs ~0.1 s at 118k
        ctx["counts"] = lib.counts()
    ctx["twin"] = "/api/home" + (f"?{request.url.query}" if request.url.query else "")
    return render(request, "home.html", ctx)


def _key_sentences(rec: Any) -> dict[str, Any]:
    from ..display import key_sentences

    return {"highlights": key_sentences(rec.paper.abstract)}


def _rec_view(rec: Any) -> dict[str, Any]:
    shown = f"serves your interest: {rec.interest}"  # the group heading says it already
    reasons = [r for r in rec.reasons if r != shown]
    from ..recommend import score_text  # issue 11: score is a percentile of the library

    brief = {**paper_brief(rec.paper), **_key_sentences(rec)}
    return {**brief, "score": rec.score, "score_text": score_text(rec.score), "reasons": reasons}
