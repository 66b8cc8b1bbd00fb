"""Values crossing the summary area's boundary: the sections a person may pick, and what a
summary holds once read from the record."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Literal


class Section(StrEnum):
    """The sections of the medical profile's summary (Mon espace santé's ``SectionToDownload``),
    in the order the PDF shows them."""

    VACCINES = "VACCINES"
    ALLERGIES = "ALLERGIES"
    DISEASES = "DISEASES"
    TREATMENTS = "TREATMENTS"
    MEASURES = "MEASURES"
    HOSPITALIZATIONS = "HOSPITALIZATIONS"
    FAMILY_HISTORY = "FAMILY_HISTORY"
    LIFESTYLES = "LIFESTYLES"
    ENTOURAGE_CONTACT = "ENTOURAGE_CONTACT"
    WISHES = "WISHES"
    HEALTH_PROFESSIONALS = "HEALTH_PROFESSIONALS"
    ADMINISTRATIVE_DOCUMENTS = "ADMINISTRATIVE_DOCUMENTS"
    DISABILITIES = "DISABILITIES"
    BLOOD_GROUP = "BLOOD_GROUP"


SECTION_TITLES: dict[Section, str] = {
    Section.VACCINES: "Vaccinations",
    Section.ALLERGIES: "Allergies",
    Section.DISEASES: "Maladies et sujets de santé",
    Section.TREATMENTS: "Traitements",
    Section.MEASURES: "Mesures",
    Section.HOSPITALIZATIONS: "Hospitalisations",
    Section.FAMILY_HISTORY: "Antécédents familiaux",
    Section.LIFESTYLES: "Habitudes de vie",
    Section.ENTOURAGE_CONTACT: "Entourage",
    Section.WISHES: "Volontés et directives anticipées",
    Section.HEALTH_PROFESSIONALS: "Professionnels de santé",
    Section.ADMINISTRATIVE_DOCUMENTS: "Pièces administratives",
    Section.DISABILITIES: "Handicaps",
    Section.BLOOD_GROUP: "Groupe sanguin",
}
"""The titles printed in the PDF (the document is written in French, for French professionals)."""

SectionState = Literal["items", "empty", "unconcerned"]


@dataclass(frozen=True, slots=True)
class Identity:
    """The person the summary is about, as their Patient resource says."""

    name: str
    birth_date: str
    gender: str
    ins: str


@dataclass(frozen=True, slots=True)
class SectionContent:
    section: Section
    lines: tuple[str, ...]
    state: SectionState
    truncated: bool = False
    """More items exist than the summary lists (the most recent are kept)."""

    @property
    def title(self) -> str:
        return SECTION_TITLES[self.section]


@dataclass(frozen=True, slots=True)
class SummaryContent:
    """What the PDF shows: who, when, and one block per chosen section."""

    identity: Identity
    generated_at: datetime
    sections: tuple[SectionContent, ...]


@dataclass(frozen=True, slots=True)
class SavedSummary:
    """The PDF saved into the person's documents."""

    document_id: str
    title: str
    size: int
