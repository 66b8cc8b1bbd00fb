"""The person's contacts, stored as FHIR ``RelatedPerson`` resources in their compartment.

Why RelatedPerson: it is the R4 resource for "a person with a personal relationship to the
patient", it sits in the patient's compartment (``RelatedPerson.patient``), and its
``relationship`` (0..*) holds both the family tie and the roles. Each concept carries Carnet's
own code (so reading back is exact) and, where one exists, the standard code, chosen as the
French CI-SIS documents do for the same people (VSM header: emergency contact = RoleClass ECON,
personne de confiance = RoleClass NOK; family ties from v3-RoleCode).
"""

from __future__ import annotations

import re
from typing import Any, Final

import orjson

from carnet.record.errors import ResourceDeleted, ResourceNotFound
from carnet.record.service import Repository, StoredResource
from carnet.wishes.errors import ContactNotFound, ContactReason, InvalidContact, SecondTrustedPerson
from carnet.wishes.schemas import Contact, ContactInput, ContactRole, Relation

ROLE_SYSTEM: Final = "urn:carnet:volontes:role-contact"
RELATION_SYSTEM: Final = "urn:carnet:volontes:lien"
V3_ROLE_CODE: Final = "http://terminology.hl7.org/CodeSystem/v3-RoleCode"
V3_ROLE_CLASS: Final = "http://terminology.hl7.org/CodeSystem/v3-RoleClass"
V2_0131: Final = "http://terminology.hl7.org/CodeSystem/v2-0131"

_RELATION_CODES: Final[dict[Relation, tuple[str, str, str]]] = {
    Relation.MOTHER: (V3_ROLE_CODE, "MTH", "mother"),
    Relation.FATHER: (V3_ROLE_CODE, "FTH", "father"),
    Relation.CHILD: (V3_ROLE_CODE, "CHILD", "child"),
    Relation.SPOUSE: (V3_ROLE_CODE, "SPS", "spouse"),
    Relation.TUTEUR: (V3_ROLE_CLASS, "GUARD", "guardian"),
    Relation.OTHER: (V2_0131, "O", "Other"),
}
_ROLE_CODES: Final[dict[ContactRole, tuple[str, str, str]]] = {
    ContactRole.EMERGENCY_CONTACT: (V3_ROLE_CLASS, "ECON", "emergency contact"),
    ContactRole.TRUSTED_CONTACT: (V3_ROLE_CLASS, "NOK", "next of kin"),
    ContactRole.CAREGIVER_CONTACT: (V3_ROLE_CLASS, "CAREGIVER", "caregiver"),
}
_NAME_MAX: Final = 100
# Letters first, then letters, spaces, hyphens, apostrophes and dots (Jean-Éric, N’Diaye, St.).
_NAME: Final = re.compile(r"[^\W\d_](?:[^\W\d_]|[ '’.\-])*")
_CITY: Final = re.compile(r"[^\W_](?:[^\W_]|[ '’.\-])*")
# A French mobile: 06 or 07, written nationally or internationally (+33 / 0033), with or
# without separators.
_SEPARATORS: Final = re.compile(r"[ .\-]")
_MOBILE: Final = re.compile(r"(?:0|\+33|0033)([67]\d{8})")
# Five digits, from a real département (01–98: 2A/2B are 20xxx in postal codes).
_POSTAL_CODE: Final = re.compile(r"(?:0[1-9]|[1-8]\d|9[0-8])\d{3}")


def normalise_mobile(value: str) -> str | None:
    """``value`` as E.164 (+33612345678), or None when it is not a French mobile number."""
    match = _MOBILE.fullmatch(_SEPARATORS.sub("", value.strip()))
    return f"+33{match.group(1)}" if match else None


def _check_name(value: str, pattern: re.Pattern[str]) -> ContactReason | None:
    if not value:
        return "missing"
    if len(value) > _NAME_MAX:
        return "too-long"
    return None if pattern.fullmatch(value) else "bad-characters"


def checked(contact: ContactInput) -> Contact:
    """``contact`` normalised (id left empty), or InvalidContact listing every problem."""
    problems: list[tuple[str, ContactReason]] = []
    for field, pattern in (("first_name", _NAME), ("last_name", _NAME), ("city", _CITY)):
        reason = _check_name(getattr(contact, field).strip(), pattern)
        if reason:
            problems.append((field, reason))
    relation = contact.relation.strip()
    if relation not in Relation.__members__:
        problems.append(("relation", "missing" if not relation else "bad-relation"))
    mobile = normalise_mobile(contact.mobile)
    if mobile is None:
        problems.append(("mobile", "missing" if not contact.mobile.strip() else "bad-mobile"))
    postal_code = contact.postal_code.strip()
    if not _POSTAL_CODE.fullmatch(postal_code):
        problems.append(("postal_code", "missing" if not postal_code else "bad-postal-code"))
    if not contact.roles:
        problems.append(("roles", "no-role"))
    elif any(role not in ContactRole.__members__ for role in contact.roles):
        problems.append(("roles", "bad-role"))
    if problems:
        raise InvalidContact(tuple(problems))
    assert mobile is not None
    return Contact(
        id="",
        first_name=" ".join(contact.first_name.split()),
        last_name=" ".join(contact.last_name.split()),
        relation=Relation(relation),
        mobile=mobile,
        postal_code=postal_code,
        city=" ".join(contact.city.split()),
        roles=frozenset(ContactRole(role) for role in contact.roles),
    )


def _concept(own_system: str, code: str, standard: tuple[str, str, str] | None) -> dict[str, Any]:
    coding = [{"system": own_system, "code": code}]
    if standard is not None:
        system, standard_code, display = standard
        coding.append({"system": system, "code": standard_code, "display": display})
    return {"coding": coding}


def to_resource(contact: Contact, *, patient_id: str) -> dict[str, Any]:
    """``contact`` as a RelatedPerson of ``patient_id``'s compartment."""
    relationship = [
        _concept(RELATION_SYSTEM, contact.relation.value, _RELATION_CODES[contact.relation])
    ]
    relationship += [
        _concept(ROLE_SYSTEM, role.value, _ROLE_CODES.get(role)) for role in sorted(contact.roles)
    ]
    resource: dict[str, Any] = {
        "resourceType": "RelatedPerson",
        "active": True,
        "patient": {"reference": f"Patient/{patient_id}"},
        "relationship": relationship,
        "name": [{"family": contact.last_name, "given": [contact.first_name]}],
        "telecom": [{"system": "phone", "value": contact.mobile, "use": "mobile"}],
        "address": [{"postalCode": contact.postal_code, "city": contact.city, "country": "FR"}],
    }
    if contact.id:
        resource["id"] = contact.id
    return resource


def _own_codes(body: dict[str, Any], system: str) -> list[str]:
    return [
        coding.get("code", "")
        for concept in body.get("relationship", [])
        for coding in concept.get("coding", [])
        if coding.get("system") == system
    ]


def from_resource(stored: StoredResource) -> Contact:
    """A RelatedPerson written by ``to_resource`` (or close to it), read back."""
    body = orjson.loads(stored.body)
    name = (body.get("name") or [{}])[0]
    phone: dict[str, Any] = next(
        (t for t in body.get("telecom", []) if t.get("system") == "phone"), {}
    )
    address = (body.get("address") or [{}])[0]
    relations = [code for code in _own_codes(body, RELATION_SYSTEM) if code in Relation.__members__]
    roles = [code for code in _own_codes(body, ROLE_SYSTEM) if code in ContactRole.__members__]
    return Contact(
        id=stored.id,
        first_name=" ".join(name.get("given", [])),
        last_name=name.get("family", ""),
        relation=Relation(relations[0]) if relations else Relation.OTHER,
        mobile=phone.get("value", ""),
        postal_code=address.get("postalCode", ""),
        city=address.get("city", ""),
        roles=frozenset(ContactRole(code) for code in roles),
    )


def list_contacts(repo: Repository, *, patient_id: str) -> tuple[Contact, ...]:
    """The person's contacts: the trusted person first, then by name."""
    found = repo.search("RelatedPerson", [("patient", f"Patient/{patient_id}"), ("_count", "100")])
    contacts = [from_resource(stored) for stored in found.matches]
    return tuple(
        sorted(contacts, key=lambda c: (not c.trusted, c.last_name.casefold(), c.first_name))
    )


def get_contact(repo: Repository, *, patient_id: str, contact_id: str) -> Contact:
    """One of the person's contacts, or ContactNotFound."""
    try:
        stored = repo.read("RelatedPerson", contact_id)
    except (ResourceNotFound, ResourceDeleted):
        raise ContactNotFound from None
    if stored.patient_id != patient_id:
        raise ContactNotFound
    return from_resource(stored)


def _require_single_trusted(
    repo: Repository, *, patient_id: str, contact: Contact, except_id: str = ""
) -> None:
    if not contact.trusted:
        return
    # Reading the Patient first is audited in the person's chain, whose head row is locked
    # until commit (FOR UPDATE on PostgreSQL; SQLite has one writer): a concurrent request
    # declaring a trusted person waits here, then its search sees this one's.
    repo.read("Patient", patient_id)
    others = list_contacts(repo, patient_id=patient_id)
    if any(other.trusted and other.id != except_id for other in others):
        raise SecondTrustedPerson


def add_contact(repo: Repository, *, patient_id: str, contact: ContactInput) -> Contact:
    """Record a new contact. Raises InvalidContact, or SecondTrustedPerson when it would be a
    second personne de confiance; nothing is stored then."""
    new = checked(contact)
    _require_single_trusted(repo, patient_id=patient_id, contact=new)
    stored = repo.create(to_resource(new, patient_id=patient_id))
    return from_resource(stored)


def update_contact(
    repo: Repository, *, patient_id: str, contact_id: str, contact: ContactInput
) -> Contact:
    """Change a contact (same checks as ``add_contact``)."""
    get_contact(repo, patient_id=patient_id, contact_id=contact_id)
    changed = checked(contact)
    _require_single_trusted(repo, patient_id=patient_id, contact=changed, except_id=contact_id)
    resource = to_resource(changed, patient_id=patient_id) | {"id": contact_id}
    outcome = repo.update("RelatedPerson", contact_id, resource)
    return from_resource(outcome.resource)


def delete_contact(repo: Repository, *, patient_id: str, contact_id: str) -> None:
    """Remove a contact (its history stays in the record, as every deletion's does)."""
    get_contact(repo, patient_id=patient_id, contact_id=contact_id)
    repo.delete("RelatedPerson", contact_id)
