"""The one URL sanitiser: every link a page, an email, a Markdown digest or a feed renders from
library data goes through `safe_url` first. Pure, no I/O.

Only four kinds of address survive: `http:` and `https:` URLs with a host, and `doi:` and `arxiv:`
identifiers (turned into their https resolver URLs). Everything else (`javascript:`, `data:`,
`vbscript:`, `file:`, relative paths, addresses hiding control characters or whitespace) gives
None, and the caller leaves the link out. Characters that could end an attribute or a Markdown
link (`"`, `'`, `<`, `>`, `(`, `)`, backtick) are percent-encoded in what is returned.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

SCHEMES = ("http", "https", "doi", "arxiv")
_BAD = re.compile(r"[\x00-\x20\x7f-\x9f\\]")  # controls, whitespace, C1, backslash (browsers read it as /)
_ESCAPE = {c: f"%{ord(c):02X}" for c in "\"'<>()`"}
_DOI = re.compile(r"^10\.\d{4,9}/\S+$")
_ARXIV = re.compile(r"^(\d{4}\.\d{4,5}|[a-z\-]+(\.[A-Z]{2})?/\d{7})(v\d+)?$")


def safe_url(url: object) -> str | None:
    """`url` as a link safe to render, or None when it is not an http(s), doi: or arxiv: address."""
    if not isinstance(url, str):
        return None
    url = url.strip()
    if not url or len(url) > 4096 or _BAD.search(url):
        return None
    scheme, _, rest = url.partition(":")
    scheme = scheme.lower()
    if scheme in ("http", "https"):
        return _web(url)
    if scheme == "doi":
        doi = rest.removeprefix("//")
        return _quote(f"https://doi.org/{doi}") if _DOI.match(doi) else None
    if scheme == "arxiv":
        aid = rest.removeprefix("//")
        return f"https://arxiv.org/abs/{aid}" if _ARXIV.match(aid) else None
    return None


def _web(url: str) -> str | None:
    try:
        parts = urlsplit(url)
    except ValueError:  # e.g. an invalid IPv6 host
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return _quote(url)


def _quote(url: str) -> str:
    return "".join(_ESCAPE.get(c, c) for c in url)
