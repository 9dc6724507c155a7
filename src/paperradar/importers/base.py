"""The importer contract and the line reader every text importer uses.

An importer is a module with:
    NAME: str                                   e.g. "bibtex"
    detect(head: str, name: str) -> int         0 = not mine; higher = more sure (100 = certain)
    parse(source: Source) -> Iterator[Record | ParseError]

Parsers are pure: they read only from `source` and never touch the network or the library.
A bad record is *yielded* as a ParseError (never raised), so its valid neighbours are kept.

`Source` does the only I/O here: it reads a file (or in-memory text) as lines, streaming,
turning invalid UTF-8 and absurdly long lines into ParseErrors instead of crashing. Its `Limits`
bound what a hostile file can cost: the expanded size and compression ratio of gzip/xz data
(checked as bytes come out of the decompressor), the line count and the line length. Past a
limit it raises ParseError(path, line, reason) and reads no further.
"""

from __future__ import annotations

import gzip
import io
import lzma
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from ..errors import ParseError

MAX_LINE_BYTES = 8 * 1024 * 1024  # a line longer than this is reported, not loaded
_CHUNK = 1024 * 1024
_RATIO_AFTER = 512 * 1024  # the ratio is checked once this much has come out of the decompressor
_SIP = 2048  # compressed bytes handed to the decompressor per read, so the ratio is measured closely


@dataclass(frozen=True)
class Limits:
    """What one source may cost to read. `ratio` bounds expanded / compressed bytes (real text
    compresses 3-15 times; a gzip of newlines, 1000 times)."""

    expanded_bytes: int = 64 * 1024**3
    lines: int = 200_000_000
    line_bytes: int = MAX_LINE_BYTES
    ratio: int = 200


LIMITS = Limits()  # files named on the command line
UPLOAD_LIMITS = Limits(expanded_bytes=512 * 1024**2, lines=2_000_000, ratio=100)  # web uploads


class _Sipped(io.RawIOBase):
    """The compressed input, handed out a little at a time and counted."""

    def __init__(self, raw: BinaryIO):
        self.raw = raw
        self.taken = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        got = self.raw.read(_SIP if size < 0 else min(size, _SIP))
        self.taken += len(got)
        return got

    def close(self) -> None:
        self.raw.close()
        super().close()


class _Bounded(io.RawIOBase):
    """A decompressed stream that counts what comes out and stops past the source's limits."""

    def __init__(self, inner: BinaryIO, raw: _Sipped, path: str, limits: Limits):
        self.inner, self.raw, self.path, self.limits = inner, raw, path, limits
        self.out = 0
        self.newlines = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        got = self.inner.read1(len(buffer))  # type: ignore[attr-defined]  # one step: a cut loses nothing before it
        n = len(got)
        buffer[:n] = got
        self.out += n
        self.newlines += got.count(b"\n")
        self._check()
        return n

    def _check(self) -> None:
        lim, line = self.limits, self.newlines + 1
        if self.out > lim.expanded_bytes:
            mb = lim.expanded_bytes // 1024**2
            raise ParseError(self.path, line, f"expands to over {mb:,} MB; not read further")
        if self.out > _RATIO_AFTER and self.out > lim.ratio * max(self.raw.taken, 1):
            raise ParseError(
                self.path,
                line,
                f"compressed data expands over {lim.ratio} times (a decompression bomb?); not read further",
            )

    def close(self) -> None:
        if not self.closed:
            self.inner.close()
            self.raw.close()
        super().close()


@dataclass
class Source:
    """A named byte stream. `path` is what reports show (a file path, URL, or '<pasted>')."""

    path: str
    file: Path | None = None
    data: bytes | None = None
    issues: list[ParseError] = field(default_factory=list)
    limits: Limits = LIMITS

    @classmethod
    def from_file(cls, path: str | Path) -> Source:
        p = Path(path)
        return cls(path=str(p), file=p)

    @classmethod
    def from_text(cls, text: str, name: str = "<pasted>") -> Source:
        return cls(path=name, data=text.encode("utf-8"))

    @classmethod
    def from_bytes(cls, data: bytes, name: str, limits: Limits = LIMITS) -> Source:
        return cls(path=name, data=data, limits=limits)

    def open_binary(self) -> BinaryIO:
        """The decoded byte stream: gzip and xz are decompressed transparently (by magic bytes),
        streaming, and bounded by `limits` (ParseError past them)."""
        raw: BinaryIO = io.BytesIO(self.data) if self.data is not None else self._open_file()
        magic = raw.read(6)
        raw.seek(0)
        if not magic.startswith((b"\x1f\x8b", b"\xfd7zXZ")):
            return raw
        sipped = _Sipped(raw)
        inner: BinaryIO
        if magic.startswith(b"\x1f\x8b"):
            inner = gzip.GzipFile(fileobj=sipped, mode="rb")  # type: ignore[assignment]
        else:
            inner = lzma.LZMAFile(sipped, mode="rb")  # type: ignore[assignment,arg-type]  # noqa: SIM115
        bounded = _Bounded(inner, sipped, self.path, self.limits)
        return io.BufferedReader(bounded, 64 * 1024)  # type: ignore[return-value]

    def _open_file(self) -> BinaryIO:
        assert self.file is not None
        return self.file.open("rb")

    def head(self, size: int = 64 * 1024) -> bytes:
        got = b""
        try:
            with self.open_binary() as f:
                while len(got) < size and (piece := f.read(min(8192, size - len(got)))):
                    got += piece
        except (OSError, EOFError, lzma.LZMAError) as e:
            if not got:  # a cut-off file still shows its beginning; the parser reports the cut
                raise ParseError(self.path, None, f"cannot read: {e}") from e
        return got

    def lines(self) -> Iterator[tuple[int, str]]:
        """Yield (1-based line number, text without the newline).

        Lines that are not valid UTF-8, or longer than MAX_LINE_BYTES, are skipped and
        recorded in `self.issues` with their line number.
        """
        longest, most = self.limits.line_bytes, self.limits.lines
        with self.open_binary() as f:
            lineno = 0
            while True:
                raw = f.readline(longest + 1)
                if not raw:
                    return
                lineno += 1
                if lineno > most:
                    raise ParseError(self.path, lineno, f"more than {most:,} lines; not read further")
                if len(raw) > longest and not raw.endswith(b"\n"):
                    skipped = _skip_rest_of_line(f) + len(raw)
                    mb, limit = skipped / 1024 / 1024, longest / 1024 / 1024
                    self.issues.append(
                        ParseError(
                            self.path, lineno, f"line is {mb:.0f} MB, over the {limit:g} MB limit; skipped"
                        )
                    )
                    continue
                try:
                    text = raw.decode("utf-8")
                except UnicodeDecodeError as e:
                    self.issues.append(
                        ParseError(self.path, lineno, f"invalid UTF-8 at byte {e.start}; line skipped")
                    )
                    continue
                if lineno == 1:
                    text = text.removeprefix("\ufeff")
                yield lineno, text.rstrip("\r\n")

    def text(self) -> str:
        """The whole source as text, invalid lines dropped (and recorded in issues)."""
        return "\n".join(t for _, t in self.lines())


def _skip_rest_of_line(f: BinaryIO) -> int:
    skipped = 0
    while True:
        chunk = f.readline(_CHUNK)
        skipped += len(chunk)
        if not chunk or chunk.endswith(b"\n"):
            return skipped
