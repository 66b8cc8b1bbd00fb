"""Errors of the enrollment area.

core.errors.InvalidInput
 └── RegistryFileError      the file is not a registry file (empty, header, encoding)
core.errors.Conflict
 └── RegistryImportRunning  another registry import is in progress
"""

from __future__ import annotations

from carnet.core.errors import Conflict, InvalidInput


class RegistryFileError(InvalidInput):
    """The whole file is refused (problems of single lines are reported, not raised)."""


class RegistryImportRunning(Conflict):
    def __init__(self) -> None:
        super().__init__(
            "another registry import is running (its last batch is recent); wait for it, or "
            "retry in a few minutes if it was killed"
        )
