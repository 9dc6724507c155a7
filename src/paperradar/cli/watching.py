"""`paperradar watch`: sync and send every profile's digest on a schedule (watch.run_once), each
run logged to stderr and watch.log."""

from __future__ import annotations

import time
from typing import Annotated, Any

import typer

from .. import config
from ..errors import InvalidInput, RadarError
from . import app, err, library, progress_bar, state
from .syncing import sync_options


def _every(text: str) -> float:
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    try:
        value = float(text[:-1]) * units[text[-1]] if text[-1] in units else float(text)
    except (ValueError, IndexError):
        raise InvalidInput(f"--every wants a duration like 30m, 6h or 1d, not {text!r}") from None
    if value < 60:
        raise InvalidInput("--every must be at least a minute")
    return value


def watch_plan(s: config.Settings, send: bool) -> Any:
    """What each watch run does, from the settings `s`: sync the sync_sources (if any), then send
    every profile's digest when a recipient or webhook is configured."""
    from ..digest.service import configured_channels
    from ..sync import parse_sources
    from ..watch import WatchPlan

    sends = send and bool(s.mail_to or s.webhooks)
    return WatchPlan(
        sources=parse_sources(s.sync_sources) if s.sync_sources else [],
        sync_options=sync_options(s, None),
        channels=(lambda: configured_channels(s)) if sends else None,
        digest_size=s.digest_size,
        settings=s,
    )


def watch_once(send: bool) -> dict[str, Any]:
    """One scheduled run (watch.run_once) with the settings as they are now (paperradar.toml may
    have changed since the last run)."""
    from ..watch import run_once

    plan = watch_plan(config.load_settings(db=state.db), send)
    with library() as lib, progress_bar("watch run") as progress:
        return run_once(lib, plan, progress)


@app.command("watch")
def watch_cmd(
    every: Annotated[str, typer.Option(help="Time between runs: 30m, 6h, 1d.")] = "1d",
    once: Annotated[bool, typer.Option("--once", help="Run once and stop (for cron).")] = False,
    send: Annotated[bool, typer.Option("--send/--no-send", help="Email digests after syncing.")] = True,
) -> None:
    """Sync and send digests on a schedule; each run is logged to stderr and to watch.log."""
    from ..watch import append_log, now

    pause = _every(every)
    log = config.data_dir() / "watch.log"  # a run with a bad setting is logged too
    while True:
        try:
            entry = watch_once(send)
        except RadarError as e:
            entry = {"started": now(), "errors": [str(e)]}
        append_log(log, entry)
        status = "ok" if not entry["errors"] else "; ".join(entry["errors"])
        err.print(f"watch run {entry['started']}: {status}", highlight=False)
        if once:
            raise typer.Exit(1 if entry["errors"] else 0)
        time.sleep(pause)
