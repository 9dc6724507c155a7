"""Where the library lives. `open_library` picks the backend from the location: a
`postgresql://` address opens PostgreSQL (postgres.py), anything else is a SQLite file (sqlite.py).

`Library` (base.py) is the contract both satisfy, and the typed rows of its papers repository
(rows.py) are re-exported here; everything outside storage/ is typed against them, never against a
backend class, and holds no SQL (tests/test_storage_seam.py). Does I/O.
"""

from __future__ import annotations

from pathlib import Path

from .base import Library, VectorSource
from .queries import VectorReader
from .rows import ImportLog, MatchRow, NewRecord, PaperRow, PaperValues, RecordRow
from .sqlite import SQLiteLibrary

__all__ = [
    "ImportLog",
    "Library",
    "MatchRow",
    "NewRecord",
    "PaperRow",
    "PaperValues",
    "RecordRow",
    "is_postgres",
    "open_library",
    "open_vector_reader",
    "side_path",
    "without_password",
]

POSTGRES_SCHEMES = ("postgresql://", "postgres://")


def is_postgres(location: str | Path) -> bool:
    return str(location).startswith(POSTGRES_SCHEMES)


def without_password(location: str | Path) -> str:
    """A library's location as messages, logs and pages show it: a `postgresql://` address
    without its password, a file path as it is."""
    from urllib.parse import urlsplit, urlunsplit

    text = str(location)
    parts = urlsplit(text) if is_postgres(text) else None
    if parts is None or not parts.password:
        return text
    return urlunsplit(parts._replace(netloc=parts.netloc.replace(":" + parts.password + "@", ":***@")))


def side_path(location: str, suffix: str) -> Path | None:
    """Where files kept beside a library live (`.ann` index, `.features` cache): next to a SQLite
    file; for PostgreSQL, in the data folder under the server, port and database (no password);
    None for an in-memory library."""
    if location == ":memory:":
        return None
    if not is_postgres(location):
        return Path(location + suffix)
    from urllib.parse import urlsplit

    from ..config import data_dir

    u = urlsplit(location)
    name = f"{u.hostname or 'local'}-{u.port or 5432}-{u.path.strip('/') or 'postgres'}"
    folder = data_dir() / "postgresql"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / (name + suffix)


def open_vector_reader(location: str) -> VectorSource:
    """A connection of its own for reading vectors (an ANN index keeps one for rescoring)."""
    if is_postgres(location):
        return open_library(location)
    return VectorReader(location)


def open_library(location: str | Path) -> Library:
    if is_postgres(location):
        from .postgres import PostgresLibrary

        return PostgresLibrary(str(location))
    return SQLiteLibrary(location)
