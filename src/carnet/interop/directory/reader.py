"""Streaming an extract file: one line at a time, whatever its size or encoding.

The file is read as bytes and split on line ends, so memory holds one line (plus the OS
buffer), never the file. Current extracts are UTF-8 (sometimes with a byte-order mark); older
ones were Latin-1 (in practice Windows-1252, which adds ``œ`` and ``’``). Each line is decoded
as UTF-8 and, if that fails, as Windows-1252 then Latin-1: bytes of those encodings almost never
form valid UTF-8, so the check is reliable line by line and a mixed file is read correctly.
Fields are separated by ``|``, unquoted; every line ends with a ``|``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Self

from carnet.interop.directory.columns import Header, read_header
from carnet.interop.errors import DirectoryFileError

_BOM = b"\xef\xbb\xbf"
_CHUNK = 1 << 20


@dataclass(frozen=True, slots=True)
class RawLine:
    number: int
    """1 for the header, so data lines start at 2 (as an editor shows them)."""
    fields: list[str]
    end_offset: int
    """Bytes of the file consumed once this line is read (for progress)."""
    legacy_encoding: bool


def decode(raw: bytes) -> tuple[str, bool]:
    """A line's text, and whether it needed a legacy (non-UTF-8) encoding."""
    try:
        return raw.decode("utf-8"), False
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("cp1252"), True
    except UnicodeDecodeError:
        return raw.decode("latin-1"), True


def _lines(file: BinaryIO) -> Iterator[tuple[bytes, int]]:
    offset = 0
    first = True
    for raw in file:
        offset += len(raw)
        line = raw.removeprefix(_BOM) if first else raw
        first = False
        yield line.rstrip(b"\r\n"), offset


class ExtractReader:
    """Reads the header of an extract, then yields its lines (``lines()``), skipping blank ones."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.size = path.stat().st_size
        self._file: BinaryIO = path.open("rb", buffering=_CHUNK)
        self._iter = _lines(self._file)
        first = next(self._iter, None)
        if first is None:
            self.close()
            raise DirectoryFileError("the file is empty")
        text, _ = decode(first[0])
        if "|" not in text:
            self.close()
            raise DirectoryFileError("the first line is not a pipe-separated header")
        try:
            self.header: Header = read_header(text.split("|"))
        except DirectoryFileError:
            self.close()
            raise
        self.header_end = first[1]

    def lines(self) -> Iterator[RawLine]:
        number = 1
        for raw, end in self._iter:
            number += 1
            if not raw.strip():
                continue
            text, legacy = decode(raw)
            yield RawLine(number, text.split("|"), end, legacy)

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def file_digest(path: Path) -> str:
    """SHA-256 of the file, read in chunks (it names the extract a run imported)."""
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while chunk := file.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()
