"""Moving a library between backends, a SQLite file and PostgreSQL: the service behind
`paperradar db copy`. It opens both libraries and hands them to storage/copy.py, which holds the
SQL and the verification. Does I/O (through the two libraries).
"""

from __future__ import annotations

from .errors import InvalidInput
from .progress import Progress
from .storage import open_library
from .storage.copy import CopyReport, copy_library

__all__ = ["CopyReport", "Progress", "copy_between"]


def copy_between(src: str, dst: str, progress: Progress | None = None) -> CopyReport:
    """Copy everything of the library at `src` into `dst` (a new file or an empty PostgreSQL
    database, or a copy that was interrupted: it finishes) and verify it by counts and checksum."""
    if src == dst:
        raise InvalidInput("SRC and DST are the same library")
    source = open_library(src)
    try:
        target = open_library(dst)
        try:
            return copy_library(source, target, progress=progress)
        finally:
            target.close()
    finally:
        source.close()
