"""The professional directory as FHIR R4: Practitioner, PractitionerRole, Organization.

Resource ids are derived from the national identifiers (UUIDv5 in Carnet's namespace), so the
same professional, structure or activity always has the same id, whoever writes it: the
directory import, the demo, or the sign-in looking up the Practitioner behind a Pro Santé
Connect identity (``practitioner_id(ProfessionalId.parse_national(SubjectNameID))``). The ids
reveal no identifier, yet anyone holding the public number can recompute them.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any, Final

from carnet.identity import formats
from carnet.identity import terminology as t
from carnet.identity.errors import InvalidFhirIdentity, InvalidIdentity
from carnet.identity.practice import (
    Activity,
    Coded,
    Organisation,
    PostalAddress,
    Professional,
    ProfessionalId,
    ProfessionalIdKind,
    SavoirFaire,
    StructureIds,
)

Resource = dict[str, Any]

_NAMESPACE: Final = uuid.UUID("652a563e-486d-4a0a-a721-f391eccf256d")
_GENDERS: Final = {"M": "male", "MME": "female", "MLLE": "female"}
_TITLES: Final = {"DR": "Dr", "PR": "Pr", "M": "M.", "MME": "Mme", "MLLE": "Mlle"}


def _uuid(kind: str, key: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, f"{kind}|{key}"))


def practitioner_id(professional: ProfessionalId) -> str:
    """The id of the Practitioner of a professional (from their national id)."""
    return _uuid("Practitioner", professional.national_id)


def organization_id(structure: StructureIds) -> str:
    """The id of the Organization of a structure (from its key, see ``StructureIds.key``)."""
    return _uuid("Organization", structure.key)


def practitioner_role_id(activity: Activity) -> str:
    """The id of the PractitionerRole of an activity (professional × structure × role)."""
    return _uuid("PractitionerRole", activity.key)


def _identifier(type_code: str, system: str, value: str) -> Resource:
    return {
        "use": "official",
        "type": {"coding": [{"system": t.CS_IDENTIFIER_TYPE, "code": type_code}]},
        "system": system,
        "value": value,
    }


def _coding(system: str, code: str, label: str = "") -> Resource:
    coding = {"system": system, "code": code}
    if label:
        coding["display"] = label
    return coding


def _savoir_faire_codings(item: SavoirFaire) -> list[Resource]:
    system, label = t.CS_SAVOIR_FAIRE, item.label
    if item.type_code == "S":
        system, label = t.CS_SPECIALTY, label or formats.SPECIALTIES_TRE_R38.get(item.code, "")
    return [
        _coding(t.CS_SAVOIR_FAIRE_TYPE, item.type_code, t.SAVOIR_FAIRE_TYPE_LABELS[item.type_code]),
        _coding(system, item.code, label),
    ]


def _profession_coding(code: str) -> Resource:
    return _coding(t.CS_PROFESSION, code, formats.PROFESSIONS_TRE_G15[code])


def practitioner_resource(professional: Professional) -> Resource:
    """The Practitioner of a professional: national id (IDNPS) and RPPS identifiers, name with
    the practice title as prefix (Dr, Pr) or else the civility, professions (TRE_G15) and
    savoir-faire (type TRE_R04 + code, TRE_R38 for ordinal specialties) as qualifications."""
    pid = professional.id
    identifiers = [_identifier("IDNPS", formats.SYSTEM_NATIONAL_PS_ID, pid.national_id)]
    if pid.kind is ProfessionalIdKind.RPPS:
        identifiers.append(_identifier("RPPS", formats.SYSTEM_RPPS, pid.number))
    name: Resource = {"use": "official", "family": professional.family_name}
    if professional.given_name:
        name["given"] = [professional.given_name]
    title = _TITLES.get(professional.exercise_civility) or _TITLES.get(professional.civility)
    if title:
        name["prefix"] = [title]
    resource: Resource = {
        "resourceType": "Practitioner",
        "id": practitioner_id(pid),
        "identifier": identifiers,
        "active": professional.active,
        "name": [name],
    }
    if professional.civility in _GENDERS:
        resource["gender"] = _GENDERS[professional.civility]
    qualifications = [
        {"code": {"coding": [_profession_coding(c)]}} for c in professional.professions
    ]
    qualifications += [
        {"code": {"coding": _savoir_faire_codings(s)}} for s in professional.savoir_faire
    ]
    if qualifications:
        resource["qualification"] = qualifications
    return resource


def practitioner_role_resource(activity: Activity) -> Resource:
    """The PractitionerRole of an activity: profession, modes of practice, function and genre
    as ``code``; savoir-faire as ``specialty``; the structure as ``organization``."""
    codes = [{"coding": [_profession_coding(activity.profession)]}]
    codes += [
        {"coding": [_coding(t.CS_PRACTICE_MODE, m.value, t.PRACTICE_MODE_LABELS[m.value])]}
        for m in activity.modes
    ]
    for system, coded in (
        (t.CS_FUNCTION, activity.function),
        (t.CS_ACTIVITY_GENRE, activity.genre),
    ):
        if coded is not None:
            codes.append({"coding": [_coding(system, coded.code, coded.label)]})
    resource: Resource = {
        "resourceType": "PractitionerRole",
        "id": practitioner_role_id(activity),
        "active": activity.active,
        "practitioner": {"reference": f"Practitioner/{practitioner_id(activity.professional)}"},
    }
    if activity.structure is not None:
        resource["organization"] = {
            "reference": f"Organization/{organization_id(activity.structure)}"
        }
    resource["code"] = codes
    if activity.savoir_faire:
        resource["specialty"] = [
            {"coding": _savoir_faire_codings(s)} for s in activity.savoir_faire
        ]
    return resource


def organization_resource(organisation: Organisation) -> Resource:
    """The Organization of a structure: idNat_Struct, FINESS (site FINEG, legal entity FINEJ),
    SIRET and SIREN identifiers; name (raison sociale, the trade name as alias), sector of
    activity (TRE_R02) as type, telecoms and address (with the commune's INSEE code)."""
    ids = organisation.ids
    resource: Resource = {
        "resourceType": "Organization",
        "id": organization_id(ids),
        "identifier": _structure_identifiers(ids),
        "active": organisation.active,
    }
    if organisation.sector is not None:
        sector = organisation.sector
        resource["type"] = [{"coding": [_coding(t.CS_SECTOR, sector.code, sector.label)]}]
    name = organisation.name or organisation.trade_name
    if name:
        resource["name"] = name
    if organisation.trade_name and organisation.trade_name != name:
        resource["alias"] = [organisation.trade_name]
    telecom = [{"system": "phone", "value": p, "use": "work"} for p in organisation.phones]
    if organisation.fax:
        telecom.append({"system": "fax", "value": organisation.fax, "use": "work"})
    if organisation.email:
        telecom.append({"system": "email", "value": organisation.email, "use": "work"})
    if telecom:
        resource["telecom"] = telecom
    if organisation.address is not None and (address := _address(organisation.address)):
        resource["address"] = [address]
    return resource


def _structure_identifiers(ids: StructureIds) -> list[Resource]:
    identifiers = []
    if ids.national_id is not None:
        identifiers.append(
            _identifier("IDNST", formats.SYSTEM_NATIONAL_STRUCTURE_ID, ids.national_id)
        )
    if ids.finess_site:
        identifiers.append(_identifier("FINEG", formats.SYSTEM_FINESS, ids.finess_site))
    if ids.finess_legal:
        identifiers.append(_identifier("FINEJ", formats.SYSTEM_FINESS, ids.finess_legal))
    if ids.siret:
        identifiers.append(_identifier("SIRET", t.SYSTEM_SIRENE, ids.siret))
    if ids.siren:
        identifiers.append(_identifier("SIREN", t.SYSTEM_SIRENE, ids.siren))
    return identifiers


def _address(address: PostalAddress) -> Resource:
    resource: Resource = {}
    if address.insee_code:
        coding = {"system": t.CS_COMMUNE, "code": address.insee_code}
        resource["extension"] = [{"url": t.EXT_ADDRESS_INSEE_CODE, "valueCoding": coding}]
    if resource or address.lines or address.city or address.postal_code:
        resource["use"] = "work"
    if address.lines:
        resource["line"] = list(address.lines)
    for key, value in (
        ("city", address.city),
        ("postalCode", address.postal_code),
        ("country", address.country),
    ):
        if value:
            resource[key] = value
    return resource


# --- Back from FHIR ----------------------------------------------------------------------------
def professional_id_of(practitioner: Mapping[str, Any]) -> ProfessionalId:
    """The professional identifier a Practitioner carries (its IDNPS national id, else its
    RPPS number). Raises ``InvalidFhirIdentity`` when it carries none, or a malformed one."""
    identifiers = practitioner.get("identifier")
    by_system = {
        i.get("system"): i.get("value")
        for i in (identifiers if isinstance(identifiers, list) else [])
        if isinstance(i, Mapping) and isinstance(i.get("value"), str)
    }
    try:
        if national := by_system.get(formats.SYSTEM_NATIONAL_PS_ID):
            return ProfessionalId.parse_national(str(national))
        if rpps := by_system.get(formats.SYSTEM_RPPS):
            return ProfessionalId(ProfessionalIdKind.RPPS, str(rpps))
    except InvalidIdentity as exc:
        raise InvalidFhirIdentity("Practitioner.identifier", exc.reason) from None
    raise InvalidFhirIdentity("Practitioner.identifier", "no national professional identifier")


def professions_of(resource: Mapping[str, Any]) -> tuple[Coded, ...]:
    """The TRE_G15 professions a Practitioner (qualification) or PractitionerRole (code) holds."""
    holders = resource.get("qualification") or []
    concepts = [q.get("code") for q in holders if isinstance(q, Mapping)]
    concepts += [c for c in resource.get("code") or [] if isinstance(c, Mapping)]
    found = {
        Coded(str(coding["code"]), str(coding.get("display", "")))
        for concept in concepts
        if isinstance(concept, Mapping)
        for coding in concept.get("coding") or []
        if isinstance(coding, Mapping)
        and coding.get("system") == t.CS_PROFESSION
        and coding.get("code") in formats.PROFESSIONS_TRE_G15
    }
    return tuple(sorted(found))
