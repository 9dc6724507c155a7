"""Accounts on a team server: adding and removing users, checking passwords, API tokens and login
sessions, who owns which profile, and the single-user server's access token. The CLI
(`paperradar users`, `serve`) and the web app (web/auth.py, app.py) both call these.

Passwords are hashed with argon2id (argon2-cffi's defaults) and never stored or logged in clear;
API tokens and session cookies are 256 random bits, stored only as their SHA-256 (a fast hash is
enough for a secret nobody chose). Does I/O through the library (storage/users.py, settings.py).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import UTC, datetime, timedelta
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from .errors import InvalidInput
from .storage import Library, settings
from .storage import users as store
from .storage.users import User, UserSummary, has_users, viewing_as

__all__ = [
    "User",
    "UserSummary",
    "access_token_hash",
    "add_user",
    "check_password",
    "end_session",
    "give_profiles",
    "has_users",
    "list_users",
    "new_access_token",
    "new_api_token",
    "owned_profiles",
    "remove_user",
    "revoke_tokens",
    "session_user",
    "set_password",
    "start_session",
    "summary_json",
    "token_user",
    "viewing_as",
]

SESSION_DAYS = 30
MIN_PASSWORD = 8
MAX_PASSWORD = 1000  # argon2 takes any length; a cap keeps a login form from being a CPU sink
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")
TOKEN_PREFIX = "prt_"  # API tokens are recognisable in logs and secret scanners
ACCESS_TOKEN_KEY = "token_hash"  # the library setting holding the access token's hash

_hasher = PasswordHasher()


@cache
def _dummy_hash() -> str:
    """Verified against when a name is unknown, so a wrong name takes as long as a wrong password."""
    return _hasher.hash(secrets.token_urlsafe(16))


def _now() -> datetime:
    return datetime.now(UTC)


def _iso(when: datetime) -> str:
    return when.isoformat(timespec="seconds")


def _digest(secret: str) -> str:
    return "sha256:" + hashlib.sha256(secret.encode()).hexdigest()


def check_name(name: str) -> str:
    if not NAME.match(name):
        raise InvalidInput(f"bad user name {name!r}: 1-64 letters, digits, '.', '_', '@' or '-'")
    return name


def check_new_password(password: str) -> str:
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise InvalidInput(f"a password has {MIN_PASSWORD} to {MAX_PASSWORD} characters")
    return password


def add_user(lib: Library, name: str, password: str, *, admin: bool = False) -> User:
    """A new user (InvalidInput when the name is taken or the password too short)."""
    hashed = _hasher.hash(check_new_password(password))
    return store.insert_user(lib, check_name(name), hashed, admin, _iso(_now()))


def set_password(lib: Library, name: str, password: str) -> User:
    """Give the user a new password; their open sessions end (API tokens stay)."""
    user = store.get_user(lib, name)
    store.set_password_hash(lib, user.pk, _hasher.hash(check_new_password(password)))
    store.delete_sessions_of(lib, user.pk)
    return user


def remove_user(lib: Library, name: str) -> User:
    """Remove a user, their sessions and tokens; their profiles stay, owned by nobody (admins')."""
    return store.delete_user(lib, name)


def list_users(lib: Library) -> list[UserSummary]:
    return store.list_users(lib)


def summary_json(s: UserSummary) -> dict[str, object]:
    """A user as `users list --json` and `GET /api/users` show them: never a secret."""
    u = s.user
    return {
        "name": u.name,
        "admin": u.admin,
        "created_at": u.created_at,
        "last_login_at": u.last_login_at,
        "profiles": s.profiles,
        "tokens": s.tokens,
        "sessions": s.sessions,
    }


def check_password(lib: Library, name: str, password: str) -> User | None:
    """The user when `password` is theirs, else None (an unknown name and a wrong password look
    and take the same). A hash made with weaker parameters than today's is replaced."""
    found = store.password_hash(lib, name) if len(password) <= MAX_PASSWORD else None
    try:
        _hasher.verify(found[1] if found else _dummy_hash(), password[:MAX_PASSWORD])
    except (VerificationError, InvalidHashError):
        return None
    if found is None:
        return None
    user, stored = found
    if _hasher.check_needs_rehash(stored):
        store.set_password_hash(lib, user.pk, _hasher.hash(password))
    return user


def new_api_token(lib: Library, name: str, label: str = "") -> str:
    """A new API token for the user (shown once: only its hash is kept)."""
    user = store.get_user(lib, name)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    store.insert_token(lib, user.pk, _digest(token), label[:100], _iso(_now()))
    return token


def revoke_tokens(lib: Library, name: str) -> int:
    """Delete every API token of the user; returns how many there were."""
    return store.delete_tokens_of(lib, store.get_user(lib, name).pk)


def token_user(lib: Library, token: str) -> User | None:
    return store.token_user(lib, _digest(token)) if token.startswith(TOKEN_PREFIX) else None


def start_session(lib: Library, user: User) -> str:
    """A new login session for `user`: the cookie value (only its hash is kept)."""
    token = secrets.token_urlsafe(32)
    now = _now()
    store.record_login(lib, user.pk, _iso(now))
    store.insert_session(lib, user.pk, _digest(token), _iso(now), _iso(now + timedelta(days=SESSION_DAYS)))
    return token


def session_user(lib: Library, token: str) -> User | None:
    return store.session_user(lib, _digest(token), _iso(_now())) if token else None


def end_session(lib: Library, token: str) -> None:
    if token:
        store.delete_session(lib, _digest(token))


# ---------------------------------------------------------------- profile owners


def owned_profiles(lib: Library, name: str) -> list[str]:
    """The names of the profiles the user owns (NotFound: no such user)."""
    return store.owned_profiles(lib, store.get_user(lib, name).pk)


def give_profiles(lib: Library, name: str | None, profiles: list[str]) -> None:
    """Give profiles to the user `name` (None: to nobody, i.e. to the admins)."""
    owner = None if name is None else store.get_user(lib, name).pk
    for profile in profiles:
        store.set_owner(lib, profile, owner)


# ---------------------------------------------------------------- the single-user server's access token


def new_access_token(lib: Library) -> str:
    """A new access token for `paperradar serve` beyond loopback: returned once, only its hash kept
    (the hash web/security.token_matches compares with)."""
    token = secrets.token_urlsafe(24)
    settings.set_setting(lib, ACCESS_TOKEN_KEY, _digest(token))
    return token


def access_token_hash(lib: Library) -> str | None:
    return settings.get_setting(lib, ACCESS_TOKEN_KEY)
