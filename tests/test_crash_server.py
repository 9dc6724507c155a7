"""`kill -9` of the server at a known point of each of its write paths: an import job, the
embedding that follows it, a topics build beside it, a digest send and concurrent likes (issue 13).

Each test holds a real `paperradar serve` (or CLI) at a fault point (tests/faultpoints.py: the
process stops inside the write, never at a moment picked by a clock), kills it with SIGKILL and
checks what a user would meet next: `paperradar check` passes, everything acknowledged or committed
before the kill is there, no process holds the port, the restarted server reports the interrupted
job or pending digest, and doing the work again finishes it once. Does I/O: processes, sockets,
SQLite files, a local SMTP server.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from conftest import REPO, free_port, port_is_free
from paperradar.index import BATCH as EMBED_BATCH
from paperradar.ingest import BATCH, exit_with_parent
from paperradar.storage import open_library
from test_crash import corpus_line
from test_topics import need_models

FAULTPOINTS = REPO / "tests" / "faultpoints.py"
PAPERRADAR = Path(sys.executable).parent / "paperradar"
BASE = 1200  # papers in the base library (ids 2501.00001-01200)


def write_papers(path: Path, first: int, n: int) -> Path:
    rng = random.Random(first)
    path.write_text("".join(corpus_line(rng, i) + "\n" for i in range(first, first + n)))
    return path


def run_cli(db: Path, *args: str) -> None:
    subprocess.run([str(PAPERRADAR), "--db", str(db), *args], check=True, capture_output=True, timeout=300)


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Path:
    """1,200 papers with fast-tier vectors, a topics build and a profile `me` of 10 papers."""
    need_models()
    root = tmp_path_factory.mktemp("crash-server")
    db = root / "base.db"
    run_cli(db, "import", str(write_papers(root / "base.jsonl", 1, BASE)), "--no-index")
    run_cli(db, "index", "--tier", "fast")
    run_cli(db, "topics", "build", "--fine", "4", "--broad", "2")
    (root / "own.txt").write_text("".join(f"arxiv:2501.{i:05d}\n" for i in range(1, 11)))
    run_cli(db, "profile", "create", "me", "--papers", str(root / "own.txt"))
    return db


@pytest.fixture
def db(base, tmp_path) -> Path:
    copy = tmp_path / "lib.db"
    copy.write_bytes(base.read_bytes())
    return copy


# ---------------------------------------------------------------- processes


def held_env(tmp: Path, point: str | None = None, after: int = 0, **extra: str) -> dict[str, str]:
    out = {**os.environ, "HF_HUB_OFFLINE": "1", "PAPERRADAR_QUALITY_IMPORT_MAX": "0", **extra}
    if point:
        out |= {"PAPERRADAR_FAULT_POINT": point, "PAPERRADAR_FAULT_AFTER": str(after)}
        out["PAPERRADAR_FAULT_MARKER"] = str(tmp / f"{point}.held")
    return out


class Served:
    """`paperradar serve` (through faultpoints.py) on `port`, and a client carrying the CSRF token."""

    def __init__(self, db: Path, env: dict[str, str], port: int | None = None):
        self.port = port or free_port()
        cmd = [sys.executable, str(FAULTPOINTS), "--db", str(db), "serve", "--port", str(self.port)]
        self.log = open(db.parent / f"serve-{self.port}.log", "ab")  # noqa: SIM115
        self.proc = subprocess.Popen(cmd, env=env, stdout=self.log, stderr=self.log)
        self.http = httpx.Client(base_url=f"http://127.0.0.1:{self.port}", timeout=120)
        deadline = time.monotonic() + 90
        while True:
            try:
                token = self.http.get("/login").cookies["paperradar_csrf"]
                break
            except httpx.TransportError:
                assert self.proc.poll() is None, "the server stopped while starting"
                assert time.monotonic() < deadline, "the server did not start"
                time.sleep(0.1)
        self.http.headers["x-csrf-token"] = token

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        self.http.close()
        self.log.close()


@contextmanager
def served(db: Path, env: dict[str, str], port: int | None = None) -> Iterator[Served]:
    srv = Served(db, env, port)
    try:
        yield srv
    finally:
        srv.kill()


def wait_held(env: dict[str, str], what: Any = None, seconds: float = 120) -> int:
    """The pid held at the fault point, once it is there."""
    marker = Path(env["PAPERRADAR_FAULT_MARKER"])
    deadline = time.monotonic() + seconds
    while not marker.exists():
        assert what is None or what.poll() is None, "the process ended before its fault point"
        assert time.monotonic() < deadline, "the fault point was not reached"
        time.sleep(0.05)
    return int(marker.read_text())


def gone(pid: int) -> bool:
    deadline = time.monotonic() + 15
    while Path(f"/proc/{pid}").exists():
        if Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[0] == "Z":
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def count(db: Path, sql: str) -> int:
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    try:
        return int(con.execute(sql).fetchone()[0])
    finally:
        con.close()


def checked(db: Path) -> None:
    """`paperradar check` passes (and SQLite's own integrity check)."""
    con = sqlite3.connect(db)
    try:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        con.close()
    lib = open_library(db)
    try:
        assert lib.check_integrity() == []
    finally:
        lib.close()


def upload(srv: Served, path: Path, wait: int = 0) -> httpx.Response:
    files = {"files": (path.name, path.read_bytes(), "application/json")}
    return srv.http.post(f"/api/import?wait={wait}", files=files)


# ---------------------------------------------------------------- the five operations


def test_server_killed_inside_an_import_job_keeps_whole_batches_and_reports_the_job(db, tmp_path):
    new = write_papers(tmp_path / "new.jsonl", BASE + 1, BATCH + 300)
    env = held_env(tmp_path, "import-batch", after=1)  # batch 1 committed, batch 2 under way
    with served(db, env) as srv:
        job = upload(srv, new).json()["job"]["id"]
        worker = wait_held(env, srv.proc)
        srv.kill()
        assert port_is_free(srv.port) and gone(worker)
    checked(db)
    assert count(db, "SELECT count(*) FROM papers") == BASE + BATCH  # batch 1 whole, batch 2 not at all
    with served(db, held_env(tmp_path), port=srv.port) as again:  # the same port binds at once
        got = again.http.get(f"/api/jobs/{job}").json()["job"]
        assert got["state"] == "interrupted" and "import the file again" in got["message"]
        page = again.http.get(f"/import?job={job}")  # what the job's page shows
        assert page.status_code == 400 and "whole batches were kept: import the file again" in page.text
        report = upload(again, new, wait=300).json()
    [file] = report["files"]
    assert (file["unchanged"], file["new"]) == (BATCH, 300)
    assert count(db, "SELECT count(DISTINCT id) FROM papers") == count(db, "SELECT count(*) FROM papers")
    assert count(db, "SELECT count(*) FROM papers") == BASE + BATCH + 300
    checked(db)


def test_server_killed_while_its_job_embeds_keeps_whole_batches_and_index_finishes(db, tmp_path):
    pending = write_papers(tmp_path / "pending.jsonl", 5001, 3 * EMBED_BATCH - 50)
    run_cli(db, "import", str(pending), "--no-index")  # unembedded: the next web import embeds them
    small = write_papers(tmp_path / "small.jsonl", 9001, 5)
    env = held_env(tmp_path, "index-batch", after=1)
    with served(db, env) as srv:
        job = upload(srv, small).json()["job"]["id"]
        worker = wait_held(env, srv.proc)
        srv.kill()
        assert port_is_free(srv.port) and gone(worker)
    checked(db)
    assert count(db, "SELECT count(*) FROM embeddings") == BASE + EMBED_BATCH  # whole batches only
    with served(db, held_env(tmp_path), port=srv.port) as again:
        assert again.http.get(f"/api/jobs/{job}").json()["job"]["state"] == "interrupted"
    run_cli(db, "index", "--tier", "fast")
    papers = count(db, "SELECT count(*) FROM papers")
    assert papers == BASE + 3 * EMBED_BATCH - 45
    assert count(db, "SELECT count(DISTINCT paper_pk) FROM embeddings") == papers
    checked(db)


def test_server_and_a_topics_build_killed_mid_write_keep_the_previous_build(db, tmp_path):
    env = held_env(tmp_path, "topics-write")
    with served(db, held_env(tmp_path)) as srv:
        before = srv.http.get("/api/topics").json()
        build = subprocess.Popen(
            [sys.executable, str(FAULTPOINTS), "--db", str(db), "topics", "build", "--fine", "5"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_held(env, build)  # the build is inside its write transaction
            assert srv.http.get("/api/topics").json() == before  # readers see the old build meanwhile
            srv.kill()
        finally:
            build.send_signal(signal.SIGKILL)
            build.wait()
        assert port_is_free(srv.port)
    checked(db)
    with served(db, held_env(tmp_path), port=srv.port) as again:
        assert again.http.get("/api/topics").json() == before  # nothing half-written
    run_cli(db, "topics", "build", "--fine", "5")
    assert count(db, "SELECT count(*) FROM topic_builds") == 2
    checked(db)


class Sink:
    """A local SMTP server keeping what it accepts."""

    def __init__(self) -> None:
        from aiosmtpd.controller import Controller

        self.ids: list[str] = []
        self.controller = Controller(self, hostname="127.0.0.1", port=free_port())
        self.controller.start()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        text = envelope.content.decode("utf-8", "replace")
        self.ids += [
            ln.split(":", 1)[1].strip() for ln in text.splitlines() if ln.lower().startswith("message-id:")
        ]
        return "250 OK"

    def settings(self) -> dict[str, str]:
        return {
            "PAPERRADAR_MAIL_TO": "me@example.org",
            "PAPERRADAR_SMTP_HOST": "127.0.0.1",
            "PAPERRADAR_SMTP_PORT": str(self.controller.port),
            "PAPERRADAR_SMTP_SECURITY": "none",
        }


@pytest.fixture
def smtp() -> Iterator[Sink]:
    sink = Sink()
    yield sink
    sink.controller.stop()


def test_server_killed_after_the_mail_left_resends_that_digest_once_never_a_new_one(db, tmp_path, smtp):
    env = held_env(tmp_path, "digest-sent", **smtp.settings())
    with served(db, env) as srv:
        threading.Thread(target=lambda: _quietly(srv.http.post, "/api/digest/me/send"), daemon=True).start()
        wait_held(env, srv.proc)  # the SMTP server accepted it; the delivery is not recorded
        srv.kill()
        assert port_is_free(srv.port)
    checked(db)
    assert len(smtp.ids) == 1
    with served(db, held_env(tmp_path, **smtp.settings()), port=srv.port) as again:
        [shown] = again.http.get("/api/digest/me/history").json()["items"]
        assert shown["status"] == "pending" and shown["message_id"] == smtp.ids[0]
        sent = again.http.post("/api/digest/me/send").json()["result"]
        assert sent["status"] == "sent" and sent["message_id"] == smtp.ids[0]  # the same digest
        history = again.http.get("/api/digest/me/history").json()["items"]
        assert [h["status"] for h in history] == ["sent"]
        nxt = again.http.post("/api/digest/me/send").json()["result"]  # the next digest: new papers only
    assert smtp.ids[:2] == [smtp.ids[0]] * 2 and len(set(smtp.ids)) == len(smtp.ids) - 1
    assert nxt["status"] in ("sent", "nothing_new") and not set(nxt["papers"]) & set(sent["papers"])
    checked(db)


def _quietly(fn: Any, *args: Any) -> None:
    with contextlib.suppress(httpx.HTTPError):  # the server died under the request
        fn(*args)


def test_server_killed_during_concurrent_likes_keeps_every_committed_like(db, tmp_path):
    env = held_env(tmp_path, "like-write", after=6)  # six likes commit, the seventh is held
    papers = [f"arxiv:2501.{i:05d}" for i in range(100, 116)]
    acked: list[str] = []

    def like(srv: Served, mine: list[str]) -> None:
        for paper in mine:
            r = srv.http.post("/api/profiles/me/feedback", json={"paper": paper, "kind": "like"})
            if r.status_code == 200:
                acked.append(paper)

    with served(db, env) as srv:
        users = [threading.Thread(target=_quietly, args=(like, srv, papers[k::4])) for k in range(4)]
        for u in users:
            u.start()
        wait_held(env, srv.proc)
        srv.kill()
        for u in users:
            u.join()
        assert port_is_free(srv.port)
    checked(db)
    with served(db, held_env(tmp_path), port=srv.port) as again:
        profile = again.http.get("/api/profiles/me").json()["profile"]
    stored = {f["paper"] for f in profile["feedback"] if f["kind"] == "like"}
    assert len(stored) == 6 and set(acked) <= stored <= set(papers)


def _late_worker(marker: str) -> None:
    """A job worker that gets going only after its server is gone (killed while it was spawned)."""
    parent = multiprocessing.parent_process()
    while parent is not None and os.getppid() == parent.pid:
        time.sleep(0.01)
    Path(marker).write_text(str(os.getpid()))
    exit_with_parent()
    time.sleep(60)  # what an orphan did: went on with the job after its server had died


def test_a_worker_whose_server_died_before_it_started_exits(tmp_path):
    """Found by bench/faults.py (server-index): a server killed while its job worker was still
    starting left the worker running the whole job after the restart had reported it interrupted."""
    marker = tmp_path / "worker.pid"
    start = (
        "import multiprocessing, os, sys; import test_crash_server as t; "
        "p = multiprocessing.get_context('spawn').Process(target=t._late_worker, args=(sys.argv[1],)); "
        "p.start(); os._exit(0)"  # the server dies right after spawning its worker
    )
    subprocess.run([sys.executable, "-c", start, str(marker)], cwd=REPO / "tests", check=True, timeout=60)
    deadline = time.monotonic() + 60
    while not marker.exists():
        assert time.monotonic() < deadline, "the worker never started"
        time.sleep(0.05)
    pid = int(marker.read_text())
    try:
        assert gone(pid), "the worker outlived its server"
    finally:
        if not gone(pid):
            os.kill(pid, signal.SIGKILL)


def test_faultpoints_names_real_functions():
    """Every fault point wraps a function that exists (a renamed write path fails here first)."""
    sys.path.insert(0, str(FAULTPOINTS.parent))
    import faultpoints

    for owner, name in faultpoints.targets().values():
        assert callable(getattr(owner, name))
