"""Signed, expiring one-click feedback links for digests. Pure: no I/O (the secret is passed in).

A token carries the profile, the paper id, the feedback kind and an expiry time, and an HMAC-SHA256
of them under the library's link secret. A forwarded email's links work only until they expire,
only for that profile, paper and kind; anything changed in a token breaks its signature.
The web app calls `verify_feedback` before recording anything.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from urllib.parse import urlencode

from ..errors import InvalidInput
from ..models import FEEDBACK_KINDS

KINDS = FEEDBACK_KINDS
FEEDBACK_PATH = "/digest/feedback"


@dataclass(frozen=True)
class FeedbackClaim:
    profile: str
    paper: str
    kind: str
    expires: int  # Unix time


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(secret: str, body: str) -> str:
    return _b64(hmac.new(secret.encode(), b"paperradar-feedback:" + body.encode(), hashlib.sha256).digest())


def sign_feedback(secret: str, claim: FeedbackClaim) -> str:
    if claim.kind not in KINDS:
        raise InvalidInput(f"feedback must be one of {', '.join(KINDS)}, not {claim.kind!r}")
    payload = [claim.profile, claim.paper, claim.kind, claim.expires]
    body = _b64(json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode())
    return f"{body}.{_mac(secret, body)}"


def verify_feedback(token: str, secret: str, now: float) -> FeedbackClaim:
    """The claim in a token, or InvalidInput when it was altered, signed with another secret or expired."""
    body, _, mac = token.strip().partition(".")
    if not body or not mac or not hmac.compare_digest(mac.encode(), _mac(secret, body).encode()):
        raise InvalidInput("this feedback link is not valid (it was changed or comes from another library)")
    try:
        profile, paper, kind, expires = json.loads(_unb64(body))
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
