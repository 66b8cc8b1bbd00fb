"""Values of the identity area: INS, reference traits, professionals and organisations.

Every value checks itself when built and raises an ``identity.errors`` error naming the field,
so a value that exists is valid. They are frozen: compare, hash and share them freely.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from enum import StrEnum

from carnet.identity import formats
from carnet.identity.errors import (
    InvalidMatricule,
    InvalidOid,
    InvalidTrait,
)


# --- INS ---------------------------------------------------------------------------------------
class InsKind(StrEnum):
    """The assigning authority of an INS matricule, named by its FR Core identifier type."""

    NIR = "INS-NIR"
    NIA = "INS-NIA"
    TEST = "INS-NIR-TEST"
    DEMO = "INS-NIR-DEMO"

    @property
    def oid(self) -> str:
        return _INS_OIDS[self]

    @property
    def system(self) -> str:
        return f"urn:oid:{self.oid}"

    @property
    def use(self) -> str:
        """FHIR ``Identifier.use``: a NIA is a temporary number."""
        return "temp" if self is InsKind.NIA else "official"

    @classmethod
    def from_oid(cls, oid: str) -> InsKind:
        """The kind of an OID (``urn:oid:`` prefix accepted); raises InvalidOid otherwise."""
        bare = oid.removeprefix("urn:oid:")
        for kind, known in _INS_OIDS.items():
            if known == bare:
                return kind
        raise InvalidOid("ins.oid", "not an INS assigning authority (NIR, NIA, test or demo)")


_INS_OIDS = {
    InsKind.NIR: formats.OID_INS_NIR,
    InsKind.NIA: formats.OID_INS_NIA,
    InsKind.TEST: formats.OID_INS_NIR_TEST,
    InsKind.DEMO: formats.OID_INS_NIR_DEMO,
}


class IdentityStatus(StrEnum):
    """The four exclusive RNIV identity statuses (EXI SI 07)."""

    PROV = "PROV"
    """Provisional: not retrieved from INSi, not checked against an identity document."""
    RECUP = "RECUP"
    """Retrieved from INSi, not yet checked against a high-trust identity document."""
    VALI = "VALI"
    """Checked against a high-trust identity document, not retrieved from INSi."""
    QUAL = "QUAL"
    """Qualified: retrieved from INSi and checked against a high-trust identity document."""

    @property
    def retrieved_from_insi(self) -> bool:
        return self in {IdentityStatus.RECUP, IdentityStatus.QUAL}

    @property
    def checked_against_document(self) -> bool:
        return self in {IdentityStatus.VALI, IdentityStatus.QUAL}

    @property
    def may_share_matricule(self) -> bool:
        """Whether the INS matricule may travel in shared data (FR Core: qualified only)."""
        return self is IdentityStatus.QUAL


class CollectionMethod(StrEnum):
    """How the traits or the matricule were collected (FR Core ``fr-core-cs-method-collection``)."""

    MANUAL = "SM"
    VITALE_CARD = "CV"
    INSI = "INSI"
    BARCODE = "CB"
    RFID = "RFID"
    VITALE_APP = "AV"


@dataclass(frozen=True, slots=True)
class Ins:
    """An INS matricule (NIR or NIA, 15 characters, key checked) and its assigning authority."""

    matricule: str
    kind: InsKind = InsKind.NIR

    def __post_init__(self) -> None:
        if not formats.is_valid_nir(self.matricule):
            raise InvalidMatricule("ins.matricule", "not a 15-character NIR/NIA with a valid key")

    @property
    def oid(self) -> str:
        return self.kind.oid

    def __repr__(self) -> str:
        # Never the matricule itself: reprs end up in logs and tracebacks.
        return f"Ins(kind={self.kind.value}, matricule=<hidden>)"


# --- Reference traits --------------------------------------------------------------------------
class Sex(StrEnum):
    """Administrative sex as FHIR and the INS carry it."""

    MALE = "male"
    FEMALE = "female"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class BirthDate:
    """A birth date, possibly partial: the year always, the month and day when known.

    Civil-status records of people born abroad may lack the day or the month; FHIR carries such
    a date as ``YYYY`` or ``YYYY-MM``.
    """

    year: int
    month: int | None = None
    day: int | None = None

    def __post_init__(self) -> None:
        if not 1850 <= self.year <= 2200:
            raise InvalidTrait("birthDate", "the year is out of range")
        if self.month is None:
            if self.day is not None:
                raise InvalidTrait("birthDate", "a day without a month")
            return
        if not 1 <= self.month <= 12:
            raise InvalidTrait("birthDate", "the month is not 1-12")
        if self.day is not None:
            last = calendar.monthrange(self.year, self.month)[1]
            if not 1 <= self.day <= last:
                raise InvalidTrait("birthDate", "no such day in that month")

    @property
    def complete(self) -> bool:
        return self.day is not None

    def iso(self) -> str:
        """``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD`` (the FHIR ``date`` forms)."""
        text = f"{self.year:04d}"
        if self.month is not None:
            text += f"-{self.month:02d}"
        if self.day is not None:
            text += f"-{self.day:02d}"
        return text

    @classmethod
    def parse(cls, text: str) -> BirthDate:
        """Read a FHIR date (``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD``)."""
        parts = text.split("-")
        if len(parts) > 3 or not all(part.isascii() and part.isdigit() for part in parts):
            raise InvalidTrait("birthDate", "not a YYYY[-MM[-DD]] date")
        if len(parts[0]) != 4 or any(len(part) != 2 for part in parts[1:]):
            raise InvalidTrait("birthDate", "not a YYYY[-MM[-DD]] date")
        numbers = [int(part) for part in parts]
        return cls(numbers[0], *numbers[1:])


@dataclass(frozen=True, slots=True)
class BirthPlace:
    """Where a person was born, as an INSEE (COG) code: a commune (2A/2B for Corsica, 97x/98x
    overseas), or ``99`` + the country code when born abroad."""

    code: str

    def __post_init__(self) -> None:
        if not (formats.is_insee_commune_code(self.code) or self.abroad):
            raise InvalidTrait("birthPlace", "not an INSEE commune code nor 99 + a country code")

    @property
    def abroad(self) -> bool:
        return formats.is_insee_country_code(self.code)

    @property
    def country_code(self) -> str:
        """The INSEE country code: ``99100`` (France) for a commune, the code itself abroad."""
        return self.code if self.abroad else FRANCE_COUNTRY_CODE


FRANCE_COUNTRY_CODE = "99100"


@dataclass(frozen=True, slots=True)
class ReferenceTraits:
    """The INS reference traits (and the used names, which are not part of the INS).

    ``birth_given_names`` is the list of birth first names as INSi returns it;
    ``first_given_name`` is the first of them unless given (a compound first name such as
    "Anne Sophie" is one first name that contains a space).
    """

    birth_family_name: str
    birth_given_names: tuple[str, ...]
    sex: Sex
    birth_date: BirthDate
    birthplace: BirthPlace | None = None
    first_given_name: str = ""
    used_family_name: str | None = None
    used_given_name: str | None = None

    def __post_init__(self) -> None:
        if not self.birth_family_name.strip():
            raise InvalidTrait("birthFamilyName", "required")
        if not self.birth_given_names or not all(name.strip() for name in self.birth_given_names):
            raise InvalidTrait("birthGivenNames", "at least one non-empty first name")
        if not self.first_given_name:
            object.__setattr__(self, "first_given_name", self.birth_given_names[0])
        for name, value in (
            ("birthFamilyName", self.birth_family_name),
            ("firstGivenName", self.first_given_name),
            ("usedFamilyName", self.used_family_name or ""),
            ("usedGivenName", self.used_given_name or ""),
            *(("birthGivenNames", given) for given in self.birth_given_names),
        ):
            _check_name(name, value)

    def __repr__(self) -> str:
        return "ReferenceTraits(<hidden>)"


_NAME_LIMIT = 100


def _check_name(field_name: str, value: str) -> None:
    if len(value) > _NAME_LIMIT:
        raise InvalidTrait(field_name, f"longer than {_NAME_LIMIT} characters")
    if any(not (char.isalpha() or char in " -'’.") for char in value):
        raise InvalidTrait(field_name, "only letters, spaces, hyphens and apostrophes")


@dataclass(frozen=True, slots=True)
class PatientIdentity:
    """A person's identity: traits, RNIV status, and the INS when known.

    The matricule is held whatever the status; whether it may be *shared* is
    ``status.may_share_matricule`` (``shareable_ins``). An identity read from shared data may
    therefore be RECUP without its INS: only a qualified one travels with it.
    """

    traits: ReferenceTraits
    status: IdentityStatus = IdentityStatus.PROV
    ins: Ins | None = None
    method: CollectionMethod | None = None

    @property
    def shareable_ins(self) -> Ins | None:
        """The INS if it may travel in shared data (qualified identities only), else None."""
        return self.ins if self.status.may_share_matricule else None
