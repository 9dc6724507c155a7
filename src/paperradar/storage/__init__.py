"""Where the library lives. `open_library` picks the backend from the location: a
`postgresql://` address opens PostgreSQL (postgres.py), anything else is a SQLite file (sqlite.py).

`base.Library` is the contract both satisfy. Until the modules outside storage/ are typed against
it, `Library` here names `SQLiteLibrary`, whose subclass `PostgresLibrary` is. Does I/O.
"""

from __future__ import annotations

from pathlib import Path

from .sqlite import SQLiteLibrary

Library = SQLiteLibrary

POSTGRES_SCHEMES = ("postgresql://", "postgres://")


def is_postgres(location: str | Path) -> bool:
    return str(location).startswith(POSTGRES_SCHEMES)


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


def open_library(location: str | Path) -> Library:
    if is_postgres(location):
        from .postgres import PostgresLibrary

        return PostgresLibrary(str(location))
    return SQLiteLibrary(location)
