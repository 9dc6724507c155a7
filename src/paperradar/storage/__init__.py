"""Where the library lives. `open_library` picks the backend from the location.

The SQLite backend (`sqlite.py`) is the default; a PostgreSQL backend will implement the same
methods (see `SQLiteLibrary` for the contract). Does I/O.
"""

from __future__ import annotations

from pathlib import Path

from .sqlite import SQLiteLibrary

Library = SQLiteLibrary


def open_library(location: str | Path) -> Library:
    return SQLiteLibrary(location)
