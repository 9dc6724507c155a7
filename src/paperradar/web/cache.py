"""A cache for slow per-profile pages (Home, the digest preview): each value is stamped with a
fingerprint of what it depends on (freshness.py). A stamp that still matches serves the
value; a changed one serves the old value at once, pruned of what the user acted on since, while
one background thread per key recomputes it. Nothing blocks on a recompute; a first view waits at
most FIRST_WAIT_S, then the page says the value is being prepared (and polls for it).
Does I/O through the library pool it is given.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

from ..errors import RadarError
from ..storage import Library
from .deps import LibraryPool

log = logging.getLogger(__name__)
MAX_AGE_S = 3600.0  # windows move with the clock: recompute at least hourly
FIRST_WAIT_S = 3.0  # a first view waits this long for its value, then shows that it is coming

Compute = Callable[[Library, Any], Any]  # (lib, key) -> value
State = Callable[[Library, Any], str]  # (lib, key) -> fingerprint
Prune = Callable[[Library, Any, Any], Any]  # (lib, key, stale value) -> what can still be shown


@dataclass
class Entry:
    state: str
    value: Any
    made_at: float


class RefreshingCache:
    def __init__(self, compute: Compute, state: State, prune: Prune, name: str) -> None:
        self.compute_fn, self.state_fn, self.prune_fn, self.name = compute, state, prune, name
        self.entries: dict[Hashable, Entry] = {}
        self.running: set[Hashable] = set()
        self.failed: set[Hashable] = set()  # keys whose background computation raised
        self.lock = threading.Lock()
        self.done = threading.Condition(self.lock)  # notified when a computation ends

    def get(
        self, lib: Library, pool: LibraryPool | None, key: Hashable, wait: bool = True
    ) -> tuple[Any, bool]:
        """The value for `key` and whether it is stale (a fresh one is being computed). With
        nothing cached yet, `wait=False` starts the computation and returns (None, True)."""
        state = self.state_fn(lib, key)
        entry = self.entries.get(key)
        if entry is None and not wait and pool is not None and key not in self.failed:
            self.refresh_later(pool, key)  # unless one is at it already (web/warm.py at start)
            with self.done:  # a small library is ready by then
                self.done.wait_for(lambda: key in self.entries or key not in self.running, FIRST_WAIT_S)
            if key not in self.entries:
                return None, True
            entry = self.entries[key]
        self.failed.discard(key)  # a background failure is raised here, by computing in front
        if entry is None or pool is None:
            return self.compute(lib, key, state).value, False
        if entry.state == state and time.time() - entry.made_at < MAX_AGE_S:
            return entry.value, False
        self.refresh_later(pool, key)
        return self.prune_fn(lib, key, entry.value), True

    def compute(self, lib: Library, key: Hashable, state: str) -> Entry:
        entry = Entry(state, self.compute_fn(lib, key), time.time())
        with self.lock:
            self.entries[key] = entry
        return entry

    def refresh_later(self, pool: LibraryPool, key: Hashable) -> threading.Thread | None:
        """Recompute `key` in a background thread (None when one is already at it)."""
        with self.lock:
            if key in self.running:
                return None
            self.running.add(key)
        thread = threading.Thread(
            target=self._refresh, args=(pool, key), daemon=True, name=f"{self.name}-refresh"
        )
        thread.start()
        return thread

    def refresh_now(self, pool: LibraryPool, key: Hashable) -> bool:
        """Recompute `key` in this thread (False when another thread is already at it)."""
        with self.lock:
            if key in self.running:
                return False
            self.running.add(key)
        self._refresh(pool, key)
        return True

    def cached_keys(self) -> list[Hashable]:
        with self.lock:
            return list(self.entries)

    def is_stale(self, lib: Library, key: Hashable) -> bool:
        """True when `key`'s value predates a change it depends on (or is over MAX_AGE_S old)."""
        entry = self.entries.get(key)
        if entry is None:
            return False
        return entry.state != self.state_fn(lib, key) or time.time() - entry.made_at >= MAX_AGE_S

    def _refresh(self, pool: LibraryPool, key: Hashable) -> None:
        try:
            with pool.use() as lib:
                self.compute(lib, key, self.state_fn(lib, key))
        except RadarError as e:  # e.g. the profile was deleted meanwhile: forget the entry
            log.info("%s refresh of %s: %s", self.name, key, e)
            with self.lock:
                self.entries.pop(key, None)
                self.failed.add(key)
        finally:
            with self.lock:
                self.running.discard(key)
                self.done.notify_all()


_MADE = threading.Lock()


def cache_on(app_state: Any, name: str, make: Callable[[], RefreshingCache]) -> RefreshingCache:
    """The app's cache called `name` (made on first use)."""
    with _MADE:
        caches: dict[str, RefreshingCache] | None = getattr(app_state, "page_caches", None)
        if caches is None:
            caches = app_state.page_caches = {}
        if name not in caches:
            caches[name] = make()
        return caches[name]


class Memo:
    """Values remembered while the library's state (freshness.library_state) stays the
    same: for what is slow to compute and changes only with the library (its statistics, a
    paper's similar papers). Bounded: the oldest half is dropped when full."""

    def __init__(self, size: int = 2048) -> None:
        self.size = size
        self.values: dict[Hashable, tuple[str, Any]] = {}
        self.lock = threading.Lock()

    def has(self, lib: Library, key: Hashable) -> bool:
        from ..freshness import library_state

        hit = self.values.get(key)
        return hit is not None and hit[0] == library_state(lib)

    def get(self, lib: Library, key: Hashable, compute: Callable[[], Any]) -> Any:
        from ..freshness import library_state

        state = library_state(lib)
        hit = self.values.get(key)
        if hit is not None and hit[0] == state:
            return hit[1]
        value = compute()
        with self.lock:
            if len(self.values) >= self.size:
                for old in list(self.values)[: self.size // 2]:
                    del self.values[old]
            self.values[key] = (state, value)
        return value


def memo_on(app_state: Any, name: str) -> Memo:
    with _MADE:
        memos: dict[str, Memo] | None = getattr(app_state, "page_memos", None)
        if memos is None:
            memos = app_state.page_memos = {}
        return memos.setdefault(name, Memo())
