"""paperradar installs as a tool: a wheel built from the sources, installed into a fresh virtualenv
(dependencies from PyPI through pip's cache), gives a working `paperradar` with no checkout around it.

This is what `pipx install .` does (a fresh venv, the package built by its PEP 517 backend, installed
with pip). The test takes a minute or two the first time on a machine, seconds once pip's cache holds
the dependencies. Without access to PyPI it skips (never under CI, where it must run).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest

from conftest import REPO

SAMPLE = REPO / "tests" / "data" / "bibtex" / "zotero_export.bib"


def run(*cmd: str | Path, cwd: Path, env: dict[str, str], timeout: int = 600) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(c) for c in cmd], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> tuple[Path, dict[str, str], Path]:
    """(the fresh venv's bin folder, an environment without the checkout, a working folder)."""
    tmp = tmp_path_factory.mktemp("install")
    source = tmp / "source"  # only what a release holds: no .venv, no models, no tests
    source.mkdir()
    shutil.copytree(REPO / "src", source / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, source / name)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PAPERRADAR_", "PYTHON", "VIRTUAL_ENV"))}
    env["PAPERRADAR_HOME"] = str(tmp / "home")  # a new user's data folder: no library, no models
    built = run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-w", tmp / "dist",
                source, cwd=tmp, env=env)  # fmt: skip
    assert built.returncode == 0, built.stderr[-2000:]
    [wheel] = (tmp / "dist").glob("paperradar-*.whl")
    venv.create(tmp / "venv", with_pip=True)
    bin_dir = tmp / "venv" / "bin"
    got = run(bin_dir / "pip", "install", "--disable-pip-version-check", wheel, cwd=tmp, env=env)
    if (
        got.returncode != 0
        and "No matching distribution" in got.stderr + got.stdout
        and not os.environ.get("CI")
    ):
        pytest.skip("PyPI is not reachable: the dependencies cannot be installed here")
    assert got.returncode == 0, (got.stdout + got.stderr)[-3000:]
    return bin_dir, env, tmp


def test_the_installed_command_works_without_a_checkout(installed):
    bin_dir, env, tmp = installed
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
    bin_dir, env, tmp = installed
    check = (
        "from importlib.resources import files; import paperradar; "
        "assert 'site-packages' in paperradar.__file__, paperradar.__file__; "
        "web = files('paperradar') / 'web'; "
        "assert (web / 'templates' / 'base.html').is_file() and (web / 'static' / 'app.css').is_file()"
    )
    got = run(bin_dir / "python", "-c", check, cwd=tmp, env=env)
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
