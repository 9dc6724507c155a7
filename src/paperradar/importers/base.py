"""The importer contract and the line reader every text importer uses.

An importer is a module with:
    NAME: str                                   e.g. "bibtex"
    detect(head: str, name: str) -> int         0 = not mine; higher = more sure (100 = certain)
    parse(source: Source) -> Iterator[Record | ParseError]

Parsers are pure: they read only from `source` and never touch the network or the library.
A bad record is *yielded* as a ParseError (never raised), so its valid neighbours are kept.

`Source` does the only I/O here: it reads a file (or in-memory text) as lines, streaming,
turning invalid UTF-8 and absurdly long lines into ParseErrors instead of crashing.
"""

from __future__ import annotations

import gzip
import io
import lzma
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from ..errors import ParseError

MAX_LINE_BYTES = 8 * 1024 * 1024  # a line longer than this is reported, not loaded
_CHUNK = 1024 * 1024


@dataclass
class Source:
    """A named byte stream. `path` is what reports show (a file path, URL, or '<pasted>')."""

    path: str
    file: Path | None = None
    data: bytes | None = None
    issues: list[ParseError] = field(default_factory=list)

    @classmethod
    def from_file(cls, path: str | Path) -> Source:
        p = Path(path)
        return cls(path=str(p), file=p)

    @classmethod
    def from_text(cls, text: str, name: str = "<pasted>") -> Source:
        return cls(path=name, data=text.encode("utf-8"))

    @classmethod
    def from_bytes(cls, data: bytes, name: str) -> Source:
        return cls(path=name, data=data)

    def open_binary(self) -> BinaryIO:
        """The decoded byte stream: gzip and xz are decompressed transparently (by magic bytes)."""
        raw: BinaryIO = io.BytesIO(self.data) if self.data is not None else self._open_file()
        magic = raw.read(6)
        raw.seek(0)
        if magic.startswith(b"\x1f\x8b"):
            return gzip.GzipFile(fileobj=raw, mode="rb")  # type: ignore[return-value]
        if magic.startswith(b"\xfd7zXZ"):
            return lzma.LZMAFile(raw, mode="rb")  # type: ignore[return-value]
        return raw

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
        with self.open_binary() as f:
            lineno = 0
            while True:
                raw = f.readline(MAX_LINE_BYTES + 1)
                if not raw:
                    return
                lineno += 1
                if len(raw) > MAX_LINE_BYTES and not raw.endswith(b"\n"):
                    skipped = _skip_rest_of_line(f) + len(raw)
                    mb = skipped / 1024 / 1024
                    self.issues.append(
                        ParseError(self.path, lineno, f"line is {mb:.0f} MB, over the 8 MB limit; skipped")
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
