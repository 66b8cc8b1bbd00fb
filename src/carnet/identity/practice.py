"""Values of the professional directory: professionals (RPPS/ADELI), structures (FINESS,
SIRET, technical ids) and the activities that link them.

Like ``schemas``, every value checks itself when built and raises an ``identity.errors`` error
naming the field. Directory data is public (the Annuaire Santé publishes it), not health data.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from carnet.identity import formats
from carnet.identity.errors import InvalidOrganisation, InvalidProfessional


# --- Professionals -----------------------------------------------------------------------------
class ProfessionalIdKind(StrEnum):
    """Type of a professional's identifier (TRE_G08), its value the national-id prefix."""

    RPPS = "8"
    ADELI = "0"


class PracticeMode(StrEnum):
    """Mode of practice (TRE_R23-ModeExercice)."""

    LIBERAL = "L"
    SALARIED = "S"
    VOLUNTEER = "B"


@dataclass(frozen=True, slots=True)
class ProfessionalId:
    """An RPPS (11 digits, Luhn) or ADELI (9 digits, Luhn) number."""

    kind: ProfessionalIdKind
    number: str

    def __post_init__(self) -> None:
        if self.kind is ProfessionalIdKind.RPPS and not formats.is_valid_rpps(self.number):
            raise InvalidProfessional("rpps", "not 11 digits with a valid Luhn check digit")
        if self.kind is ProfessionalIdKind.ADELI and not formats.is_valid_adeli(self.number):
            raise InvalidProfessional("adeli", "not 9 digits with a valid Luhn check digit")

    @property
    def national_id(self) -> str:
        """The national professional identifier (``8`` + RPPS, ``0`` + ADELI)."""
        return self.kind.value + self.number

    @classmethod
    def parse_national(cls, national_id: str) -> ProfessionalId:
        """Read a national id (``8`` + RPPS or ``0`` + ADELI, as Pro Santé Connect sends it)."""
        kind = {"8": ProfessionalIdKind.RPPS, "0": ProfessionalIdKind.ADELI}.get(national_id[:1])
        if kind is None:
            raise InvalidProfessional("nationalId", "neither 8 + RPPS nor 0 + ADELI")
        return cls(kind, national_id[1:])


@dataclass(frozen=True, slots=True, order=True)
class Coded:
    """A code of a national terminology with the label the source gave it."""

    code: str
    label: str = ""


@dataclass(frozen=True, slots=True, order=True)
class SavoirFaire:
    """A savoir-faire: its type (TRE_R04: ``S`` = ordinal specialty, ``CEX``, ``C``...) and code
    (TRE_R38 for ordinal specialties)."""

    type_code: str
    code: str
    label: str = ""

    def __post_init__(self) -> None:
        if self.type_code not in SAVOIR_FAIRE_TYPES:
            raise InvalidProfessional("savoirFaire.type", "not a TRE_R04 savoir-faire type")
        if not (self.code.isascii() and self.code.isalnum() and len(self.code) <= 10):
            raise InvalidProfessional("savoirFaire.code", "not a savoir-faire code")


SAVOIR_FAIRE_TYPES = frozenset({"C", "CAPA", "CEX", "DEC", "DNQ", "FQ", "OP", "PAC", "S", "SH"})


def check_profession(code: str) -> str:
    """``code`` if it is a TRE_G15 health profession; raises InvalidProfessional otherwise."""
    if code not in formats.PROFESSIONS_TRE_G15:
        raise InvalidProfessional("profession", "not a TRE_G15 health profession code")
    return code


@dataclass(frozen=True, slots=True)
class Professional:
    """A professional as the directory knows them (their practice, not their private life)."""

    id: ProfessionalId
    family_name: str
    given_name: str = ""
    professions: tuple[str, ...] = ()
    savoir_faire: tuple[SavoirFaire, ...] = ()
    civility: str = ""
    """Code civilité (TRE_R81): M, MME."""
    exercise_civility: str = ""
    """Code civilité d'exercice (TRE_R11): DR (Docteur), PR (Professeur)..."""
    active: bool = True

    def __post_init__(self) -> None:
        if not self.family_name.strip():
            raise InvalidProfessional("familyName", "required")
        for code in self.professions:
            check_profession(code)


# --- Organisations -----------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class StructureIds:
    """The identifiers a structure may have; at least one. FINESS numbers are checked (Corsican
    ones, whose key rule is unknown, are accepted on their shape), SIRET and SIREN too."""

    finess_site: str = ""
    finess_legal: str = ""
    siret: str = ""
    siren: str = ""
    technical_id: str = ""

    def __post_init__(self) -> None:
        for name, value in (("finessSite", self.finess_site), ("finessLegal", self.finess_legal)):
            if value and formats.finess_check(value) == "invalid":
                raise InvalidOrganisation(name, "not 9 digits with a valid Luhn check digit")
        if self.siret and not formats.is_valid_siret(self.siret):
            raise InvalidOrganisation("siret", "not 14 digits with a valid check digit")
        if self.siren and not formats.is_valid_siren(self.siren):
            raise InvalidOrganisation("siren", "not 9 digits with a valid Luhn check digit")
        technical = self.technical_id
        if technical and not (technical.isascii() and technical.isalnum() and len(technical) <= 40):
            raise InvalidOrganisation("technicalId", "not an alphanumeric structure identifier")
        if not (self.finess_site or self.siret or self.technical_id or self.finess_legal):
            raise InvalidOrganisation("structure", "no FINESS, SIRET nor technical identifier")

    @property
    def key(self) -> str:
        """The identifier that names the structure, by preference: FINESS site, SIRET,
        technical id, FINESS legal entity (the same structure always gets the same key)."""
        if self.finess_site:
            return f"finess:{self.finess_site}"
        if self.siret:
            return f"siret:{self.siret}"
        if self.technical_id:
            return f"tech:{self.technical_id}"
        return f"finess-ej:{self.finess_legal}"

    @property
    def national_id(self) -> str | None:
        """idNat_Struct (OID 1.2.250.1.71.4.2.2): ``1`` + FINESS, ``3`` + SIRET, ``4`` +
        technical id; None for a structure known by its legal entity alone."""
        if self.finess_site:
            return "1" + self.finess_site
        if self.siret:
            return "3" + self.siret
        if self.technical_id:
            return "4" + self.technical_id
        return None


@dataclass(frozen=True, slots=True)
class PostalAddress:
    lines: tuple[str, ...] = ()
    postal_code: str = ""
    city: str = ""
    insee_code: str = ""
    """The commune's INSEE (COG) code, when known."""
    country: str = ""


@dataclass(frozen=True, slots=True)
class Organisation:
    """A place of practice: a health establishment, a practice, a pharmacy, a company..."""

    ids: StructureIds
    name: str = ""
    trade_name: str = ""
    sector: Coded | None = None
    """Secteur d'activité (TRE_R02), e.g. SA07 cabinet individuel."""
    address: PostalAddress | None = None
    phones: tuple[str, ...] = ()
    fax: str = ""
    email: str = ""
    active: bool = True


@dataclass(frozen=True, slots=True)
class Activity:
    """One activity of a professional: a profession practised in a structure, in one mode."""

    professional: ProfessionalId
    profession: str
    structure: StructureIds | None = None
    modes: tuple[PracticeMode, ...] = ()
    """Modes of practice (one per line of the extract; the same role may be held in two)."""
    function: Coded | None = None
    """Fonction (TRE_R21), in the newer extract format."""
    genre: Coded | None = None
    """Genre d'activité (TRE_R22), in the newer extract format."""
    savoir_faire: tuple[SavoirFaire, ...] = ()
    sector: Coded | None = None
    active: bool = True

    def __post_init__(self) -> None:
        check_profession(self.profession)

    @property
    def key(self) -> str:
        """Professional × structure × role (profession and function): what makes two lines of
        the extract the same activity. Modes and savoir-faire are merged into it."""
        structure = self.structure.key if self.structure else "-"
        function = self.function.code if self.function else "-"
        return f"{self.professional.national_id}|{structure}|{self.profession}|{function}"
