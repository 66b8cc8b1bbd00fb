"""French national identifiers: NIR/INS, RPPS, FINESS; their code systems and OIDs.

Pure functions with strict checks. They accept exactly the documented forms (no spaces, no
lower-case letters) and reject everything else rather than guessing: callers normalise input
(strip spaces, upper-case) before asking.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Final, Literal

# --- OIDs and code systems -------------------------------------------------------------------
OID_INS_NIR: Final = "1.2.250.1.213.1.4.8"
OID_INS_NIA: Final = "1.2.250.1.213.1.4.9"
# Fictitious test patients: every generated (demo) INS carries this OID, never the production one.
OID_INS_NIR_TEST: Final = "1.2.250.1.213.1.4.10"
OID_INS_NIR_DEMO: Final = "1.2.250.1.213.1.4.11"
# Assigning authority of the national professional identifier ("8" + RPPS, "0" + ADELI).
OID_NATIONAL_PS_ID: Final = "1.2.250.1.71.4.2.1"
# National structure identifier ("1" + FINESS, "3" + SIRET, ...).
OID_NATIONAL_STRUCTURE_ID: Final = "1.2.250.1.71.4.2.2"
OID_FINESS: Final = OID_NATIONAL_STRUCTURE_ID
OID_TRE_G15: Final = "1.2.250.1.71.1.2.7"

SYSTEM_INS_NIR: Final = f"urn:oid:{OID_INS_NIR}"
SYSTEM_INS_NIA: Final = f"urn:oid:{OID_INS_NIA}"
SYSTEM_INS_NIR_TEST: Final = f"urn:oid:{OID_INS_NIR_TEST}"
SYSTEM_INS_NIR_DEMO: Final = f"urn:oid:{OID_INS_NIR_DEMO}"
SYSTEM_NATIONAL_PS_ID: Final = f"urn:oid:{OID_NATIONAL_PS_ID}"
SYSTEM_NATIONAL_STRUCTURE_ID: Final = f"urn:oid:{OID_NATIONAL_STRUCTURE_ID}"
SYSTEM_RPPS: Final = "https://rpps.esante.gouv.fr"
SYSTEM_FINESS: Final = "https://finess.esante.gouv.fr"
# Identifier types of FR Core (INS-NIR, INS-NIR-TEST, IDNPS, RPPS, IDNST, FINEG...).
SYSTEM_FR_CORE_V2_0203: Final = "https://hl7.fr/ig/fhir/core/CodeSystem/fr-core-cs-v2-0203"
SYSTEM_TRE_G15: Final = (
    "https://mos.esante.gouv.fr/NOS/TRE_G15-ProfessionSante/FHIR/TRE-G15-ProfessionSante"
)
SYSTEM_TRE_R38: Final = (
    "https://mos.esante.gouv.fr/NOS/TRE_R38-SpecialiteOrdinale/FHIR/TRE-R38-SpecialiteOrdinale"
)

# TRE_G15-ProfessionSante, complete list.
PROFESSIONS_TRE_G15: Final[dict[str, str]] = {
    "10": "Médecin",
    "21": "Pharmacien",
    "26": "Audioprothésiste",
    "28": "Opticien-Lunetier",
    "31": "Assistant dentaire",
    "32": "Physicien médical",
    "35": "Aide-soignant",
    "36": "Ambulancier",
    "37": "Auxiliaire de puériculture",
    "38": "Préparateur en pharmacie hospitalière",
    "39": "Préparateur en pharmacie",
    "40": "Chirurgien-Dentiste",
    "50": "Sage-Femme",
    "60": "Infirmier",
    "69": "Infirmier psychiatrique",
    "70": "Masseur-Kinésithérapeute",
    "80": "Pédicure-Podologue",
    "81": "Orthoprothésiste",
    "82": "Podo-Orthésiste",
    "83": "Orthopédiste-Orthésiste",
    "84": "Oculariste",
    "85": "Epithésiste",
    "86": "Technicien de labo médical",
    "91": "Orthophoniste",
    "92": "Orthoptiste",
    "93": "Psychologue",
    "94": "Ergothérapeute",
    "95": "Diététicien",
    "96": "Psychomotricien",
    "98": "Manipulateur ERM",
}

# TRE_R38-SpecialiteOrdinale: the medical specialties this code base uses (not the full list).
SPECIALTIES_TRE_R38: Final[dict[str, str]] = {
    "SM01": "Anatomie et cytologie pathologiques",
    "SM02": "Anesthésie-réanimation",
    "SM03": "Biologie médicale",
    "SM04": "Cardiologie et maladies vasculaires",
    "SM05": "Chirurgie générale",
    "SM08": "Chirurgie orthopédique et traumatologie",
    "SM15": "Dermatologie et vénéréologie",
    "SM18": "Gériatrie",
    "SM19": "Gynécologie médicale",
    "SM20": "Gynécologie-obstétrique",
    "SM24": "Gastro-entérologie et hépatologie",
    "SM26": "Qualifié en Médecine générale",
    "SM27": "Médecine interne",
    "SM32": "Neurologie",
    "SM38": "Ophtalmologie",
    "SM39": "Oto-rhino-laryngologie",
    "SM40": "Pédiatrie",
    "SM41": "Pneumologie",
    "SM42": "Psychiatrie",
    "SM44": "Radio-diagnostic",
    "SM48": "Rhumatologie",
    "SM53": "Spécialiste en Médecine générale",
    "SM54": "Médecine générale",
    "SM59": "Médecine d'urgence",
    "SM62": "Endocrinologie, diabétologie, nutrition",
}
GENERAL_PRACTICE_SPECIALTIES: Final = frozenset({"SM26", "SM53", "SM54"})

# --- Shapes ------------------------------------------------------------------------------------
_DIGITS = re.compile(r"[0-9]+")
_NIR_SHAPE = re.compile(r"[0-9]{5}(?:2[AB]|[0-9]{2})[0-9]{8}")
_NIR13_SHAPE = re.compile(r"[0-9]{5}(?:2[AB]|[0-9]{2})[0-9]{6}")
# The INSEE space, looser than the MES app (which only takes 1/2): 3/4 are legacy numbers of
# foreign persons being registered, 7/8 provisional numbers. All share the key rule.
_NIR_SEXES: Final = frozenset("123478")
# Overseas départements and collectivities: a 3-digit code then a 2-digit commune. 985 is the
# former code of Mayotte, still carried by people born there before it became 976.
_OVERSEAS: Final = frozenset(
    {"971", "972", "973", "974", "975", "976", "977", "978", "984", "985", "986", "987", "988"}
)
_CORSICA_SPLIT: Final = date(1976, 1, 1)


def _is_ascii_digits(value: str) -> bool:
    return _DIGITS.fullmatch(value) is not None


def _nir_integer(first13: str) -> int:
    # Only positions 6-7 may hold 2A/2B (Corsica); they count as 19 and 18 in the key.
    place_dept = first13[5:7]
    if place_dept == "2A":
        place_dept = "19"
    elif place_dept == "2B":
        place_dept = "18"
    return int(first13[:5] + place_dept + first13[7:])


def nir_key(first13: str) -> str:
    """The two-digit key of a NIR: 97 − (N mod 97), with 2A → 19 and 2B → 18 in N.

    ``first13`` is the sex, year, month, place and order (13 characters, digits except a
    Corsican ``2A``/``2B`` at positions 6–7). Raises ``ValueError`` on any other shape.
    """
    if _NIR13_SHAPE.fullmatch(first13) is None:
        raise ValueError("a NIR body is 13 digits (2A/2B allowed at positions 6-7)")
    return f"{97 - _nir_integer(first13) % 97:02d}"


def _nir_month_is_valid(month: int) -> bool:
    # 01-12 real months; 20-30 and 50-99 fictitious months (no month on the civil-status
    # record); 31-42 "pseudo-fictitious" months (January = 31 ... December = 42).
    return 1 <= month <= 12 or 20 <= month <= 42 or 50 <= month <= 99


def _nir_place_is_valid(place: str) -> bool:
    dept = place[:2]
    if dept in {"2A", "2B"}:
        return place[2:] != "000"
    if dept in {"97", "98"}:
        return place[:3] in _OVERSEAS and place[3:] != "00"
    if dept == "99":
        # Born abroad: 99 + INSEE country code (990 marks an unknown country).
        return True
    # Metropolitan départements 01-95 ("20" for Corsica before 1976); 91-96 also occur for births
    # in pre-independence Algeria, Morocco and Tunisia, so 96 is accepted too.
    return 1 <= int(dept) <= 96 and place[2:] != "000"


def is_valid_nir(nir: str) -> bool:
    """Whether ``nir`` is a well-formed NIR (or NIA) with a correct key.

    15 characters: sex (1/2, and the INSEE space's 3/4 legacy and 7/8 provisional numbers),
    year (00–99), month (01–12, or the fictitious 20–42 and 50–99), place (département 01–96
    + 3-digit commune, 2A/2B, overseas 97x/98x + 2-digit commune, or 99 + country code),
    order (001–999) and the key of ``nir_key``.
    """
    if _NIR_SHAPE.fullmatch(nir) is None or nir[0] not in _NIR_SEXES:
        return False
    if not _nir_month_is_valid(int(nir[3:5])) or not _nir_place_is_valid(nir[5:10]):
        return False
    if nir[10:13] == "000":
        return False
    return nir_key(nir[:13]) == nir[13:]


def nir_place_code(insee_code: str, birth_date: date) -> str:
    """The place part of a NIR for a birth in commune ``insee_code`` on ``birth_date``.

    Corsican communes are coded 2A/2B only for births from 1 January 1976; earlier births
    carry the former département 20 with the same commune number.
    """
    if len(insee_code) != 5:
        raise ValueError("an INSEE place code has 5 characters")
    if insee_code[:2] in {"2A", "2B"} and birth_date < _CORSICA_SPLIT:
        return "20" + insee_code[2:]
    return insee_code


def build_nir(
    sex: Literal["male", "female"], birth_date: date, insee_place_code: str, order: int
) -> str:
    """A NIR for a person of ``sex`` born on ``birth_date`` in ``insee_place_code``.

    ``insee_place_code`` is the 5-character place as the NIR carries it (see ``nir_place_code``
    for Corsica before 1976; ``99`` + country code when born abroad). ``order`` is 1–999.
    Raises ``ValueError`` when the parts cannot make a valid NIR.
    """
    sex_digit = {"male": "1", "female": "2"}.get(sex)
    if sex_digit is None:
        raise ValueError("sex must be 'male' or 'female'")
    if not 1 <= order <= 999:
        raise ValueError("the order number is 1-999")
    first13 = f"{sex_digit}{birth_date.year % 100:02d}{birth_date.month:02d}"
    first13 += f"{insee_place_code}{order:03d}"
    if _NIR13_SHAPE.fullmatch(first13) is None or not _nir_place_is_valid(insee_place_code):
        raise ValueError("not a valid INSEE place code for a NIR")
    return first13 + nir_key(first13)


# --- Luhn: RPPS, FINESS, ADELI -------------------------------------------------------------------
def _luhn_sum(digits: str) -> int:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = ord(char) - 48
        if position % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total


def luhn_is_valid(digits: str) -> bool:
    """Whether the ASCII digit string ``digits`` (check digit last) passes the Luhn mod-10 test."""
    return _is_ascii_digits(digits) and _luhn_sum(digits) % 10 == 0


def luhn_complete(prefix: str) -> str:
    """``prefix`` (ASCII digits) followed by its Luhn check digit."""
    if not _is_ascii_digits(prefix):
        raise ValueError("a Luhn prefix is made of ASCII digits")
    return prefix + str((10 - _luhn_sum(prefix + "0") % 10) % 10)


def is_valid_rpps(rpps: str) -> bool:
    """Whether ``rpps`` is an RPPS number: 11 digits whose last one is the Luhn check digit."""
    return len(rpps) == 11 and luhn_is_valid(rpps)


def national_professional_id(rpps: str) -> str:
    """The national professional identifier of an RPPS holder: ``"8"`` + the RPPS number.

    It is the value carried under OID 1.2.250.1.71.4.2.1 (type IDNPS) and by Pro Santé Connect.
    Raises ``ValueError`` if ``rpps`` is not a valid RPPS number.
    """
    if not is_valid_rpps(rpps):
        raise ValueError("not a valid RPPS number")
    return "8" + rpps


def is_valid_finess(finess: str) -> bool:
    """Whether ``finess`` is a FINESS number: 9 digits passing the Luhn test.

    Corsican numbers begin with 2A/2B and their check rule is not established, so they are
    reported invalid (unknown rule) rather than accepted unchecked.
    """
    return len(finess) == 9 and luhn_is_valid(finess)


def is_valid_adeli(adeli: str) -> bool:
    """Whether ``adeli`` is an ADELI number: 9 digits (département, profession, order) whose last
    one is a Luhn check digit (every published sample passes it)."""
    return len(adeli) == 9 and luhn_is_valid(adeli)


def is_valid_siren(siren: str) -> bool:
    """Whether ``siren`` is a SIREN number: 9 digits passing the Luhn test."""
    return len(siren) == 9 and luhn_is_valid(siren)


# La Poste's establishments share one SIREN and are numbered outside the Luhn rule: the digits of
# their SIRET add up to a multiple of 5 instead.
_LA_POSTE_SIREN: Final = "356000000"


def is_valid_siret(siret: str) -> bool:
    """Whether ``siret`` is a SIRET number: 14 digits (SIREN + establishment) passing Luhn, or,
    for La Poste's establishments (numbered outside that rule), whose digits add up to a
    multiple of 5."""
    if len(siret) != 14 or not _is_ascii_digits(siret):
        return False
    if luhn_is_valid(siret):
        return True
    return siret.startswith(_LA_POSTE_SIREN) and sum(int(char) for char in siret) % 5 == 0


_CORSICAN_FINESS = re.compile(r"2[AB][0-9]{7}")


def finess_check(finess: str) -> Literal["valid", "invalid", "unchecked"]:
    """How far a FINESS number can be trusted: ``valid`` (9 digits passing Luhn), ``unchecked``
    (a Corsican ``2A``/``2B`` number, well formed, whose key rule is not established) or
    ``invalid``. Importers of public data accept ``unchecked`` rather than drop Corsica."""
    if is_valid_finess(finess):
        return "valid"
    if _CORSICAN_FINESS.fullmatch(finess) is not None:
        return "unchecked"
    return "invalid"


_INSEE_COMMUNE = re.compile(
    r"(?:0[1-9]|[1-8][0-9]|9[0-5]|2[AB])[0-9]{3}|97[1-8][0-9]{2}|98[4-8][0-9]{2}"
)
_INSEE_ABROAD = re.compile(r"99[0-9]{3}")


def is_insee_commune_code(code: str) -> bool:
    """Whether ``code`` is shaped like an INSEE (COG) commune code: département 01–95 or 2A/2B
    followed by 3 digits, or an overseas 97x/98x département followed by 2 digits."""
    return _INSEE_COMMUNE.fullmatch(code) is not None and not code.endswith("000")


def is_insee_country_code(code: str) -> bool:
    """Whether ``code`` is an INSEE (COG) country code: ``99`` + 3 digits (France is 99100)."""
    return _INSEE_ABROAD.fullmatch(code) is not None
