"""The demo professional directory: organisations (FINESS), practitioners (RPPS) and their roles.

Their ids are those the directory import derives from the national identifiers
(``identity.fhir_directory``), so the demo directory and its extract (``directory_extract``)
describe the same resources.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any, Final, NamedTuple

from carnet.demo.context import Resource, ascii_slug, make_rng, reference
from carnet.demo.names import PROFESSIONAL_GIVEN_NAMES, PROFESSIONAL_SURNAMES
from carnet.demo.places import COMMUNES, ORGANIZATION_STREETS, department_name
from carnet.demo.schemas import DemoDirectory
from carnet.identity import service as identity_service

# FR Core identifier types (IDNPS, RPPS, IDNST, FINEG) share the INS types' code system, as in
# the ANS implementation guides' examples.
IDENTIFIER_TYPE_SYSTEM: Final = identity_service.SYSTEM_FR_CORE_V2_0203
ORGANIZATION_TYPE_SYSTEM: Final = "http://terminology.hl7.org/CodeSystem/organization-type"
# Generated RPPS numbers start with 999: real RPPS numbers start with 10, and the national
# sandbox uses the 99 range, so a demo number can never be a real professional's.
_RPPS_PREFIX: Final = "999"

GP: Final = "SM54"
PAEDIATRICS: Final = "SM40"
CARDIOLOGY: Final = "SM04"
ENDOCRINOLOGY: Final = "SM62"
PNEUMOLOGY: Final = "SM41"
PSYCHIATRY: Final = "SM42"
OBSTETRICS: Final = "SM20"
EMERGENCY: Final = "SM59"
BIOLOGY: Final = "SM03"
RHEUMATOLOGY: Final = "SM48"


# Where people of a département without demo organisations go for care.
_NEIGHBOURS: Final = {
    "2A": "13",
    "2B": "13",
    "972": "971",
    "35": "44",
    "34": "31",
    "06": "13",
    "38": "69",
    "33": "31",
    "67": "75",
}


class _Org(NamedTuple):
    kind: str  # hospital | lab | pharmacy | practice
    insee: str
    postal_code: str
    name: str


_ORGANIZATIONS: Final = (
    _Org("hospital", "31555", "31000", "Centre hospitalier universitaire de la Garonne"),
    _Org("lab", "31555", "31400", "Laboratoire de biologie médicale Occitanie Bio"),
    _Org("pharmacy", "31555", "31500", "Pharmacie du Capitole"),
    _Org("practice", "31555", "31000", "Maison de santé pluriprofessionnelle des Carmes"),
    _Org("practice", "31069", "31700", "Cabinet médical de l'Aéroport"),
    _Org("hospital", "44109", "44000", "Centre hospitalier universitaire de l'Erdre"),
    _Org("lab", "44109", "44300", "Laboratoire Atlantique Biologie"),
    _Org("pharmacy", "44184", "44600", "Pharmacie de l'Estuaire"),
    _Org("practice", "44109", "44000", "Maison de santé pluriprofessionnelle de l'Île"),
    _Org("practice", "44184", "44600", "Centre de santé du Port"),
    _Org("hospital", "80021", "80000", "Centre hospitalier universitaire de la Somme"),
    _Org("lab", "80021", "80090", "Laboratoire Picardie Analyses"),
    _Org("pharmacy", "80001", "80100", "Pharmacie de la Baie"),
    _Org("practice", "80021", "80000", "Maison de santé pluriprofessionnelle des Hortillonnages"),
    _Org("practice", "80001", "80100", "Cabinet médical du Ponthieu"),
    _Org("hospital", "75114", "75014", "Hôpital de la Porte d'Orléans"),
    _Org("lab", "75111", "75011", "Laboratoire Bastille Biologie"),
    _Org("pharmacy", "75118", "75018", "Pharmacie des Abbesses"),
    _Org("practice", "75115", "75015", "Centre de santé de Vaugirard"),
    _Org("hospital", "13205", "13005", "Hôpital des Calanques"),
    _Org("pharmacy", "13208", "13008", "Pharmacie du Prado"),
    _Org("practice", "13213", "13013", "Maison de santé des Olives"),
    _Org("hospital", "69383", "69003", "Hôpital du Confluent"),
    _Org("lab", "69266", "69100", "Laboratoire Rhône Analyses"),
    _Org("practice", "69387", "69007", "Maison de santé de la Guillotière"),
    _Org("lab", "33063", "33000", "Laboratoire Gironde Biologie"),
    _Org("practice", "33063", "33800", "Centre de santé des Capucins"),
    _Org("pharmacy", "59350", "59000", "Pharmacie de la Grand-Place"),
    _Org("practice", "59350", "59000", "Maison de santé de Wazemmes"),
    _Org("pharmacy", "67482", "67000", "Pharmacie de la Cathédrale"),
    _Org("practice", "67482", "67000", "Maison de santé de la Krutenau"),
    _Org("practice", "97120", "97110", "Centre de santé de la Darse"),
    _Org("hospital", "97422", "97430", "Centre hospitalier des Hauts"),
    _Org("practice", "97422", "97430", "Maison de santé des Hauts"),
)

# Staff by kind of organisation: (profession TRE_G15, specialty TRE_R38 or None).
_STAFF: Final[dict[str, tuple[tuple[str, str | None], ...]]] = {
    "practice": (("10", GP), ("10", GP), ("10", "SM26"), ("60", None), ("70", None)),
    "hospital": (
        ("10", PAEDIATRICS),
        ("10", CARDIOLOGY),
        ("10", ENDOCRINOLOGY),
        ("10", PNEUMOLOGY),
        ("10", PSYCHIATRY),
        ("10", OBSTETRICS),
        ("10", EMERGENCY),
        ("10", RHEUMATOLOGY),
        ("50", None),
    ),
    "lab": (("10", BIOLOGY),),
    "pharmacy": (("21", None), ("21", None)),
}
_KIND_TEXT: Final = {
    "hospital": "Établissement de santé",
    "lab": "Laboratoire de biologie médicale",
    "pharmacy": "Pharmacie d'officine",
    "practice": "Exercice de ville regroupé",
}


def _department_of(postal_code: str) -> str:
    if postal_code.startswith("97"):
        return postal_code[:3]
    return postal_code[:2]


def _finess(rng: random.Random, department: str) -> str:
    # Département prefix (3 digits overseas), random digits, Luhn check digit: 9 digits.
    body = department + "".join(str(rng.randint(0, 9)) for _ in range(8 - len(department)))
    return identity_service.luhn_complete(body)


def _phone(rng: random.Random) -> str:
    # 01 99 00 xx xx is a range reserved for fiction.
    return f"+33 1 99 00 {rng.randint(0, 99):02d} {rng.randint(0, 99):02d}"


def _identifier(type_code: str, system: str, value: str) -> dict[str, Any]:
    return {
        "use": "official",
        "type": {"coding": [{"system": IDENTIFIER_TYPE_SYSTEM, "code": type_code}]},
        "system": system,
        "value": value,
    }


def _organization(rng: random.Random, spec: _Org) -> Resource:
    commune = next(c for c in COMMUNES if c.postal_code == spec.postal_code)
    finess = _finess(rng, _department_of(spec.postal_code))
    return {
        "resourceType": "Organization",
        # The id the directory import gives this structure, so both write the same resource.
        "id": identity_service.organization_id(identity_service.StructureIds(finess_site=finess)),
        "identifier": [
            _identifier("IDNST", identity_service.SYSTEM_NATIONAL_STRUCTURE_ID, "1" + finess),
            _identifier("FINEG", identity_service.SYSTEM_FINESS, finess),
        ],
        "active": True,
        "type": [
            {
                "coding": [{"system": ORGANIZATION_TYPE_SYSTEM, "code": "prov"}],
                "text": _KIND_TEXT[spec.kind],
            }
        ],
        "name": spec.name,
        "telecom": [{"system": "phone", "value": _phone(rng), "use": "work"}],
        "address": [
            {
                "use": "work",
                "type": "both",
                "line": [f"{rng.randint(1, 80)} {rng.choice(ORGANIZATION_STREETS)}"],
                "city": commune.name,
                "district": department_name(commune.department),
                "postalCode": spec.postal_code,
                "country": "FR",
            }
        ],
    }


def _qualification(system: str, code: str, display: str) -> dict[str, Any]:
    return {"code": {"coding": [{"system": system, "code": code, "display": display}]}}


def _practitioner(
    rng: random.Random, name: tuple[str, str, str], profession: str, specialty: str | None
) -> Resource:
    family, given, gender = name
    rpps = identity_service.luhn_complete(
        _RPPS_PREFIX + "".join(str(rng.randint(0, 9)) for _ in range(7))
    )
    qualifications = [
        _qualification(
            identity_service.SYSTEM_TRE_G15,
            profession,
            identity_service.PROFESSIONS_TRE_G15[profession],
        )
    ]
    if specialty is not None:
        qualifications.append(
            _qualification(
                identity_service.SYSTEM_TRE_R38,
                specialty,
                identity_service.SPECIALTIES_TRE_R38[specialty],
            )
        )
    person_name: dict[str, Any] = {"use": "official", "family": family, "given": [given]}
    if profession in {"10", "21", "40"}:
        person_name["prefix"] = ["Dr"]
    professional = identity_service.ProfessionalId(identity_service.ProfessionalIdKind.RPPS, rpps)
    return {
        "resourceType": "Practitioner",
        "id": identity_service.practitioner_id(professional),
        "identifier": [
            _identifier(
                "IDNPS",
                identity_service.SYSTEM_NATIONAL_PS_ID,
                identity_service.national_professional_id(rpps),
            ),
            _identifier("RPPS", identity_service.SYSTEM_RPPS, rpps),
        ],
        "active": True,
        "name": [person_name],
        "telecom": [
            {
                "system": "email",
                "value": f"{ascii_slug(given)}.{ascii_slug(family)}@mssante.example",
                "use": "work",
            }
        ],
        "gender": gender,
        "qualification": qualifications,
    }


def _role(practitioner: Resource, organization: Resource) -> Resource:
    codings = [q["code"]["coding"][0] for q in practitioner["qualification"]]
    activity = identity_service.Activity(
        professional=identity_service.ProfessionalId.parse_national(
            practitioner["identifier"][0]["value"]
        ),
        profession=codings[0]["code"],
        structure=identity_service.StructureIds(finess_site=organization["identifier"][1]["value"]),
    )
    role: Resource = {
        "resourceType": "PractitionerRole",
        "id": identity_service.practitioner_role_id(activity),
        "active": True,
        "practitioner": reference(practitioner),
        "organization": reference(organization),
        "code": [{"coding": [codings[0]]}],
    }
    if len(codings) > 1:
        role["specialty"] = [{"coding": [codings[1]]}]
    return role


def _names(rng: random.Random, count: int) -> list[tuple[str, str, str]]:
    # Distinct (family, given) pairs, so that the directory reads like a real one.
    pairs = [
        (family, given, sex)
        for family in PROFESSIONAL_SURNAMES
        for sex, pool in PROFESSIONAL_GIVEN_NAMES.items()
        for given in pool
    ]
    return rng.sample(pairs, count)


def generate_directory(*, seed: int) -> DemoDirectory:
    """The demo directory of ``seed``: organisations in several départements, their
    practitioners (GPs, specialists, pharmacists, biologists, nurses...) and roles."""
    rng = make_rng(seed, "directory")
    organizations = [_organization(rng, spec) for spec in _ORGANIZATIONS]
    staff_count = sum(len(_STAFF[spec.kind]) for spec in _ORGANIZATIONS)
    names = iter(_names(rng, staff_count))
    practitioners: list[Resource] = []
    roles: list[Resource] = []
    for spec, organization in zip(_ORGANIZATIONS, organizations, strict=True):
        for profession, specialty in _STAFF[spec.kind]:
            practitioner = _practitioner(rng, next(names), profession, specialty)
            practitioners.append(practitioner)
            roles.append(_role(practitioner, organization))
    return DemoDirectory(
        organizations=tuple(organizations),
        practitioners=tuple(practitioners),
        practitioner_roles=tuple(roles),
    )


class Staff(NamedTuple):
    """A practitioner, where they work, and the département of that place."""

    practitioner: Resource
    organization: Resource
    department: str


@dataclass
class DirectoryIndex:
    """Who is who in a ``DemoDirectory``, read back from its resources."""

    by_specialty: dict[str, list[Staff]] = field(default_factory=dict)
    by_profession: dict[str, list[Staff]] = field(default_factory=dict)

    @classmethod
    def of(cls, directory: DemoDirectory) -> DirectoryIndex:
        """Index ``directory`` by specialty and by profession."""
        practitioners = {p["id"]: p for p in directory.practitioners}
        organizations = {o["id"]: o for o in directory.organizations}
        index = cls()
        for role in directory.practitioner_roles:
            practitioner = practitioners[role["practitioner"]["reference"].split("/")[1]]
            organization = organizations[role["organization"]["reference"].split("/")[1]]
            staff = Staff(
                practitioner,
                organization,
                _department_of(organization["address"][0]["postalCode"]),
            )
            profession = role["code"][0]["coding"][0]["code"]
            index.by_profession.setdefault(profession, []).append(staff)
            for specialty in role.get("specialty", ()):
                code = specialty["coding"][0]["code"]
                key = GP if code in identity_service.GENERAL_PRACTICE_SPECIALTIES else code
                index.by_specialty.setdefault(key, []).append(staff)
        return index

    def pick(
        self, rng: random.Random, department: str, *, specialty: str = "", profession: str = ""
    ) -> Staff:
        """A professional of ``specialty`` (or ``profession``), in ``department`` if any, else
        in a neighbouring one, else anywhere."""
        pool = self.by_specialty[specialty] if specialty else self.by_profession[profession]
        for place in (department, _NEIGHBOURS.get(department)):
            local = [staff for staff in pool if staff.department == place]
            if local:
                return rng.choice(local)
        return rng.choice(pool)
