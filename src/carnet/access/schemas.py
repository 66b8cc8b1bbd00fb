"""Values the access area decides on."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from carnet.access.scopes import ScopeSet
from carnet.core.actor import Actor


class Mode(StrEnum):
    """How a professional reaches a record (the emergency modes come with the access rules)."""

    NORMAL = "normal"
    BRIS_DE_GLACE = "bris_de_glace"
    CENTRE_15 = "centre_15"


class Action(StrEnum):
    """SMART v2 interaction letters."""

    CREATE = "c"
    READ = "r"
    UPDATE = "u"
    DELETE = "d"
    SEARCH = "s"


@dataclass(frozen=True, slots=True)
class AccessContext:
    """Everything a decision needs to know about the caller."""

    actor: Actor
    mode: Mode = Mode.NORMAL
    scopes: ScopeSet = field(default_factory=ScopeSet)
    patient_id: str | None = None
    """For a patient (or someone acting for one): the compartment they act in."""


@dataclass(frozen=True, slots=True)
class ResourceFacts:
    """What the record tells the access area about one resource."""

    resource_type: str
    patient_id: str | None
    """The compartment owner, or None for resources outside every patient compartment."""
    security: frozenset[str] = frozenset()
    """The resource's ``meta.security`` codes (visibility labels such as ``INVISIBLE_PATIENT``);
    empty when the caller decides before reading the resource (a type-level check)."""


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    rule: str
    """The rule that decided, recorded in the audit trail (never shown to a refused caller)."""


@dataclass(frozen=True, slots=True)
class SearchScope:
    """Which compartments a search may return: everything, some patients, or nothing."""

    everything: bool = False
    patient_ids: frozenset[str] = frozenset()
    include_shared: bool = False
    """Whether resources outside every compartment (directory, terminology) may be returned."""
    rule: str = ""
    hidden: frozenset[str] = frozenset()
    """Visibility labels (``meta.security`` codes) that hide a resource from this actor: the
    search leaves out rows carrying any of them, in SQL, so that totals never count them."""

    @property
    def nothing(self) -> bool:
        return not self.everything and not self.patient_ids and not self.include_shared
