"""The RadarError tree. Each error knows its HTTP status and CLI exit code. No I/O."""

from __future__ import annotations


class RadarError(Exception):
    http_status = 500
    exit_code = 1


class InvalidInput(RadarError):
    http_status = 400


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

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (type(self), (self.source, self.line, self.reason))
