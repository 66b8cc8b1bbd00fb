"""Reading an INS typed by a person or a system, and checking it against the traits.

A NIR (and a NIA, built the same way) encodes its holder's sex, year and month of birth and
birthplace: an INS whose matricule contradicts the traits it comes with is an identity error
worth stopping at, before anything is attached to the wrong person.
"""

from __future__ import annotations

from carnet.identity.schemas import FRANCE_COUNTRY_CODE, Ins, InsKind, ReferenceTraits, Sex

_SEPARATORS = str.maketrans("", "", " .-\u00a0")


def parse_ins(matricule: str, oid: str = InsKind.NIR.oid) -> Ins:
    """An INS from a matricule as people type it (spaces, dots and hyphens ignored, lower-case
    2a/2b accepted) and its OID (with or without ``urn:oid:``).

    Raises ``InvalidMatricule`` (field ``ins.matricule``) or ``InvalidOid`` (``ins.oid``).
    """
    return Ins(matricule.translate(_SEPARATORS).upper(), InsKind.from_oid(oid))


def ins_trait_conflicts(ins: Ins, traits: ReferenceTraits) -> tuple[str, ...]:
    """The traits the matricule contradicts: ``sex`` (1 male, 2 female), ``birthDate`` (year,
    and month when the NIR carries a real one), ``birthPlace`` (commune, or country abroad).

    Provisional or legacy numbers (sex digit 3/4/7/8) and fictitious months say nothing and are
    not held against the traits.
    """
    nir = ins.matricule
    conflicts = []
    sex = {"1": Sex.MALE, "2": Sex.FEMALE}.get(nir[0])
    if sex is not None and traits.sex is not Sex.UNKNOWN and sex is not traits.sex:
        conflicts.append("sex")
    month = int(nir[3:5])
    date = traits.birth_date
    if int(nir[1:3]) != date.year % 100 or (
        1 <= month <= 12 and date.month is not None and month != date.month
    ):
        conflicts.append("birthDate")
    if traits.birthplace is not None and not _same_place(nir[5:10], traits.birthplace.code):
        conflicts.append("birthPlace")
    return tuple(conflicts)


def _same_place(nir_place: str, code: str) -> bool:
    if nir_place.startswith("99") or code.startswith("99"):
        # 990xx marks an unknown country; France (99100) never appears in a NIR.
        return nir_place == code or nir_place.startswith("990") or code == FRANCE_COUNTRY_CODE
    if nir_place[:2] == "20" and code[:2] in {"2A", "2B"}:
        return nir_place[2:] == code[2:]  # Corsica before 1976
    return nir_place == code
