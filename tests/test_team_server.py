"""The team server as docs/team.md runs it: `paperradar --db postgresql://... serve`, a real server
process on 127.0.0.1 against the test PostgreSQL."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from conftest import free_port

EXE = str(Path(sys.executable).parent / "paperradar")


def test_serving_a_postgresql_library_never_prints_its_password(pg_url):
    """The banner goes to the service's log (journald under systemd), /api/stats to every member:
    the address without its password."""
    password = urlsplit(pg_url).password
    assert password
    port = free_port()
    proc = subprocess.Popen(
        [EXE, "--db", pg_url, "serve", "--port", str(port)], stderr=subprocess.PIPE, text=True
    )
    try:
        banner = ""
        while "serving" not in banner:
            line = proc.stderr.readline()  # type: ignore[union-attr]
            assert line, f"the server stopped before serving: {banner}"
            banner += line
        deadline = time.monotonic() + 60
        while True:  # the banner is printed just before the server listens
            try:
                stats = httpx.get(f"http://127.0.0.1:{port}/api/stats", timeout=5)
                assert stats.status_code == 200
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "the server did not answer"
                time.sleep(0.2)
    finally:
        proc.terminate()
        proc.wait(30)
    assert f":{password}@" not in banner
    assert ":***@" in banner and urlsplit(pg_url).path in banner
    assert f":{password}@" not in stats.text and stats.json()["path"].endswith(urlsplit(pg_url).path)


def test_stats_of_a_postgresql_library_hide_its_password(pg_url):
    """`paperradar stats` is pasted into bug reports: the address without its password."""
    password = urlsplit(pg_url).password
    out = subprocess.run(
        [EXE, "--db", pg_url, "stats", "--json"], capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    assert password and f":{password}@" not in out.stdout + out.stderr
    assert ":***@" in out.stdout
