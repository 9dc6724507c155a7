"""The one progress protocol of the library (issue 18, item 4). No I/O.

A long library function (import, index, ray index, ranking features, topics build, sync, enrich,
library copy, tuning) takes an optional `progress: Progress | None` and calls

    progress(done, total, message)

`done` counts what is finished so far in the current stage (records, papers, rows, requests; it
never goes back within one `message`), `total` is what the stage will reach when known (else
None), and `message` says what is being done ("embedding papers", "arxiv:cs.CL", the table being
copied). Only the CLI draws it (`cli.progress_bar`: rich, and only when stderr is a terminal); the
web's job runner stores it for the job page (`jobs.py`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol


class Progress(Protocol):
    def __call__(self, done: int, total: int | None = None, message: str = "") -> None: ...


def no_progress(done: int, total: int | None = None, message: str = "") -> None:
    """A Progress that shows nothing (for code that calls progress unconditionally)."""


class Tally:
    """For stages that report increments (items just handled, as the import pipeline does): adds
    them up into one running count across every stage and reports it under the stage's message."""

    def __init__(self, progress: Progress, total: int | None = None):
        self.progress, self.total, self.done = progress, total, 0

    def under(self, message: str) -> Callable[[int], None]:
        def add(n: int) -> None:
            self.done += n
            self.progress(self.done, self.total, message)

        return add


def stages(progress: Progress | None, total: int | None = None) -> Callable[[str], None]:
    """For work that goes through named stages: `say(message)` reports stage 0, 1, 2... of `total`."""
    count = 0

    def say(message: str) -> None:
        nonlocal count
        if progress is not None:
            progress(count, total, message)
        count += 1

    return say
