"""Digests: the new papers for a profile, ranked, grouped by interest, with signed feedback links,
rendered as an HTML email, plain text, Markdown and Atom. `build_digest` and the renderers are
pure; `service` does the library and delivery I/O.
"""

from __future__ import annotations

from .atom import render_atom
from .build import Digest, DigestItem, LinkSettings, build_digest, digest_json
from .links import FeedbackClaim, feedback_url, sign_feedback, verify_feedback
from .render import render_html, render_markdown, render_text

__all__ = [
    "Digest",
    "DigestItem",
    "FeedbackClaim",
    "LinkSettings",
    "build_digest",
    "digest_json",
    "feedback_url",
    "render_atom",
    "render_html",
    "render_markdown",
    "render_text",
    "sign_feedback",
    "verify_feedback",
]
