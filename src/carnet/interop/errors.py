"""Errors of the interop area.

core.errors.InvalidInput
 └── DirectoryFileError     the file is not a usable directory extract (header, encoding)
core.errors.Conflict
 └── ImportAlreadyRunning   another directory import is in progress
core.errors.CarnetError
 └── BatchFailed            the record refused a write: the batch is rolled back, the run stops
                            (resumable once the cause is fixed)
"""

from __future__ import annotations

from carnet.core.errors import CarnetError, Conflict, InvalidInput


class DirectoryFileError(InvalidInput):
    """The whole file is refused (per-line problems are reported, not raised)."""


class ImportAlreadyRunning(Conflict):
    def __init__(self) -> None:
        super().__init__(
            "another directory import is running (its last batch is recent); wait for it, or "
            "retry in a few minutes if it was killed"
        )


class BatchFailed(CarnetError):
    """Not a ClientError on purpose: the unit of work rolls the batch back instead of
    committing what it had written."""
