"""The tools of the kill -9 campaign (bench/faults.py): processes to start and kill, the checks made
after a kill, a server with a CSRF-carrying client, a local SMTP sink, and the campaign's library.

Does I/O: subprocesses, sockets, SQLite files in a temporary folder.
"""

from __future__ import annotations

import contextlib
import json
import lzma
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpora" / "arxiv-118k" / "arxiv_metadata.jsonl.xz"
EXE = str(Path(sys.executable).parent / "paperradar")
PAPERS = "SELECT count(*) FROM papers"
EMBEDDED = "SELECT count(*) FROM embeddings"
BUILDS = "SELECT count(*) FROM topic_builds"


# ---------------------------------------------------------------- processes


def env(extra: dict[str, str] | None = None) -> dict[str, str]:
    return {**os.environ, "HF_HUB_OFFLINE": "1", **(extra or {})}


def cli(db: Path, *args: str, extra: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    """`paperradar` on `db`; its stderr goes to `db`.log (never a pipe nobody reads)."""
    with open(f"{db}.log", "ab") as log:
        return subprocess.Popen(
            [EXE, "--db", str(db), *args], stdout=subprocess.DEVNULL, stderr=log, env=env(extra)
        )


def run(db: Path, *args: str, extra: dict[str, str] | None = None) -> None:
    proc = cli(db, *args, extra=extra)
    if proc.wait(timeout=900):
        log = Path(f"{db}.log").read_text(errors="replace")
        raise RuntimeError(f"paperradar {' '.join(args)} failed: {log[-800:]}")


def kill(proc: subprocess.Popen[bytes]) -> bool:
    """SIGKILL `proc`; True when it was still running (the kill landed mid-operation)."""
    alive = proc.poll() is None
    if alive:
        proc.send_signal(signal.SIGKILL)
    proc.wait()
    return alive


def timed(fn: Callable[[], Any]) -> float:
    started = time.monotonic()
    fn()
    return time.monotonic() - started


def pid_gone(pid: int, within: float = 3.0) -> bool:
    """The process `pid` has exited (reaped or a zombie) within `within` seconds."""
    end = time.monotonic() + within
    while True:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (FileNotFoundError, ProcessLookupError, IndexError):
            return True
        if state == "Z":
            return True
        if time.monotonic() > end:
            return False
        time.sleep(0.05)


# ---------------------------------------------------------------- checks


def scalar(db: Path, sql: str) -> int:
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    try:
        return int(con.execute(sql).fetchone()[0] or 0)
    finally:
        con.close()


def rows(db: Path, sql: str) -> list[tuple[Any, ...]]:
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def intact(db: Path) -> bool:
    """`PRAGMA integrity_check` and the library's own check (`paperradar check`) both pass."""
    from paperradar.storage import open_library

    con = sqlite3.connect(db, timeout=30)
    ok = con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    con.close()
    lib = open_library(db)
    try:
        return ok and lib.check_integrity() == []
    finally:
        lib.close()


def by_model(db: Path) -> dict[str, int]:
    """Embeddings per model: what a count that differs between rounds is made of."""
    return dict(rows(db, "SELECT model_id, count(*) FROM embeddings GROUP BY model_id"))


def liked(db: Path) -> set[str]:
    sql = "SELECT p.id FROM feedback f JOIN papers p ON p.pk = f.paper_pk WHERE f.kind = 'like'"
    return {r[0] for r in rows(db, sql)}


class Watcher:
    """Polls a count in a read-only connection: the most it ever saw committed."""

    def __init__(self, db: Path, sql: str):
        self.db, self.sql, self.most, self._stop = db, sql, 0, False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self._stop:
            with contextlib.suppress(sqlite3.Error):  # a reader may meet a busy moment
                self.most = max(self.most, scalar(self.db, self.sql))
            time.sleep(0.02)

    def stop(self) -> int:
        self._stop = True
        self.thread.join()
        return self.most


# ---------------------------------------------------------------- ports and the server


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def port_free(port: int, within: float = 2.0) -> bool:
    end = time.monotonic() + within
    while True:
        try:
            with socket.socket() as s:  # as a restarted server binds (TIME_WAIT is no obstacle;
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # a listening socket is)
                s.bind(("127.0.0.1", port))
            return True
        except OSError:
            if time.monotonic() > end:
                return False
            time.sleep(0.05)


class Server:
    """`paperradar serve` on a free loopback port (or `port`), with a CSRF-carrying client."""

    def __init__(self, db: Path, extra: dict[str, str] | None = None, port: int | None = None):
        self.port = port or free_port()
        self.proc = cli(db, "serve", "--port", str(self.port), extra=extra)
        self.base = f"http://127.0.0.1:{self.port}"
        end = time.monotonic() + 120
        while True:
            try:
                httpx.get(self.base + "/login", timeout=2)
                break
            except httpx.HTTPError:
                if self.proc.poll() is not None or time.monotonic() > end:
                    raise RuntimeError("the server did not start") from None
                time.sleep(0.1)

    def client(self) -> httpx.Client:
        """A client that has fetched a page (so it carries the CSRF token); use it in `with`."""
        c = httpx.Client(base_url=self.base, timeout=120)
        token = httpx.get(self.base + "/login", timeout=60).cookies["paperradar_csrf"]
        c.cookies.set("paperradar_csrf", token)
        c.headers["x-csrf-token"] = token
        return c

    def stop(self) -> None:
        kill(self.proc)


class Smtp:
    """A local SMTP server (aiosmtpd) that keeps every message it accepts."""

    def __init__(self) -> None:
        from aiosmtpd.controller import Controller

        self.messages: list[str] = []
        self.port = free_port()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.messages.append(envelope.content.decode("utf-8", "replace"))
        return "250 OK"

    def message_ids(self) -> list[str]:
        return [header(m, "Message-ID") for m in self.messages]

    def settings(self) -> dict[str, str]:
        """The server's digest channel, as environment variables."""
        return {
            "PAPERRADAR_MAIL_TO": "me@example.org",
            "PAPERRADAR_MAIL_FROM": "radar@example.org",
            "PAPERRADAR_SMTP_HOST": "127.0.0.1",
            "PAPERRADAR_SMTP_PORT": str(self.port),
            "PAPERRADAR_SMTP_SECURITY": "none",
        }

    def stop(self) -> None:
        self.controller.stop()


def header(message: str, name: str) -> str:
    for line in message.splitlines():
        if line.lower().startswith(name.lower() + ":"):
            return line.split(":", 1)[1].strip()
    return ""


# A duplicate digest is one that repeats papers an earlier sent digest had (a second digest with the
# next papers, after a run that finished before its kill, is what `digest send` is for).
PAPERS_SENT_TWICE = """SELECT count(*) FROM (SELECT i.paper_id FROM digest_items i
    JOIN digests d ON d.pk = i.digest_pk WHERE d.status = 'sent' GROUP BY i.paper_id HAVING count(*) > 1)"""


# ---------------------------------------------------------------- the library


def prepare(work: Path, n: int) -> dict[str, Path]:
    """The base library (n papers, fast-tier vectors, profile `me` of 20 papers), the file of n new
    papers, and a file of 20 more (a small web import that embeds what is pending)."""
    lines: list[str] = []
    with lzma.open(CORPUS, "rt", encoding="utf-8") as f:
        for line in f:
            lines.append(line)
            if len(lines) == 2 * n + 20:
                break
    (work / "base.jsonl").write_text("".join(lines[:n]))
    (work / "new.jsonl").write_text("".join(lines[n : 2 * n]))
    (work / "small.jsonl").write_text("".join(lines[2 * n :]))
    base = work / "base.db"
    run(base, "import", str(work / "base.jsonl"), "--no-index")
    run(base, "index", "--tier", "fast")
    ids = [f"arxiv:{json.loads(line)['id']}" for line in lines[:20]]
    (work / "own.txt").write_text("\n".join(ids) + "\n")
    run(base, "profile", "create", "me", "--papers", str(work / "own.txt"))
    likeable = [f"arxiv:{json.loads(line)['id']}" for line in lines[100:n]]
    (work / "likeable.txt").write_text("\n".join(likeable) + "\n")
    return {"base": base, "new": work / "new.jsonl", "small": work / "small.jsonl", "work": work}


def fresh(base: Path, work: Path, name: str) -> Path:
    """A copy of the base library (with its ranking features folder) for one round."""
    db = work / f"{name}.db"
    for suffix in ("", "-wal", "-shm", ".log"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    shutil.rmtree(f"{db}.features", ignore_errors=True)
    shutil.copy(base, db)
    if Path(f"{base}.features").is_dir():
        shutil.copytree(f"{base}.features", f"{db}.features")
    return db
