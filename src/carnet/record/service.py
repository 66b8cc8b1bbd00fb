"""Public face of the record area.

``Record`` is built once per process (it holds the compiled validators and FHIRPath expressions);
``Record.repository(db=…, ctx=…)`` gives the per-request Repository, the only way to reach
health data.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from carnet.access.schemas import AccessContext
from carnet.audit.service import AuditTrail
from carnet.core.clock import Clock
from carnet.record.definitions import Definitions, get_definitions
from carnet.record.indexing import Indexer
from carnet.record.prepared import PreparedWrite, prepare_write
from carnet.record.repository import Repository
from carnet.record.schemas import DeleteOutcome, HistoryEntry, StoredResource, WriteOutcome
from carnet.record.validation import ResourceValidator
from carnet.storage.service import Storage

__all__ = [
    "DeleteOutcome",
    "HistoryEntry",
    "PreparedWrite",
    "Record",
    "Repository",
    "StoredResource",
    "WriteOutcome",
]


class Record:
    """The record's process-wide machinery: definitions, validator, indexer, keys, audit."""

    def __init__(self, *, storage: Storage, audit: AuditTrail, clock: Clock) -> None:
        self.storage = storage
        self.audit = audit
        self.clock = clock
        self.definitions: Definitions = get_definitions()
        self.resource_types: frozenset[str] = self.definitions.resource_types
        self.validator = ResourceValidator(self.definitions)
        self.indexer = Indexer(self.definitions)

    def prepare(self, resource: dict[str, Any]) -> PreparedWrite:
        """Validate and index a resource before opening a transaction (pure CPU, no data)."""
        return prepare_write(resource, validator=self.validator, indexer=self.indexer)

    def repository(self, *, db: Connection, ctx: AccessContext) -> Repository:
        """The door to health data for one actor, inside the caller's transaction."""
        return Repository(record=self, db=db, ctx=ctx)

    def warm_up(self, resource_types: frozenset[str] | None = None) -> None:
        """Compile validators and expressions ahead of the first requests."""
        for resource_type in sorted(resource_types or self.resource_types):
            self.validator.prepare(resource_type)
            self.indexer.prepare(resource_type)
