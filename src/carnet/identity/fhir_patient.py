"""A person's identity as a FHIR R4 Patient (FR Core), and back.

The Patient carries the reference traits (official name = birth names with the
``birth-list-given-name`` extension; usual name = used names), the identity-reliability
extension (RNIV status and collection method), the birthplace's INSEE code, and the INS
identifier (type INS-NIR, INS-NIA, INS-NIR-TEST or INS-NIR-DEMO) **only when the identity is
qualified**: FR Core and the INS rules let no other identity carry the matricule in shared data.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from carnet.identity import terminology as t
from carnet.identity.errors import InvalidFhirIdentity, InvalidIdentity, UnsharedMatricule
from carnet.identity.schemas import (
    BirthDate,
    BirthPlace,
    CollectionMethod,
    IdentityStatus,
    Ins,
    InsKind,
    PatientIdentity,
    ReferenceTraits,
    Sex,
)

Resource = dict[str, Any]


def patient_resource(identity: PatientIdentity, *, resource_id: str | None = None) -> Resource:
    """The FR Core Patient of ``identity`` (valid R4). The INS identifier is included only for
    a qualified identity, which then also claims the FR Core INS profile."""
    traits = identity.traits
    ins = identity.shareable_ins
    qualified_ins = ins is not None and traits.birthplace is not None
    resource: Resource = {"resourceType": "Patient"}
    if resource_id is not None:
        resource["id"] = resource_id
    resource["meta"] = {"profile": [t.PROFILE_PATIENT_INS if qualified_ins else t.PROFILE_PATIENT]}
    resource["extension"] = [_reliability(identity)]
    if traits.birthplace is not None:
        resource["extension"].append(_birthplace(traits.birthplace))
    if ins is not None:
        resource["identifier"] = [_ins_identifier(ins)]
    resource["name"] = _names(traits)
    resource["gender"] = traits.sex.value
    resource["birthDate"] = traits.birth_date.iso()
    return resource


def _reliability(identity: PatientIdentity) -> Resource:
    parts: list[Resource] = [
        {
            "url": "identityStatus",
            "valueCoding": {
                "system": t.CS_IDENTITY_STATUS,
                "code": identity.status.value,
                "display": t.STATUS_LABELS[identity.status],
            },
        }
    ]
    if identity.method is not None:
        parts.insert(
            0,
            {
                "url": "methodCollection",
                "valueCoding": {
                    "system": t.CS_METHOD_COLLECTION,
                    "code": identity.method.value,
                    "display": t.METHOD_LABELS[identity.method],
                },
            },
        )
    return {"url": t.EXT_IDENTITY_RELIABILITY, "extension": parts}


def _birthplace(place: BirthPlace) -> Resource:
    # Communes are coded in TRE_R13; a country code (99xxx) is carried the same way, as FR Core
    # says, but is not in that table, so its coding names no system.
    coding = {"code": place.code} if place.abroad else {"system": t.CS_COMMUNE, "code": place.code}
    address: Resource = {"extension": [{"url": t.EXT_ADDRESS_INSEE_CODE, "valueCoding": coding}]}
    if not place.abroad:
        address["country"] = "FR"
    return {"url": t.EXT_PATIENT_BIRTHPLACE, "valueAddress": address}


def _ins_identifier(ins: Ins) -> Resource:
    return {
        "use": ins.kind.use,
        "type": {"coding": [{"system": t.CS_IDENTIFIER_TYPE, "code": ins.kind.value}]},
        "system": ins.kind.system,
        "value": ins.matricule,
    }


def _names(traits: ReferenceTraits) -> list[Resource]:
    official: Resource = {
        "extension": [
            {"url": t.EXT_BIRTH_LIST_GIVEN_NAME, "valueString": " ".join(traits.birth_given_names)}
        ],
        "use": "official",
        "family": traits.birth_family_name,
        "given": [traits.first_given_name],
    }
    names = [official]
    if traits.used_family_name or traits.used_given_name:
        usual: Resource = {"use": "usual"}
        if traits.used_family_name:
            usual["family"] = traits.used_family_name
        if traits.used_given_name:
            usual["given"] = [traits.used_given_name]
        names.append(usual)
    return names


# --- Back from FHIR ----------------------------------------------------------------------------
def patient_identity(resource: Mapping[str, Any]) -> PatientIdentity:
    """Read an identity from a FHIR Patient.

    Raises ``InvalidFhirIdentity`` (naming the element) when a trait is missing or malformed,
    ``InvalidMatricule``/``InvalidOid`` for a bad INS, and ``UnsharedMatricule`` when a Patient
    whose identity is not qualified carries an INS matricule.
    """
    if resource.get("resourceType") != "Patient":
        raise InvalidFhirIdentity("Patient.resourceType", "not a Patient")
    status, method = _read_reliability(resource)
    ins = _read_ins(resource)
    if ins is not None and not status.may_share_matricule:
        raise UnsharedMatricule(
            "Patient.identifier", "only a qualified identity (QUAL) may carry the INS matricule"
        )
    return PatientIdentity(traits=_read_traits(resource), status=status, ins=ins, method=method)


def _extensions(element: Mapping[str, Any], url: str) -> list[Mapping[str, Any]]:
    found = element.get("extension")
    if not isinstance(found, list):
        return []
    return [ext for ext in found if isinstance(ext, Mapping) and ext.get("url") == url]


def _coding_code(extension: Mapping[str, Any]) -> str:
    coding = extension.get("valueCoding")
    code = coding.get("code") if isinstance(coding, Mapping) else None
    return code if isinstance(code, str) else ""


def _read_reliability(
    resource: Mapping[str, Any],
) -> tuple[IdentityStatus, CollectionMethod | None]:
    where = "Patient.extension[identityReliability]"
    status, method = IdentityStatus.PROV, None
    for reliability in _extensions(resource, t.EXT_IDENTITY_RELIABILITY)[:1]:
        for part in _extensions(reliability, "identityStatus")[:1]:
            try:
                status = IdentityStatus(_coding_code(part))
            except ValueError:
                raise InvalidFhirIdentity(
                    f"{where}.identityStatus", "not PROV, RECUP, VALI nor QUAL"
                ) from None
        for part in _extensions(reliability, "methodCollection")[:1]:
            try:
                method = CollectionMethod(_coding_code(part))
            except ValueError:
                raise InvalidFhirIdentity(
                    f"{where}.methodCollection", "not a collection method"
                ) from None
    return status, method


def _read_ins(resource: Mapping[str, Any]) -> Ins | None:
    identifiers = resource.get("identifier")
    for index, identifier in enumerate(identifiers if isinstance(identifiers, list) else []):
        if not isinstance(identifier, Mapping) or identifier.get("use") == "old":
            continue
        system = identifier.get("system")
        kind = next((k for k in InsKind if k.system == system), None)
        if kind is None:
            continue
        value = identifier.get("value")
        if not isinstance(value, str):
            raise InvalidFhirIdentity(f"Patient.identifier[{index}].value", "required")
        codes = [c.get("code") for c in (identifier.get("type") or {}).get("coding", [])]
        if codes and kind.value not in codes:
            raise InvalidFhirIdentity(f"Patient.identifier[{index}].type", "disagrees with system")
        return Ins(value, kind)
    return None


def _read_traits(resource: Mapping[str, Any]) -> ReferenceTraits:
    names = [n for n in resource.get("name") or [] if isinstance(n, Mapping)]
    official = next((n for n in names if n.get("use") == "official"), None)
    if official is None or not isinstance(official.get("family"), str):
        raise InvalidFhirIdentity("Patient.name[official].family", "required")
    given = [g for g in official.get("given") or [] if isinstance(g, str)]
    if not given:
        raise InvalidFhirIdentity("Patient.name[official].given", "required")
    listed = [
        ext.get("valueString")
        for ext in _extensions(official, t.EXT_BIRTH_LIST_GIVEN_NAME)
        if isinstance(ext.get("valueString"), str)
    ]
    given_names = tuple(str(listed[0]).split()) if listed else tuple(given)
    usual = next((n for n in names if n.get("use") == "usual"), {})
    usual_given = [g for g in usual.get("given") or [] if isinstance(g, str)]
    try:
        sex = Sex(str(resource.get("gender")))
    except ValueError:
        raise InvalidFhirIdentity("Patient.gender", "male, female or unknown") from None
    birth_date = resource.get("birthDate")
    if not isinstance(birth_date, str):
        raise InvalidFhirIdentity("Patient.birthDate", "required")
    try:
        return ReferenceTraits(
            birth_family_name=official["family"],
            birth_given_names=given_names,
            first_given_name=given[0],
            sex=sex,
            birth_date=BirthDate.parse(birth_date),
            birthplace=_read_birthplace(resource),
            used_family_name=usual.get("family") if isinstance(usual.get("family"), str) else None,
            used_given_name=usual_given[0] if usual_given else None,
        )
    except InvalidIdentity as exc:
        raise InvalidFhirIdentity(f"Patient.{exc.field}", exc.reason) from None


def _read_birthplace(resource: Mapping[str, Any]) -> BirthPlace | None:
    for extension in _extensions(resource, t.EXT_PATIENT_BIRTHPLACE)[:1]:
        address = extension.get("valueAddress")
        if not isinstance(address, Mapping):
            break
        for insee in _extensions(address, t.EXT_ADDRESS_INSEE_CODE)[:1]:
            return BirthPlace(_coding_code(insee))
    return None
