"""paperradar installs as a tool: `pipx install .` in a copy of the sources (only what a release
holds) gives a working `paperradar` with no checkout around it. pipx itself is installed from PyPI
into a fresh virtualenv first; it builds the wheel with the PEP 517 backend and installs it, with the
dependencies from PyPI, into a venv of its own. A minute or two on a machine whose pip cache is cold.
Without access to PyPI it skips (never under CI, where it must run).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import venv
from pathlib import Path

import pytest

from conftest import REPO

SAMPLE = REPO / "tests" / "data" / "bibtex" / "zotero_export.bib"
PIPX = "pipx==1.18.4"


def run(*cmd: str | Path, cwd: Path, env: dict[str, str], timeout: int = 600) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(c) for c in cmd], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> tuple[Path, Path, dict[str, str], Path]:
    """(pipx's bin folder, the python of paperradar's venv, an environment without the checkout, a
    working folder)."""
    tmp = tmp_path_factory.mktemp("install")
    source = tmp / "source"  # only what a release holds: no .venv, no models, no tests
    source.mkdir()
    shutil.copytree(REPO / "src", source / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, source / name)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PAPERRADAR_", "PYTHON", "VIRTUAL_ENV"))}
    env["PAPERRADAR_HOME"] = str(tmp / "home")  # a new user's data folder: no library, no models
    venv.create(tmp / "tools", with_pip=True)
    got = run(tmp / "tools" / "bin" / "pip", "install", "--disable-pip-version-check", PIPX, cwd=tmp, env=env)
    if (
        got.returncode != 0
        and "No matching distribution" in got.stderr + got.stdout
        and not os.environ.get("CI")
    ):
        pytest.skip("PyPI is not reachable: pipx and the dependencies cannot be installed here")
    assert got.returncode == 0, (got.stdout + got.stderr)[-3000:]
    env |= {
        "PIPX_HOME": str(tmp / "pipx"),
        "PIPX_BIN_DIR": str(tmp / "bin"),
        "PIPX_MAN_DIR": str(tmp / "man"),
    }
    got = run(tmp / "tools" / "bin" / "pipx", "install", ".", cwd=source, env=env)
    assert got.returncode == 0, (got.stdout + got.stderr)[-3000:]
    bin_dir = tmp / "bin"  # where pipx puts the `paperradar` command
    python = tmp / "pipx" / "venvs" / "paperradar" / "bin" / "python"
    return bin_dir, python, env, tmp


def test_the_installed_command_works_without_a_checkout(installed):
    bin_dir, _, env, tmp = installed
    helped = run(bin_dir / "paperradar", "--help", cwd=tmp, env=env)
    assert helped.returncode == 0 and "import" in helped.stdout and "search" in helped.stdout
    db = tmp / "lib.db"
    imported = run(bin_dir / "paperradar", "--db", db, "import", SAMPLE, "--json", cwd=tmp, env=env)
    assert imported.returncode == 0, imported.stderr
    report = json.loads(imported.stdout)
    assert report["files"][0]["read"] == 7  # and its two broken entries reported, as from a checkout
    assert [r["line"] for r in report["files"][0]["rejected"]] == [50, 92]
    # no models yet (a new user): the import still works and says how semantic search gets going
    assert report["index"] is None and "embedding models" in imported.stderr
    found = run(bin_dir / "paperradar", "--db", db, "search", "GaLore", "--json", cwd=tmp, env=env)
    assert found.returncode == 0 and "GaLore" in found.stdout


def test_the_installed_package_carries_its_web_pages(installed):
    _, python, env, tmp = installed
    check = (
        "from importlib.resources import files; import paperradar; "
        "assert 'site-packages' in paperradar.__file__, paperradar.__file__; "
        "web = files('paperradar') / 'web'; "
        "assert (web / 'templates' / 'base.html').is_file() and (web / 'static' / 'app.css').is_file()"
    )
    got = run(python, "-c", check, cwd=tmp, env=env)
    assert got.returncode == 0, got.stderr


# ---------------------------------------------------------------- the set-up contract of `make test`


def test_make_test_says_what_to_install_when_it_cannot(tmp_path):
    """Not root and no Chromium: `make test` stops before anything else, naming the command to run."""
    if not shutil.which("make"):
        pytest.skip("make is not installed")
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "id").write_text("#!/bin/sh\necho 1000\n")  # an ordinary user
    (fake / "id").chmod(0o755)
    env = {**os.environ, "PATH": f"{fake}:{os.environ['PATH']}"}
    got = run("make", "-s", "system-test", f"CHROMIUM={tmp_path}/no/chromium", cwd=REPO, env=env, timeout=60)
    assert got.returncode != 0
    assert "is missing. Install it as root: apt-get install chromium" in got.stderr


def test_make_test_finds_chromium_where_it_is():
    if not shutil.which("make") or not Path("/usr/bin/chromium").exists():
        pytest.skip("needs make and /usr/bin/chromium")
    got = run("make", "-s", "system-test", cwd=REPO, env=dict(os.environ), timeout=60)
    assert got.returncode == 0 and got.stderr == ""
