"""SQL for accounts (migration 13): users, their login sessions and API tokens, and who owns each
profile. Secrets arrive here already hashed (see accounts.py); nothing in clear is stored.

Profiles are scoped by the *viewer*: the signed-in user of the web request being served, held in a
context variable that the web app sets (web/auth.py) and nobody else does. With no viewer (the CLI,
a single-user server, background work) every profile is visible. A viewer sees the profiles they
own; an admin also sees the profiles nobody owns (made before accounts, or whose owner was
removed). `storage/profiles.py` asks `hidden`/`visible_names` before handing a profile out, so
another user's profile is "not found" everywhere, and `claim` gives a new profile to its creator.

Functions take the library; writes run in their own transaction unless noted. Does I/O (the database).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from ..errors import InvalidInput, NotFound
from .base import Library
from .common import _marks


@dataclass(frozen=True)
class User:
    pk: int
    name: str
    admin: bool
    created_at: str
    last_login_at: str | None = None


@dataclass(frozen=True)
class UserSummary:
    """A user as `users list` shows them: what they own, never their secrets."""

    user: User
    profiles: int
    tokens: int
    sessions: int


VIEWER: ContextVar[User | None] = ContextVar("paperradar_viewer", default=None)

_USER_COLUMNS = "pk, name, admin, created_at, last_login_at"
_JOINED_COLUMNS = "u.pk, u.name, u.admin, u.created_at, u.last_login_at"


def _user(row: Any) -> User:
    return User(int(row["pk"]), row["name"], bool(row["admin"]), row["created_at"], row["last_login_at"])


# ---------------------------------------------------------------- users


def has_users(lib: Library) -> bool:
    return lib.conn.execute("SELECT EXISTS (SELECT 1 FROM users)").fetchone()[0] == 1


def insert_user(lib: Library, name: str, password_hash: str, admin: bool, now: str) -> User:
    with lib.transaction():
        if lib.conn.execute("SELECT 1 FROM users WHERE name = ?", (name,)).fetchone():
            raise InvalidInput(f"a user named {name!r} exists already")
        lib.conn.execute(
            "INSERT INTO users (name, password_hash, admin, created_at) VALUES (?, ?, ?, ?)",
            (name, password_hash, int(admin), now),
        )
    return get_user(lib, name)


def get_user(lib: Library, name: str) -> User:
    row = lib.conn.execute(f"SELECT {_USER_COLUMNS} FROM users WHERE name = ?", (name,)).fetchone()
    if row is None:
        raise NotFound(f"no user named {name!r} (see `paperradar users list`)")
    return _user(row)


def password_hash(lib: Library, name: str) -> tuple[User, str] | None:
    """The user and their stored password hash (None: no such user)."""
    q = f"SELECT {_USER_COLUMNS}, password_hash FROM users WHERE name = ?"
    row = lib.conn.execute(q, (name,)).fetchone()
    return None if row is None else (_user(row), str(row["password_hash"]))


def set_password_hash(lib: Library, user_pk: int, value: str) -> None:
    """Store a new hash (a rehash with stronger parameters, or a new password)."""
    with lib.transaction():
        lib.conn.execute("UPDATE users SET password_hash = ? WHERE pk = ?", (value, user_pk))


def record_login(lib: Library, user_pk: int, now: str) -> None:
    with lib.transaction():
        lib.conn.execute("UPDATE users SET last_login_at = ? WHERE pk = ?", (now, user_pk))
        lib.conn.execute("DELETE FROM user_sessions WHERE expires_at <= ?", (now,))


def delete_user(lib: Library, name: str) -> User:
    """Remove a user with their sessions and tokens; their profiles stay, owned by nobody."""
    user = get_user(lib, name)
    with lib.transaction():
        lib.conn.execute("DELETE FROM users WHERE pk = ?", (user.pk,))
    return user


def list_users(lib: Library) -> list[UserSummary]:
    q = f"""SELECT {_USER_COLUMNS},
              (SELECT count(*) FROM profiles p WHERE p.user_pk = u.pk) AS profiles,
              (SELECT count(*) FROM user_tokens t WHERE t.user_pk = u.pk) AS tokens,
              (SELECT count(*) FROM user_sessions s WHERE s.user_pk = u.pk) AS sessions
            FROM users u ORDER BY name COLLATE NOCASE"""
    return [
        UserSummary(_user(r), int(r["profiles"]), int(r["tokens"]), int(r["sessions"]))
        for r in lib.conn.execute(q)
    ]


# ---------------------------------------------------------------- sessions and API tokens


def insert_session(lib: Library, user_pk: int, token_hash: str, now: str, expires: str) -> None:
    with lib.transaction():
        lib.conn.execute(
            "INSERT INTO user_sessions (token_hash, user_pk, created_at, expires_at) VALUES (?, ?, ?, ?)",
            (token_hash, user_pk, now, expires),
        )


def session_user(lib: Library, token_hash: str, now: str) -> User | None:
    """The user of an unexpired session (None: unknown, expired, or its user was removed)."""
    q = f"""SELECT {_JOINED_COLUMNS}
            FROM user_sessions s JOIN users u ON u.pk = s.user_pk
            WHERE s.token_hash = ? AND s.expires_at > ?"""
    row = lib.conn.execute(q, (token_hash, now)).fetchone()
    return None if row is None else _user(row)


def delete_session(lib: Library, token_hash: str) -> None:
    with lib.transaction():
        lib.conn.execute("DELETE FROM user_sessions WHERE token_hash = ?", (token_hash,))


def delete_sessions_of(lib: Library, user_pk: int) -> None:
    with lib.transaction():
        lib.conn.execute("DELETE FROM user_sessions WHERE user_pk = ?", (user_pk,))


def insert_token(lib: Library, user_pk: int, token_hash: str, label: str, now: str) -> None:
    with lib.transaction():
        lib.conn.execute(
            "INSERT INTO user_tokens (token_hash, user_pk, label, created_at) VALUES (?, ?, ?, ?)",
            (token_hash, user_pk, label, now),
        )


def token_user(lib: Library, token_hash: str) -> User | None:
    q = f"""SELECT {_JOINED_COLUMNS}
            FROM user_tokens t JOIN users u ON u.pk = t.user_pk WHERE t.token_hash = ?"""
    row = lib.conn.execute(q, (token_hash,)).fetchone()
    return None if row is None else _user(row)


def delete_tokens_of(lib: Library, user_pk: int) -> int:
    with lib.transaction():
        return lib.conn.execute("DELETE FROM user_tokens WHERE user_pk = ?", (user_pk,)).rowcount


# ---------------------------------------------------------------- profile ownership


@contextmanager
def viewing_as(user: User | None) -> Iterator[None]:
    """Scope every profile lookup in this context (and threads started with its copy) to `user`."""
    token = VIEWER.set(user)
    try:
        yield
    finally:
        VIEWER.reset(token)


def hidden(lib: Library, profile_pk: int) -> bool:
    """Whether the current viewer may not see this profile (it is then "not found")."""
    viewer = VIEWER.get()
    if viewer is None:
        return False
    row = lib.conn.execute("SELECT user_pk FROM profiles WHERE pk = ?", (profile_pk,)).fetchone()
    return row is None or not _may_see(viewer, row[0])


def _may_see(viewer: User, owner_pk: int | None) -> bool:
    return owner_pk == viewer.pk or (owner_pk is None and viewer.admin)


def visible_names(lib: Library, names: list[str]) -> list[str]:
    """`names` (of profiles) less those the current viewer may not see, in the same order."""
    viewer = VIEWER.get()
    if viewer is None or not names:
        return names
    owners: dict[str, int | None] = {}
    for start in range(0, len(names), 500):
        chunk = names[start : start + 500]
        q = f"SELECT name, user_pk FROM profiles WHERE name IN ({_marks(chunk)})"
        owners.update((r[0], r[1]) for r in lib.conn.execute(q, chunk))
    return [n for n in names if n in owners and _may_see(viewer, owners[n])]


def claim(lib: Library, profile_pk: int) -> None:
    """Give a new profile to the current viewer (no viewer: it stays unowned). Inside the
    caller's transaction."""
    viewer = VIEWER.get()
    if viewer is not None:
        lib.conn.execute("UPDATE profiles SET user_pk = ? WHERE pk = ?", (viewer.pk, profile_pk))


def set_owner(lib: Library, profile_name: str, user_pk: int | None) -> None:
    """Give a profile to a user (None: to nobody, i.e. to the admins)."""
    with lib.transaction():
        cur = lib.conn.execute("UPDATE profiles SET user_pk = ? WHERE name = ?", (user_pk, profile_name))
        if cur.rowcount == 0:
            raise NotFound(f"no profile named {profile_name!r} (see `paperradar profile list`)")


def owned_profiles(lib: Library, user_pk: int) -> list[str]:
    q = "SELECT name FROM profiles WHERE user_pk = ? ORDER BY name COLLATE NOCASE"
    return [r[0] for r in lib.conn.execute(q, (user_pk,))]
