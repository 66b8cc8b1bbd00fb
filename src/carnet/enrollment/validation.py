"""Checking one registry line, column by column, into a normalised ``RegistryEntry``.

Pure: no database, no clock (``today`` is passed in). Every problem of the line is reported,
each naming its column and a stable rule code, never the value. What needs the database (the
holder exists, the NIR was not already given in the file) is checked by the importer.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Final, Literal

from carnet.enrollment.schemas import LineError, RegistryEntry
from carnet.identity import service as identity_service

# Metropolitan départements 01-95 (20 has been 2A and 2B since 1976), Corsica, and the five
# overseas départements (971 Guadeloupe, 972 Martinique, 973 Guyane, 974 La Réunion, 976
# Mayotte; 975 Saint-Pierre-et-Miquelon, a collectivity, keeps the code in the insurer's files).
DEPARTEMENTS: Final = frozenset(
    [f"{n:02d}" for n in range(1, 96) if n != 20] + ["2A", "2B"] + [str(n) for n in range(971, 977)]
)

_NIR_SHAPE: Final = re.compile(r"[0-9]{5}(?:2[AB]|[0-9]{2})[0-9]{8}")
_DATE: Final = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# Letters, then letters, spaces, hyphens, apostrophes and dots (Saint-Exupéry, N'Diaye, Le
# Gall, Ste. Marie): no digits, no other symbols, as the civil status writes names.
_NAME: Final = re.compile(r"[^\W\d_](?:[^\W\d_]|[ '’.-])*")
_NAME_MAX: Final = 100
_TEXT_MAX: Final = 200
_POSTAL_CODE: Final = re.compile(r"[0-9]{5}")
_VITALE: Final = re.compile(r"[0-9]{8,13}")
_EMAIL: Final = re.compile(
    r"[^@\s|]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+"
)
# French mobiles: 06 and 07 in the national plan (overseas mobiles are 06 too: 0690, 0692…);
# international forms from France and the overseas départements' own country codes.
_MOBILE_NATIONAL: Final = re.compile(r"0[67][0-9]{8}")
_MOBILE_INTERNATIONAL: Final = re.compile(r"\+(?:33|262|269|590|594|596)([67][0-9]{8})")
_MOBILE_SEPARATORS: Final = str.maketrans("", "", " .-")
_OLDEST_BIRTH_YEAR: Final = 1880


class _Line:
    """One line's values and the problems found so far."""

    def __init__(self, number: int, fields: dict[str, str]) -> None:
        self.number = number
        self.fields = fields
        self.errors: list[LineError] = []

    def fail(self, column: str, rule: str, reason: str) -> None:
        self.errors.append(LineError(self.number, column, rule, reason))

    def required(self, column: str) -> str:
        value = self.fields[column]
        if not value:
            self.fail(column, "required", "this column is required")
        return value


def _nir(line: _Line, column: str, *, required: bool) -> str:
    value = line.fields[column].upper()
    if not value:
        if required:
            line.fail(column, "required", "this column is required")
        return ""
    if _NIR_SHAPE.fullmatch(value) is None:
        line.fail(column, "nir-format", "not 15 characters shaped like a NIR or NIA")
    elif identity_service.nir_key(value[:13]) != value[13:]:
        line.fail(column, "nir-key", "the key (last two digits) does not match the number")
    elif not identity_service.is_valid_nir(value):
        line.fail(column, "nir-format", "the sex, month, place or order part is impossible")
    return value


def _date(line: _Line, column: str, *, today: date, required: bool) -> date | None:
    value = line.fields[column]
    if not value:
        if required:
            line.fail(column, "required", "this column is required")
        return None
    try:
        parsed = date.fromisoformat(value) if _DATE.fullmatch(value) else None
    except ValueError:
        parsed = None
    if parsed is None:
        line.fail(column, "date-format", "not a date written YYYY-MM-DD")
    elif parsed > today:
        line.fail(column, "date-future", "the date is in the future")
    elif parsed.year < _OLDEST_BIRTH_YEAR:
        line.fail(column, "date-range", f"the date is before {_OLDEST_BIRTH_YEAR}")
    else:
        return parsed
    return None


def _name(line: _Line, column: str, *, required: bool) -> str:
    value = " ".join(line.fields[column].split())
    if not value:
        if required:
            line.fail(column, "required", "this column is required")
        return ""
    if len(value) > _NAME_MAX or not all(_NAME.fullmatch(part) for part in value.split(" ")):
        line.fail(column, "name-format", "letters, spaces, hyphens and apostrophes only")
    return value


def _text(line: _Line, column: str) -> str:
    value = " ".join(line.required(column).split())
    if len(value) > _TEXT_MAX or not value.isprintable():
        line.fail(column, "text-format", f"at most {_TEXT_MAX} printable characters")
    return value


def _vitale(line: _Line, *, holder: bool) -> tuple[str, Literal["photo", "sans_photo", ""]]:
    serial = line.fields["numero_serie_vitale"]
    card = line.fields["type_carte_vitale"].lower()
    if card not in {"", "photo", "sans_photo"}:
        line.fail("type_carte_vitale", "vitale-card", "photo, sans_photo or empty")
        return serial, ""
    if not serial:
        if holder:
            line.fail("numero_serie_vitale", "required", "a holder's line needs a card serial")
        elif card:
            line.fail("numero_serie_vitale", "required", "a card type without a serial number")
    elif card == "photo" and (len(serial) != 11 or not serial.isdigit()):
        line.fail("numero_serie_vitale", "vitale-format", "a card with photo has 11 digits")
    elif _VITALE.fullmatch(serial) is None:
        line.fail("numero_serie_vitale", "vitale-format", "8 to 13 digits")
    return serial, card  # type: ignore[return-value]  # checked against the three values above


def _mobile(line: _Line) -> str:
    value = line.fields["mobile"].translate(_MOBILE_SEPARATORS)
    if not value or _MOBILE_NATIONAL.fullmatch(value):
        return value
    international = _MOBILE_INTERNATIONAL.fullmatch(value)
    if international is None:
        line.fail("mobile", "mobile-format", "a French mobile number (06 or 07)")
        return ""
    return "0" + international.group(1)


def _email(line: _Line) -> str:
    value = line.fields["email"]
    if value and (len(value) > 254 or _EMAIL.fullmatch(value) is None):
        line.fail("email", "email-format", "not an e-mail address")
        return ""
    local, _, domain = value.partition("@")
    return f"{local}@{domain.lower()}" if value else ""


def _traits_agree(line: _Line, nir: str, sex: str, birth: date | None) -> None:
    """The NIR carries its holder's sex, year and month of birth: a line that contradicts
    them is an identity error worth stopping at (the number or the traits are someone else's).
    Temporary and legacy numbers (sex 3/4/7/8) and fictitious months say nothing."""
    if line.errors or birth is None:
        return
    nir_sex = {"1": "M", "2": "F"}.get(nir[0])
    month = int(nir[3:5])
    if (
        (nir_sex is not None and nir_sex != sex)
        or int(nir[1:3]) != birth.year % 100
        or (1 <= month <= 12 and month != birth.month)
    ):
        line.fail("nir", "nir-traits", "the NIR contradicts the sex or the birth date")


def check_line(
    number: int, fields: dict[str, str], *, today: date
) -> RegistryEntry | list[LineError]:
    """The normalised entry of a valid line, or every problem of an invalid one."""
    line = _Line(number, fields)
    nir = _nir(line, "nir", required=True)
    kind = line.fields["nature_identifiant"].upper() or "NIR"
    if kind not in {"NIR", "NIA"}:
        line.fail("nature_identifiant", "identifier-kind", "NIR, NIA or empty")
    holder_nir = _nir(line, "nir_ouvrant_droit", required=False)
    if holder_nir and holder_nir == nir:
        line.fail("nir_ouvrant_droit", "holder-self", "a beneficiary cannot be their own holder")
    serial, card = _vitale(line, holder=not holder_nir)
    family = _name(line, "nom_naissance", required=True)
    used = _name(line, "nom_usage", required=False)
    given = _name(line, "prenoms", required=True)
    sex = line.required("sexe").upper()
    if sex and sex not in {"M", "F"}:
        line.fail("sexe", "sex", "M or F")
    birth = _date(line, "date_naissance", today=today, required=True)
    place = line.required("lieu_naissance").upper()
    if place and not (
        identity_service.is_insee_commune_code(place)
        or identity_service.is_insee_country_code(place)
    ):
        line.fail("lieu_naissance", "birthplace", "not an INSEE commune or country code")
    address = _text(line, "adresse")
    postal = line.required("code_postal")
    if postal and _POSTAL_CODE.fullmatch(postal) is None:
        line.fail("code_postal", "postal-code", "five digits")
    city = _text(line, "commune")
    departement = line.required("departement").upper()
    if departement and departement not in DEPARTEMENTS:
        line.fail("departement", "departement-unknown", "not a French département code")
    email, mobile = _email(line), _mobile(line)
    death = _date(line, "date_deces", today=today, required=False)
    if death is not None and birth is not None and death < birth:
        line.fail("date_deces", "death-before-birth", "the date of death precedes the birth")
    _traits_agree(line, nir, sex, birth)
    if line.errors:
        return line.errors
    assert birth is not None
    return RegistryEntry(
        nir=nir,
        identifier_kind="NIA" if kind == "NIA" else "NIR",
        holder_nir=holder_nir,
        vitale_serial=serial,
        vitale_card=card,
        birth_family_name=family,
        used_family_name=used,
        given_names=given,
        sex="F" if sex == "F" else "M",
        birth_date=birth,
        birth_place=place,
        address=address,
        postal_code=postal,
        city=city,
        departement=departement,
        email=email,
        mobile=mobile,
        death_date=death,
    )
