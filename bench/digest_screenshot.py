"""Render a real digest email and screenshot it in headless Chromium.

    .venv/bin/python bench/digest_screenshot.py   # -> bench/out/digest-email.html and .png

The library is June 2026 of the shared arXiv corpus (real papers); the profile is four
retrieval-augmented-generation and four speech-recognition papers from May. The digest is sent
with `send_digest` over SMTP to a real SMTP server on localhost (aiosmtpd, from the dev extra);
the HTML part of the message that server received is what gets screenshot.
Needs ../shared and /usr/bin/chromium.
"""

from __future__ import annotations

import json
import lzma
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO.parent / "shared" / "corpora" / "arxiv-118k" / "arxiv_metadata.jsonl.xz"
OUT = REPO / "bench" / "out"
PROFILE = ("retrieval-augmented generation", "speech recognition")


def subset(path: Path) -> list[str]:
    """Papers listed from 2026-06-01, and profile papers (matching PROFILE) from May 2026."""
    own: list[tuple[str, str]] = []
    with lzma.open(CORPUS, "rt") as f, path.open("w") as out:
        for line in f:
            d = json.loads(line)
            day = d.get("listing_date") or ""
            title = d["title"].lower()
            if day >= "2026-06-01":
                out.write(line)
            elif day.startswith("2026-05"):
                topic = next((t for t in PROFILE if t in title), None)
                if topic and sum(t == topic for t, _ in own) < 4:
                    own.append((topic, d["id"]))
                    out.write(line)
    return [f"arxiv:{i}" for _, i in own]


def received_html(lib, profile: str) -> tuple[str, int]:  # type: ignore[no-untyped-def]
    """Send the digest to an SMTP server on localhost; the HTML part it received, and the paper count."""
    from email import message_from_bytes, policy

    from aiosmtpd.controller import Controller

    from paperradar.digest.service import send_digest
    from paperradar.mail import SMTPSettings, send_message

    got: list[bytes] = []

    class Keep:
        async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]  # noqa: N802
            got.append(envelope.content)
            return "250 OK"

    server = Controller(Keep(), hostname="127.0.0.1", port=8025)
    server.start()
    started = time.perf_counter()
    try:
        settings = SMTPSettings("127.0.0.1", 8025, security="none")
        result = send_digest(
            lib, profile, to="maria@example.org", sender="radar@example.org", limit=10,
            deliver=lambda msg: send_message(msg, settings),
        )  # fmt: skip
    finally:
        server.stop()
    took = time.perf_counter() - started
    papers = lib.counts()["papers"]
    print(f"digest send (rank {papers} papers, render, SMTP to localhost): {took:.2f} s", file=sys.stderr)
    message = message_from_bytes(got[0], policy=policy.default)
    return message.get_body(("html",)).get_content(), len(result.papers)  # type: ignore[union-attr]


def main() -> None:
    from paperradar import profiles
    from paperradar.importers.base import Source
    from paperradar.ingest import import_source
    from paperradar.storage import open_library

    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        papers = Path(tmp) / "papers.jsonl"
        own = subset(papers)
        lib = open_library(Path(tmp) / "lib.db")
        import_source(lib, Source.from_file(papers))
        profiles.create_profile(lib, "maria", papers=own)
        text, count = received_html(lib, "maria")
        lib.close()
    html = OUT / "digest-email.html"
    html.write_text(text, encoding="utf-8")
    for name, height in (("digest-email.png", 3800), ("digest-email-top.png", 1100)):
        subprocess.run(
            ["/usr/bin/chromium", "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
             f"--screenshot={OUT / name}", f"--window-size=760,{height}", html.as_uri()],
            check=True, capture_output=True, timeout=120,
        )  # fmt: skip
    print(f"{count} papers received by the SMTP server -> {OUT}/digest-email*.png", file=sys.stderr)


if __name__ == "__main__":
    main()
