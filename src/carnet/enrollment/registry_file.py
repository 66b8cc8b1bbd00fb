"""The insurer's beneficiary file: its columns, a streaming reader and a writer.

UTF-8 text (a byte-order mark is tolerated), one header line naming the columns, then one line
per beneficiary; fields are separated by ``|`` and never quoted, so no value may contain ``|``
or a line break. Columns may come in any order; every column of ``COLUMNS`` must be in the
header, unknown ones are ignored (and counted). docs/registry-file.md describes each column.

The reader holds one line at a time, whatever the file's size.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Final, Self, TextIO

from carnet.enrollment.errors import RegistryFileError

SEPARATOR: Final = "|"

COLUMNS: Final = (
    "nir",
    "nature_identifiant",
    "nir_ouvrant_droit",
    "numero_serie_vitale",
    "type_carte_vitale",
    "nom_naissance",
    "nom_usage",
    "prenoms",
    "sexe",
    "date_naissance",
    "lieu_naissance",
    "adresse",
    "code_postal",
    "commune",
    "departement",
    "email",
    "mobile",
    "date_deces",
)
"""Every column of the format, in the order the writer uses."""

_BOM: Final = b"\xef\xbb\xbf"
_CHUNK: Final = 1 << 20


@dataclass(frozen=True, slots=True)
class RawLine:
    number: int
    """1 for the header, so data lines start at 2 (as an editor shows them)."""
    fields: dict[str, str] | None
    """The values by column, or None when the line cannot be split (see ``problem``)."""
    problem: str
    """Why the line could not be split into the header's columns; empty otherwise."""
    end_offset: int
    """Bytes of the file consumed once this line is read (for progress)."""


class RegistryReader:
    """Reads and checks the header, then yields the data lines (``lines()``), skipping blank
    ones. Use it as a context manager."""

    def __init__(self, path: Path) -> None:
        self.size = path.stat().st_size
        self._file: BinaryIO = path.open("rb", buffering=_CHUNK)
        try:
            first = self._file.readline()
            self._offset = len(first)
            self._positions = self._header(first.removeprefix(_BOM))
        except BaseException:
            self._file.close()
            raise
        self.unknown_columns = len(self._names) - len(COLUMNS)

    def _header(self, raw: bytes) -> list[tuple[str, int]]:
        if not raw.strip():
            raise RegistryFileError("the file is empty or has no header line")
        try:
            text = raw.decode("utf-8").rstrip("\r\n")
        except UnicodeDecodeError:
            raise RegistryFileError("the header line is not UTF-8") from None
        if SEPARATOR not in text:
            raise RegistryFileError("the first line is not a pipe-separated header")
        self._names = [name.strip().lower() for name in text.split(SEPARATOR)]
        missing = [column for column in COLUMNS if column not in self._names]
        if missing:
            raise RegistryFileError(f"missing columns in the header: {', '.join(missing)}")
        if len(set(self._names)) != len(self._names):
            raise RegistryFileError("a column is named twice in the header")
        return [(column, self._names.index(column)) for column in COLUMNS]

    def lines(self, *, after: int = 0) -> Iterator[RawLine]:
        """The data lines whose number is above ``after`` (the lines a resumed run has left)."""
        number = 1
        width = len(self._names)
        for raw in self._file:
            number += 1
            self._offset += len(raw)
            if number <= after or not raw.strip():
                continue
            try:
                text = raw.decode("utf-8").rstrip("\r\n")
            except UnicodeDecodeError:
                yield RawLine(number, None, "the line is not valid UTF-8", self._offset)
                continue
            values = text.split(SEPARATOR)
            if len(values) != width:
                problem = f"the line has {len(values)} fields, the header {width}"
                yield RawLine(number, None, problem, self._offset)
                continue
            fields = {column: values[index].strip() for column, index in self._positions}
            yield RawLine(number, fields, "", self._offset)

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def file_digest(path: Path) -> str:
    """SHA-256 of the file, read in chunks: it names the file a run imported."""
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while chunk := file.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def write_registry(handle: TextIO, rows: Iterable[Mapping[str, str]]) -> int:
    """Write a header and ``rows`` (values by column; missing ones empty); return the number
    of lines written. Raises ``ValueError`` on a value the format cannot carry."""
    handle.write(SEPARATOR.join(COLUMNS) + "\n")
    written = 0
    for row in rows:
        values = [row.get(column, "") for column in COLUMNS]
        if any(SEPARATOR in value or "\n" in value or "\r" in value for value in values):
            raise ValueError("a registry value cannot contain '|' or a line break")
        handle.write(SEPARATOR.join(values) + "\n")
        written += 1
    return written
