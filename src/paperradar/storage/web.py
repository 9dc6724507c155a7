"""Settings of the web app kept in the library (migration 7): today only the hashed access token.

Does I/O (the database), through the library's connection.
"""

from __future__ import annotations

from datetime import UTC, datetime

from .base import Library


def get_setting(lib: Library, key: str) -> str | None:
    row = lib.conn.execute("SELECT value FROM web_settings WHERE key = ?", (key,)).fetchone()
    return None if row is None else str(row[0])


def set_setting(lib: Library, key: str, value: str) -> None:
    now = datetime.now(UTC).isoformat(timespec="seconds")
    with lib.transaction():
        lib.conn.execute(
            "INSERT INTO web_settings (key, value, updated_at) VALUES (?, ?, ?)"
            " ON CONFLICT(key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
            (key, value, now),
        )
