"""The import page speaks the page's language: an importer's advice to "pass --format" becomes
"choose the format in the Format menu" there (the CLI keeps its own words)."""

from __future__ import annotations

import re
import time

from web_helpers import client_for, demo_library


def test_unknown_pasted_text_points_to_the_format_menu_not_a_flag(tmp_path):
    client = client_for(demo_library(tmp_path / "lib.db", hostile=False))
    token = client.csrf()
    r = client.post(
        "/import", data={"text": "just a sentence, not a page", "csrf_token": token, "format": "auto"}
    )
    job = re.search(r'data-job="(\d+)"', r.text)
    if job:  # still running after the page's wait: follow it like app.js does
        deadline = time.monotonic() + 120
        while client.get(f"/api/jobs/{job.group(1)}").json()["job"]["state"] in ("queued", "running"):
            assert time.monotonic() < deadline
            time.sleep(0.2)
        r = client.get(f"/import?job={job.group(1)}")
    assert r.status_code == 400
    assert "could not recognise the format" in r.text
    assert "Format menu" in r.text and "--format" not in r.text
