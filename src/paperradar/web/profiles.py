"""Profiles: create one from an author (choosing among namesakes), from an uploaded file (any
format `import` reads) or pasted ids; see its interests and feedback history; undo. Pages under
`/profiles`, JSON under `/api/profiles`, both over `paperradar.profiles`. Does I/O through the library."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from .. import authors, paper_refs, steering
from .. import profiles as svc
from ..errors import InvalidInput, RadarError
from ..importers.base import Source
from ..models import FEEDBACK_KINDS, one_of
from ..papers import load_paper
from ..storage import Library
from . import schemas
from .deps import Lib, render
from .errors import ErrorBody, error_body
from .imports import display_name, read_upload
from .papers import label

router = APIRouter()
NAV = [("Profiles", "/profiles")]
Kind = Annotated[str, Field(pattern=one_of((*FEEDBACK_KINDS, "not-interested")))]


class NewProfile(BaseModel):
    name: Annotated[str, Field(min_length=1, max_length=100)]
    author: Annotated[str | None, Field(max_length=200)] = None
    pick: Annotated[int | None, Field(ge=1, le=1000)] = None
    papers: Annotated[list[Annotated[str, Field(max_length=300)]], Field(max_length=5000)] = []


class Feedback(BaseModel):
    paper: Annotated[str, Field(min_length=1, max_length=300)]
    kind: Kind


class PaperRefs(BaseModel):
    papers: Annotated[list[Annotated[str, Field(max_length=300)]], Field(min_length=1, max_length=5000)]


def ambiguous(e: authors.AmbiguousAuthor) -> JSONResponse:
    """The shared error shape, plus the people behind the name to pick from."""
    body = {**error_body(400, str(e)), "candidates": [authors.candidate_json(c) for c in e.candidates]}
    return JSONResponse(body, status_code=400)


def create(lib: Library, name: str, author: str | None, pick: int | None, refs: list[Any]) -> Any:
    return svc.create_profile(lib, name, author=author or None, papers=refs, pick=pick)


@router.get("/api/profiles", tags=["profiles"], response_model=schemas.ProfileList, **schemas.JSON)
def api_profiles(lib: Lib) -> dict[str, Any]:
    """Every profile with its papers, interests and feedback history."""
    items = [svc.profile_json(p) for p in svc.list_profiles(lib)]
    return {"ok": True, "total": len(items), "items": items}


@router.get("/api/authors", tags=["profiles"], response_model=schemas.CandidateList, **schemas.JSON)
def api_authors(lib: Lib, name: Annotated[str, Query(min_length=1, max_length=200)]) -> dict[str, Any]:
    """The people in the library with this name (to choose `pick` when creating a profile)."""
    items = [authors.candidate_json(c) for c in authors.author_candidates(lib, name)]
    return {"ok": True, "total": len(items), "items": items}


@router.post(
    "/api/profiles",
    tags=["profiles"],
    responses={409: {"model": ErrorBody, "description": "a profile of that name exists already"}},
    response_model=schemas.ProfileBody,
    **schemas.JSON,
)
def api_create(lib: Lib, body: NewProfile) -> dict[str, Any] | JSONResponse:
    """Create a profile from an author name (with `pick` when it names several people) and/or paper ids.
    An ambiguous name answers 400 with `candidates`; a name already taken answers 409."""
    try:
        profile = create(lib, body.name, body.author, body.pick, list(body.papers))
    except authors.AmbiguousAuthor as e:
        return ambiguous(e)
    return {"ok": True, "profile": svc.profile_json(profile)}


@router.get("/api/profiles/{name}", tags=["profiles"], response_model=schemas.ProfileBody, **schemas.JSON)
def api_profile(lib: Lib, name: str) -> dict[str, Any]:
    """One profile: its papers, interests (named groups of papers) and feedback, newest last."""
    return {"ok": True, "profile": svc.profile_json(svc.get_profile(lib, name))}


@router.post(
    "/api/profiles/{name}/feedback", tags=["profiles"], response_model=schemas.FeedbackBody, **schemas.JSON
)
def api_feedback(lib: Lib, name: str, body: Feedback) -> dict[str, Any]:
    """Like, dislike or mark not interested; takes effect on the next recommendations."""
    mark = svc.give_feedback(lib, name, body.paper, body.kind)
    return {"ok": True, "feedback": {"paper": mark.paper, "kind": mark.kind, "at": mark.at}}


@router.post("/api/profiles/{name}/undo", tags=["profiles"], response_model=schemas.Undone, **schemas.JSON)
def api_undo(lib: Lib, name: str) -> dict[str, Any]:
    """Take back the latest feedback (`undone` is null when there was none)."""
    mark = svc.undo_feedback(lib, name)
    undone = None if mark is None else {"paper": mark.paper, "kind": mark.kind, "at": mark.at}
    return {"ok": True, "undone": undone}


@router.post(
    "/api/profiles/{name}/papers", tags=["profiles"], response_model=schemas.ProfileBody, **schemas.JSON
)
def api_add_papers(lib: Lib, name: str, body: PaperRefs) -> dict[str, Any]:
    """Add papers (any of their ids) to the profile."""
    return {"ok": True, "profile": svc.profile_json(svc.add_papers(lib, name, body.papers))}


@router.post(
    "/api/profiles/{name}/papers/remove",
    tags=["profiles"],
    response_model=schemas.ProfileBody,
    **schemas.JSON,
)
def api_remove_papers(lib: Lib, name: str, body: PaperRefs) -> dict[str, Any]:
    """Remove papers from the profile."""
    return {"ok": True, "profile": svc.profile_json(svc.remove_papers(lib, name, body.papers))}


@router.post("/api/profiles/{name}/delete", tags=["profiles"], response_model=schemas.Deleted, **schemas.JSON)
def api_delete(lib: Lib, name: str) -> dict[str, Any]:
    """Delete the profile (its papers stay in the library)."""
    svc.delete_profile(lib, name)
    return {"ok": True, "deleted": name}


class Follow(BaseModel):
    author: Annotated[str, Field(min_length=1, max_length=200)]


class Rule(BaseModel):
    kind: Annotated[str, Field(pattern="^(must|exclude)$")]
    word: Annotated[str, Field(min_length=1, max_length=100)]


class Threshold(BaseModel):
    value: Annotated[float | None, Field(ge=0.0, lt=1.0)] = None


class Reset(BaseModel):
    what: Annotated[
        list[Annotated[str, Field(pattern="^(feedback|seen|follows|rules|threshold)$")]],
        Field(min_length=1, max_length=5),
    ]


class Ratings(BaseModel):
    ratings: Annotated[dict[Annotated[str, Field(max_length=300)], Kind], Field(min_length=1, max_length=50)]


@router.post(
    "/api/profiles/{name}/follow", tags=["profiles"], response_model=schemas.ProfileBody, **schemas.JSON
)
def api_follow(lib: Lib, name: str, body: Follow) -> dict[str, Any]:
    """Follow an author: their new papers always come first, marked as such."""
    return {"ok": True, "profile": svc.profile_json(steering.follow(lib, name, body.author))}


@router.post(
    "/api/profiles/{name}/unfollow", tags=["profiles"], response_model=schemas.ProfileBody, **schemas.JSON
)
def api_unfollow(lib: Lib, name: str, body: Follow) -> dict[str, Any]:
    """Stop following an author."""
    return {"ok": True, "profile": svc.profile_json(steering.unfollow(lib, name, body.author))}


@router.post(
    "/api/profiles/{name}/rules", tags=["profiles"], response_model=schemas.ProfileBody, **schemas.JSON
)
def api_add_rule(lib: Lib, name: str, body: Rule) -> dict[str, Any]:
    """Add a keyword rule: `must` keeps only papers mentioning one must-word, `exclude` drops papers."""
    return {"ok": True, "profile": svc.profile_json(steering.add_rule(lib, name, body.kind, body.word))}


@router.post(
    "/api/profiles/{name}/rules/remove", tags=["profiles"], response_model=schemas.ProfileBody, **schemas.JSON
)
def api_remove_rule(lib: Lib, name: str, body: Rule) -> dict[str, Any]:
    """Remove a keyword rule."""
    return {"ok": True, "profile": svc.profile_json(steering.remove_rule(lib, name, body.kind, body.word))}


@router.post(
    "/api/profiles/{name}/threshold", tags=["profiles"], response_model=schemas.ProfileBody, **schemas.JSON
)
def api_threshold(lib: Lib, name: str, body: Threshold) -> dict[str, Any]:
    """Set (or with null, remove) the minimum score: a percentile of the library, 0-1."""
    return {"ok": True, "profile": svc.profile_json(steering.set_threshold(lib, name, body.value))}


@router.post(
    "/api/profiles/{name}/reset", tags=["profiles"], response_model=schemas.ProfileBody, **schemas.JSON
)
def api_reset(lib: Lib, name: str, body: Reset) -> dict[str, Any]:
    """Forget what the profile learned: feedback, seen papers, follows, rules, threshold."""
    return {"ok": True, "profile": svc.profile_json(steering.reset_profile(lib, name, body.what))}


@router.get("/api/profiles/{name}/rate", tags=["profiles"], response_model=schemas.ToRateList, **schemas.JSON)
def api_to_rate(lib: Lib, name: str, count: Annotated[int, Query(ge=1, le=50)] = 10) -> dict[str, Any]:
    """Papers to rate, chosen to teach the profile the most (uncertain for it, unlike each other)."""
    from ..recommend import papers_to_rate

    items = [{"id": p.id, "title": p.title, "abstract": p.abstract} for p in papers_to_rate(lib, name, count)]
    return {"ok": True, "total": len(items), "items": items}


@router.post("/api/profiles/{name}/rate", tags=["profiles"], response_model=schemas.Rated, **schemas.JSON)
def api_rate(lib: Lib, name: str, body: Ratings) -> dict[str, Any]:
    """Record ratings ({paper id: like | dislike | not_interested}); the next ranking learns from them."""
    from ..recommend import rate

    return {"ok": True, "rated": rate(lib, name, {k: v.replace("-", "_") for k, v in body.ratings.items()})}


# ---------------------------------------------------------------- pages and their form actions


@router.get("/profiles", response_class=HTMLResponse, include_in_schema=False)
def profiles_page(request: Request, lib: Lib) -> HTMLResponse:
    return _list_page(request, lib, {})


def _list_page(request: Request, lib: Library, form: dict[str, Any], status: int = 200) -> HTMLResponse:
    ctx = {"profiles": svc.list_profiles(lib), "form": form, "twin": "/api/profiles"}
    return render(request, "profiles.html", ctx, status=status)


@router.post("/profiles", response_class=HTMLResponse, include_in_schema=False)
async def create_form(
    request: Request,
    lib: Lib,
    name: Annotated[str, Form(max_length=100)],
    author: Annotated[str, Form(max_length=200)] = "",
    pick: Annotated[int | None, Form(ge=1, le=1000)] = None,
    ids: Annotated[str, Form(max_length=1_000_000)] = "",
    file: Annotated[UploadFile | None, File()] = None,
) -> Response:
    form: dict[str, Any] = {"name": name, "author": author, "ids": ids, "pick": pick}
    data = await read_upload(request, file) if file is not None and file.filename else b""
    try:
        profile = await run_in_threadpool(_create_from_form, lib, name, author, pick, ids, data, file)
    except authors.AmbiguousAuthor as e:
        form.update(candidates=e.candidates, error=str(e))
        return _list_page(request, lib, form, status=400)
    except RadarError as e:
        form["error"] = str(e)
        return _list_page(request, lib, form, status=400)
    return RedirectResponse(f"/profiles/{quote(profile.name)}", status_code=303)


def _create_from_form(
    lib: Library, name: str, author: str, pick: int | None, ids: str, data: bytes, file: Any
) -> Any:
    refs: list[Any] = []
    if ids.strip():
        refs += paper_refs.papers_in_source(lib, Source.from_text(ids, "<pasted ids>"))[0]
    if data:
        refs += paper_refs.papers_in_source(lib, Source.from_bytes(data, display_name(file.filename)))[0]
    if (ids.strip() or data) and not refs and not author.strip():
        raise InvalidInput("no papers found in what was given")
    return create(lib, name, author.strip() or None, pick, refs)


@router.get("/profiles/{name}", response_class=HTMLResponse, include_in_schema=False)
def profile_page(
    request: Request, lib: Lib, name: str, rate: Annotated[bool, Query()] = False
) -> HTMLResponse:
    from ..recommend import papers_to_rate

    profile = svc.get_profile(lib, name)
    titles = _titles(lib, profile.papers + [f.paper for f in profile.feedback])
    to_rate = papers_to_rate(lib, name) if rate or not profile.papers else []
    ctx = {"profile": profile, "titles": titles, "twin": f"/api/profiles/{quote(name)}", "to_rate": to_rate}
    return render(request, "profile.html", ctx)


@router.post("/profiles/{name}/steer", include_in_schema=False)
def steer_form(
    lib: Lib,
    name: str,
    action: Annotated[str, Form(pattern="^(follow|unfollow|must|exclude|unrule|threshold|reset|unpaper)$")],
    value: Annotated[str, Form(max_length=200)] = "",
    kind: Annotated[str, Form(pattern="^(|must|exclude)$")] = "",
) -> RedirectResponse:
    """The profile page's steering forms: follow/unfollow an author, add/remove a keyword rule,
    set the threshold (empty removes it), reset one kind of learned state, remove a paper (issue 15)."""
    if action == "unpaper":
        svc.remove_papers(lib, name, [value])
    elif action in ("follow", "unfollow"):
        (steering.follow if action == "follow" else steering.unfollow)(lib, name, value)
    elif action in ("must", "exclude"):
        steering.add_rule(lib, name, action, value)
    elif action == "unrule":
        steering.remove_rule(lib, name, kind, value)
    elif action == "threshold":
        steering.set_threshold(lib, name, _percentile(value))
    else:
        steering.reset_profile(lib, name, [value])
    return RedirectResponse(f"/profiles/{quote(name)}", status_code=303)


def _percentile(value: str) -> float | None:
    if not value.strip():
        return None
    try:
        return float(value)
    except ValueError as e:
        raise InvalidInput(f"the threshold is a number between 0 and 1, not {value!r}") from e


@router.post("/profiles/{name}/rate", include_in_schema=False)
async def rate_form(request: Request, lib: Lib, name: str) -> RedirectResponse:
    """The "rate these 10" form: one radio group per paper (rate-<paper id> = like | dislike)."""
    from ..recommend import rate

    form = await request.form()
    ratings = {
        str(k)[5:]: str(v) for k, v in form.items() if str(k).startswith("rate-") and str(v) in FEEDBACK_KINDS
    }
    if ratings:
        await run_in_threadpool(rate, lib, name, ratings)  # type: ignore[arg-type]
    return RedirectResponse(f"/profiles/{quote(name)}", status_code=303)


def _titles(lib: Library, ids: list[str]) -> dict[str, str]:
    return {i: label(load_paper(lib, lib.resolve(i), with_sources=False)) for i in dict.fromkeys(ids)}


def _back(next_url: str, fallback: str) -> RedirectResponse:
    safe = next_url if next_url.startswith("/") and not next_url.startswith("//") else fallback
    return RedirectResponse(safe, status_code=303)


@router.post("/profiles/{name}/feedback", include_in_schema=False)
def feedback_form(
    lib: Lib,
    name: str,
    paper: Annotated[str, Form(max_length=300)],
    kind: Annotated[str, Form(pattern=one_of(FEEDBACK_KINDS))],
    next: Annotated[str, Form()] = "/",
) -> RedirectResponse:
    svc.give_feedback(lib, name, paper, kind)
    return _back(next, "/")


@router.post("/profiles/{name}/undo", include_in_schema=False)
def undo_form(lib: Lib, name: str, next: Annotated[str, Form()] = "") -> RedirectResponse:
    svc.undo_feedback(lib, name)
    return _back(next, f"/profiles/{quote(name)}")


@router.post("/profiles/{name}/delete", include_in_schema=False)
def delete_form(lib: Lib, name: str) -> RedirectResponse:
    svc.delete_profile(lib, name)
    return RedirectResponse("/profiles", status_code=303)


@router.post("/profiles/add", include_in_schema=False)
def add_form(
    lib: Lib,
    profile: Annotated[str, Form(max_length=100)],
    ids: Annotated[list[str], Form(max_length=5000)],
    next: Annotated[str, Form()] = "",
) -> RedirectResponse:
    svc.add_papers(lib, profile, ids)
    return _back(next, f"/profiles/{quote(profile)}")
