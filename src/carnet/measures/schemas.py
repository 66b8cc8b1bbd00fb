"""Values the measures area hands out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class MeasureEntry:
    """One recorded (or, for BMI, computed) measure."""

    id: str
    """The Observation's id (empty for a computed BMI)."""
    slug: str
    when: datetime
    value: float
    unit: str
    value2: float | None = None
    """Blood pressure: the diastolic value (``value`` is the systolic)."""
    comment: str = ""
    moment: str = ""
    days: int | None = None
    own: bool = True
    """Recorded by the person themselves (so they may delete it)."""


@dataclass(frozen=True, slots=True)
class MeasurePage:
    """One page of a measure's history, newest first."""

    entries: tuple[MeasureEntry, ...]
    next_cursor: str | None = None


@dataclass(frozen=True, slots=True)
class Target:
    """A person's target range for one measure (a FHIR Goal)."""

    slug: str
    low: float | None
    high: float | None
    goal_id: str = ""
