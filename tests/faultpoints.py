"""`paperradar` with one fault point armed: run as a script in place of the `paperradar` command,
so that a crash test kills the process at a known place in a write path, never at a moment picked
by a clock (issue 13; used by test_crash_server.py).

With PAPERRADAR_FAULT_POINT=NAME and PAPERRADAR_FAULT_MARKER=PATH, the process lets the first
PAPERRADAR_FAULT_AFTER (default 0) calls of NAME's function through; the next one writes the
process id to PATH and holds there (an hour at most) for the test's `kill -9`. The job worker the
server spawns runs this file again as its main module, so the point is armed there too.

  import-batch  ingest.store_batch: inside a batch's transaction (earlier batches committed)
  index-batch   SQLiteLibrary.put_embeddings: inside a batch of vectors' transaction
  topics-write  storage.topics.replace_topics: inside a topics build's write transaction
  digest-sent   storage.delivery.record_delivery: a channel accepted the digest, not yet recorded
  like-write    storage.profiles.add_feedback: inside a like's transaction

Does I/O: the marker file.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

HOLD_S = 3600.0


def hold() -> None:
    marker = Path(os.environ["PAPERRADAR_FAULT_MARKER"])
    tmp = marker.with_name(f"{marker.name}.{os.getpid()}")
    tmp.write_text(str(os.getpid()))
    tmp.replace(marker)  # whole or absent: the test reads the pid it holds
    time.sleep(HOLD_S)


def targets() -> dict[str, tuple[Any, str]]:
    from paperradar import ingest
    from paperradar.storage import delivery, profiles, topics
    from paperradar.storage.sqlite import SQLiteLibrary

    return {
        "import-batch": (ingest, "store_batch"),
        "index-batch": (SQLiteLibrary, "put_embeddings"),
        "topics-write": (topics, "replace_topics"),
        "digest-sent": (delivery, "record_delivery"),
        "like-write": (profiles, "add_feedback"),
    }


def arm(point: str, after: int) -> None:
    owner, name = targets()[point]
    original = getattr(owner, name)  # AttributeError: the write path moved; update targets()
    calls = 0

    def armed(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls > after:
            hold()
        return original(*args, **kwargs)

    setattr(owner, name, armed)


if os.environ.get("PAPERRADAR_FAULT_POINT"):  # also when re-run as a spawned worker's main module
    arm(os.environ["PAPERRADAR_FAULT_POINT"], int(os.environ.get("PAPERRADAR_FAULT_AFTER", "0")))

if __name__ == "__main__":
    from paperradar.cli import main

    main()
