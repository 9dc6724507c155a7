"""Tests never read the developer's environment (issue 18): tests/conftest.py clears every
PAPERRADAR_* variable but the few the Makefile sets for the tests themselves."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from conftest import KEPT_VARIABLES, TEST_SETTINGS

HERE = Path(__file__).resolve()


def test_no_developer_setting_reaches_a_test():
    seen = {n for n in os.environ if n.startswith("PAPERRADAR_")}
    assert seen <= KEPT_VARIABLES | set(TEST_SETTINGS)
    assert os.environ["PAPERRADAR_QUALITY_IMPORT_MAX"] == "0"


def test_a_developers_mail_and_home_settings_are_cleared_before_the_tests_run(tmp_path):
    env = {
        **os.environ,
        "PAPERRADAR_MAIL_TO": "dev@example.org",
        "PAPERRADAR_HOME": str(tmp_path / "dev-home"),
        "PAPERRADAR_QUALITY_IMPORT_MAX": "500",
        "PAPERRADAR_SEAM_ROOT": str(HERE.parents[1]),  # kept: a run sets it for the tests
    }
    node = f"{HERE}::test_no_developer_setting_reaches_a_test"
    run = subprocess.run(
        [sys.executable, "-m", "pytest", node, "-q", "-p", "no:cacheprovider"],
        env=env, cwd=HERE.parents[1], capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr
    assert "1 passed" in run.stdout
