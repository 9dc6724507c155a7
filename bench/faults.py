"""Fault campaign: `kill -9` of the CLI and of the server at random moments, then checks.

Ten scenarios, each --rounds times. Before its rounds a scenario makes one uninterrupted run of
its operation and times it; each round then draws its kill moment uniformly in [0, that time)
from a seeded RNG and records whether the kill landed mid-operation or after it had finished.

  cli-import     `paperradar import` of --papers new papers (--no-index)
  cli-index      `paperradar index --tier fast` over --papers unembedded papers
  cli-topics     `paperradar topics build`
  cli-digest     `paperradar digest send` to a local SMTP server (aiosmtpd), then sent again
  cli-likes      4 users each running `paperradar profile like` for 2 papers, all killed
  server-import  the new papers through POST /api/import (a job in a spawned worker)
  server-index   a 20-paper web import whose job embeds the --papers pending ones (fast tier)
  server-topics  `paperradar topics build` while the server serves /topics; both killed (the
                 server itself never builds topics: this is the server dying mid-build's reads)
  server-digest  POST /api/digest/me/send to the SMTP server; restarted and sent again
  server-likes   8 users each liking 3 papers through the API at once

After each kill: `PRAGMA integrity_check` and the library's own check (`paperradar check`); no
lost committed writes (whatever a reader saw committed before the kill, or a client was told was
done, is still there); a re-run finishes the work as an uninterrupted run did; for the server,
its port free at once, no job worker left alive, the server restarts on the same port and reports
the killed job (`interrupted`) or the pending digest, which the next send resumes; digests: no
paper in two sent digests, and how often a digest went out twice under one Message-ID (a kill
between the SMTP server's acceptance and the commit: at-least-once, the same message).

Library: the first --papers papers of ../shared/corpora/arxiv-118k (fast-tier vectors, profile
`me`), the next --papers as the file to import. Everything on 127.0.0.1, in a temporary folder.
Web imports use the fast tier (PAPERRADAR_QUALITY_IMPORT_MAX=0), so a round takes seconds.

    nice -n 10 .venv/bin/python bench/faults.py --rounds 20 --papers 1000 [--only cli-likes ...]
        [--out bench/out/faults.json]
"""

from __future__ import annotations

import argparse
import json
import random
import re
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fault_kit import (  # noqa: E402
    BUILDS,
    EMBEDDED,
    PAPERS,
    PAPERS_SENT_TWICE,
    Server,
    Smtp,
    Watcher,
    by_model,
    cli,
    fresh,
    intact,
    kill,
    liked,
    pid_gone,
    port_free,
    prepare,
    rows,
    run,
    scalar,
    timed,
)

Ctx = dict[str, Path]
Row = dict[str, Any]
FAST_IMPORTS = {"PAPERRADAR_QUALITY_IMPORT_MAX": "0"}


def setup(ctx: Ctx, name: str, prep: Callable[[Path], None] | None = None) -> Path:
    db = fresh(ctx["base"], ctx["work"], name)
    if prep:
        prep(db)
    return db


def add_new(ctx: Ctx) -> Callable[[Path], None]:
    def prep(db: Path) -> None:
        run(db, "import", str(ctx["new"]), "--no-index")

    return prep


# ---------------------------------------------------------------- CLI: import, index, topics


def cli_scenario(name: str, args: Callable[[Ctx], list[str]], sql: str, prep: bool = False):
    """A CLI operation killed mid-run, checked, then run again to the end."""

    def make(ctx: Ctx, rounds: int, rng: random.Random) -> list[Row]:
        argv = args(ctx)
        before = add_new(ctx) if prep else None
        db = setup(ctx, name, before)
        full = timed(lambda: run(db, *argv))
        expected = {"count": scalar(db, sql), "by_model": by_model(db)}
        out = []
        for i in range(rounds):
            db = setup(ctx, name, before)
            at = rng.uniform(0, full)
            watch = Watcher(db, sql)
            proc = cli(db, *argv)
            time.sleep(at)
            mid = kill(proc)
            seen = watch.stop()
            after, ok = scalar(db, sql), intact(db)
            run(db, *argv)  # the re-run finishes the work
            final = {"count": scalar(db, sql), "by_model": by_model(db)}
            out.append(
                {"round": i, "at": round(at, 2), "full": round(full, 2), "mid": mid, "intact": ok,
                 "lost": max(0, seen - after), "seen": seen, "after": after,
                 "complete": complete(name, final, expected, db), "final": final}
            )  # fmt: skip
        return out

    return make


def complete(name: str, final: dict[str, Any], expected: dict[str, Any], db: Path) -> bool:
    """A killed-and-rerun operation ended where an uninterrupted run did."""
    if name.endswith("topics"):  # a build that committed before its kill, then the re-run's: 2 rows
        return final["count"] >= 1 and scalar(db, "SELECT count(*) FROM topics") > 0
    if name.endswith("import"):
        distinct = scalar(db, "SELECT count(DISTINCT id) FROM papers")
        return final["count"] == expected["count"] == distinct
    return final == expected


# ---------------------------------------------------------------- digests


def digest_args(smtp: Smtp) -> list[str]:
    args = ["digest", "send", "me", "--to", "me@example.org", "--from", "radar@example.org"]
    return args + ["--smtp-host", "127.0.0.1", "--smtp-port", str(smtp.port), "--smtp-security", "none"]


def digest_checks(db: Path, smtp: Smtp) -> Row:
    ids = smtp.message_ids()
    twice = scalar(db, PAPERS_SENT_TWICE)
    return {
        "delivered": len(ids),
        "distinct_messages": len(set(ids)),
        "sent_rows": scalar(db, "SELECT count(*) FROM digests WHERE status = 'sent'"),
        "pending_left": scalar(db, "SELECT count(*) FROM digests WHERE status = 'pending'"),
        "papers_sent_twice": twice,
        "duplicate_digests": int(twice > 0),
        "redelivered_same_message_id": len(ids) - len(set(ids)),
    }


def cli_digest(ctx: Ctx, rounds: int, rng: random.Random) -> list[Row]:
    smtp = Smtp()
    args = digest_args(smtp)
    out = []
    try:
        db = setup(ctx, "cli-digest")
        full = timed(lambda: run(db, *args))
        for i in range(rounds):
            db = setup(ctx, "cli-digest")
            smtp.messages.clear()
            at = rng.uniform(0, full)
            proc = cli(db, *args)
            time.sleep(at)
            mid = kill(proc)
            ok = intact(db)
            pending = scalar(db, "SELECT count(*) FROM digests WHERE status = 'pending'")
            run(db, *args)  # sends what the killed run did not (after a whole run: the next digest)
            out.append({"round": i, "at": round(at, 2), "full": round(full, 2), "mid": mid, "intact": ok,
                        "pending_after_kill": pending, **digest_checks(db, smtp)})  # fmt: skip
    finally:
        smtp.stop()
    return out


def server_digest(ctx: Ctx, rounds: int, rng: random.Random) -> list[Row]:
    smtp = Smtp()
    extra = smtp.settings()
    out = []
    try:
        db = setup(ctx, "server-digest")
        srv = Server(db, extra)
        with srv.client() as c:
            full = timed(lambda: c.post("/api/digest/me/send").raise_for_status())
        srv.stop()
        for i in range(rounds):
            db = setup(ctx, "server-digest")
            smtp.messages.clear()
            at = rng.uniform(0, full)
            out.append({"round": i, "at": round(at, 2), "full": round(full, 2)})
            out[-1].update(server_digest_round(db, extra, at, smtp))
    finally:
        smtp.stop()
    return out


def server_digest_round(db: Path, extra: dict[str, str], at: float, smtp: Smtp) -> Row:
    srv = Server(db, extra)
    answer: list[int] = []
    with srv.client() as c:
        sender = threading.Thread(target=_post, args=(c, "/api/digest/me/send", answer))
        sender.start()
        time.sleep(at)
        srv.stop()
        sender.join()
    freed = port_free(srv.port)
    ok = intact(db)
    pending = rows(db, "SELECT message_id FROM digests WHERE status = 'pending'")
    again = Server(db, extra, port=srv.port)  # the restart binds the same port
    with again.client() as c:
        history = c.get("/api/digest/me/history").json()["items"]
        shown = [h for h in history if h["status"] == "pending"]
        result = c.post("/api/digest/me/send").json()["result"]
    again.stop()
    resumed = not pending or result.get("message_id") == pending[0][0]
    return {"mid": not answer, "port_free": freed, "intact": ok, "pending_after_kill": len(pending),
            "reported": len(shown) == len(pending) and resumed, **digest_checks(db, smtp)}  # fmt: skip


def _post(c: httpx.Client, path: str, answer: list[int]) -> None:
    try:
        answer.append(c.post(path).status_code)
    except httpx.HTTPError:
        return  # the server died under us


# ---------------------------------------------------------------- server jobs: import and index


def server_job(name: str, upload: str, sql: str, prep: bool = False):
    """A web import job (the server's background work) killed with its server; the restarted
    server must report it."""

    def make(ctx: Ctx, rounds: int, rng: random.Random) -> list[Row]:
        body = ctx[upload].read_bytes()
        before = add_new(ctx) if prep else None
        db = setup(ctx, name, before)
        full = _job_time(db, body)
        expected = {"count": scalar(db, sql), "by_model": by_model(db)}
        out = []
        for i in range(rounds):
            db = setup(ctx, name, before)
            at = rng.uniform(0, full)
            out.append({"round": i, "at": round(at, 2), "full": round(full, 2)})
            out[-1].update(server_job_round(db, body, sql, at))
            if name == "server-index":  # the embedding a killed job did not do: `paperradar index`
                run(db, "index", "--tier", "fast")
                out[-1]["by_model"] = by_model(db)
                out[-1]["complete"] = out[-1]["by_model"] == expected["by_model"]
        return out

    return make


def _job_time(db: Path, body: bytes) -> float:
    """Seconds from the upload's POST to its job's end, on an unkilled server."""
    srv = Server(db, FAST_IMPORTS)
    try:
        with srv.client() as c:
            started = time.monotonic()
            job = _upload(c, body)
            while _job(db, job)[0] not in ("done", "failed"):
                time.sleep(0.05)
            return time.monotonic() - started
    finally:
        srv.stop()


def _upload(c: httpx.Client, body: bytes) -> int:
    r = c.post("/api/import?wait=0", files={"files": ("new.jsonl", body, "application/json")})
    return int(r.json()["job"]["id"])


def _job(db: Path, job: int) -> tuple[str, str]:
    found = rows(db, f"SELECT state, message FROM jobs WHERE id = {int(job)}")
    return (found[0][0], found[0][1] or "") if found else ("", "")


def server_job_round(db: Path, body: bytes, sql: str, at: float) -> Row:
    srv = Server(db, FAST_IMPORTS)
    watch = Watcher(db, sql)
    with srv.client() as c:
        started = time.monotonic()
        job = _upload(c, body)
    time.sleep(max(0.0, at - (time.monotonic() - started)))
    state, message = _job(db, job)
    srv.stop()
    seen = watch.stop()
    worker = re.search(r"process (\d+)", message)
    gone = pid_gone(int(worker.group(1))) if worker else True
    freed = port_free(srv.port)
    after, ok = scalar(db, sql), intact(db)
    again = Server(db, FAST_IMPORTS, port=srv.port)
    with again.client() as c:
        got = c.get(f"/api/jobs/{job}").json()["job"]
    again.stop()
    mid = state != "done"
    reported = got["state"] == ("interrupted" if mid else "done")
    return {"mid": mid, "state_at_kill": state, "port_free": freed, "worker_gone": gone, "intact": ok,
            "lost": max(0, seen - after), "seen": seen, "after": after, "reported": reported,
            "job": f"{got['state']}: {got['message'][:60]}"}  # fmt: skip


# ---------------------------------------------------------------- topics with a server


def server_topics(ctx: Ctx, rounds: int, rng: random.Random) -> list[Row]:
    db = setup(ctx, "server-topics")
    srv, stop = _topic_readers(db)
    full = timed(lambda: run(db, "topics", "build"))
    stop.set()
    srv.stop()
    out = []
    for i in range(rounds):
        db = setup(ctx, "server-topics")
        at = rng.uniform(0, full)
        srv, stop = _topic_readers(db)
        watch = Watcher(db, BUILDS)
        proc = cli(db, "topics", "build")
        time.sleep(at)
        srv.stop()  # the server and the build die at the same moment
        mid = kill(proc)
        stop.set()
        seen = watch.stop()
        freed = port_free(srv.port)
        after, ok = scalar(db, BUILDS), intact(db)
        run(db, "topics", "build")
        again = Server(db, port=srv.port)
        with again.client() as c:
            shown = c.get("/api/topics").json()
        again.stop()
        last = rows(db, "SELECT built_at FROM topic_builds ORDER BY pk DESC LIMIT 1")[0][0]
        shows = shown["total"] > 0 and bool(shown["build"]) and shown["build"]["built_at"] == last
        out.append({"round": i, "at": round(at, 2), "full": round(full, 2), "mid": mid, "port_free": freed,
                    "intact": ok, "lost": max(0, seen - after), "seen": seen, "after": after,
                    "reported": shows, "complete": shown["total"] > 0})  # fmt: skip
    return out


def _topic_readers(db: Path) -> tuple[Server, threading.Event]:
    """A server with one client reading the topic pages over and over until told to stop."""
    srv, stop = Server(db), threading.Event()

    def read() -> None:
        try:
            with srv.client() as c:
                while not stop.wait(0.25):  # a reader, not a load test: the build gets the cores
                    c.get("/api/topics")
                    c.get("/topics")
        except httpx.HTTPError:
            return

    threading.Thread(target=read, daemon=True).start()
    return srv, stop


# ---------------------------------------------------------------- likes


def rotated(papers: list[str], i: int) -> list[str]:
    """Round i's papers to like: the list turned by 24 per round (each round has a fresh library)."""
    start = (24 * i) % len(papers)
    return papers[start:] + papers[:start]


EACH = 3  # likes per user in one operation through the server
CLI_EACH = 2  # and through the CLI (a process each: ~2 s apiece under load)


def server_likes(ctx: Ctx, rounds: int, rng: random.Random) -> list[Row]:
    papers = ctx["work"].joinpath("likeable.txt").read_text().split()
    users = 8
    db = setup(ctx, "server-likes")
    srv = Server(db)
    full = timed(lambda: _likes_through(srv, papers, users, threading.Event(), []))
    srv.stop()
    out = []
    for i in range(rounds):
        db = setup(ctx, "server-likes")
        at = rng.uniform(0, full)
        srv, acked, stop = Server(db), [], threading.Event()
        t = threading.Thread(target=_likes_through, args=(srv, rotated(papers, i), users, stop, acked))
        t.start()
        time.sleep(at)
        mid = t.is_alive()
        srv.stop()
        stop.set()
        t.join()
        stored = liked(db)
        out.append({"round": i, "at": round(at, 2), "full": round(full, 2), "mid": mid,
                    "acknowledged": len(acked), "lost": len(set(acked) - stored), "intact": intact(db),
                    "port_free": port_free(srv.port)})  # fmt: skip
    return out


def _likes_through(srv: Server, papers: list[str], users: int, stop: threading.Event, acked: list[str]):
    threads = [
        threading.Thread(target=_liker, args=(srv, papers[k * EACH : (k + 1) * EACH], stop, acked))
        for k in range(users)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


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


class CliLikers:
    """Users each running `paperradar profile like me PAPER` for their papers, one after another."""

    def __init__(self, db: Path, papers: list[str], users: int):
        self.db, self.acked, self.lock, self.stopped = db, [], threading.Lock(), False
        self.running: set[Any] = set()
        parts = [papers[k * CLI_EACH : (k + 1) * CLI_EACH] for k in range(users)]
        self.threads = [threading.Thread(target=self._user, args=(p,)) for p in parts]
        for t in self.threads:
            t.start()

    def _user(self, papers: list[str]) -> None:
        for paper in papers:
            with self.lock:
                if self.stopped:
                    return
                proc = cli(self.db, "profile", "like", "me", paper)
                self.running.add(proc)
            code = proc.wait()
            with self.lock:
                self.running.discard(proc)
            if code == 0:
                self.acked.append(paper)

    def wait(self) -> None:
        for t in self.threads:
            t.join()

    def kill_all(self) -> bool:
        """Kill every like under way; True when some user had not finished."""
        with self.lock:
            self.stopped = True
            mid = any(t.is_alive() for t in self.threads)
            for proc in list(self.running):
                kill(proc)
        for t in self.threads:
            t.join()
        return mid


def cli_likes(ctx: Ctx, rounds: int, rng: random.Random) -> list[Row]:
    papers = ctx["work"].joinpath("likeable.txt").read_text().split()
    db = setup(ctx, "cli-likes")
    full = timed(lambda: CliLikers(db, papers, 4).wait())
    out = []
    for i in range(rounds):
        db = setup(ctx, "cli-likes")
        at = rng.uniform(0, full)
        likers = CliLikers(db, rotated(papers, i), 4)
        time.sleep(at)
        mid = likers.kill_all()
        stored = liked(db)
        out.append({"round": i, "at": round(at, 2), "full": round(full, 2), "mid": mid,
                    "acknowledged": len(likers.acked), "lost": len(set(likers.acked) - stored),
                    "intact": intact(db)})  # fmt: skip
    return out


# ---------------------------------------------------------------- main


def summarise(rows_: list[Row]) -> Row:
    total: Row = {"rounds": len(rows_), "killed_mid_operation": sum(r["mid"] for r in rows_)}
    total["killed_after_completion"] = total["rounds"] - total["killed_mid_operation"]
    total["integrity_failures"] = sum(not r["intact"] for r in rows_)
    total["lost_committed_writes"] = sum(r.get("lost", 0) for r in rows_)
    for key, name in (("port_free", "port_held_after_kill"), ("worker_gone", "worker_left_alive"),
                      ("reported", "not_reported_after_restart"), ("complete", "reruns_incomplete")):  # fmt: skip
        if any(key in r for r in rows_):
            total[name] = sum(not r[key] for r in rows_)
    for key in ("duplicate_digests", "redelivered_same_message_id", "acknowledged"):
        if any(key in r for r in rows_):
            total[key] = sum(r[key] for r in rows_)
    return total


SCENARIOS = {
    "cli-import": cli_scenario("cli-import", lambda c: ["import", str(c["new"]), "--no-index"], PAPERS),
    "cli-index": cli_scenario("cli-index", lambda c: ["index", "--tier", "fast"], EMBEDDED, prep=True),
    "cli-topics": cli_scenario("cli-topics", lambda c: ["topics", "build"], BUILDS),
    "cli-digest": cli_digest,
    "cli-likes": cli_likes,
    "server-import": server_job("server-import", "new", PAPERS),
    "server-index": server_job("server-index", "small", EMBEDDED, prep=True),
    "server-topics": server_topics,
    "server-digest": server_digest,
    "server-likes": server_likes,
}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=20)
    ap.add_argument("--only", nargs="*", choices=list(SCENARIOS))
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument(
        "--papers", type=int, default=1000, help="papers in the library, and in the file imported"
    )
    ap.add_argument("--out", type=Path, help="also write the results here after each scenario")
    args = ap.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="paperradar-faults-"))
    results: dict[str, Any] = {}
    try:
        ctx = prepare(work, args.papers)
        for name in args.only or SCENARIOS:
            rng = random.Random(f"{args.seed}:{name}")  # one stream per scenario: --only repeats a run
            started = time.monotonic()
            found = SCENARIOS[name](ctx, args.rounds, rng)
            results[name] = {**summarise(found), "seconds": round(time.monotonic() - started), "rows": found}
            print(name, {k: v for k, v in results[name].items() if k != "rows"}, file=sys.stderr, flush=True)
            if args.out:  # a campaign stopped midway keeps the scenarios it finished
                args.out.write_text(json.dumps(results, indent=1))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps({k: {n: v for n, v in r.items() if n != "rows"} for k, r in results.items()}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
