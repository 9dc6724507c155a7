"""Where `paperradar fetch arxiv` stopped is kept per library (issue 18): two libraries fetching
the same search each resume from their own page, and the old shared `fetch-state.json` is adopted
once, by the first library that fetches after the upgrade. A real local server answers with
saved arXiv responses."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from paperradar.remote import cursor_source
from test_fetch import FakeAPI, api  # noqa: F401  (the local server fixture)

IDS = ["2403.03507", "2407.08296", "2410.09918"]


@pytest.fixture
def env(api, tmp_path, monkeypatch):  # noqa: F811
    monkeypatch.setenv("PAPERRADAR_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("PAPERRADAR_ARXIV_API", api.base + "/api/query")
    monkeypatch.setenv("PAPERRADAR_ARXIV_DELAY", "0")
    return api


def fetch(db: str, *extra: str) -> dict:
    from paperradar.cli import app, register_commands

    register_commands()
    args = ["--db", db, "fetch", "arxiv", *[a for i in IDS for a in ("--id", i)], "--page-size", "2"]
    result = CliRunner().invoke(app, [*args, *extra, "--json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)  # stderr may hold the fake server thread's messages


def test_two_libraries_fetching_the_same_ids_each_resume_from_their_own_page(env: FakeAPI, tmp_path):
    first, second = str(tmp_path / "a.db"), str(tmp_path / "b.db")
    assert sum(f["new"] for f in fetch(first)["files"]) == 3
    asked = len(env.requests)
    assert sum(f["new"] for f in fetch(second)["files"]) == 3  # not skipped by the first's cursor
    assert env.requests[asked].query["start"] == "0"
    asked = len(env.requests)
    fetch(first)
    assert env.requests[asked].query["start"] == "3"  # the first library resumes after its end
    assert not (tmp_path / "home" / "fetch-state.json").exists()


def test_the_old_shared_state_file_is_adopted_once_by_the_first_library(env: FakeAPI, tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    key = cursor_source(None, IDS).removeprefix("arxiv-fetch:")
    (home / "fetch-state.json").write_text(json.dumps({key: 2}))
    asked = len(env.requests)
    assert sum(f["new"] for f in fetch(str(tmp_path / "a.db"))["files"]) == 1  # resumed at 2
    assert env.requests[asked].query["start"] == "2"
    assert not (home / "fetch-state.json").exists() and (home / "fetch-state.json.adopted").exists()
    asked = len(env.requests)
    fetch(str(tmp_path / "b.db"))  # a second library starts from the first page
    assert env.requests[asked].query["start"] == "0"
