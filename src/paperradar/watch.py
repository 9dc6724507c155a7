"""The scheduled run behind `paperradar watch`: sync the configured sources, then send every
profile's digest, and say what failed. Does I/O through the library, the network and the
delivery channels; the settings arrive already read (`WatchPlan`), so this module reads no
environment. The CLI only loops, sleeps and logs.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .config import Settings
from .digest.service import Channel, deliver_digests
from .errors import RadarError
from .profiles import list_profiles
from .progress import Progress
from .storage import Library
from .sync import SyncOptions, sync_and_index


@dataclass
class WatchPlan:
    """What one run does: the sources to sync (none: no sync) and where digests go (`channels`
    builds them when the run sends; None: no digests sent). Building them can fail (no recipient,
    a bad webhook): that is the run's error, after the sync."""

    sources: list[str]
    sync_options: SyncOptions
    channels: Callable[[], Sequence[Channel]] | None = None
    digest_size: int = 10
    settings: Settings | None = None  # public_url, link_days, link_secret for the digests' links


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def run_once(lib: Library, plan: WatchPlan, progress: Progress | None = None) -> dict[str, Any]:
    """One scheduled run: the log entry (started, sync per source, errors, finished). A failing
    source or profile is an error in the entry; the other sources and profiles still run."""
    entry: dict[str, Any] = {"started": now(), "errors": []}
    if plan.sources:
        reports = sync_and_index(lib, plan.sources, plan.sync_options, progress)
        entry["sync"] = {r.source: {"new": r.new, "error": r.error} for r in reports}
        entry["errors"] += [f"{r.source}: {r.error}" for r in reports if r.error]
    if plan.channels is not None:
        entry["errors"] += _send_all(lib, plan.channels, plan.digest_size, plan.settings)
    entry["finished"] = now()
    return entry


def _send_all(
    lib: Library, channels: Callable[[], Sequence[Channel]], size: int, settings: Settings | None
) -> list[str]:
    try:
        names = [p.name for p in list_profiles(lib)]
        results = deliver_digests(lib, names, channels(), limit=size, settings=settings)
    except RadarError as e:
        return [str(e)]
    return [f"{r.profile}: digest not sent: {r.error}" for r in results if r.error]


def append_log(path: Path, entry: dict[str, Any]) -> None:
    """Add one run's entry to watch.log (JSON lines)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as f:
        f.write(json.dumps(entry) + "\n")
