"""Search: the page `/search` and its JSON twin `/api/search`, both over `paperradar.search.search`.
Does I/O through the library."""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse

from .. import search as svc
from ..errors import RadarError
from ..hits import Hit, first_words, highlight_html, hit_json, plain
from ..importers import IMPORTERS
from ..models import paper_date
from . import schemas
from .deps import Lib, Limit, Offset, PageNumber, page_base, render
from .papers import paper_brief

router = APIRouter()
NAV = [("Search", "/search")]
PAGE = 20
SIMILAR_AHEAD = 3  # the top results whose similar papers the server computes while the reader reads
SORT_DEPTH = 500  # "newest first" sorts this many best matches by date
DATE = r"^(\d{4}(-\d{2}(-\d{2})?)?)?$"  # empty means no date (what an empty form field sends)


class SearchQuery:
    """The search form: words, mode and filters (the same options as `paperradar search`)."""

    def __init__(
        self,
        q: str = "",
        mode: str = "keyword",
        since: str | None = None,
        until: str | None = None,
        category: list[str] | None = None,
        author: str | None = None,
        has_code: bool = False,
        source: str | None = None,
        sort: str = "relevance",
    ):
        self.q, self.mode, self.author, self.has_code = q, mode, author or None, has_code
        self.sort = sort
        self.since, self.until, self.source = since or None, until or None, source or None
        self.categories = tuple(x for c in category or [] for x in re.split(r"[,\s]+", c) if x)

    @property
    def active(self) -> bool:
        """Whether any filter is set (without checking the values, as `filters()` does)."""
        return bool(
            self.since or self.until or self.categories or self.author or self.has_code or self.source
        )

    def filters(self) -> svc.Filters:
        return svc.Filters(
            since=self.since,
            until=self.until,
            categories=self.categories,
            author=self.author,
            has_code=self.has_code,
            source=self.source,
        )

    def run(self, lib: Any, limit: int, offset: int) -> svc.SearchResult:
        if self.sort != "newest" or not self.q.strip():  # without words the newest come first anyway
            return svc.search(lib, self.q, mode=self.mode, limit=limit, offset=offset, filters=self.filters())
        return newest_first(
            svc.search(lib, self.q, mode=self.mode, limit=SORT_DEPTH, filters=self.filters()), limit, offset
        )


def newest_first(result: svc.SearchResult, limit: int, offset: int) -> svc.SearchResult:
    """One page of the best `SORT_DEPTH` matches, newest first (the paper's preferred date)."""
    from dataclasses import replace

    hits = sorted(result.hits, key=lambda h: paper_date(h.paper) or "", reverse=True)
    note = f"newest first among the {len(hits):,} best matches" if result.total > len(hits) else None
    return replace(
        result,
        hits=hits[offset : offset + limit],
        total=len(hits),
        notes=[*result.notes, *([note] if note else [])],
    )


async def search_query(
    q: Annotated[str, Query(max_length=2000, description="Words, phrases, prefix*, -excluded.")] = "",
    mode: Annotated[str, Query(pattern="^(keyword|semantic|hybrid)$")] = "keyword",
    since: Annotated[
        str | None, Query(pattern=DATE, description="From this date: 2024, 2024-10, 2024-10-13.")
    ] = None,
    until: Annotated[
        str | None, Query(pattern=DATE, description="Up to this date (the whole period).")
    ] = None,
    category: Annotated[
        list[str] | None, Query(max_length=50, description="cs.LG, or cs for all cs.*")
    ] = None,
    author: Annotated[str | None, Query(max_length=200)] = None,
    has_code: bool = False,
    source: Annotated[
        str | None, Query(max_length=50, description="An importer, e.g. arxiv_snapshot.")
    ] = None,
    order: Annotated[
        str, Query(pattern="^(relevance|newest)$", description="relevance, or newest first (by date).")
    ] = "relevance",
) -> SearchQuery:
    """The search parameters (async: parsed on the event loop, no thread hop)."""
    return SearchQuery(q, mode, since, until, category, author, has_code, source, order)


Search = Annotated[SearchQuery, Depends(search_query)]


@router.get("/api/search", tags=["search"], response_model=schemas.SearchPage, **schemas.JSON)
def api_search(lib: Lib, query: Search, limit: Limit = PAGE, offset: Offset = 0) -> dict[str, Any]:
    """Search results, best first, with snippets (`highlights` are [start, end) offsets in `snippet`)."""
    result = query.run(lib, limit, offset)
    items = [hit_json(h) for h in result.hits]
    more = offset + len(items) < result.total
    return {
        "ok": True,
        "query": query.q,
        "mode": query.mode,
        "total": result.total,
        "limit": limit,
        "offset": offset,
        "next_offset": offset + len(items) if more else None,
        "took_ms": round(result.took_ms, 2),
        "relaxed": result.relaxed,
        "notes": result.notes,
        "items": items,
    }


@router.get("/search", response_class=HTMLResponse, include_in_schema=False)
def search_page(request: Request, lib: Lib, query: Search, page: PageNumber = 1) -> HTMLResponse:
    offset = (page - 1) * PAGE
    result, error = None, None
    try:
        result = query.run(lib, PAGE, offset)
    except RadarError as e:  # a bad date or a mode without embeddings: say so on the page
        error = str(e)
    hits = [_hit_view(h) for h in result.hits] if result else []
    if result and result.hits:  # the results a reader opens first: their similar papers, when idle
        _similar_later(request, lib, [h.paper.id for h in result.hits[:SIMILAR_AHEAD]])
    ctx = {
        "query": query,
        "result": result,
        "hits": hits,
        "error": error,
        "page": page,
        "base": page_base(request),
        "pages": -(-result.total // PAGE) if result else 0,
        "offset": offset,
        "sources": IMPORTERS,
        "like_profile": first_profile(lib),
        "like_profiles": like_profiles(lib),
        "twin": request.url.path.replace("/search", "/api/search", 1) + _qs(request),
    }
    return render(request, "search.html", ctx)


def _similar_later(request: Request, lib: Any, ids: list[str]) -> None:
    from .warm import warmer_of

    warmer = warmer_of(request.app.state)
    if warmer is not None:
        warmer.similar_later([lib.resolve(i) for i in ids], only_if_idle=True)


def _hit_view(hit: Hit) -> dict[str, Any]:
    same = plain(hit.snippet) == plain(hit.title)
    snippet = first_words(hit.paper) if same else hit.snippet
    return {
        **paper_brief(hit.paper),
        "title_html": highlight_html(hit.title) if hit.title else "",
        "snippet_html": highlight_html(snippet),
        "reasons": hit.reasons,
    }


def _qs(request: Request) -> str:
    return f"?{request.url.query}" if request.url.query else ""


def like_profiles(lib: Any) -> list[str]:
    """The profiles a Like on a card can go to (a card offers the others when there are several)."""
    from ..profiles import profile_names

    return profile_names(lib)


def first_profile(lib: Any) -> str | None:
    """The profile a Like on a search or library card goes to: the first by name."""
    from ..profiles import profile_names

    names = profile_names(lib)
    return names[0] if names else None
