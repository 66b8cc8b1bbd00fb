"""Who signed in: the claims read as identity values, and the match with known people.

Pure functions. The callers fetch the candidates (patients found by their traits' blind
indexes, the Practitioner whose id derives from the national id) and hand them here; these
functions decide. A FranceConnect identity matches a patient only when every INS trait agrees
(``identity.matching``: birth family name, birth first names in order, birth date, sex,
birthplace), and exactly one patient does: an ambiguity is as good as no match, since signing
into the wrong space is worse than not signing in.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from carnet.identity.errors import InvalidFhirIdentity, InvalidIdentity
from carnet.identity.federation.errors import FederationRefused, Reason
from carnet.identity.fhir_directory import professional_id_of
from carnet.identity.ins import ins_trait_conflicts, parse_ins
from carnet.identity.matching import PivotIdentity, match_pivot_identity
from carnet.identity.practice import ProfessionalId
from carnet.identity.schemas import Ins, PatientIdentity

Params = list[tuple[str, str]]


@dataclass(frozen=True, slots=True)
class PatientClaims:
    """What a patient's provider asserted: the identity pivot, and an INS when it hands one."""

    pivot: PivotIdentity
    ins: Ins | None = None

    def __repr__(self) -> str:
        return "PatientClaims(<hidden>)"


@dataclass(frozen=True, slots=True)
class Candidate:
    """A known patient whose traits may be the signed-in person's."""

    patient_id: str
    identity: PatientIdentity


def patient_claims(claims: Mapping[str, Any], *, ins_claim: str = "") -> PatientClaims:
    """Read the pivot (leniently: missing claims fail the match later) and, when the provider
    is configured to hand one, the INS, whose key must be right (``Reason.INS`` otherwise)."""
    ins = None
    if ins_claim:
        value = claims.get(ins_claim)
        if value is not None:
            if not isinstance(value, str):
                raise FederationRefused(Reason.INS)
            try:
                ins = parse_ins(value)
            except InvalidIdentity:
                raise FederationRefused(Reason.INS) from None
    return PatientClaims(PivotIdentity.from_claims(claims), ins)


def candidate_searches(claims: PatientClaims) -> list[Params]:
    """Patient searches (FHIR parameters on blind-indexed values) that find every patient who
    may match: by INS when there is one, else by birth family name and birth date. A presumed
    date (``YYYY-01-01``, ``YYYY-MM-01``) may stand for a partial one, so the year or month is
    searched too."""
    searches: list[Params] = []
    if claims.ins is not None:
        # Any assigning authority: a test or demo OID carries the same matricule shape.
        searches.append([("identifier", claims.ins.matricule)])
    pivot = claims.pivot
    if not pivot.family_name or not pivot.birthdate:
        return searches
    dates = [pivot.birthdate]
    if pivot.birthdate.endswith("-01"):
        dates.append(pivot.birthdate[:7])
        if pivot.birthdate.endswith("-01-01"):
            dates.append(pivot.birthdate[:4])
    searches.extend([("family", pivot.family_name), ("birthdate", date)] for date in dates)
    return searches


def match_patient(claims: PatientClaims, candidates: Iterable[Candidate]) -> str:
    """The id of the one patient the claims designate; ``Reason.UNKNOWN_PERSON`` when none or
    several do."""
    found = {c.patient_id for c in candidates if _matches(claims, c.identity)}
    if len(found) != 1:
        raise FederationRefused(Reason.UNKNOWN_PERSON)
    return found.pop()


def _matches(claims: PatientClaims, identity: PatientIdentity) -> bool:
    if not match_pivot_identity(identity.traits, claims.pivot).matched:
        return False
    if claims.ins is None:
        return True
    # The INS must be the patient's, and agree with the traits it encodes.
    ours = identity.ins
    return (
        ours is not None
        and ours.matricule == claims.ins.matricule
        and not ins_trait_conflicts(claims.ins, identity.traits)
    )


def professional_of(claims: Mapping[str, Any], *, claim: str = "SubjectNameID") -> ProfessionalId:
    """The professional a Pro Santé Connect identity names (``8`` + RPPS, ``0`` + ADELI, its
    Luhn key checked); ``Reason.RPPS`` when absent or malformed."""
    value = claims.get(claim)
    if not isinstance(value, str):
        raise FederationRefused(Reason.RPPS)
    try:
        return ProfessionalId.parse_national(value.strip())
    except InvalidIdentity:
        raise FederationRefused(Reason.RPPS) from None


def practitioner_matches(
    practitioner: Mapping[str, Any] | None, professional: ProfessionalId
) -> bool:
    """Whether a directory Practitioner is this professional's, and active."""
    if practitioner is None or practitioner.get("active") is False:
        return False
    try:
        return professional_id_of(practitioner) == professional
    except InvalidFhirIdentity:
        return False
