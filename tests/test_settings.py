"""Typed settings read once at the edge (issue 18, item 3): config.Settings, its precedence
(flag > PAPERRADAR_* > paperradar.toml > default), secrets never shown, a bad value a clear
error, and no module but config.py reading the environment."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from paperradar import config
from paperradar.config import SETTINGS, Settings, load_settings, with_flags
from paperradar.errors import InvalidInput

SRC = Path(__file__).parents[1] / "src" / "paperradar"

# modules still calling config.get (a value read deep inside) instead of being handed the
# settings; this list may only shrink
STILL_CALLING_GET: set[str] = set()
# the edges read the settings once (the CLI, the web app) and hand them in; these library modules
# read them themselves, each by design and documented there (a value needed by a function reached
# from many places or public through paperradar.__all__; None = read now); this list may only shrink
EDGES = ("cli/", "web/app.py", "web/deps.py", "config.py")
DEEP_READS = {"digest/service.py", "embed/__init__.py", "ingest/worker.py", "index.py", "zotero.py"}


def test_precedence_flag_then_environment_then_file_then_default(monkeypatch, tmp_path):
    monkeypatch.setenv("PAPERRADAR_HOME", str(tmp_path))
    assert load_settings().sync_days == 2  # the default
    (tmp_path / "paperradar.toml").write_text("sync_days = 5\ndigest_size = 3\n")
    assert load_settings().sync_days == 5
    monkeypatch.setenv("PAPERRADAR_SYNC_DAYS", "7")
    assert load_settings().sync_days == 7 and load_settings().digest_size == 3
    assert load_settings(sync_days=9).sync_days == 9
    assert with_flags(load_settings(), sync_days=11, digest_size=None).sync_days == 11


def test_values_are_typed_and_the_library_path_follows_home_and_db(monkeypatch, tmp_path):
    monkeypatch.setenv("PAPERRADAR_HOME", str(tmp_path))
    monkeypatch.setenv("PAPERRADAR_ARXIV_DELAY", "0.5")
    monkeypatch.setenv("PAPERRADAR_NO_WORKER", "1")
    s = load_settings()
    assert s.arxiv_delay == 0.5 and s.no_worker is True and s.smtp_port is None
    assert s.library_path == str(tmp_path / "library.db")
    assert load_settings(db="other.db").library_path == "other.db"
    monkeypatch.setenv("PAPERRADAR_MODELS", str(tmp_path / "m"))
    from paperradar.embed import models_dir

    assert models_dir() == tmp_path / "m"  # PAPERRADAR_MODELS goes through the table too


def test_secrets_are_never_shown(monkeypatch):
    for name in ("SMTP_PASSWORD", "MATRIX_TOKEN", "ZOTERO_KEY", "LINK_SECRET"):
        monkeypatch.setenv(f"PAPERRADAR_{name}", "hunter2-" + name)
    s = load_settings()
    assert "hunter2" not in repr(s) and "hunter2" not in s.model_dump_json()
    assert s.secret("smtp_password") == "hunter2-SMTP_PASSWORD"
    assert {n for n, row in SETTINGS.items() if row.secret} == {
        "smtp_password", "link_secret", "matrix_token", "zotero_key"
    }  # fmt: skip


def test_a_bad_value_names_the_setting_and_its_variable(monkeypatch, tmp_path):
    monkeypatch.setenv("PAPERRADAR_SYNC_MAX", "lots")
    with pytest.raises(InvalidInput, match=r"sync_max \(PAPERRADAR_SYNC_MAX or paperradar.toml\).*'lots'"):
        load_settings()
    monkeypatch.delenv("PAPERRADAR_SYNC_MAX")
    monkeypatch.setenv("PAPERRADAR_MATRIX_TOKEN", "x")
    with pytest.raises(InvalidInput) as e:
        with_flags(load_settings(), digest_size=0)
    assert "digest_size" in str(e.value)
    monkeypatch.setenv("PAPERRADAR_HOME", str(tmp_path))
    (tmp_path / "paperradar.toml").write_text("sync_days = [")
    with pytest.raises(InvalidInput, match="paperradar.toml"):
        load_settings()


def test_the_cli_reports_a_bad_setting_as_an_error_not_a_traceback(tmp_path):
    import os
    import subprocess
    import sys

    env = {**os.environ, "PAPERRADAR_HOME": str(tmp_path), "PAPERRADAR_DIGEST_SIZE": "ten"}
    run = subprocess.run(
        [str(Path(sys.executable).parent / "paperradar"), "stats"],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert run.returncode == 1
    assert run.stderr.startswith("Error: setting digest_size (PAPERRADAR_DIGEST_SIZE"), run.stderr
    assert "Traceback" not in run.stderr


def test_defaults_read_nothing(monkeypatch):
    monkeypatch.setenv("PAPERRADAR_DIGEST_SIZE", "3")
    assert config.defaults().digest_size == 10 and Settings().digest_size == 3


def test_only_config_reads_the_environment():
    readers, getters = set(), set()
    for path in SRC.rglob("*.py"):
        rel = path.relative_to(SRC).as_posix()
        text = path.read_text(encoding="utf-8")
        if rel != "config.py" and re.search(r"os\.environ(?!\.setdefault)|os\.getenv|getenv\(", text):
            readers.add(rel)
        if re.search(r"\bconfig\.get\(", text):
            getters.add(rel)
    assert readers == set(), "read settings through config.load_settings / a Settings passed in"
    assert getters <= STILL_CALLING_GET, f"new config.get callers: {sorted(getters - STILL_CALLING_GET)}"


def test_only_the_edges_and_the_documented_deep_reads_load_settings():
    loaders = {
        path.relative_to(SRC).as_posix()
        for path in SRC.rglob("*.py")
        if re.search(r"\bload_settings\(", path.read_text(encoding="utf-8"))
    }
    deep = {rel for rel in loaders if not rel.startswith(EDGES)}
    assert deep <= DEEP_READS, f"hand the settings in from the edge instead: {sorted(deep - DEEP_READS)}"
