"""Writes prepared outside the transaction: validation and index extraction are pure CPU.

The repository accepts a prepared write, so that an entry point can do this work before it
opens the transaction (on SQLite, before it takes the single writer's lock). The repository
still decides, audits invalid attempts and writes; preparing reaches no data.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from carnet.core.errors import Issue
from carnet.record.indexing import IndexEntries, Indexer
from carnet.record.validation import ResourceValidator


@dataclass(frozen=True, slots=True)
class PreparedWrite:
    resource: dict[str, Any]
    resource_type: str | None
    """The body's resourceType when it is a string; None when missing or malformed."""
    issues: tuple[Issue, ...]
    """Structural problems; a prepared write with issues is refused (and audited) when used."""
    entries: IndexEntries | None
    patient_refs: tuple[str, ...]
    """Patients the resource's compartment parameters reference, in definition order."""


def prepare_write(
    resource: dict[str, Any], *, validator: ResourceValidator, indexer: Indexer
) -> PreparedWrite:
    """Validate ``resource`` and, when valid, extract its index entries and compartment."""
    raw_type = resource.get("resourceType")
    resource_type = raw_type if isinstance(raw_type, str) else None
    issues = tuple(validator.validate(resource))
    if issues:
        return PreparedWrite(resource, resource_type, issues, None, ())
    return PreparedWrite(
        resource=resource,
        resource_type=resource_type,
        issues=(),
        entries=indexer.extract(resource),
        patient_refs=indexer.patient_refs(resource),
    )
