"""Import: upload files or paste a page's text; the report lists what was new, merged and rejected.
Page `/import`, action `/api/import`, progress `/api/jobs/{id}`. Uploads are sniffed by the
importers' `detect` (never trusted by name), read from memory (no path from the request touches
the file system) and bounded (importers.base.UPLOAD_LIMITS: expanded size, compression ratio,
lines). The work runs as a background job in a spawned worker process (jobs.py), then the new
papers are embedded like a CLI import (both call the import service, paperradar/imports.py). A request waits for the job a
while; a longer one answers with the job, whose page polls its progress.
Does I/O through the library and the job runner."""

from __future__ import annotations

import asyncio
import contextlib
import re
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Path, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, JSONResponse

from ..errors import InvalidInput, NotFound, RadarError
from ..importers import IMPORTERS
from ..importers.base import UPLOAD_LIMITS, Source
from ..imports import import_sources, index_imported
from ..jobs import JobRunner, job_json
from ..progress import Progress
from ..storage import Library
from . import schemas
from .deps import Lib, render
from .errors import WebError

router = APIRouter()
NAV = [("Import", "/import")]
FORMATS = ("auto", *IMPORTERS)
FormatField = Annotated[str, Form(pattern="^(" + "|".join(FORMATS) + ")$")]
PAGE_WAIT = 30.0  # seconds the import form waits before showing the job's progress page
JobId = Annotated[int, Path(ge=1, le=2**62, description="A job's number.")]


def display_name(filename: str | None) -> str:
    """What the report calls an upload: its base name, tamed; never used as a path."""
    base = re.split(r"[\\/]", filename or "")[-1]
    base = re.sub(r"[^\w.\- ]", "_", base)[:100].strip()
    return f"upload:{base}" if base else "<upload>"


async def read_upload(request: Request, upload: UploadFile) -> bytes:
    limit = request.app.state.max_upload
    data = await upload.read(limit + 1)
    if len(data) > limit:
        raise WebError(413, f"{upload.filename or 'the upload'} is over the {limit // 1024 // 1024} MB limit")
    return data


def import_work(lib: Library, progress: Progress, sources: list[Source], fmt: str) -> dict[str, Any]:
    """The import job (run in the worker): the import service's run, then the new papers embedded
    and the ranking features brought up to date (so no request has to build them)."""
    run = import_sources(lib, sources, fmt, progress=progress)
    report = run.as_json()
    report |= index_imported(lib) if run.changed else {"index": None, "features": None}
    return report


def stored_job(lib: Library, job_id: int) -> dict[str, Any] | None:
    """The job's row as the job runner reports it, or None."""
    found = job_json(lib, job_id)
    return None if found is None else found["job"]


async def gather(request: Request, files: list[UploadFile], text: str) -> list[Source]:
    sources = [Source.from_bytes(text.encode(), "<pasted>", UPLOAD_LIMITS)] if text.strip() else []
    for f in files:
        if f.filename or f.size:
            data = await read_upload(request, f)
            sources.append(Source.from_bytes(data, display_name(f.filename), UPLOAD_LIMITS))
    if not sources:
        raise InvalidInput("nothing to import: paste some text or choose a file")
    return sources


async def start_and_wait(
    request: Request, lib: Library, sources: list[Source], fmt: str, wait: float
) -> dict[str, Any] | None:
    """Start the import job and wait up to `wait` seconds for it: the job row as it then is."""
    runner: JobRunner = request.app.state.jobs
    job_id = runner.submit(lib, "import", import_work, sources, fmt)
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(asyncio.shield(asyncio.wrap_future(runner.futures[job_id])), wait)
    return stored_job(lib, job_id)


def finished_report(job: dict[str, Any]) -> dict[str, Any]:
    """The report of a finished import job; InvalidInput when it imported nothing."""
    if job["state"] != "done":
        raise InvalidInput(job["message"])
    report: dict[str, Any] = job["result"]
    if not report["files"]:
        raise InvalidInput("; ".join(report["failed"]))
    return {**report, "job": job["id"]}


RUNNING: dict[int | str, dict[str, Any]] = {
    202: {"description": "Still running after `wait` seconds: the job, to poll at /api/jobs/{id}."}
}


@router.post(
    "/api/import", tags=["import"], responses=RUNNING, response_model=schemas.ImportReport, **schemas.JSON
)
async def api_import(
    request: Request,
    lib: Lib,
    files: Annotated[list[UploadFile], File(description="Files to import.")] = [],  # noqa: B006
    text: Annotated[str, Form(max_length=1_000_000, description="Pasted page text.")] = "",
    format: FormatField = "auto",
    wait: Annotated[float, Query(ge=0, le=600, description="Seconds to wait for the job.")] = 300,
) -> dict[str, Any] | JSONResponse:
    """Import pasted text and/or uploaded files (multipart form). The report per source lists the
    rejected lines with their reason; `failed` names sources that could not be read at all. The
    import runs as a job; one still running after `wait` seconds answers 202 with the job, whose
    progress is at /api/jobs/{id}."""
    sources = await gather(request, files, text)
    job = await start_and_wait(request, lib, sources, format, wait)
    assert job is not None
    if job["state"] in ("queued", "running"):
        return JSONResponse({"ok": True, "job": job}, status_code=202)
    return finished_report(job)


@router.get("/api/jobs/{job_id}", tags=["import"], response_model=schemas.JobBody, **schemas.JSON)
def api_job(lib: Lib, job_id: JobId) -> dict[str, Any]:
    """A background job: its state (queued, running, done, failed, interrupted), how many records
    it has handled, its message and, when done, its result."""
    found = job_json(lib, job_id)
    if found is None:
        raise NotFound(f"no job {job_id}")
    return found


@router.get("/import", response_class=HTMLResponse, include_in_schema=False)
def import_page(
    request: Request, lib: Lib, job: Annotated[int | None, Query(ge=1, le=2**62)] = None
) -> HTMLResponse:
    return job_page(request, stored_job(lib, job) if job else None, "auto", "")


@router.post("/import", response_class=HTMLResponse, include_in_schema=False)
async def import_form(
    request: Request,
    lib: Lib,
    files: Annotated[list[UploadFile], File()] = [],  # noqa: B006
    text: Annotated[str, Form(max_length=1_000_000)] = "",
    format: FormatField = "auto",
) -> HTMLResponse:
    try:
        job = await start_and_wait(request, lib, await gather(request, files, text), format, PAGE_WAIT)
    except RadarError as e:
        ctx = {"formats": FORMATS, "report": None, "error": str(e), "format": format, "text": text}
        return render(request, "import.html", ctx, status=400)
    return job_page(request, job, format, text)


def job_page(request: Request, job: dict[str, Any] | None, fmt: str, text: str) -> HTMLResponse:
    """The import page: empty, a running job's progress (polled by app.js), or its report."""
    ctx: dict[str, Any] = {"formats": FORMATS, "report": None, "error": None, "format": fmt, "text": text}
    status = 200
    if job is not None and job["state"] in ("queued", "running"):
        ctx["job"] = job
    elif job is not None:
        try:
            ctx["report"] = finished_report(job)
        except RadarError as e:
            ctx["error"], status = str(e), 400
    return render(request, "import.html", ctx, status=status)
