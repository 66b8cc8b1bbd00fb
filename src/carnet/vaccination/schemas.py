"""Values crossing the vaccination area's boundary: a recorded vaccination, what a person types
to record one, and the schedule status the agenda turns into reminders."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum


class DoseType(StrEnum):
    """How a dose stands in its series (HL7 v3 ActCode, as Mon espace santé uses them)."""

    INITIAL = "INITIMMUNIZ"
    """A dose of the initial series (primo-vaccination)."""
    BOOSTER = "BOOSTER"
    """A booster (rappel)."""
    OTHER = "IMMUNIZ"
    """Any other immunisation (a yearly influenza dose, a single dose)."""


@dataclass(frozen=True, slots=True)
class Label:
    """A text of the referential or the schedule, in the portal's two languages."""

    fr: str
    en: str

    def in_language(self, language: str) -> str:
        return self.en if language == "en" else self.fr


@dataclass(frozen=True, slots=True)
class VaccinationInput:
    """What a person types to record (or correct) a vaccination; checked by the service."""

    vaccine: str
    """A vaccine code of the referential (``ror``, ``hpv``)."""
    occurred_on: date
    dose_type: str
    """One of ``DoseType``'s values, as submitted."""
    lot_number: str = ""
    performer: str = ""
    """Who gave it, as free text (a name, a pharmacy)."""
    comment: str = ""


@dataclass(frozen=True, slots=True)
class Vaccination:
    """One Immunization of the record, as the portal and the schedule read it."""

    id: str
    vaccine: str
    """The referential code ("" when the Immunization came with a vaccine Carnet does not know)."""
    vaccine_label: Label
    atc: str
    diseases: tuple[str, ...]
    occurred_on: date
    dose_type: DoseType
    lot_number: str
    performer: str
    comment: str
    validated: bool
    """Validated by a health professional: the patient's side may no longer change it."""
    entered_by_patient: bool
    """Recorded from the patient's side (``primarySource`` false)."""
    version: int

    @property
    def editable(self) -> bool:
        """Whether the patient's side may change or delete it (its own, not validated)."""
        return not self.validated


class DoseStatus(StrEnum):
    DONE = "done"
    DUE = "due"
    """To do now: its age (or interval) is reached and it is still on time."""
    OVERDUE = "overdue"
    """Past its age window; catching up is still possible."""
    UPCOMING = "upcoming"
    """Not yet: ``due_from`` says when."""


class Requirement(StrEnum):
    MANDATORY = "mandatory"
    RECOMMENDED = "recommended"
    CATCH_UP = "catch-up"


@dataclass(frozen=True, slots=True)
class ScheduledDose:
    """One dose of the schedule for one person, and where it stands on ``as_of``."""

    key: str
    """Stable for the person: ``<item>/<n>`` (``hpv/2``; ``grippe-65/2026`` for a season)."""
    item: str
    """The schedule entry's id (``ror``)."""
    label: Label
    diseases: tuple[str, ...]
    number: int
    """The dose's rank in its series (1 for the first)."""
    dose_type: DoseType
    requirement: Requirement
    mandatory: bool
    """A mandatory infant vaccination (child born on or after 1 January 2018)."""
    status: DoseStatus
    due_from: date
    """When the dose becomes due (for UPCOMING: the date a reminder is for)."""
    due_until: date | None
    """The end of its normal window (exclusive): overdue from then. None: no such limit."""
    catch_up_until: date | None
    """The last day plus one when catching up is advised. None: no limit."""
    done_on: date | None = None
    immunization_id: str | None = None
    note: Label | None = None


@dataclass(frozen=True, slots=True)
class ToDiscuss:
    """A vaccination for some people only (a risk, a pregnancy): to discuss with a doctor,
    never counted as overdue."""

    item: str
    label: Label
    diseases: tuple[str, ...]
    who: Label


@dataclass(frozen=True, slots=True)
class ScheduleStatus:
    """The schedule for one person on ``as_of``: doses (sorted by due date) and what to
    discuss."""

    as_of: date
    doses: tuple[ScheduledDose, ...]
    to_discuss: tuple[ToDiscuss, ...]

    def having(self, status: DoseStatus) -> tuple[ScheduledDose, ...]:
        return tuple(d for d in self.doses if d.status is status)

    @property
    def done(self) -> tuple[ScheduledDose, ...]:
        return self.having(DoseStatus.DONE)

    @property
    def due(self) -> tuple[ScheduledDose, ...]:
        return self.having(DoseStatus.DUE)

    @property
    def overdue(self) -> tuple[ScheduledDose, ...]:
        return self.having(DoseStatus.OVERDUE)

    @property
    def upcoming(self) -> tuple[ScheduledDose, ...]:
        return self.having(DoseStatus.UPCOMING)
