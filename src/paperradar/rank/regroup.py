"""Re-clustering a profile's interests in the background, so that a like answers at once.

A like, its undo or a feedback reset changes a profile's positive papers (so does a dislike of a
liked paper: the next ranking notices), and its interests (k-means over those papers,
rank/interests.py) go out of date. The web server keeps one worker
thread per library (`serve`, started by its job runner): the request only asks (`ask`), the worker
re-clusters each asked-for profile once, however many likes arrived meanwhile, and waits
`GAP_S` before its next pass, so a flood of likes costs one k-means per profile every few
seconds. Until the new interests land, the ranking uses the old ones, and the positives they lack
(the new likes) count as one more group of nearest-neighbour evidence (rank/model_cache.py).
Without a worker (the CLI, library use) nothing runs in the background: the next ranking settles
the interests first (interests.settle_interests). Does I/O: the worker opens its own library.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

GAP_S = 5.0  # a worker's rest between passes: likes arriving meanwhile are clustered together
Work = Callable[[Any, str], None]  # work(library, profile name): re-cluster if out of date


class Regrouper:
    """One thread re-clustering the profiles asked for, each once per pass (started lazily)."""

    def __init__(self, lib_path: str, work: Work | None = None, gap_s: float | None = None) -> None:
        self.lib_path = lib_path
        self.work = work
        self.gap_s = GAP_S if gap_s is None else gap_s
        self.passes = 0  # passes done (each re-clusters every profile asked for since the last)
        self._asked: dict[str, None] = {}  # profile names, in the order asked
        self._busy = False
        self._stopping = threading.Event()
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None

    def ask(self, profile: str) -> None:
        """Re-cluster this profile soon (returns at once; asking twice before a pass is one ask)."""
        with self._cond:
            if self._stopping.is_set():
                return
            self._asked[profile] = None
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, daemon=True, name="paperradar-regroup")
                self._thread.start()
            self._cond.notify_all()

    def wait_idle(self, timeout: float = 60.0) -> bool:
        """Wait until nothing is asked for or running (True), or `timeout` seconds (False)."""
        with self._cond:
            return self._cond.wait_for(lambda: not self._asked and not self._busy, timeout)

    def stop(self, wait_s: float = 5.0) -> None:
        """Stop after the profile at hand (waiting at most `wait_s` for it)."""
        with self._cond:
            self._stopping.set()
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(wait_s)

    def _run(self) -> None:
        from ..storage import open_library

        try:
            lib = open_library(self.lib_path)
        except Exception:  # the library cannot be opened now: drop the asks, the next one retries
            log.exception("the interests worker could not open %s", self.lib_path)
            with self._cond:
                self._asked.clear()
                self._thread = None
                self._cond.notify_all()
            return
        try:
            while self._next_pass(lib):
                self._stopping.wait(self.gap_s)
        finally:
            lib.close()

    def _next_pass(self, lib: Any) -> bool:
        """Wait for asks, then re-cluster each profile asked for once; False when stopping."""
        with self._cond:
            self._cond.wait_for(lambda: bool(self._asked) or self._stopping.is_set())
            if self._stopping.is_set():
                return False
            names, self._busy = list(self._asked), True
            self._asked.clear()
        try:
            for name in names:
                self._one(lib, name)
        finally:
            with self._cond:
                self._busy = False
                self.passes += 1
                self._cond.notify_all()
        return True

    def _one(self, lib: Any, profile: str) -> None:
        from ..interests import regroup_if_stale

        work = self.work or regroup_if_stale
        try:
            work(lib, profile)
        except Exception:  # a locked library, say: the next ask tries again
            log.exception("could not re-cluster the interests of profile %r", profile)


_WORKERS: dict[str, Regrouper] = {}
_LOCK = threading.Lock()


def serve(lib_path: str, work: Work | None = None, gap_s: float | None = None) -> Regrouper:
    """The library's background worker (made if needed; its thread starts at the first ask): the
    web server's job runner calls this at start. `work` defaults to interests.regroup_if_stale."""
    with _LOCK:
        worker = _WORKERS.get(lib_path)
        if worker is None:
            worker = _WORKERS[lib_path] = Regrouper(lib_path, work, gap_s)
        return worker


def stop_serving(lib_path: str) -> None:
    """No more background work for this library (its worker stops after the profile at hand)."""
    with _LOCK:
        worker = _WORKERS.pop(lib_path, None)
    if worker is not None:
        worker.stop()


def worker_for(lib_path: str) -> Regrouper | None:
    """The background worker of the library at `lib_path`, if a server runs one in this process."""
    return _WORKERS.get(lib_path)
