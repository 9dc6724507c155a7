"""Background work for the web server (imports and the embedding that follows them, and the
ranking features a request found stale: rank/ready.py), run in a separate worker process with progress a page can poll.

The worker is started with `spawn`: a fresh interpreter that inherits neither the server's
threads nor its listening socket (a forked child of a threaded server could hold the port after
the server died). It exits when the server goes away (`ingest.exit_with_parent`). Each job is a
row of the `jobs` table (migration 9): queued, running, then done, failed or interrupted; a
server that starts marks jobs its predecessor left running as interrupted, so the page reports
them. Imports commit whole batches, so an interrupted job leaves whole batches behind and running
it again skips what was stored. Does I/O: processes and the library.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from .errors import RadarError
from .ingest import exit_with_parent
from .progress import Progress
from .storage import open_library
from .storage.base import Library
from .storage.jobs import add_job, get_job, interrupt_live_jobs, update_job

log = logging.getLogger(__name__)

INTERRUPTED = (
    "the server stopped during this job; whole batches were kept: import the file again to finish it"
)
Work = Callable[..., dict[str, Any]]  # work(lib, progress, *args) -> result; module level (picklable)


class JobRunner:
    """Runs jobs one at a time, each in its own spawned process, over the library at `lib_path`.
    A thread of the server waits for each process; the futures tell the web layer when it ended."""

    def __init__(self, lib_path: str):
        self.lib_path = lib_path
        self._queue = ThreadPoolExecutor(1, thread_name_prefix="paperradar-jobs")
        self._running: multiprocessing.process.BaseProcess | None = None
        self._closed = False
        self.futures: dict[int, Future[None]] = {}
        from .rank import ready, regroup  # stale features are built, and interests re-clustered, here

        ready.set_builder(lib_path, ready.JobBuilder(self))
        regroup.serve(lib_path)  # issue 11: a like's re-clustering of interests runs in a thread here

    def recover(self, lib: Library) -> int:
        """At server start: report the jobs a killed server left behind."""
        return interrupt_live_jobs(lib, INTERRUPTED)

    def submit(self, lib: Library, kind: str, work: Work, *args: Any) -> int:
        job_id = add_job(lib, kind)
        self.futures[job_id] = self._queue.submit(self._run, job_id, work, args)
        return job_id

    def _run(self, job_id: int, work: Work, args: tuple[Any, ...]) -> None:
        if self._closed:
            return
        proc = multiprocessing.get_context("spawn").Process(
            target=run_job,
            args=(self.lib_path, job_id, work, args),
            name=f"paperradar-job-{job_id}",
            daemon=False,  # it may start a parsing worker of its own; it exits with the server anyway
        )
        proc.start()
        self._running = proc
        proc.join()
        self._running = None
        if proc.exitcode:  # killed, or died before it could say why
            lib = open_library(self.lib_path)
            try:
                update_job(
                    lib, job_id, "failed", message=f"the worker process stopped (exit code {proc.exitcode})"
                )
            finally:
                lib.close()

    def close(self) -> None:
        """Stop: queued jobs are dropped, a running one is stopped (reported at the next start)."""
        self._closed = True
        from .rank import ready, regroup

        ready.set_builder(self.lib_path, None)
        regroup.stop_serving(self.lib_path)
        proc = self._running
        if proc is not None and proc.is_alive():
            proc.terminate()
        self._queue.shutdown(wait=True, cancel_futures=True)


def run_job(lib_path: str, job_id: int, work: Work, args: tuple[Any, ...]) -> None:
    """In the worker: run `work`, keeping the job row up to date; never raises."""
    exit_with_parent()
    lib = open_library(lib_path)
    try:
        update_job(lib, job_id, "running", message=f"working (process {os.getpid()})")
        result = work(lib, _progress(lib, job_id), *args)
        update_job(lib, job_id, "done", message="done", result=result)
    except RadarError as e:
        update_job(lib, job_id, "failed", message=str(e))
    except Exception:  # reported on the page; the details go to the server log
        log.exception("job %s failed", job_id)
        update_job(lib, job_id, "failed", message="internal error: the server log has the details")
    finally:
        lib.close()


def _progress(lib: Library, job_id: int, every: float = 0.5) -> Progress:
    """The job's Progress (progress.py): writes the count done at most every `every` s."""
    last = 0.0

    def step(done: int, total: int | None = None, message: str = "") -> None:
        nonlocal last
        if time.monotonic() - last >= every:
            last = time.monotonic()
            update_job(lib, job_id, "running", done=done)

    return step


def job_json(lib: Library, job_id: int) -> dict[str, Any] | None:
    """The JSON answer of /api/jobs/{id}: `{"ok": true, "job": {...}}`, or None for no such job."""
    job = get_job(lib, job_id)
    return None if job is None else {"ok": True, "job": job.as_json()}
