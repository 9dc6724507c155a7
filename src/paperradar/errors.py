"""The RadarError tree. Each error knows its HTTP status and CLI exit code. No I/O.

Only these leave the library; the CLI prints `Error: <message>` (exit 1), the web app answers
`{"ok": false, "error": ..., "status": N}`:

    RadarError                 500  something failed that is not the caller's doing
    ├── InvalidInput           400  the request cannot be done as asked (also a ValueError)
    │   └── Conflict           409  what it would create exists already (a profile name)
    ├── ParseError             400  one bad spot in one source: file, line, reason
    ├── NotFound               404  no such paper, profile, topic...
    ├── BackendUnavailable     503  a service or optional dependency is missing (says how to get it)
    └── NetworkError           502  a fetch failed; nothing was changed
"""

from __future__ import annotations


class RadarError(Exception):
    http_status = 500
    exit_code = 1


class InvalidInput(RadarError, ValueError):
    """The request cannot be done as asked (a bad date, an unknown tier...). Also a ValueError, so
    the parsers that try a value and fall back (`except ValueError`) treat it as they always did."""

    http_status = 400


class Conflict(InvalidInput):
    """What the request would create exists already (a profile of that name): HTTP 409."""

    http_status = 409


class NotFound(RadarError):
    http_status = 404


class BackendUnavailable(RadarError):
    """A needed service or optional dependency is missing; the message says how to get it."""

    http_status = 503


class NetworkError(RadarError):
    """A fetch failed (offline, DNS, timeout, server error). Nothing was changed."""

    http_status = 502


class ParseError(RadarError):
    """One bad spot in one source: names the file, the 1-based line and the reason."""

    http_status = 400

    def __init__(self, source: str, line: int | None, reason: str):
        self.source = source
        self.line = line
        self.reason = reason
        where = f"{source}:{line}" if line is not None else source
        super().__init__(f"{where}: {reason}")

    def __reduce__(self) -> tuple[type[ParseError], tuple[str, int | None, str]]:
        return (type(self), (self.source, self.line, self.reason))
