"""Moving a library between backends, a SQLite file and PostgreSQL: the service behind
`paperradar db copy`. It opens both libraries and hands them to storage/copy.py, which holds the
SQL and the verification. Does I/O (through the two libraries).
"""

from __future__ import annotations

from pathlib import Path

from .errors import InvalidInput
from .papers import check_library_folder
from .progress import Progress
from .storage import is_postgres, open_library
from .storage.copy import CopyReport, copy_library

__all__ = ["CopyReport", "Progress", "copy_between"]


def copy_between(src: str, dst: str, progress: Progress | None = None) -> CopyReport:
    """Copy everything of the library at `src` into `dst` (a new file or an empty PostgreSQL
    database, or a copy that was interrupted: it finishes) and verify it by counts and checksum."""
    if src == dst:
        raise InvalidInput("SRC and DST are the same library")
    if not is_postgres(src) and not Path(src).is_file():  # opening it would make an empty library
        raise InvalidInput(f"library {src} does not exist")
    check_library_folder(dst)  # as `--db`: no folders made up on the way
    source = open_library(src)
    try:
        target = open_library(dst)
        try:
            return copy_library(source, target, progress=progress)
        finally:
            target.close()
    finally:
        source.close()
