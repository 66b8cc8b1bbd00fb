"""The CSV report of an importer's rejected lines, resumable with the import itself.

Importers (the directory extract, the insurer's registry) stream a file in batches, one
transaction each, and record with each batch how large the report was when it committed. On
resume the report is cut back to that size, so a line rejected by a batch that rolled back is
not reported twice. Rows name lines, columns and rules, never the values read.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import IO


class LineReport:
    """Append-only CSV of rejected lines; ``path=None`` keeps no file (sizes stay 0)."""

    def __init__(self, path: Path | None, *, size: int, header: Sequence[str]) -> None:
        """Open ``path`` cut back to ``size`` bytes (0: a new report, ``header`` first)."""
        self._file: IO[bytes] | None = None
        self.size = 0
        if path is None:
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file = path.open("r+b" if size and path.exists() else "w+b")
        self._file.truncate(size)
        self._file.seek(size)
        if size == 0:
            self._rows([tuple(header)])
        self.size = self._file.tell()

    def _rows(self, rows: Iterable[Sequence[object]]) -> None:
        assert self._file is not None
        text = io.StringIO()
        csv.writer(text, lineterminator="\n").writerows(rows)
        self._file.write(text.getvalue().encode())
        self._file.flush()

    def write(self, rows: Sequence[Sequence[object]]) -> int:
        """Append ``rows``; return the report's size in bytes (to commit with the batch)."""
        if self._file is not None and rows:
            self._rows(rows)
            self.size = self._file.tell()
        return self.size

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
