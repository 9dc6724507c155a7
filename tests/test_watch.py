"""`paperradar watch --once` as cron runs it: the run is the watch service's (sync, then every
profile's digest); a part that fails is an error in the log and the exit code, and the parts
before it still happen. A local server answers with saved arXiv responses (delivery_fakes)."""

from __future__ import annotations

import json

import pytest

from delivery_fakes import api_server, smtp_server  # noqa: F401 - fixtures


@pytest.fixture
def env(monkeypatch, tmp_path, api, smtp):
    for name, value in {
        "HOME": str(tmp_path / "home"), "ARXIV_API": api.arxiv, "HF_API": api.hf, "ARXIV_DELAY": "0",
        "FETCH_RETRIES": "0", "SYNC_SOURCES": "arxiv:cs.CL", "SMTP_HOST": smtp.host,
        "SMTP_PORT": str(smtp.port), "SMTP_SECURITY": "carrier-pigeon", "MAIL_TO": "me@example.org",
    }.items():  # fmt: skip
        monkeypatch.setenv(f"PAPERRADAR_{name}", value)
    api.default_run = "run1"
    return tmp_path


def test_a_mail_setting_that_is_wrong_fails_the_run_after_the_sync_and_is_logged(cli, env, smtp):
    result = cli("watch", "--once")
    assert result.exit_code == 1
    assert "smtp_security must be one of" in result.stderr
    (entry,) = [json.loads(line) for line in (env / "home" / "watch.log").read_text().splitlines()]
    assert entry["sync"]["arxiv:cs.CL"]["new"] > 0 and entry["sync"]["arxiv:cs.CL"]["error"] is None
    assert len(entry["errors"]) == 1 and "carrier-pigeon" in entry["errors"][0]
    assert smtp.messages == []
