"""Values crossing the audit area's boundary."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from carnet.audit.tags import EventTag, Outcome
from carnet.core.actor import Actor

SYSTEM_CHAIN = "_system"


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """What an area asks the audit trail to remember."""

    tag: EventTag
    outcome: Outcome
    actor: Actor
    patient_id: str | None
    """Whose chain the event joins; None for system events (and misses on unknown ids)."""
    entity: str = ""
    """What was acted on: ``Observation/123/_history/2``, or a search's result ids."""
    mode: str = "normal"
    """The access mode: normal, bris_de_glace, centre_15."""
    detail: Mapping[str, str | int | bool | list[str]] = field(default_factory=dict)
    """Extra facts safe to keep: codes, counts, reasons. Never health data or identifiers."""


@dataclass(frozen=True, slots=True)
class AuditEntry:
    chain_id: str
    seq: int
    recorded_at: datetime
    tag: str
    outcome: str
    actor_kind: str
    actor_id: str
    actor_label: str
    mode: str
    entity: str
    detail: Mapping[str, object]
    request_id: str

    @property
    def id(self) -> str:
        """A stable public id, usable as a FHIR id: the chain and the sequence number."""
        chain = "system" if self.chain_id == SYSTEM_CHAIN else self.chain_id
        return f"{chain}.{self.seq}"


@dataclass(frozen=True, slots=True)
class ChainBreak:
    chain_id: str
    seq: int
    reason: str


@dataclass(frozen=True, slots=True)
class VerifyReport:
    chains: int
    events: int
    seconds: float
    first_break: ChainBreak | None

    @property
    def ok(self) -> bool:
        return self.first_break is None
