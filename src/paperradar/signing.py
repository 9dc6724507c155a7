"""The one signer (issue 18): digest feedback links, the web's CSRF tokens and its login cookie are
all signed by itsdangerous (HMAC-SHA256) under one secret per library, each use with its own salt
(`purpose`), so a value signed for one use is refused by every other.

The secret is the link_secret setting (`PAPERRADAR_LINK_SECRET`) when the caller hands it in
(`configured`: the edges read settings once and pass it down), else one made once and kept in the library's
settings (`library_secret`: SQL). The secret that signed feedback links before migration 14 is
kept too (`old_link_secrets`), so links already emailed keep working (digest/links.py). The
sign/verify functions are pure.
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

from itsdangerous import BadSignature, Signer, URLSafeSerializer

from .storage import Library
from .storage import settings as store

SECRET_KEY = "secret"  # the library's one signing secret
OLD_LINK_SECRET_KEY = "link_secret"  # signed feedback links before migration 14; only verifies now


def library_secret(lib: Library, configured: str | None = None) -> str:
    """The secret everything is signed with: `configured` (the link_secret setting, handed in by
    the caller), else the library's own (made on first use; two processes agree on one)."""
    if configured:
        return configured
    value = store.get_setting(lib, SECRET_KEY)
    return value or store.put_setting_once(lib, SECRET_KEY, secrets.token_hex(32))


def old_link_secrets(lib: Library, configured: str | None = None) -> tuple[str, ...]:
    """Secrets that signed feedback links in the old format (`configured`: the link_secret setting
    handed in by the caller; the stored one)."""
    values = (configured, store.get_setting(lib, OLD_LINK_SECRET_KEY))
    return tuple(str(v) for v in values if v)


def _signer(secret: str, purpose: str) -> Signer:
    return Signer(secret, salt=f"paperradar-{purpose}", digest_method=hashlib.sha256)


def _serializer(secret: str, purpose: str) -> URLSafeSerializer:
    kwargs = {"digest_method": hashlib.sha256}
    return URLSafeSerializer(secret, salt=f"paperradar-{purpose}", signer_kwargs=kwargs)


def sign(secret: str, purpose: str, value: str) -> str:
    """`value` with its signature appended (`value.signature`)."""
    return _signer(secret, purpose).sign(value).decode()


def unsign(secret: str, purpose: str, signed: str) -> str | None:
    """The value of a `sign`ed string, or None when it was altered or signed for another purpose."""
    try:
        return _signer(secret, purpose).unsign(signed).decode()
    except (BadSignature, UnicodeError):
        return None


def signature(secret: str, purpose: str, value: str) -> str:
    """Only the signature of `value` (a cookie that must change when `value` does)."""
    return _signer(secret, purpose).get_signature(value).decode()


def dumps(secret: str, purpose: str, obj: Any) -> str:
    """A URL-safe signed token carrying `obj` (JSON)."""
    return str(_serializer(secret, purpose).dumps(obj))


def loads(secret: str, purpose: str, token: str) -> Any | None:
    """What a `dumps` token carries, or None when it was altered, or signed elsewhere or otherwise."""
    try:
        return _serializer(secret, purpose).loads(token)
    except (BadSignature, UnicodeError, ValueError):
        return None
