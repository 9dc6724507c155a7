"""Fault campaign: `kill -9` of the server and of the CLI at random moments, then checks.

Scenarios (each --rounds times, the kill moment drawn uniformly over one uninterrupted run):
  cli-import     `paperradar import` of 4,000 new papers
  server-import  the same file through POST /api/import (a background job), server killed
  index          `paperradar index --tier fast` over 4,000 unembedded papers
  topics         `paperradar topics build`
  digest         `paperradar digest send` to a local SMTP server (aiosmtpd), then sent again
  likes          8 clients liking papers through the API at once, server killed

After each kill: `PRAGMA integrity_check` and the library's own check; no lost committed writes
(whatever a reader saw committed before the kill, or the server acknowledged, is still there);
for the server, its port free at once and the job reported as interrupted after a restart; a
re-run finishes the work; digests: no two digests with the same papers, and how often a digest
was delivered again under the same Message-ID (a kill between SMTP's acceptance and the commit).

Library: the first --papers (4,000) papers of ../shared/corpora/arxiv-118k (embedded, with a
profile), the next as many as the file to import. Everything on 127.0.0.1, in a temporary folder.

    nice -n 10 .venv/bin/python bench/faults.py --rounds 20 [--papers 2000] [--only likes digest] [--json]
        [--out bench/out/faults.json]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import lzma
import os
import random
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpora" / "arxiv-118k" / "arxiv_metadata.jsonl.xz"
EXE = str(Path(sys.executable).parent / "paperradar")
N = 4000


# ---------------------------------------------------------------- processes and checks


def cli(db: Path, *args: str) -> subprocess.Popen[bytes]:
    """`paperradar` on `db`; its stderr goes to `db`.log (never a pipe nobody reads)."""
    with open(f"{db}.log", "ab") as log:
        return subprocess.Popen(
            [EXE, "--db", str(db), *args], stdout=subprocess.DEVNULL, stderr=log, env=_env()
        )


def _env() -> dict[str, str]:
    return {**os.environ, "HF_HUB_OFFLINE": "1"}


def run(db: Path, *args: str) -> None:
    proc = cli(db, *args)
    if proc.wait(timeout=900):
        log = Path(f"{db}.log").read_text(errors="replace")
        raise RuntimeError(f"paperradar {' '.join(args)} failed: {log[-800:]}")


def kill(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGKILL)
    proc.wait()


def scalar(db: Path, sql: str) -> int:
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    try:
        return int(con.execute(sql).fetchone()[0] or 0)
    finally:
        con.close()


def intact(db: Path) -> bool:
    from paperradar.storage import open_library

    con = sqlite3.connect(db, timeout=30)
    ok = con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    con.close()
    lib = open_library(db)
    try:
        return ok and lib.check_integrity() == []
    finally:
        lib.close()


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
    """`paperradar serve` on a free loopback port, with a CSRF-carrying client."""

    def __init__(self, db: Path):
        self.port = free_port()
        self.proc = cli(db, "serve", "--port", str(self.port))
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
        c = httpx.Client(base_url=self.base, timeout=60)
        token = httpx.get(self.base + "/login", timeout=60).cookies["paperradar_csrf"]
        c.cookies.set("paperradar_csrf", token)
        c.headers["x-csrf-token"] = token
        return c


# ---------------------------------------------------------------- data


def prepare(work: Path) -> tuple[Path, Path]:
    """The base library (4,000 papers, embedded, profile `me`) and the file of 4,000 new ones."""
    lines: list[str] = []
    with lzma.open(CORPUS, "rt", encoding="utf-8") as f:
        for line in f:
            lines.append(line)
            if len(lines) == 2 * N:
                break
    (work / "base.jsonl").write_text("".join(lines[:N]))
    new = work / "new.jsonl"
    new.write_text("".join(lines[N:]))
    base = work / "base.db"
    run(base, "import", str(work / "base.jsonl"))
    ids = [f"arxiv:{json.loads(line)['id']}" for line in lines[:20]]
    (work / "own.txt").write_text("\n".join(ids) + "\n")
    run(base, "profile", "create", "me", "--papers", str(work / "own.txt"))
    return base, new


def fresh(base: Path, work: Path, name: str) -> Path:
    db = work / f"{name}.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    shutil.copy(base, db)
    return db


# ---------------------------------------------------------------- scenarios


def timed(fn: Callable[[], None]) -> float:
    started = time.monotonic()
    fn()
    return time.monotonic() - started


PAPERS = "SELECT count(*) FROM papers"
EMBEDDED = "SELECT count(*) FROM embeddings"


def cli_round(db: Path, args: list[str], sql: str, at: float) -> dict[str, Any]:
    watch = Watcher(db, sql)
    proc = cli(db, *args)
    time.sleep(at)
    kill(proc)
    seen = watch.stop()
    after = scalar(db, sql)
    ok = intact(db)
    run(db, *args)  # the re-run finishes the work
    return {
        "intact": ok,
        "lost": max(0, seen - after),
        "seen": seen,
        "after": after,
        "final": scalar(db, sql),
        "by_model": by_model(db),
    }


def by_model(db: Path) -> dict[str, int]:
    """Embeddings per model: what a count that differs between rounds is made of."""
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    try:
        return dict(con.execute("SELECT model_id, count(*) FROM embeddings GROUP BY model_id").fetchall())
    finally:
        con.close()


def scenario_cli(name: str, args: list[str], sql: str, prep: Callable[[Path], None] | None = None):
    def make(base: Path, work: Path, rounds: int, rng: random.Random) -> list[dict[str, Any]]:
        db = fresh(base, work, name)
        if prep:
            prep(db)
        full = timed(lambda: run(db, *args))
        expected = {"count": scalar(db, sql), "by_model": by_model(db)}  # an uninterrupted run's result
        out = []
        for _ in range(rounds):
            db = fresh(base, work, name)
            if prep:
                prep(db)
            out.append({"at": round(rng.uniform(0, full), 2), "full": round(full, 2), "expected": expected})
            out[-1].update(cli_round(db, args, sql, out[-1]["at"]))
        return out

    return make


def server_import(base: Path, work: Path, rounds: int, rng: random.Random) -> list[dict[str, Any]]:
    body = (work / "new.jsonl").read_bytes()
    out = []
    for i in range(rounds):
        db = fresh(base, work, "server-import")
        srv = Server(db)
        watch = Watcher(db, PAPERS)
        with srv.client() as c:  # noqa: SIM117
            r = c.post("/api/import?wait=0", files={"files": ("new.jsonl", body, "application/json")})
            job = r.json()["job"]["id"]
        time.sleep(rng.uniform(0, 8))
        kill(srv.proc)
        seen = watch.stop()
        freed = port_free(srv.port)
        after, ok = scalar(db, PAPERS), intact(db)
        again = Server(db)
        with again.client() as c:
            got = c.get(f"/api/jobs/{job}").json()["job"]
            state = f"{got['state']}: {got['message']}"
        kill(again.proc)
        out.append({"round": i, "port_free": freed, "intact": ok, "lost": max(0, seen - after), "job": state})
    return out


def likes(base: Path, work: Path, rounds: int, rng: random.Random) -> list[dict[str, Any]]:
    ids = [f"arxiv:{json.loads(line)['id']}" for line in (work / "base.jsonl").read_text().splitlines()[100:]]
    out = []
    for i in range(rounds):
        db = fresh(base, work, "likes")
        srv = Server(db)
        acked: list[str] = []
        stop = threading.Event()
        users = [threading.Thread(target=_liker, args=(srv, ids[k::8], stop, acked)) for k in range(8)]
        for t in users:
            t.start()
        time.sleep(rng.uniform(1, 12))  # a like takes ~1 s here (the profile's model is refitted)
        kill(srv.proc)
        stop.set()
        for t in users:
            t.join()
        stored = _liked(db)
        out.append(
            {
                "round": i,
                "acknowledged": len(acked),
                "lost": len(set(acked) - stored),
                "intact": intact(db),
                "port_free": port_free(srv.port),
            }
        )
    return out


def _liker(srv: Server, papers: list[str], stop: threading.Event, acked: list[str]) -> None:
    """One user liking papers until told to stop; `acked` gets each like the server confirmed."""
    try:
        with srv.client() as c:
            for paper in papers:
                if stop.is_set():
                    return
                r = c.post("/api/profiles/me/feedback", json={"paper": paper, "kind": "like"})
                if r.status_code == 200:
                    acked.append(paper)
                else:
                    print("like refused:", r.status_code, r.text[:200], file=sys.stderr)
    except httpx.HTTPError:
        return  # the server died under us


def _liked(db: Path) -> set[str]:
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        rows = con.execute(
            "SELECT p.id FROM feedback f JOIN papers p ON p.pk = f.paper_pk WHERE f.kind = 'like'"
        ).fetchall()
    finally:
        con.close()
    return {r[0] for r in rows}


def digest(base: Path, work: Path, rounds: int, rng: random.Random) -> list[dict[str, Any]]:
    from aiosmtpd.controller import Controller

    class Sink:
        def __init__(self) -> None:
            self.messages: list[str] = []

        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
            self.messages.append(envelope.content.decode("utf-8", "replace"))
            return "250 OK"

    sink = Sink()
    port = free_port()
    smtp = Controller(sink, hostname="127.0.0.1", port=port)
    smtp.start()
    args = ["digest", "send", "me", "--all-time", "--to", "me@example.org", "--from", "radar@example.org"]
    args += ["--smtp-host", "127.0.0.1", "--smtp-port", str(port), "--smtp-security", "none"]
    out = []
    try:
        db = fresh(base, work, "digest")
        full = timed(lambda: run(db, *args))
        for i in range(rounds):
            db = fresh(base, work, "digest")
            sink.messages.clear()
            proc = cli(db, *args)
            time.sleep(rng.uniform(0, full))
            finished = proc.poll() is not None  # the load varies: a run may end before its kill
            kill(proc)
            ok = intact(db)
            run(db, *args)  # sends what the killed run did not (or, after a whole run, the next digest)
            ids = [_header(m, "Message-ID") for m in sink.messages]
            twice = scalar(db, PAPERS_SENT_TWICE)
            out.append(
                {
                    "round": i,
                    "intact": ok,
                    "finished_before_kill": finished,
                    "delivered": len(ids),
                    "distinct_digests": len(set(ids)),
                    "sent_rows": scalar(db, "SELECT count(*) FROM digests WHERE status = 'sent'"),
                    "papers_sent_twice": twice,
                    "duplicate_digests": int(twice > 0),
                    "redelivered_same_message_id": len(ids) - len(set(ids)),
                }
            )
    finally:
        smtp.stop()
    return out


# A duplicate digest is one that repeats papers an earlier sent digest had (a second digest with the
# next papers, after a run that finished before its kill, is what `digest send` is for).
PAPERS_SENT_TWICE = """SELECT count(*) FROM (SELECT i.paper_id FROM digest_items i
    JOIN digests d ON d.pk = i.digest_pk WHERE d.status = 'sent' GROUP BY i.paper_id HAVING count(*) > 1)"""


def _header(message: str, name: str) -> str:
    for line in message.splitlines():
        if line.lower().startswith(name.lower() + ":"):
            return line.split(":", 1)[1].strip()
    return ""


def _add_new(new: Path) -> Callable[[Path], None]:
    def prep(db: Path) -> None:
        run(db, "import", str(new), "--no-index")

    return prep


# ---------------------------------------------------------------- main


def summarise(rows: list[dict[str, Any]]) -> dict[str, Any]:
    total = {"rounds": len(rows), "integrity_failures": sum(not r["intact"] for r in rows)}
    total["lost_committed_writes"] = sum(r.get("lost", 0) for r in rows)
    if any("port_free" in r for r in rows):
        total["port_held_after_kill"] = sum(not r["port_free"] for r in rows)
    if any("job" in r for r in rows):
        total["jobs_not_reported"] = sum(not r["job"].startswith(("interrupted", "done")) for r in rows)
    if any("duplicate_digests" in r for r in rows):
        total["duplicate_digests"] = sum(r["duplicate_digests"] for r in rows)
        total["redelivered_same_message_id"] = sum(r["redelivered_same_message_id"] for r in rows)
    if any("final" in r for r in rows):  # a killed run, re-run, ends where an uninterrupted one does
        total["reruns_incomplete"] = sum(r["final"] != r["expected"]["count"] for r in rows)
    return total


def main(argv: list[str] | None = None) -> int:
    global N
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=20)
    ap.add_argument("--only", nargs="*")
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--papers", type=int, default=N, help="papers in the library, and in the file imported")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--out", type=Path, help="also write the results here after each scenario")
    args = ap.parse_args(argv)
    N = args.papers
    work = Path(tempfile.mkdtemp(prefix="paperradar-faults-"))
    rng = random.Random(args.seed)
    try:
        base, new = prepare(work)
        scenarios = {
            "cli-import": scenario_cli("cli-import", ["import", str(new), "--no-index"], PAPERS),
            "server-import": server_import,
            "index": scenario_cli("index", ["index", "--tier", "fast"], EMBEDDED, _add_new(new)),
            "topics": scenario_cli("topics", ["topics", "build"], "SELECT count(*) FROM topic_builds"),
            "digest": digest,
            "likes": likes,
        }
        results = {}
        for name in args.only or scenarios:
            started = time.monotonic()
            rows = scenarios[name](base, work, args.rounds, rng)
            results[name] = {**summarise(rows), "seconds": round(time.monotonic() - started), "rows": rows}
            print(name, {k: v for k, v in results[name].items() if k != "rows"}, file=sys.stderr, flush=True)
            if args.out:  # a campaign stopped midway keeps the scenarios it finished
                args.out.write_text(json.dumps(results, indent=1))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(results, indent=1 if args.json else None))
    return 0


if __name__ == "__main__":
    sys.exit(main())
