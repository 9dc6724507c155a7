"""Regression tests for the upload and worker findings of issue 13: the gzip newline bomb, the
chunked upload that bypassed the size cap, and the forked import worker that kept the port after
the server was killed. Real servers on 127.0.0.1, real processes."""

from __future__ import annotations

import gzip
import json
import os
import select
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from conftest import free_port, port_is_free
from paperradar.errors import ParseError
from paperradar.importers.base import UPLOAD_LIMITS, Source
from paperradar.storage import open_library
from paperradar.storage.jobs import add_job, get_job, update_job
from web_helpers import client_for, demo_library

BOMB = gzip.compress(b'{"papers": [\n' + b"\n" * 50_000_000, 9)  # 49 KB that expands to 50 MB


@pytest.fixture(scope="module")
def lib_path(tmp_path_factory):
    return demo_library(tmp_path_factory.mktemp("secupload") / "lib.db", hostile=False)


def test_a_gzip_newline_bomb_is_refused_quickly_with_a_clear_reason(lib_path):
    from paperradar.importers import hf_daily

    started = time.perf_counter()
    with pytest.raises(ParseError) as info:
        list(hf_daily.parse(Source.from_bytes(BOMB, "upload:bomb.json.gz", UPLOAD_LIMITS)))
    assert time.perf_counter() - started < 5
    assert (
        "decompression bomb" in info.value.reason
        and info.value.line
        and info.value.source.startswith("upload:")
    )

    c = client_for(lib_path)
    started = time.perf_counter()
    files = {"files": ("daily.json.gz", BOMB, "application/gzip")}
    r = c.post_csrf("/api/import", files=files, data={"format": "hf_daily"})
    assert time.perf_counter() - started < 30  # was 377 s for 100 MB; includes the worker's start
    rejected = r.json()["files"][0]["rejected"]
    assert [(e["path"], "decompression bomb" in e["reason"]) for e in rejected] == [
        ("upload:daily.json.gz", True)
    ]


def test_too_many_lines_in_an_upload_stop_with_the_line(lib_path):
    data = b"@misc{a, title={x}}\n" + b"\n" * (UPLOAD_LIMITS.lines + 10)
    lines = Source.from_bytes(data, "upload:x.bib", UPLOAD_LIMITS).lines()
    with pytest.raises(ParseError, match=r"more than 2,000,000 lines") as info:
        for _ in lines:
            pass
    assert info.value.line == UPLOAD_LIMITS.lines + 1


@pytest.fixture(scope="module")
def server(lib_path):
    """The app under uvicorn in a thread on a free loopback port (256 KB upload limit)."""
    import uvicorn

    from paperradar.web import create_app

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    srv = uvicorn.Server(
        uvicorn.Config(
            create_app(lib_path, max_upload=256 * 1024), host="127.0.0.1", port=port, log_level="warning"
        )
    )
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    while not srv.started:
        time.sleep(0.05)
    yield port
    srv.should_exit = True
    thread.join(10)


def test_a_chunked_upload_is_cut_off_at_the_limit(server):
    """No Content-Length: the server counts the bytes as they come and answers 413 while the
    client is still sending (it used to store the whole body, 600 MB, before refusing it)."""
    sent, reply = 0, b""
    with socket.create_connection(("127.0.0.1", server), timeout=10) as s:
        s.sendall(
            b"POST /api/import HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n"
            b"Content-Type: multipart/form-data; boundary=xx\r\n\r\n"
        )
        head = b'--xx\r\nContent-Disposition: form-data; name="files"; filename="a.bib"\r\n\r\n'
        chunk = head + b"x" * (64 * 1024 - len(head))
        try:
            while sent < 32 * 1024 * 1024 and not select.select([s], [], [], 0.01)[0]:
                s.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                sent += len(chunk)
                chunk = b"y" * 64 * 1024
        except (BrokenPipeError, ConnectionResetError):
            pass
        while b"limit" not in reply and (more := s.recv(65536)):
            reply += more
    assert reply.startswith(b"HTTP/1.1 413") and b"limit" in reply
    assert sent < 4 * 1024 * 1024  # answered after ~256 KB, not after the 32 MB the client had


def test_a_restarted_server_reports_the_job_it_was_killed_during(lib_path):
    lib = open_library(lib_path)
    job = add_job(lib, "import")
    update_job(lib, job, "running", done=3000)
    lib.close()
    c = client_for(lib_path)  # a new server over the same library
    got = c.get(f"/api/jobs/{job}").json()["job"]
    assert got["state"] == "interrupted" and "import the file again" in got["message"]
    assert got["done"] == 3000


def _wait_up(port: int, proc: subprocess.Popen, seconds: float = 60) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)
    raise AssertionError("the server did not start")


def test_killing_the_server_during_an_import_frees_its_port(tmp_path):
    import httpx

    lib_path = tmp_path / "lib.db"
    open_library(lib_path).close()
    port = free_port()
    cmd = [
        str(Path(sys.executable).parent / "paperradar"),
        "--db",
        str(lib_path),
        "serve",
        "--port",
        str(port),
    ]
    env = {**os.environ, "PAPERRADAR_NO_WORKER": ""}
    proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, env=env)
    try:
        _wait_up(port, proc)
        base = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=base, timeout=60) as h:
            h.get("/login")
            rows = [
                {"id": f"arxiv:2501.{i:05d}", "title": f"Paper {i}", "abstract": "w " * 400}
                for i in range(6000)
            ]
            body = "".join(json.dumps(r) + "\n" for r in rows).encode()
            r = h.post(
                "/api/import?wait=0",
                files={"files": ("big.jsonl", body, "application/json")},
                headers={"x-csrf-token": h.cookies["paperradar_csrf"]},
            )
            assert r.status_code == 202
            job = r.json()["job"]["id"]
            time.sleep(1.5)  # the worker is storing batches now
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert port_is_free(port), "a process still holds the port"
    lib = open_library(lib_path)
    try:
        assert lib.check_integrity() == []
        assert get_job(lib, job).state in ("running", "queued", "done")  # as the killed server left it
    finally:
        lib.close()


@pytest.mark.parametrize("name", ["arxiv_atom", "arxiv_oai"])
def test_an_unknown_xml_encoding_is_a_rejection_not_a_crash(name):
    """Found by bench/fuzz.py: `<?xml encoding="U-8"?>` escaped as a LookupError."""
    from paperradar import importers
    from paperradar.ingest import _parse

    data = b'<?xml version="1.0" encoding="U-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom"></feed>\n'
    (error,) = list(_parse(importers.load(name), Source.from_bytes(data, "upload:x.xml"), None))
    assert (
        isinstance(error, ParseError)
        and error.source == "upload:x.xml"
        and "unknown encoding" in error.reason
    )


def test_web_imports_are_embedded_like_cli_imports(lib_path):
    """An 11k upload through /import used to stay invisible to semantic search."""
    from paperradar.embed import load_embedder

    try:
        load_embedder("fast")
    except Exception:  # noqa: BLE001
        pytest.skip("the embedding models are not built (make models)")
    c = client_for(lib_path)
    c.get("/api/search", params={"q": "x", "mode": "semantic"})  # the server's index, before the import
    paper = {
        "id": "arxiv:2502.07777",
        "title": "Photosynthetic efficiency of marine diatoms under iron limitation",
    }
    paper["abstract"] = "Diatoms in the Southern Ocean adapt their chloroplasts when iron is scarce."
    body = c.post_csrf(
        "/api/import", files={"files": ("new.jsonl", json.dumps(paper) + "\n", "application/json")}
    )
    assert body.json()["index"] is not None  # the job embedded the new paper
    hits = c.get(
        "/api/search", params={"q": "algae photosynthesis in iron-poor seas", "mode": "semantic"}
    ).json()
    assert hits["items"][0]["id"] == "arxiv:2502.07777"
