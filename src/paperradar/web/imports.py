"""Import: upload files or paste a page's text; the report lists what was new, merged and rejected.
Page `/import`, action `/api/import`. Uploads are sniffed by the importers' `detect` (never trusted
by name) and read from memory: no path from the request touches the file system.
Does I/O through the library."""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from ..errors import InvalidInput, RadarError
from ..importers import IMPORTERS
from ..importers.base import Source
from ..ingest import import_source
from ..storage.sqlite import SQLiteLibrary
from .deps import Lib, render
from .errors import WebError

router = APIRouter()
NAV = [("Import", "/import")]
FORMATS = ("auto", *IMPORTERS)
FormatField = Annotated[str, Form(pattern="^(" + "|".join(FORMATS) + ")$")]


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


def run_imports(lib: SQLiteLibrary, sources: list[Source], fmt: str) -> dict[str, Any]:
    """Import each source; one unreadable source is reported and does not stop the others."""
    files, failed = [], []
    for source in sources:
        try:
            files.append(import_source(lib, source, fmt).as_json())
        except UnicodeDecodeError as e:
            failed.append(f"{source.path}: not UTF-8 text ({e.reason})")
        except RadarError as e:
            failed.append(str(e))
    return {"ok": bool(files), "files": files, "failed": failed}


async def gather(request: Request, files: list[UploadFile], text: str) -> list[Source]:
    sources = [Source.from_text(text, "<pasted>")] if text.strip() else []
    for f in files:
        if f.filename or f.size:
            sources.append(Source.from_bytes(await read_upload(request, f), display_name(f.filename)))
    if not sources:
        raise InvalidInput("nothing to import: paste some text or choose a file")
    return sources


@router.post("/api/import", tags=["import"])
async def api_import(
    request: Request,
    lib: Lib,
    files: Annotated[list[UploadFile], File(description="Files to import.")] = [],  # noqa: B006
    text: Annotated[str, Form(max_length=1_000_000, description="Pasted page text.")] = "",
    format: FormatField = "auto",
):
    """Import pasted text and/or uploaded files (multipart form). The report per source lists the
    rejected lines with their reason; `failed` names sources that could not be read at all."""
    sources = await gather(request, files, text)
    report = await run_in_threadpool(run_imports, lib, sources, format)
    if not report["files"]:
        raise InvalidInput("; ".join(report["failed"]))
    return report


@router.get("/import", response_class=HTMLResponse, include_in_schema=False)
def import_page(request: Request):
    return render(request, "import.html", {"formats": FORMATS, "report": None, "format": "auto"})


@router.post("/import", response_class=HTMLResponse, include_in_schema=False)
async def import_form(
    request: Request,
    lib: Lib,
    files: Annotated[list[UploadFile], File()] = [],  # noqa: B006
    text: Annotated[str, Form(max_length=1_000_000)] = "",
    format: FormatField = "auto",
):
    error, report = None, None
    try:
        sources = await gather(request, files, text)
        report = await run_in_threadpool(run_imports, lib, sources, format)
    except RadarError as e:
        error = str(e)
    ctx = {"formats": FORMATS, "report": report, "error": error, "format": format, "text": text}
    return render(request, "import.html", ctx, status=200 if report and report["files"] else 400)
