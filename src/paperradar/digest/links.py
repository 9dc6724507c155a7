"""Signed, expiring one-click feedback links for digests. Pure: no I/O (the secrets are passed in).

A token carries the profile, the paper id, the feedback kind and an expiry time, signed by the one
signer (signing.py, itsdangerous) under the library's secret. A forwarded email's links work only
until they expire, only for that profile, paper and kind; anything changed in a token breaks its
signature. Links emailed before migration 14 carry the old format (base64 JSON, a dot, an
HMAC-SHA256 under the old link secret); `verify_feedback` still accepts those when given that
secret. The web app calls `verify_feedback` before recording anything.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlencode

from ..errors import InvalidInput
from ..models import FEEDBACK_KINDS
from ..signing import dumps, loads

KINDS = FEEDBACK_KINDS
FEEDBACK_PATH = "/digest/feedback"
PURPOSE = "feedback"


@dataclass(frozen=True)
class FeedbackClaim:
    profile: str
    paper: str
    kind: str
    expires: int  # Unix time


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _old_mac(secret: str, body: str) -> str:
    """The signature of a link made before migration 14 (kept only to verify those)."""
    mac = hmac.new(secret.encode(), b"paperradar-feedback:" + body.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


def sign_feedback(secret: str, claim: FeedbackClaim) -> str:
    if claim.kind not in KINDS:
        raise InvalidInput(f"feedback must be one of {', '.join(KINDS)}, not {claim.kind!r}")
    return dumps(secret, PURPOSE, [claim.profile, claim.paper, claim.kind, claim.expires])


def _old_payload(token: str, secret: str) -> object | None:
    body, _, mac = token.partition(".")
    if not body or not mac or not hmac.compare_digest(mac.encode(), _old_mac(secret, body).encode()):
        return None
    try:
        return json.loads(_unb64(body))
    except ValueError:
        return None


def verify_feedback(token: str, secret: str, now: float, old_secrets: Sequence[str] = ()) -> FeedbackClaim:
    """The claim in a token, or InvalidInput when it was altered, signed with another secret or
    expired. A link in the old format is checked against `old_secrets`."""
    token = token.strip()
    payload = loads(secret, PURPOSE, token)
    for old in old_secrets:
        payload = payload if payload is not None else _old_payload(token, old)
    if payload is None:
        raise InvalidInput("this feedback link is not valid (it was changed or comes from another library)")
    try:
        profile, paper, kind, expires = payload  # type: ignore[misc]
        claim = FeedbackClaim(str(profile), str(paper), str(kind), int(expires))
    except (ValueError, TypeError) as e:
        raise InvalidInput("this feedback link is not valid") from e
    if claim.kind not in KINDS:
        raise InvalidInput("this feedback link is not valid")
    if now > claim.expires:
        raise InvalidInput("this feedback link has expired; give feedback in the app instead")
    return claim


def feedback_url(base_url: str, secret: str, claim: FeedbackClaim) -> str:
    return f"{base_url.rstrip('/')}{FEEDBACK_PATH}?{urlencode({'t': sign_feedback(secret, claim)})}"
