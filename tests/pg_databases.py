"""Databases of the PostgreSQL tests: one migrated template per test session, and a copy of it
per test (CREATE DATABASE ... TEMPLATE: ~0.1 s), dropped after. Names carry the process id, so
several test runs share one PostgreSQL server safely. Does I/O (PostgreSQL)."""

from __future__ import annotations

import itertools
import os
from urllib.parse import urlsplit, urlunsplit

import psycopg

_COUNTER = itertools.count()


def with_database(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path="/" + name))


def make_template(url: str) -> str:
    """Create and migrate this session's template database; returns its name."""
    from paperradar.storage.pg_migrations import migrate

    name = f"paperradar_tmpl_{os.getpid()}"
    _admin(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    _admin(url, f'CREATE DATABASE "{name}"')
    with psycopg.connect(with_database(url, name), autocommit=True) as conn:
        migrate(conn)
    return name


def copy_database(url: str, template: str) -> tuple[str, str]:
    """A fresh copy of the template: (its name, its address)."""
    name = f"paperradar_t_{os.getpid()}_{next(_COUNTER)}"
    _admin(url, f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    return name, with_database(url, name)


def drop_database(url: str, name: str) -> None:
    """Drop a test database. FORCE ends our own leftover connections, but may not end an
    autovacuum worker (another role's process: "must be a member of the role"); a plain DROP
    then ends the worker itself."""
    from paperradar.storage.postgres import close_pool

    close_pool(with_database(url, name))
    try:
        _admin(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    except psycopg.errors.InsufficientPrivilege:
        _admin(url, f'DROP DATABASE IF EXISTS "{name}"')


def _admin(url: str, sql: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql)  # type: ignore[arg-type]
