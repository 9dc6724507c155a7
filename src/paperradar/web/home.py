"""Home: today's recommendations for the chosen profile, grouped by interest, each with its key
sentences (idea, result), reasons, PDF link and like / dislike / not-interested buttons. Page `/`,
JSON twin `/api/home`, both over `paperradar.recommend.recommend`.

Recommendations are cached per (profile, window) and stamped with a fingerprint of what they
depend on (storage/freshness.py: new papers or embeddings, feedback, profile edits). A view whose
stamp still matches is served from the cache; after a change the cached list is served at once
without the papers acted on since, while one background thread recomputes it (never blocking a
page on a refit). Views do not mark papers seen; feedback does. Does I/O.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from ..errors import RadarError
from ..storage import freshness
from ..storage.sqlite import SQLiteLibrary
from .deps import Lib, LibraryPool, render
from .papers import paper_brief

log = logging.getLogger(__name__)
router = APIRouter()
HOME_LIMIT = 12
MAX_AGE_S = 3600.0  # the default window moves with the clock: recompute at least hourly


@dataclass
class Entry:
    state: str
    recs: list[Any]  # recommend.Recommendation, best first
    made_at: float


class HomeCache:
    """Recommendations per (profile, days, limit), refreshed in the background when stale."""

    def __init__(self) -> None:
        self.entries: dict[tuple[str, int | None, int], Entry] = {}
        self.running: set[tuple[str, int | None, int]] = set()
        self.lock = threading.Lock()

    def get(
        self, lib: SQLiteLibrary, pool: LibraryPool | None, key: tuple[str, int | None, int]
    ) -> tuple[list[Any], bool]:
        """The recommendations for `key` and whether they are stale (a refresh is on its way)."""
        ppk = _profile_pk(lib, key[0])
        state = freshness.profile_state(lib, ppk)
        entry = self.entries.get(key)
        if entry is None or pool is None:
            entry = self.compute(lib, key, state)
            return entry.recs, False
        if entry.state == state and time.time() - entry.made_at < MAX_AGE_S:
            return entry.recs, False
        self.refresh_later(pool, key)
        gone = freshness.seen_among(lib, ppk, [lib.resolve(r.paper.id) for r in entry.recs])
        return [r for r in entry.recs if lib.resolve(r.paper.id) not in gone], True

    def compute(self, lib: SQLiteLibrary, key: tuple[str, int | None, int], state: str) -> Entry:
        from ..recommend import recommend

        name, days, limit = key
        entry = Entry(state, recommend(lib, name, days=days, limit=limit, mark_seen=False), time.time())
        with self.lock:
            self.entries[key] = entry
        return entry

    def refresh_later(self, pool: LibraryPool, key: tuple[str, int | None, int]) -> None:
        with self.lock:
            if key in self.running:
                return
            self.running.add(key)
        threading.Thread(target=self._refresh, args=(pool, key), daemon=True, name="home-refresh").start()

    def _refresh(self, pool: LibraryPool, key: tuple[str, int | None, int]) -> None:
        try:
            with pool.use() as lib:
                self.compute(lib, key, freshness.profile_state(lib, _profile_pk(lib, key[0])))
        except RadarError as e:  # e.g. the profile was deleted meanwhile: drop the entry
            log.info("home refresh of %s: %s", key, e)
            with self.lock:
                self.entries.pop(key, None)
        finally:
            with self.lock:
                self.running.discard(key)


def _profile_pk(lib: SQLiteLibrary, name: str) -> int:
    from ..storage import profiles as store

    return int(store.profile_row(lib, name)["pk"])


def cache_of(request: Request) -> HomeCache:
    """The app's Home cache (made on first use)."""
    state = request.app.state
    if not hasattr(state, "home_cache"):
        state.home_cache = HomeCache()
    cache: HomeCache = state.home_cache
    return cache


def home_data(
    lib: SQLiteLibrary, profile: str | None, days: int | None, limit: int, request: Request | None = None
) -> dict[str, Any]:
    """The recommendations of one profile (the first by name when none is chosen), by interest;
    `stale` when they predate the latest change and a fresh list is being computed."""
    from .. import profiles as prof

    names = [p.name for p in prof.list_profiles(lib)]
    chosen = profile or (names[0] if names else None)
    if chosen is None:
        return {"profile": None, "profiles": names, "groups": [], "stale": False}
    chosen = prof.get_profile(lib, chosen).name  # NotFound for an unknown name
    if request is None:
        recs, stale = HomeCache().get(lib, None, (chosen, days, limit))
    else:
        recs, stale = cache_of(request).get(lib, request.app.state.pool, (chosen, days, limit))
    groups: dict[str, list[Any]] = {}
    for rec in recs:
        groups.setdefault(rec.interest or "Recommended", []).append(rec)
    return {"profile": chosen, "profiles": names, "groups": list(groups.items()), "stale": stale}


Days = Annotated[int | None, Query(ge=1, le=36500, description="Papers dated in the last N days.")]
HomeLimit = Annotated[int, Query(ge=1, le=100)]


@router.get("/api/home", tags=["home"])
def api_home(
    request: Request,
    lib: Lib,
    profile: Annotated[str | None, Query(max_length=100)] = None,
    days: Days = None,
    limit: HomeLimit = HOME_LIMIT,
):
    """Recommendations for `profile` (default: the first), grouped by interest, best first, each
    with its key sentences. `stale`: true when served from before the latest feedback or import
    while a fresh list is computed in the background (papers acted on since are left out)."""
    from ..recommend import recommendation_json

    data = home_data(lib, profile, days, limit, request)
    groups = [
        {"interest": name, "items": [{**recommendation_json(r), **_key_sentences(r)} for r in recs]}
        for name, recs in data["groups"]
    ]
    out = {"ok": True, "profile": data["profile"], "profiles": data["profiles"], "groups": groups}
    if data["profile"] is not None:  # with no profile there is nothing to be stale
        out["stale"] = data["stale"]
    return out


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
def home_page(
    request: Request,
    lib: Lib,
    profile: Annotated[str | None, Query(max_length=100)] = None,
    days: Days = None,
):
    error: str | None = None
    data: dict[str, Any] = {"profile": profile, "profiles": [], "groups": [], "stale": False}
    try:
        data = home_data(lib, profile, days, HOME_LIMIT, request)
    except RadarError as e:
        error = str(e)
    groups = [(name, [_rec_view(r) for r in recs]) for name, recs in data["groups"]]
    ctx = {**data, "groups": groups, "error": error, "days": days, "counts": lib.counts()}
    ctx["twin"] = "/api/home" + (f"?{request.url.query}" if request.url.query else "")
    return render(request, "home.html", ctx)


def _key_sentences(rec: Any) -> dict[str, Any]:
    from ..display import key_sentences

    return {"highlights": key_sentences(rec.paper.abstract)}


def _rec_view(rec: Any) -> dict[str, Any]:
    shown = f"serves your interest: {rec.interest}"  # the group heading says it already
    reasons = [r for r in rec.reasons if r != shown]
    return {**paper_brief(rec.paper), **_key_sentences(rec), "score": rec.score, "reasons": reasons}
