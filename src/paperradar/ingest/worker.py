"""The parsing worker: a big source parsed in a forked process while this one matches and writes,
so both cores work (the result is the same either way). The worker exits when the process that
started it goes away. Does I/O (a process, a queue).
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from collections.abc import Iterator
from queue import Empty
from typing import Any

from ..config import load_settings
from ..errors import RadarError
from ..importers.base import Source
from .parse import Chunk, parsed_chunks

PARALLEL_MIN_BYTES = 4 * 1024 * 1024
_POLL = 1.0


def worth_a_worker(source: Source) -> bool:
    """Whether `source` is big enough, and the machine has cores enough, to parse it in a worker.

    The no_worker setting is read here, not handed in (tests/test_settings.py DEEP_READS): it is
    a process-wide switch for `import_source` (public API) on every import path (CLI, web, sync)."""
    if (os.cpu_count() or 1) < 2 or load_settings().no_worker:
        return False
    size = len(source.data) if source.data is not None else (source.file.stat().st_size if source.file else 0)
    return size >= PARALLEL_MIN_BYTES


def in_worker(name: str, source: Source, column_map: dict[str, str] | None) -> Iterator[Chunk]:
    """`parsed_chunks(...)` run in a forked process, yielding what it yields. Errors come back as
    errors; the worker never outlives the import (it exits when this process goes away). The web
    server never gets here: its imports run in a spawned job process (jobs.py), so what is forked
    is that single-threaded process, which holds no listening socket."""
    ctx = multiprocessing.get_context("fork")
    queue: Any = ctx.Queue(maxsize=4)
    proc = ctx.Process(target=_produce, args=(name, source, column_map, queue), daemon=True)
    proc.start()
    try:
        while True:
            try:
                kind, value = queue.get(timeout=_POLL)
            except Empty:
                if not proc.is_alive():
                    raise RadarError(f"the parsing worker died (exit code {proc.exitcode})") from None
                continue
            if kind == "chunk":
                yield value
            elif kind == "error":
                raise value
            else:
                return
    finally:
        if proc.is_alive():
            proc.terminate()
        proc.join()


def exit_with_parent(every: float = 0.5) -> None:
    """In a worker process: exit at once when the process that started it goes away (a killed
    server or CLI leaves no worker behind, writing or holding anything). The parent is the one
    multiprocessing recorded when it made this process: a server killed before its worker got here
    has already left it to init, and that worker must exit too (issue 13's fault campaign)."""
    started_by = multiprocessing.parent_process()
    parent = started_by.pid if started_by is not None else os.getppid()
    if os.getppid() != parent:
        os._exit(1)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(every)
        os._exit(1)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


def _produce(name: str, source: Source, column_map: dict[str, str] | None, queue: Any) -> None:
    exit_with_parent()
    put = queue.put
    try:
        for chunk in parsed_chunks(name, source, column_map):
            put(("chunk", chunk))
        put(("done", None))
    except BaseException as e:  # sent back and raised in the importing process
        put(("error", e))
    queue.close()
    queue.join_thread()
