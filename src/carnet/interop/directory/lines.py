"""One line of the extract → identity values, or the reasons it is rejected.

A line is one activity of one professional. Identifiers are checked strictly (RPPS and ADELI
Luhn, the national id consistent with them, profession in TRE_G15, FINESS, SIRET, SIREN, the
savoir-faire type); a line failing any check is rejected whole, so nothing of it is written.
Descriptive columns (names, addresses, labels) are taken as they come.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from carnet.identity import service as identity_service
from carnet.identity.errors import InvalidIdentity
from carnet.interop.directory.columns import Header
from carnet.interop.directory.reader import RawLine
from carnet.interop.schemas import LineError

_ID_KINDS = {
    "8": identity_service.ProfessionalIdKind.RPPS,
    "0": identity_service.ProfessionalIdKind.ADELI,
}
_MODES = {mode.value: mode for mode in identity_service.PracticeMode}
_TEXT_LIMIT = 250


@dataclass(frozen=True, slots=True)
class LineRecord:
    """What one valid line says."""

    number: int
    professional: identity_service.Professional
    activity: identity_service.Activity | None
    organisation: identity_service.Organisation | None


class _Rejected(Exception):
    def __init__(self, key: str, reason: str) -> None:
        self.key = key
        self.reason = reason


def parse_line(raw: RawLine, header: Header) -> LineRecord | LineError:
    """The values of one data line, or why it was rejected (column named as in the file)."""
    fields = raw.fields
    if len(fields) not in {header.width, header.width + 1} or (
        len(fields) == header.width + 1 and fields[-1].strip()
    ):
        return LineError(
            raw.number, "-", f"{len(fields)} fields where the header has {header.width}"
        )

    def get(key: str) -> str:
        position = header.positions.get(key)
        value = fields[position].strip() if position is not None else ""
        if len(value) > _TEXT_LIMIT:
            raise _Rejected(key, f"longer than {_TEXT_LIMIT} characters")
        return value

    try:
        return _record(raw.number, get)
    except _Rejected as exc:
        return LineError(raw.number, header.name_of(exc.key), exc.reason)
    except InvalidIdentity as exc:  # a rule of the identity values not checked above
        return LineError(raw.number, exc.field, exc.reason)


def _record(number: int, get: Callable[[str], str]) -> LineRecord:
    professional_id = _professional_id(get)
    profession = get("profession_code")
    if profession not in identity_service.PROFESSIONS_TRE_G15:
        raise _Rejected("profession_code", "not a TRE_G15 health profession code")
    savoir_faire = _savoir_faire(get)
    family_name = get("family_name")
    if not family_name:
        raise _Rejected("family_name", "required")
    professional = identity_service.Professional(
        id=professional_id,
        family_name=family_name,
        given_name=get("given_name"),
        professions=(profession,),
        savoir_faire=savoir_faire,
        civility=get("civility_code"),
        exercise_civility=get("exercise_civility_code"),
    )
    structure = _structure(get)
    mode_code = get("mode_code")
    if mode_code and mode_code not in _MODES:
        raise _Rejected("mode_code", "not a mode of practice (L, S, B)")
    sector = _coded(get, "sector_code", "sector_label")
    activity = None
    if structure is not None or mode_code:
        activity = identity_service.Activity(
            professional=professional_id,
            profession=profession,
            structure=structure,
            modes=(_MODES[mode_code],) if mode_code else (),
            function=_coded(get, "function_code", "function_label"),
            genre=_coded(get, "genre_code", "genre_label"),
            savoir_faire=savoir_faire,
            sector=sector,
        )
    organisation = _organisation(get, structure, sector) if structure is not None else None
    return LineRecord(number, professional, activity, organisation)


def _professional_id(get: Callable[[str], str]) -> identity_service.ProfessionalId:
    kind = _ID_KINDS.get(get("pp_id_type"))
    if kind is None:
        raise _Rejected("pp_id_type", "neither 8 (RPPS) nor 0 (ADELI)")
    try:
        professional_id = identity_service.ProfessionalId(kind, get("pp_id"))
    except InvalidIdentity as exc:
        raise _Rejected("pp_id", exc.reason) from None
    national = get("pp_national_id")
    if national and national != professional_id.national_id:
        raise _Rejected("pp_national_id", "is not the identifier type followed by the identifier")
    return professional_id


def _savoir_faire(get: Callable[[str], str]) -> tuple[identity_service.SavoirFaire, ...]:
    code = get("savoir_faire_code")
    if not code:
        return ()
    try:
        item = identity_service.SavoirFaire(
            get("savoir_faire_type_code"), code, get("savoir_faire_label")
        )
    except InvalidIdentity as exc:
        key = "savoir_faire_type_code" if exc.field.endswith("type") else "savoir_faire_code"
        raise _Rejected(key, exc.reason) from None
    return (item,)


_STRUCTURE_KEYS = {
    "finessSite": "finess_site",
    "finessLegal": "finess_legal",
    "siret": "siret",
    "siren": "siren",
    "technicalId": "technical_id",
}


def _structure(get: Callable[[str], str]) -> identity_service.StructureIds | None:
    values = {key: get(key) for key in _STRUCTURE_KEYS.values()}
    if not any(values[key] for key in ("finess_site", "finess_legal", "siret", "technical_id")):
        return None
    try:
        return identity_service.StructureIds(**values)
    except InvalidIdentity as exc:
        raise _Rejected(_STRUCTURE_KEYS.get(exc.field, "technical_id"), exc.reason) from None


def _coded(get: Callable[[str], str], code: str, label: str) -> identity_service.Coded | None:
    value = get(code)
    return identity_service.Coded(value, get(label)) if value else None


def _organisation(
    get: Callable[[str], str],
    structure: identity_service.StructureIds,
    sector: identity_service.Coded | None,
) -> identity_service.Organisation:
    street = " ".join(
        part
        for part in (
            get("street_number"),
            get("street_repetition"),
            get("street_type_label") or get("street_type_code"),
            get("street_name"),
        )
        if part
    )
    lines = tuple(
        part
        for part in (get("address_recipient"), get("address_place"), street, get("distribution"))
        if part
    )
    commune = get("commune_code")
    city = get("commune_label") or get("cedex_office")
    address = identity_service.PostalAddress(
        lines=lines,
        postal_code=get("postal_code"),
        city=city,
        insee_code=commune if identity_service.is_insee_commune_code(commune) else "",
        country=get("country_label"),
    )
    phones = tuple(phone for phone in (get("phone"), get("phone2")) if phone)
    return identity_service.Organisation(
        ids=structure,
        name=get("structure_name"),
        trade_name=get("trade_name"),
        sector=sector,
        address=address,
        phones=phones,
        fax=get("fax"),
        email=get("email"),
    )
