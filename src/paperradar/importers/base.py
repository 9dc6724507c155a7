"""The importer contract and the line reader every text importer uses.

An importer is a module with:
    NAME: str                                   e.g. "bibtex"
    detect(head: str, name: str) -> int         0 = not mine; higher = more sure (100 = certain)
    parse(source: Source) -> Iterator[Record | ParseError]

Parsers are pure: they read only from `source` and never touch the network or the library.
A bad record is *yielded* as a ParseError (never raised), so its valid neighbours are kept.

`Source` does the only I/O here: it reads a file (or in-memory text) as lines, streaming,
turning undecodable and absurdly long lines into ParseErrors instead of crashing. Text is UTF-8
unless the first 64 KB are not: then charset-normalizer names the encoding (Latin-1, Windows-1252,
GBK, Shift-JIS...), as `encoding_of` decides. Its `Limits`
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
    _encoding: str | None = field(default=None, repr=False)
    limits: Limits = LIMITS
    # when the import command began: every record it stores gets this import time, so which of two
    # equally ranked records gives a field never depends on the second a chunk happened to be parsed
    stamp: str | None = None

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

    @property
    def encoding(self) -> str:
        """The text encoding of this source (see `encoding_of`), found once from its head."""
        if self._encoding is None:
            self._encoding = encoding_of(self.head())
        return self._encoding

    def lines(self) -> Iterator[tuple[int, str]]:
        """Yield (1-based line number, text without the newline).

        Lines that cannot be decoded, or longer than MAX_LINE_BYTES, are skipped and
        recorded in `self.issues` with their line number.
        """
        longest, most = self.limits.line_bytes, self.limits.lines
        encoding = self.encoding
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
                    text = raw.decode(encoding)
                except UnicodeDecodeError as e:
                    name = "UTF-8" if encoding == "utf-8" else encoding
                    self.issues.append(
                        ParseError(self.path, lineno, f"invalid {name} at byte {e.start}; line skipped")
                    )
                    continue
                if lineno == 1:
                    text = text.removeprefix("\ufeff")
                yield lineno, text.rstrip("\r\n")

    def text(self) -> str:
        """The whole source as text, invalid lines dropped (and recorded in issues)."""
        return "\n".join(t for _, t in self.lines())


def encoding_of(head: bytes) -> str:
    """The text encoding of a source, from its head: UTF-8 when the head is UTF-8 (a character cut
    by the end of the head is allowed; one broken byte, or a few among more good UTF-8 characters,
    too: those lines are reported); else Windows-1252 for Western European text; else the
    encoding charset-normalizer finds most likely (GBK, Shift-JIS, Windows-1251...)."""
    try:
        head.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as e:
        if e.start >= len(head) - 3 and e.reason == "unexpected end of data":
            return "utf-8"
    text = head.decode("utf-8", errors="replace")
    damaged = text.count("\ufffd")
    if damaged < 2 or sum(1 for ch in text if ord(ch) > 127) - damaged > damaged:
        return "utf-8"  # UTF-8 with a stray broken byte or two: those lines are reported, the rest read
    if _western(head):
        return "cp1252"
    from charset_normalizer import from_bytes

    best = from_bytes(head).best()
    return best.encoding if best is not None else "utf-8"


def _western(data: bytes) -> bool:
    """Windows-1252 (a superset of Latin-1's letters) reads `data`, and accented letters are the
    exception among its letters, as in Western European text. (Cyrillic, Greek or CJK bytes read
    that way give words made of accented letters only; those go to charset-normalizer, which
    cannot tell short Western texts apart but knows the others.)"""
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError:
        return False
    letters = [ch for ch in text if ch.isalpha()]
    accented = sum(1 for ch in letters if ord(ch) > 127)
    return accented <= 0.3 * len(letters)


def _skip_rest_of_line(f: BinaryIO) -> int:
    skipped = 0
    while True:
        chunk = f.readline(_CHUNK)
        skipped += len(chunk)
        if not chunk or chunk.endswith(b"\n"):
            return skipped
