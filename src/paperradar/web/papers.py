"""One paper: the page `/paper/{id}` and its JSON twin `/api/papers/{id}`: the merged record, every
source with what it gave, links, and similar papers with reasons. Does I/O through the library."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from .. import papers as svc
from ..display import author_line, display_text, key_sentences, paper_label, paper_links, title_of
from ..index import best_index
from ..models import Paper, paper_date
from ..similar import similar_to
from ..storage import Library
from . import schemas
from .cache import Memo
from .deps import AppSettings, Lib, hide_paths, render
from .errors import ErrorBody

router = APIRouter()
SIMILAR = 8


# a paper's title, author line and links have one home: display.py (web/profiles imports `label`)
label = title_of


def paper_brief(p: Paper) -> dict[str, Any]:
    """What a list shows of a paper (search results, library, recommendations)."""
    return {
        "id": p.id,
        "title": p.title,
        "label": label(p),
        "fetchable": not p.title and bool(p.arxiv_id),  # untitled, but arXiv has its metadata
        "abstract_start": "" if not p.title and not p.arxiv_id else display_text(p.abstract)[:300],
        "authors": author_line(p),
        "date": paper_date(p),
        "categories": p.categories[:4],
        "has_code": p.has_code,
        "links": paper_links(p),
    }


def similar_papers(
    lib: Library, pk: int, limit: int = SIMILAR, facet: str | None = None
) -> list[dict[str, Any]]:
    found = best_index(lib)
    index: Any = found[0] if found else None  # a VectorIndex, or what best_index serves instead
    hits = similar_to(lib, pk, limit=limit, index=index, facet=facet)
    out = []
    for s in hits:
        p = svc.load_paper(lib, s.pk, with_sources=False)
        out.append({**paper_brief(p), "score": round(s.score, 4), "reasons": s.reasons})
    return out


_SIMILAR = Memo(size=4096)  # (library file, paper) -> similar papers, per library state


def remembered_similar(
    lib: Library, pk: int, wait: bool = True, facet: str | None = None
) -> list[dict[str, Any]] | None:
    """The paper's similar papers (in one facet: background, method or result), computed once per
    library state (a lexical pass over 118k papers takes seconds); with `wait=False`, None unless
    they are already known."""
    if not wait and not _SIMILAR.has(lib, (lib.path, pk, facet)):
        return None
    return list(_SIMILAR.get(lib, (lib.path, pk, facet), lambda: similar_papers(lib, pk, facet=facet)))


def paper_data(
    lib: Library, ref: str, wait_for_similar: bool = True, facet: str | None = None
) -> dict[str, Any]:
    pk = lib.resolve(ref)
    paper = svc.load_paper(lib, pk)
    return {
        "ok": True,
        "paper": hide_paths(svc.paper_json(paper)),
        "date": paper_date(paper),
        "links": paper_links(paper),
        "highlights": key_sentences(paper.abstract),
        "similar": remembered_similar(lib, pk, wait_for_similar, facet),
    }


@router.get(
    "/api/papers/{ref:path}/similar", tags=["papers"], response_model=schemas.SimilarList, **schemas.JSON
)
def api_similar(lib: Lib, ref: str, facet: str | None = None) -> dict[str, Any]:
    """The papers most like this one, with reasons (what the paper page loads after it shows);
    `facet` (background, method or result) asks for papers similar in that respect."""
    pk = lib.resolve(ref)
    _check_facet(facet)
    return {"ok": True, "id": lib.paper_row(pk).id, "items": remembered_similar(lib, pk, facet=facet)}


def _check_facet(facet: str | None) -> None:
    from ..errors import InvalidInput
    from ..facets import FACETS

    if facet is not None and facet not in FACETS:
        raise InvalidInput(f"facet must be one of {', '.join(FACETS)}, not {facet!r}")


@router.get("/api/papers/{ref:path}", tags=["papers"], response_model=schemas.PaperPage, **schemas.JSON)
def api_paper(lib: Lib, ref: str) -> dict[str, Any]:
    """One paper by any of its ids (arxiv:2410.09918, 2410.09918v2, a DOI): the merged record, its
    sources with provenance, links and similar papers. 404 when the library does not have it."""
    return paper_data(lib, ref)


@router.get("/paper/{ref:path}", response_class=HTMLResponse, include_in_schema=False)
def paper_page(
    request: Request, lib: Lib, ref: str, similar: bool = False, facet: str | None = None
) -> HTMLResponse:
    """The paper at once; its similar papers (by `facet` when given) inline when known (or asked
    for with ?similar=1, the no-script way), else fetched by the page from /api/papers/{id}/similar."""
    _check_facet(facet)
    data = paper_data(lib, ref, wait_for_similar=similar, facet=facet)
    pj = data["paper"]
    chosen: dict[str, list[str]] = {}
    for name, key in pj["provenance"].items():
        chosen.setdefault(key, []).append(name.split(".")[0])
    ctx = {
        "p": pj,
        "links": data["links"],
        "similar": data["similar"],
        "facet": facet,
        "chosen": {k: sorted(set(v)) for k, v in chosen.items()},
        "date": data["date"],
        "shown_title": paper_label(pj["title"], pj["abstract"], pj["id"], _arxiv(pj)),
        "fetchable": not pj["title"] and _arxiv(pj) is not None,
        "abstract": display_text(pj["abstract"]),
        "highlights": data["highlights"],
        "profiles": _profile_names(lib),
        "twin": "/api/papers/" + quote(pj["id"], safe=":/"),
    }
    return render(request, "paper.html", ctx)


def _arxiv(pj: dict[str, Any]) -> str | None:
    from ..enrich import arxiv_id_of

    return arxiv_id_of(pj.get("ids") or [], pj["id"])


def _profile_names(lib: Library) -> list[str]:
    """Names only: loading each profile whole (its papers, feedback and seen marks) cost a paper page
    up to 2 s under load once a profile had a few hundred likes."""
    from ..profiles import profile_names

    return profile_names(lib)


def fetch_metadata(lib: Library, ref: str, arxiv_api: str) -> dict[str, Any]:
    """Fill what an untitled paper lacks from arXiv (`arxiv_api`: the setting the app read at
    start), now, through the enrich service (NetworkError, a 502, when arXiv cannot be reached)."""
    from ..enrich import enrich_paper
    from ..errors import InvalidInput

    report = enrich_paper(lib, ref, base_url=arxiv_api)
    if report.no_id:
        raise InvalidInput("this paper has no arXiv id to look its title and authors up by")
    paper = svc.load_paper(lib, lib.resolve(ref), with_sources=False)
    return {"ok": True, "found": not report.not_on_arxiv, "paper": paper_brief(paper)}


@router.post(
    "/api/papers/{ref:path}/fetch",
    tags=["papers"],
    responses={502: {"model": ErrorBody, "description": "arXiv could not be reached"}},
    response_model=schemas.Fetched,
    **schemas.JSON,
)
def api_fetch(lib: Lib, settings: AppSettings, ref: str) -> dict[str, Any]:
    """Look the paper up on arXiv by its id and merge what arXiv has (title, authors, abstract,
    dates, categories), like `paperradar enrich` for one paper. `found`: arXiv knew the id."""
    return fetch_metadata(lib, ref, settings.arxiv_api)


@router.post("/paper/{ref:path}/fetch", include_in_schema=False)
def fetch_form(
    lib: Lib, settings: AppSettings, ref: str, next: Annotated[str, Form()] = ""
) -> RedirectResponse:
    data = fetch_metadata(lib, ref, settings.arxiv_api)
    target = (
        next if next.startswith("/") and not next.startswith("//") else "/paper/" + quote(data["paper"]["id"])
    )
    return RedirectResponse(target, status_code=303)
