"""Access control for the web app: the access token (needed when bound beyond loopback), the
login cookie and its rate limit, CSRF tokens for every state change, the trusted Host names (DNS
rebinding) and the security headers of every response. Pure functions over strings and a secret,
signed by the one signer (signing.py); the access token's hash is kept through accounts.py.
See docs/security.md for what each protection covers. No I/O.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections import deque
from collections.abc import Iterable

from ..signing import sign, signature, unsign

CSRF_COOKIE = "paperradar_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
AUTH_COOKIE = "paperradar_auth"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
ANY_HOST = "*"

# Strict: scripts only from our own /static/ files (no inline script, no eval), nothing framed,
# forms post only to us. Inline style attributes stay allowed (the email preview and bar charts).
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def is_loopback(host: str) -> bool:
    return host in LOOPBACK or host.startswith("127.")


def host_set(allowed: Iterable[str] | None, token_hash: str | None) -> frozenset[str]:
    """The Host names a server answers to. Default: loopback names for a server without a token
    (a DNS-rebound name is refused), any name for one with a token (the token guards it)."""
    if allowed is None:
        return frozenset({ANY_HOST}) if token_hash else LOOPBACK
    names = {a.strip().lower().strip("[]") for a in allowed if a.strip()}
    return frozenset(names | (set() if ANY_HOST in names else set(LOOPBACK)))


def host_allowed(header: str, allowed: frozenset[str]) -> bool:
    """Whether a request's Host header (`name`, `name:port`, `[v6]:port`) names this server."""
    if ANY_HOST in allowed:
        return True
    host = header.strip().lower()
    if host.startswith("["):
        host = host[1 : host.find("]")] if "]" in host else ""
    elif host.count(":") == 1:
        host = host.partition(":")[0]
    return host.rstrip(".") in allowed or (host.startswith("127.") and "127.0.0.1" in allowed)


class LoginLimiter:
    """At most `attempts` wrong tokens per client address in `window` seconds (and ten times that
    from all addresses together); past that, /login answers 429 until the window moves on."""

    def __init__(self, attempts: int = 5, window: float = 60.0):
        self.attempts, self.window = attempts, window
        self._failed: dict[str, deque[float]] = {}
        self._all: deque[float] = deque()
        self._lock = threading.Lock()

    def retry_after(self, client: str, now: float | None = None) -> int:
        """Seconds until `client` may try again (0: now)."""
        now = time.monotonic() if now is None else now
        with self._lock:
            waits = [self._wait(q, limit, now) for q, limit in self._queues(client)]
        return max(waits)

    def failed(self, client: str, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        with self._lock:
            for q, _ in self._queues(client):
                q.append(now)
            if len(self._failed) > 10_000:  # forget idle addresses; memory stays bounded
                self._failed = {k: q for k, q in self._failed.items() if q and q[-1] > now - self.window}

    def _queues(self, client: str) -> list[tuple[deque[float], int]]:
        mine = self._failed.setdefault(client, deque())
        return [(mine, self.attempts), (self._all, self.attempts * 10)]

    def _wait(self, q: deque[float], limit: int, now: float) -> int:
        while q and q[0] <= now - self.window:
            q.popleft()
        return 0 if len(q) < limit else int(q[0] + self.window - now) + 1


def hash_token(token: str) -> str:
    """The stored form of an access token: tokens are 192 random bits, so one SHA-256 suffices."""
    return "sha256:" + hashlib.sha256(token.encode()).hexdigest()


def token_matches(token: str, stored: str) -> bool:
    return hmac.compare_digest(hash_token(token), stored)


def new_csrf(secret: str) -> str:
    return sign(secret, "csrf", secrets.token_urlsafe(16))


def csrf_valid(secret: str, cookie: str | None, sent: str | None) -> bool:
    """Double submit, signed: the value sent with the request equals the cookie and we made it."""
    if not cookie or not sent or not hmac.compare_digest(cookie, sent):
        return False
    return unsign(secret, "csrf", cookie) is not None


def auth_cookie(secret: str, stored_hash: str) -> str:
    """The login cookie's value: changes when the token does, so a new token logs everyone out."""
    return signature(secret, "auth", stored_hash)
