"""`paperradar fetch` end to end: a real local HTTP server serving saved arXiv and HF responses,
through the CLI, the real parsers and the import pipeline."""

from __future__ import annotations

import json

import pytest

from test_fetch import FakeAPI, api  # noqa: F401  (the local server fixture)


@pytest.fixture
def env(api, tmp_path, monkeypatch):  # noqa: F811
    monkeypatch.setenv("PAPERRADAR_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("PAPERRADAR_ARXIV_API", api.base + "/api/query")
    monkeypatch.setenv("PAPERRADAR_HF_API", api.base + "/api/daily_papers")
    monkeypatch.setenv("PAPERRADAR_ARXIV_DELAY", "0")
    return api


def test_fetch_arxiv_ids_imports_every_page_and_resumes(cli, env: FakeAPI):
    ids = ["--id", "2403.03507", "--id", "2407.08296", "--id", "2410.09918"]
    result = cli("fetch", "arxiv", *ids, "--page-size", "2", "--json")
    assert result.exit_code == 0, result.output
    files = json.loads(result.stdout)["files"]
    assert [f["new"] for f in files] == [2, 1]  # two pages, three papers
    shown = json.loads(cli("papers", "show", "2410.09918", "--json").output)
    assert shown["title"].startswith("Dualformer")
    assert shown["sources"][0]["importer"] == "arxiv_atom"
    assert shown["sources"][0]["path"].startswith(env.base)
    # the same command again resumes after the last page: it asks only for what comes next
    asked = len(env.requests)
    again = json.loads(cli("fetch", "arxiv", *ids, "--page-size", "2", "--json").output)["files"]
    assert sum(f["new"] for f in again) == 0
    assert env.requests[asked].query["start"] == "3"
    # --restart reads from the first page; everything is already there
    restarted = json.loads(cli("fetch", "arxiv", *ids, "--page-size", "2", "--restart", "--json").output)[
        "files"
    ]
    assert sum(f["unchanged"] for f in restarted) == 3


def test_fetch_hf_daily_day(cli, env):
    result = cli("fetch", "hf-daily", "--date", "2024-03-07", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)["files"][0]
    assert report["format"] == "hf_daily" and report["new"] >= 1 and report["rejected"] == []


def test_fetch_offline_says_so_and_changes_nothing(tmp_path, monkeypatch):
    import subprocess
    import sys
    from pathlib import Path

    exe = Path(sys.executable).with_name("paperradar")
    db = tmp_path / "lib.db"
    env = {
        "PAPERRADAR_HOME": str(tmp_path),
        "PAPERRADAR_ARXIV_API": "http://127.0.0.1:9/api/query",
        "PAPERRADAR_ARXIV_DELAY": "0",
        "PAPERRADAR_FETCH_RETRIES": "0",
        "PATH": "/usr/bin:/bin",
    }
    done = subprocess.run(
        [exe, "--db", db, "fetch", "arxiv", "--id", "2403.03507"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1
    assert done.stderr.startswith(
        "Error: cannot reach 127.0.0.1:9: connection refused (1 attempt); are you offline?"
    )
    assert "Traceback" not in done.stderr
    stats = subprocess.run([exe, "--db", db, "stats", "--json"], env=env, capture_output=True, text=True)
    assert json.loads(stats.stdout)["papers"] == 0
