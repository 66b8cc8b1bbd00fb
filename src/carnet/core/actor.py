"""Who is acting: the subject of every access decision and audit event.

An Actor is identity only (kind and id, plus a display label safe to show in the access
history). What the actor may do is decided by the ``access`` area from an AccessContext.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class ActorKind(StrEnum):
    PATIENT = "patient"
    REPRESENTATIVE = "representative"
    CAREGIVER = "caregiver"
    PROFESSIONAL = "professional"
    APP = "app"
    OPERATOR = "operator"
    SYSTEM = "system"
    """A registered system client (SMART Backend Services) or Carnet itself (jobs, CLI)."""
    ANONYMOUS = "anonymous"


@dataclass(frozen=True, slots=True)
class Actor:
    kind: ActorKind
    id: str
    """Stable identifier: a patient's FHIR id, a client id, an operator account id."""
    label: str = ""
    """Human label for the access history (a client's name). Never a patient identifier."""


ANONYMOUS = Actor(kind=ActorKind.ANONYMOUS, id="-")
CARNET = Actor(kind=ActorKind.SYSTEM, id="carnet", label="Carnet")
"""Carnet itself: migrations, jobs and operator commands run from the command line."""
