"""The library: browse, sort, filter, select and export papers, and its stats. Pages `/library`,
JSON twins `/api/library` and `/api/stats`, downloads `/api/export`. Does I/O through the library."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, Response

from .. import papers as svc
from ..errors import InvalidInput, RadarError
from ..export import EXPORT_FORMATS
from ..importers import IMPORTERS
from ..models import one_of
from ..storage import Library
from . import schemas
from .cache import Memo
from .deps import Lib, Limit, Offset, PageNumber, page_base, page_json, render, shown_path
from .papers import paper_brief
from .search import Search, SearchQuery, first_profile, like_profiles

router = APIRouter()
NAV = [("Library", "/library")]
PAGE = 50
MAX_EXPORT = 5000
SORTS = ("recent", "added", "title")
FILES = {
    "bibtex": ("application/x-bibtex", "bib"),
    "ris": ("application/x-research-info-systems", "ris"),
    "csljson": ("application/vnd.citationstyles.csl+json", "json"),
    "jsonl": ("application/x-ndjson", "jsonl"),
}
Sort = Annotated[str, Query(pattern="^(recent|added|title)$", description="recent, added or title.")]
Format = Annotated[str, Query(pattern=one_of(EXPORT_FORMATS))]


def browse(lib: Library, query: SearchQuery, sort: str, limit: int, offset: int) -> dict[str, Any]:
    """A page of the library: all papers in `sort` order, or those matching words and filters."""
    query.mode = "keyword"
    if sort == "recent":
        query.sort = "newest"  # words and "Newest": the best matches by date
    if query.q.strip() or query.active:
        result = query.run(lib, limit, offset)
        papers, total = [h.paper for h in result.hits], result.total
    else:
        papers, total = svc.list_papers(lib, limit, offset, sort), stats_of(lib)["papers"]
    return {"papers": papers, "total": total}


_STATS = Memo(size=64)  # per library file


def stats_of(lib: Library) -> dict[str, Any]:
    """The library's statistics, counted once per library state (counting 118k papers' aliases and
    merged records takes ~0.8 s)."""
    return dict(_STATS.get(lib, lib.path, lambda: svc.stats(lib)))


@router.get("/api/library", tags=["library"], response_model=schemas.LibraryPage, **schemas.JSON)
def api_library(
    lib: Lib, query: Search, sort: Sort = "recent", limit: Limit = PAGE, offset: Offset = 0
) -> dict[str, Any]:
    """Papers in the library, newest first (or by `sort`); with words or filters, those that match."""
    got = browse(lib, query, sort, limit, offset)
    items = [svc.paper_json(p, with_sources=False) for p in got["papers"]]
    return page_json(items, got["total"], limit, offset, sort=sort)


@router.get("/api/stats", tags=["library"], response_model=schemas.Stats, **schemas.JSON)
def api_stats(lib: Lib) -> dict[str, Any]:
    """What the library holds: papers, source records, merged papers, records per importer."""
    stats = stats_of(lib)
    return {"ok": True, **stats, "path": shown_path(stats["path"])}  # no server folders (issue 13)


@router.get("/library", response_class=HTMLResponse, include_in_schema=False)
def library_page(
    request: Request,
    lib: Lib,
    query: Search,
    sort: Sort = "recent",
    page: PageNumber = 1,
) -> HTMLResponse:
    error: str | None = None
    got: dict[str, Any] = {"papers": [], "total": 0}
    try:
        got = browse(lib, query, sort, PAGE, (page - 1) * PAGE)
    except RadarError as e:
        error = str(e)
    ctx = {
        "query": query,
        "sort": sort,
        "sorts": SORTS,
        "papers": [paper_brief(p) for p in got["papers"]],
        "total": got["total"],
        "page": page,
        "base": page_base(request),
        "pages": -(-got["total"] // PAGE),
        "offset": (page - 1) * PAGE,
        "stats": stats_of(lib),
        "sources": IMPORTERS,
        "like_profile": first_profile(lib),
        "like_profiles": like_profiles(lib),  # issue 15: a Like can go to any profile
        "error": error,
        "twin": "/api/library" + (f"?{request.url.query}" if request.url.query else ""),
    }
    return render(request, "library.html", ctx)


def export_response(lib: Library, ids: list[str], fmt: str) -> Response:
    ids = [i.strip() for i in ids if i.strip()]
    if not ids:
        raise InvalidInput("choose at least one paper to export")
    if len(ids) > MAX_EXPORT:
        raise InvalidInput(f"export at most {MAX_EXPORT} papers at once, not {len(ids)}")
    text = svc.export_papers([svc.get_paper(lib, i) for i in ids], fmt)
    media, ext = FILES[fmt]
    name = f"paperradar-{len(ids)}.{ext}" if len(ids) > 1 else f"{_safe(ids[0])}.{ext}"
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    return Response(text, media_type=f"{media}; charset=utf-8", headers=headers)


def _safe(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-._" else "_" for c in text)[:80]


@router.get("/api/export", tags=["library"], response_class=Response)
def api_export(
    lib: Lib, ids: Annotated[list[str], Query(min_length=1, max_length=MAX_EXPORT)], format: Format = "bibtex"
) -> Response:
    """The papers as a BibTeX, RIS, CSL-JSON or JSONL file (the same text as `paperradar papers export`)."""
    return export_response(lib, ids, format)


@router.post("/api/export", tags=["library"], response_class=Response)
def api_export_post(
    lib: Lib,
    ids: Annotated[list[str], Form(max_length=MAX_EXPORT)],
    format: Annotated[str, Form(pattern=one_of(EXPORT_FORMATS))] = "bibtex",
) -> Response:
    """The same as GET /api/export, for a selection too long for a URL (form fields `ids`, `format`)."""
    return export_response(lib, ids, format)
