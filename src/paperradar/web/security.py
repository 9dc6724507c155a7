"""Access control for the web app: the access token (needed when bound beyond loopback), the
login cookie, and CSRF tokens for every state change. Pure functions over strings and a secret,
plus `load_secret`/`token_hash`/`new_token` that read and write the library's web settings.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from ..storage.sqlite import SQLiteLibrary
from ..storage.web import get_setting, set_setting

CSRF_COOKIE = "paperradar_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
AUTH_COOKIE = "paperradar_auth"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


def is_loopback(host: str) -> bool:
    return host in LOOPBACK or host.startswith("127.")


def hash_token(token: str) -> str:
    """The stored form of an access token: tokens are 192 random bits, so one SHA-256 suffices."""
    return "sha256:" + hashlib.sha256(token.encode()).hexdigest()


def token_matches(token: str, stored: str) -> bool:
    return hmac.compare_digest(hash_token(token), stored)


def new_token(lib: SQLiteLibrary) -> str:
    """Generate an access token, store only its hash, and return it (to be shown once)."""
    token = secrets.token_urlsafe(24)
    set_setting(lib, "token_hash", hash_token(token))
    return token


def token_hash(lib: SQLiteLibrary) -> str | None:
    return get_setting(lib, "token_hash")


def load_secret(lib: SQLiteLibrary) -> bytes:
    """The key that signs CSRF and login cookies, made once per library so restarts keep sessions."""
    value = get_setting(lib, "secret")
    if value is None:
        value = secrets.token_hex(32)
        set_setting(lib, "secret", value)
    return bytes.fromhex(value)


def _sign(secret: bytes, message: str) -> str:
    return hmac.new(secret, message.encode(), hashlib.sha256).hexdigest()[:32]


def new_csrf(secret: bytes) -> str:
    nonce = secrets.token_urlsafe(16)
    return f"{nonce}.{_sign(secret, 'csrf:' + nonce)}"


def csrf_valid(secret: bytes, cookie: str | None, sent: str | None) -> bool:
    """Double submit, signed: the value sent with the request equals the cookie and we made it."""
    if not cookie or not sent or not hmac.compare_digest(cookie, sent):
        return False
    nonce, _, sig = cookie.partition(".")
    return hmac.compare_digest(sig, _sign(secret, "csrf:" + nonce))


def auth_cookie(secret: bytes, stored_hash: str) -> str:
    """The login cookie's value: changes when the token does, so a new token logs everyone out."""
    return _sign(secret, "auth:" + stored_hash)
