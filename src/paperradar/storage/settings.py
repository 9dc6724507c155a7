"""SQL for the library's settings (migration 14, one table for what delivery_settings and
web_settings held): the signing secret, the old feedback-link secret, the access token's hash.

Does I/O (the database), through the library's connection; each write is its own transaction.
"""

from __future__ import annotations

from datetime import UTC, datetime

from .base import Library


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def get_setting(lib: Library, key: str) -> str | None:
    row = lib.conn.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
    return None if row is None else str(row[0])


def set_setting(lib: Library, key: str, value: str) -> None:
    with lib.transaction():
        lib.conn.execute(
            "INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?)"
            " ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
            (key, value, _now()),
        )


def put_setting_once(lib: Library, key: str, value: str) -> str:
    """Store `value` unless `key` has one already; returns the value in force (two processes
    making a secret at once agree on the first one stored)."""
    with lib.transaction():
        lib.conn.execute(
            "INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?) ON CONFLICT (key) DO NOTHING",
            (key, value, _now()),
        )
    return get_setting(lib, key) or value
