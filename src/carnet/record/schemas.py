"""Values crossing the record area's boundary."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal


@dataclass(frozen=True, slots=True)
class StoredResource:
    """One version of a resource as stored: its JSON bytes include ``id`` and ``meta``."""

    resource_type: str
    id: str
    version: int
    last_updated: datetime
    patient_id: str | None
    body: bytes

    @property
    def etag(self) -> str:
        return f'W/"{self.version}"'

    @property
    def reference(self) -> str:
        return f"{self.resource_type}/{self.id}"


@dataclass(frozen=True, slots=True)
class WriteOutcome:
    resource: StoredResource
    created: bool


@dataclass(frozen=True, slots=True)
class DeleteOutcome:
    version: int | None
    """The version that records the deletion; None when there was nothing to delete."""


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    resource_type: str
    id: str
    version: int
    last_updated: datetime
    method: Literal["POST", "PUT", "DELETE"]
    body: bytes | None
    """The version's JSON; None for a deletion."""
