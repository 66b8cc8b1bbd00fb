"""Values crossing the wishes area's boundary: contacts, the organ-donation statement, the
answers of the guided advance-directives form and the directives on file."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum


class ContactRole(StrEnum):
    """What a contact is for the person (Mon espace santé's ``ContactType``)."""

    EMERGENCY_CONTACT = "EMERGENCY_CONTACT"
    TRUSTED_CONTACT = "TRUSTED_CONTACT"
    """The personne de confiance (one at most)."""
    CAREGIVER_CONTACT = "CAREGIVER_CONTACT"
    """A proche aidant declared for information: it gives no access to the space."""
    HELP_CONTACT = "HELP_CONTACT"
    """A proche aidé: someone the person helps."""


class Relation(StrEnum):
    MOTHER = "MOTHER"
    FATHER = "FATHER"
    CHILD = "CHILD"
    SPOUSE = "SPOUSE"
    TUTEUR = "TUTEUR"
    OTHER = "OTHER"


@dataclass(frozen=True, slots=True)
class ContactInput:
    """A contact as typed in the form (checked and normalised by the service)."""

    first_name: str
    last_name: str
    relation: str
    mobile: str
    postal_code: str
    city: str
    roles: tuple[str, ...]

    def __repr__(self) -> str:
        return "ContactInput(<hidden>)"


@dataclass(frozen=True, slots=True)
class Contact:
    """A contact on file: a RelatedPerson of the person's compartment."""

    id: str
    first_name: str
    last_name: str
    relation: Relation
    mobile: str
    """E.164 (+33612345678)."""
    postal_code: str
    city: str
    roles: frozenset[ContactRole]

    @property
    def mobile_display(self) -> str:
        """The French way of writing the number: 06 12 34 56 78."""
        national = "0" + self.mobile.removeprefix("+33")
        return " ".join(national[i : i + 2] for i in range(0, len(national), 2))

    @property
    def trusted(self) -> bool:
        return ContactRole.TRUSTED_CONTACT in self.roles

    def __repr__(self) -> str:
        return f"Contact({self.id})"


@dataclass(frozen=True, slots=True)
class DonationStatement:
    """The person said they were informed of the organ-donation rules, on ``stated_on``."""

    id: str
    stated_on: date


class Situation(StrEnum):
    """Which of the two official models the person writes in."""

    GOOD_HEALTH = "bonne-sante"
    SERIOUS_ILLNESS = "maladie-grave"


class Choice(StrEnum):
    """A wish about a treatment or an act."""

    ACCEPT = "accepte"
    REFUSE = "refuse"
    UNDECIDED = "sans-avis"


class Sedation(StrEnum):
    WANTED = "oui"
    NOT_WANTED = "non"
    UNDECIDED = "sans-avis"


class Act(StrEnum):
    """Specific acts and treatments the form asks about, one by one."""

    RESUSCITATION = "reanimation"
    VENTILATION = "ventilation"
    DIALYSIS = "dialyse"
    NUTRITION = "alimentation"
    TRANSFUSION = "transfusion"
    SURGERY = "chirurgie"


class Place(StrEnum):
    HOME = "domicile"
    HOSPITAL = "hopital"
    PALLIATIVE_UNIT = "soins-palliatifs"
    NURSING_HOME = "ehpad"
    NO_PREFERENCE = "sans-preference"


@dataclass(frozen=True, slots=True)
class DirectivesAnswers:
    """The answers of the guided form (free texts stripped; empty when not given)."""

    situation: Situation
    context: str = ""
    life_support: Choice = Choice.UNDECIDED
    life_support_details: str = ""
    sedation: Sedation = Sedation.UNDECIDED
    acts: dict[Act, Choice] = field(default_factory=dict)
    acts_details: str = ""
    place: Place = Place.NO_PREFERENCE
    place_details: str = ""
    free_text: str = ""

    def __repr__(self) -> str:
        return "DirectivesAnswers(<hidden>)"


@dataclass(frozen=True, slots=True)
class DirectivesOnFile:
    """The advance directives in force: a DocumentReference of category DIR_ANT."""

    id: str
    title: str
    document_date: date | None


@dataclass(frozen=True, slots=True)
class DirectivesFile:
    """The bytes of advance directives, for download."""

    content: bytes
    content_type: str
    filename: str


@dataclass(frozen=True, slots=True)
class Overview:
    """Everything the "Entourage et volontés" page shows."""

    contacts: tuple[Contact, ...]
    donation: DonationStatement | None
    directives: DirectivesOnFile | None
    adult: bool
    """False: the person is a minor (or their birth date is unknown): no directives."""

    @property
    def trusted(self) -> Contact | None:
        return next((c for c in self.contacts if c.trusted), None)
