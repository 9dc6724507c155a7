"""Warming the slow views in the background, so that a first view finds them ready (issue 15).

When the server starts, one worker thread compiles the main page templates, computes Home's list
for each profile (the first WARM_PROFILES by name) with its cards' key sentences, then the similar
papers of every Home card (the papers a reader opens next; a lexical pass over 118k papers takes
about a second each); a search page queues its top results' similar papers when the worker is
idle. Every WATCH_EVERY_S it looks for lists whose library or profile changed (an import, an index
run, feedback from the CLI) and recomputes them before anyone asks. Pages never wait for this
worker: they serve what exists (web/cache.py) and it fills in. Does I/O through the app's library
pool.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from typing import Any

from ..errors import RadarError

log = logging.getLogger(__name__)
WARM_PROFILES = 8  # Home lists computed at start (each costs a ranking: seconds on a big library)
WATCH_EVERY_S = 30.0  # how often changed lists are looked for
SIMILAR_QUEUE = 256  # similar lists waiting at most (more are dropped: a view computes its own)
# A similar list waits until no page has asked for more for this long: a lexical pass costs a core
# for about a second, and under load (issue 13's 32 users) the requests must have the cores first.
QUIET_S = 1.0

PAGES = (
    "base.html",
    "_macros.html",
    "home.html",
    "paper.html",
    "search.html",
    "library.html",
    "profile.html",
)
Task = tuple[str, Any]  # ("home", key) or ("similar", paper pk)


class Warmer:
    """One background thread working through a queue of views to compute."""

    def __init__(self, app_state: Any) -> None:
        self.state = app_state
        self.tasks: queue.Queue[Task] = queue.Queue(maxsize=SIMILAR_QUEUE)
        self.stopping = threading.Event()
        self.last_asked = 0.0  # when a page last asked for similar lists (time.monotonic())
        self.thread = threading.Thread(target=self._run, daemon=True, name="paperradar-warm")

    def start(self) -> Warmer:
        self.tasks.put_nowait(("templates", None))
        self._queue_homes()
        self.thread.start()
        return self

    def stop(self, wait_s: float = 5.0) -> None:
        """Stop after the view at hand (waiting at most `wait_s` for it)."""
        self.stopping.set()
        if self.thread.is_alive():
            self.thread.join(wait_s)

    def similar_later(self, pks: list[int], only_if_idle: bool = False) -> None:
        """Compute these papers' similar papers when the worker is free (dropped when its queue is
        full; with `only_if_idle`, unless it has nothing waiting: a burst of searches costs nothing).
        They are computed once no page has asked for QUIET_S seconds."""
        self.last_asked = time.monotonic()
        if only_if_idle and not self.tasks.empty():
            return
        for pk in pks:
            try:
                self.tasks.put_nowait(("similar", pk))
            except queue.Full:
                return

    def _queue_homes(self) -> None:
        from ..profiles import profile_names
        from .home import HOME_LIMIT

        with self.state.pool.use() as lib:
            names = profile_names(lib)[:WARM_PROFILES]
        for name in names:
            self.tasks.put_nowait(("home", (name, None, HOME_LIMIT)))

    def _run(self) -> None:
        while not self.stopping.is_set():
            try:
                kind, key = self.tasks.get(timeout=WATCH_EVERY_S)
            except queue.Empty:
                kind, key = "changed", None
            try:
                self._do(kind, key)
            except RadarError as e:  # e.g. a profile deleted meanwhile
                log.info("warming %s %s: %s", kind, key, e)
            except Exception:  # a background worker must not die on one bad view
                log.exception("warming %s %s failed", kind, key)

    def _do(self, kind: str, key: Any) -> None:
        from .home import home_cache_of
        from .papers import remembered_similar

        if self.stopping.is_set():
            return
        if kind == "changed":
            self._queue_changed()
        elif kind == "templates":  # compiled once per process: a first view should not pay for it
            for name in PAGES:
                self.state.templates.env.get_template(name)
        elif kind == "home":
            home_cache_of(self.state).refresh_now(self.state.pool, key)
        else:
            self._wait_until_quiet()
            with self.state.pool.use() as lib:
                remembered_similar(lib, int(key))

    def _wait_until_quiet(self) -> None:
        """Wait until no page has asked for similar lists for QUIET_S seconds (or until stopped)."""
        while not self.stopping.is_set() and time.monotonic() - self.last_asked < QUIET_S:
            self.stopping.wait(0.1)

    def _queue_changed(self) -> None:
        """Queue the Home lists whose library or profile changed since they were computed."""
        from .home import home_cache_of

        cache = home_cache_of(self.state)
        with self.state.pool.use() as lib:
            changed = [key for key in cache.cached_keys() if cache.is_stale(lib, key)]
        for key in changed:
            try:
                self.tasks.put_nowait(("home", key))
            except queue.Full:
                return


def start_warming(app_state: Any) -> Warmer:
    """Start warming the app's slow views (called when the server starts)."""
    warmer = app_state.warmer = Warmer(app_state)
    return warmer.start()


def warmer_of(app_state: Any) -> Warmer | None:
    return getattr(app_state, "warmer", None)
