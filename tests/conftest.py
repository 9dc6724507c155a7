"""Shared fixtures: a temporary library, the CLI runner, and the location of ../shared."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from typer.testing import CliRunner

from paperradar.storage import open_library

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
PAGES = SHARED / "samples" / "pages"
EXAMPLES = REPO / "examples"
# Tests never read the developer's PAPERRADAR_* settings (issue 18): all are cleared but these,
# which the Makefile or a run sets on purpose for the tests themselves.
KEPT_VARIABLES = {"PAPERRADAR_TEST_PG", "PAPERRADAR_SEAM_ROOT", "PAPERRADAR_SCREENSHOTS"}
# imports in tests embed with the fast tier (ms); the quality tier's turn is tested on its own (issue 12)
TEST_SETTINGS = {"PAPERRADAR_QUALITY_IMPORT_MAX": "0"}


def clean_environment(setenv=os.environ.__setitem__, delenv=os.environ.pop) -> None:
    for name in [n for n in os.environ if n.startswith("PAPERRADAR_") and n not in KEPT_VARIABLES]:
        delenv(name)
    for name, value in TEST_SETTINGS.items():
        setenv(name, value)


clean_environment()  # before any fixture, module-scoped ones included


@pytest.fixture(autouse=True)
def _no_paperradar_settings(monkeypatch):
    """Each test starts from the clean settings, whatever an earlier test left behind."""
    clean_environment(monkeypatch.setenv, monkeypatch.delenv)


def need_shared(path: Path) -> Path:
    """The path under ../shared, or a skip (a failure under CI, where ../shared must exist)."""
    if not path.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{path} is missing, and CI must have ../shared")
        pytest.skip(f"{path} not found (../shared is absent)")
    return path


def split(results) -> tuple[list, list]:
    """Parser output split into (records, errors)."""
    from paperradar.errors import ParseError
    from paperradar.models import Record

    results = list(results)
    return [r for r in results if isinstance(r, Record)], [r for r in results if isinstance(r, ParseError)]


def names(rec) -> list[str]:
    return [a.name for a in rec.authors]


@pytest.fixture
def lib(tmp_path):
    library = open_library(tmp_path / "lib.db")
    yield library
    library.close()


def postgres_url() -> str:
    """The test PostgreSQL's address (PAPERRADAR_TEST_PG, set by `make test`), or a skip (a
    failure under CI, where PostgreSQL must run)."""
    url = os.environ.get("PAPERRADAR_TEST_PG")
    if not url:
        if os.environ.get("CI"):
            pytest.fail("PAPERRADAR_TEST_PG is not set, and CI must test PostgreSQL (run `make test`)")
        pytest.skip(
            "PAPERRADAR_TEST_PG not set (run `make test`, or: export PAPERRADAR_TEST_PG=$(sh tests/start_postgres.sh))"
        )
    return url


@pytest.fixture(scope="session")
def pg_template() -> Iterator[str]:
    """A migrated PostgreSQL database that each test's database is copied from (fast)."""
    from pg_databases import drop_database, make_template

    url = postgres_url()
    name = make_template(url)
    yield name
    drop_database(url, name)


@pytest.fixture
def pg_url(pg_template) -> Iterator[str]:
    """The address of a fresh, migrated PostgreSQL library of this test's own (dropped after)."""
    from pg_databases import copy_database, drop_database

    url = postgres_url()
    name, address = copy_database(url, pg_template)
    yield address
    drop_database(url, name)


@pytest.fixture(params=["sqlite", "postgresql"])
def any_lib(request, tmp_path):
    """A fresh library on each backend in turn: the storage contract tests run on both."""
    location = str(tmp_path / "lib.db") if request.param == "sqlite" else request.getfixturevalue("pg_url")
    library = open_library(location)
    yield library
    library.close()


@pytest.fixture
def db_path(tmp_path) -> str:
    return str(tmp_path / "cli.db")


@pytest.fixture
def cli(db_path):
    """Run the CLI against a temporary library: cli("import", path) -> Result."""
    from paperradar.cli import app, register_commands

    register_commands()

    runner = CliRunner()

    def run(*args: str, input: str | None = None):
        return runner.invoke(app, ["--db", db_path, *args], input=input, catch_exceptions=False)

    return run


def free_port() -> int:
    """A loopback port nobody listens on (for a server a test starts)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def port_is_free(port: int, within: float = 15.0) -> bool:
    """The port can be bound again, as a restarted server binds it (TIME_WAIT is no obstacle, a
    listening socket is), within `within` seconds: a killed server's job worker notices its death
    within 0.5 s, and a loaded CI machine is slow to run it."""
    deadline = time.monotonic() + within
    while True:
        try:
            with socket.socket() as s:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                s.bind(("127.0.0.1", port))
            return True
        except OSError:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.1)


@contextmanager
def http_server(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """A real HTTP server on a free loopback port, in a thread: yields its base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):  # type: ignore[no-untyped-def]
    """Under CI a skipped test is a failed one: every component a test needs must be there."""
    outcome = yield
    report = outcome.get_result()
    if os.environ.get("CI") and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"skipped under CI, where nothing may be skipped: {reason}"
