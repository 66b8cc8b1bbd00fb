"""Values the medical profile hands out: sections, partial dates, items and their links.

Section names match Mon espace santé's ``SectionToDownload`` where they overlap, so the summary
can ask for the same names. Enumerations are MES's (mes-rules §8.8).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum


class Section(StrEnum):
    """The profile's sections kept here (vaccinations, measures and wishes live elsewhere)."""

    DISEASES = "DISEASES"
    TREATMENTS = "TREATMENTS"
    HOSPITALIZATIONS = "HOSPITALIZATIONS"
    DISABILITIES = "DISABILITIES"
    ALLERGIES = "ALLERGIES"
    FAMILY_HISTORY = "FAMILY_HISTORY"
    LIFESTYLES = "LIFESTYLES"
    BLOOD_GROUP = "BLOOD_GROUP"


NOT_CONCERNABLE: frozenset[Section] = frozenset(
    {
        Section.ALLERGIES,
        Section.TREATMENTS,
        Section.FAMILY_HISTORY,
        Section.HOSPITALIZATIONS,
        Section.DISEASES,
        Section.DISABILITIES,
    }
)
"""The sections where a person may declare "je ne suis pas concerné(e)" (MES ``unconcerned``)."""


class BloodGroup(StrEnum):
    APOS = "APOS"
    ANEG = "ANEG"
    BPOS = "BPOS"
    BNEG = "BNEG"
    ABPOS = "ABPOS"
    ABNEG = "ABNEG"
    OPOS = "OPOS"
    ONEG = "ONEG"

    @property
    def symbol(self) -> str:
        """``A+``, ``AB-``…"""
        return self.value[:-3] + ("+" if self.value.endswith("POS") else "-")


class DisabilityType(StrEnum):
    SENSORY = "SENSORY"
    NEURO_DEVELOPMENTAL_DISORDER = "NEURO_DEVELOPMENTAL_DISORDER"
    PSYCHIC = "PSYCHIC"
    ENGINE = "ENGINE"
    POLY_DISABILITY = "POLY_DISABILITY"
    DISABLING_DISEASES = "DISABLING_DISEASES"
    OTHERS = "OTHERS"


class DisabilityRate(StrEnum):
    LESS_THAN_50 = "LESS_THAN_50"
    BETWEEN_50_AND_79 = "BETWEEN_50_AND_79"
    BIGGER_THAN_80_OR_EQUAL = "BIGGER_THAN_80_OR_EQUAL"
    UNKNOWN = "UNKNOWN"


class LifestyleSection(StrEnum):
    FOOD = "FOOD"
    PHYSICAL_ACTIVITY = "PHYSICAL_ACTIVITY"
    SLEEP = "SLEEP"
    SCREEN = "SCREEN"
    ALCOHOL = "ALCOHOL"
    TOBACCO = "TOBACCO"


class HospitalKind(StrEnum):
    """A stay (Encounter, class IMP) or an operation (Procedure, surgical)."""

    STAY = "STAY"
    SURGERY = "SURGERY"


@dataclass(frozen=True, slots=True, order=True)
class PartialDate:
    """A date as precise as the person knows it: a year, a month of a year, or a day."""

    year: int
    month: int | None = None
    day: int | None = None

    @property
    def fhir(self) -> str:
        """``2019``, ``2019-03`` or ``2019-03-05`` (FHIR date and dateTime allow all three)."""
        text = f"{self.year:04d}"
        if self.month is not None:
            text += f"-{self.month:02d}"
            if self.day is not None:
                text += f"-{self.day:02d}"
        return text

    @property
    def display(self) -> str:
        """``2019``, ``03/2019`` or ``05/03/2019`` (as written in France)."""
        if self.month is None:
            return f"{self.year:04d}"
        if self.day is None:
            return f"{self.month:02d}/{self.year:04d}"
        return f"{self.day:02d}/{self.month:02d}/{self.year:04d}"

    @property
    def earliest(self) -> date:
        """The first day the value covers (for ordering and comparisons)."""
        return date(self.year, self.month or 1, self.day or 1)

    @classmethod
    def from_fhir(cls, text: str | None) -> PartialDate | None:
        """The date part of a stored FHIR date or dateTime (None when absent or unreadable)."""
        if not text:
            return None
        parts = text[:10].split("-")
        try:
            numbers = [int(p) for p in parts]
        except ValueError:
            return None
        return cls(*numbers[:3]) if numbers else None


@dataclass(frozen=True, slots=True)
class Link:
    """A link from an item to another one (or to a document)."""

    kind: str
    """``disease`` (a treatment's reason), ``treatment``, ``document``."""
    target: str
    """``Condition/…``, ``MedicationStatement/…``, ``DocumentReference/…``."""
    label: str = ""
    """The linked item's label when it is part of the profile (empty for a document)."""


@dataclass(frozen=True, slots=True)
class ProfileItem:
    """One item of a section, ready to show or to print in a summary."""

    id: str
    section: Section
    resource_type: str
    label: str
    detail: str = ""
    """A short second line (dosage, reaction, relationship…), empty when there is none."""
    start: PartialDate | None = None
    end: PartialDate | None = None
    links: tuple[Link, ...] = ()
    values: dict[str, str] = field(default_factory=dict, compare=False)
    """The item as the section's form fields (to fill the edit form)."""

    @property
    def reference(self) -> str:
        return f"{self.resource_type}/{self.id}"


@dataclass(frozen=True, slots=True)
class SectionState:
    """A section at a glance: how many items, and whether "not concerned" is declared."""

    section: Section
    count: int
    not_concerned_on: date | None = None
