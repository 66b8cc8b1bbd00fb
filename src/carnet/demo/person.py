"""A demo person: sex, age, birthplace, names, INS, address and contacts, as a FHIR Patient."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Final, Literal

from carnet.demo.context import Resource, ascii_slug
from carnet.demo.names import (
    ORIGIN_NAMES,
    PATIENT_SURNAMES,
    REGIONAL_SURNAMES,
    given_names_for,
)
from carnet.demo.places import (
    COUNTRIES,
    DEPARTMENTS,
    STREETS,
    Commune,
    Country,
    communes_of,
    department_name,
)
from carnet.identity import service as identity_service

BIRTH_PLACE_URL: Final = "http://hl7.org/fhir/StructureDefinition/patient-birthPlace"
INSEE_CODE_URL: Final = "https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-address-insee-code"
COMMUNE_SYSTEM: Final = "https://mos.esante.gouv.fr/NOS/TRE_R13-CommuneOM/FHIR/TRE-R13-CommuneOM"

# (youngest, oldest, weight): roughly the French age pyramid, children included.
_AGE_BANDS: Final = (
    (0, 4, 6),
    (5, 14, 12),
    (15, 24, 11),
    (25, 39, 18),
    (40, 54, 19),
    (55, 64, 13),
    (65, 74, 11),
    (75, 84, 7),
    (85, 95, 3),
)
# Infants are at least three weeks old, so that their first events fall after day one.
_MIN_DAYS_OLD: Final = 21


@dataclass(frozen=True)
class Person:
    """The facts a patient's record is generated from."""

    sex: str
    birth_date: date
    home: Commune
    birth_commune: Commune | None  # None when born abroad
    birth_country: Country | None
    family: str  # birth name
    used_family: str | None  # name used after marriage, if any
    given: tuple[str, ...]

    @property
    def label(self) -> str:
        """How the CLI names this person, e.g. "Camille Martin, née en 1984"."""
        born = "née" if self.sex == "female" else "né"
        family = self.used_family or self.family
        return f"{self.given[0]} {family}, {born} en {self.birth_date.year}"


def _birth_date(rng: random.Random, reference_date: date) -> date:
    low, high, _ = rng.choices(_AGE_BANDS, weights=[band[2] for band in _AGE_BANDS])[0]
    age = rng.randint(low, high)
    days_old = rng.randint(int(age * 365.25) + 1, int((age + 1) * 365.25) - 1)
    return reference_date - timedelta(days=max(days_old, _MIN_DAYS_OLD))


def _birthplace(
    rng: random.Random, home: Commune, age: int
) -> tuple[Commune | None, Country | None]:
    if rng.random() < (0.14 if age >= 18 else 0.03):
        return None, rng.choice(COUNTRIES)
    if rng.random() < 0.6:
        return rng.choice(communes_of(home.department)), None
    department = rng.choices(list(DEPARTMENTS), weights=[w for _, w in DEPARTMENTS.values()])[0]
    return rng.choice(communes_of(department)), None


def _names(
    rng: random.Random, sex: str, birth_year: int, home: Commune, country: Country | None
) -> tuple[str, tuple[str, ...]]:
    origin = ORIGIN_NAMES.get(country.iso) if country is not None else None
    if origin is not None:
        surnames, male, female = origin
        pool = male if sex == "male" else female
        return rng.choice(surnames), tuple(rng.sample(pool, rng.choice((1, 1, 2))))
    regional = REGIONAL_SURNAMES.get(home.department)
    if regional is not None and rng.random() < 0.35:
        family = rng.choice(regional)
    else:
        family = rng.choice(PATIENT_SURNAMES)
    pool = given_names_for(sex, birth_year)
    return family, tuple(rng.sample(pool, rng.choice((1, 2, 2, 3))))


def draw_person(rng: random.Random, reference_date: date) -> Person:
    """Draw a person living in one of the demo départements."""
    sex = "female" if rng.random() < 0.51 else "male"
    birth_date = _birth_date(rng, reference_date)
    age = (reference_date - birth_date).days // 365
    department = rng.choices(list(DEPARTMENTS), weights=[w for _, w in DEPARTMENTS.values()])[0]
    home = rng.choice(communes_of(department))
    birth_commune, birth_country = _birthplace(rng, home, age)
    family, given = _names(rng, sex, birth_date.year, home, birth_country)
    used_family = None
    if sex == "female" and age >= 25 and rng.random() < 0.45:
        used_family = rng.choice([name for name in PATIENT_SURNAMES if name != family])
    return Person(sex, birth_date, home, birth_commune, birth_country, family, used_family, given)


def nir_of(person: Person, order: int) -> str:
    """The person's NIR, built from their sex, birth date, birthplace and ``order``."""
    if person.birth_commune is not None:
        place = identity_service.nir_place_code(person.birth_commune.insee, person.birth_date)
    else:
        assert person.birth_country is not None
        place = person.birth_country.insee
    sex: Literal["male", "female"] = "female" if person.sex == "female" else "male"
    return identity_service.build_nir(sex, person.birth_date, place, order)


def _insee_extension(code: str, display: str) -> dict[str, Any]:
    coding = {"system": COMMUNE_SYSTEM, "code": code, "display": display}
    return {"url": INSEE_CODE_URL, "valueCoding": coding}


def _birth_place(person: Person) -> dict[str, Any]:
    if person.birth_commune is not None:
        commune = person.birth_commune
        address = {
            "extension": [_insee_extension(commune.insee, commune.name)],
            "city": commune.name,
            "postalCode": commune.postal_code,
            "country": "FR",
        }
    else:
        assert person.birth_country is not None
        country = person.birth_country
        # The city is drawn from the country's, deterministically from the person's name.
        city = country.cities[sum(map(ord, person.family)) % len(country.cities)]
        address = {"city": city, "country": country.iso}
    return {"url": BIRTH_PLACE_URL, "valueAddress": address}


def _human_names(person: Person) -> list[dict[str, Any]]:
    names: list[dict[str, Any]] = [
        {"use": "official", "family": person.family, "given": list(person.given)}
    ]
    if person.used_family is not None:
        names.append({"use": "usual", "family": person.used_family, "given": [person.given[0]]})
    return names


def _telecom(rng: random.Random, person: Person, age: int) -> list[dict[str, Any]]:
    # 06 39 98 xx xx is a mobile range reserved for fiction; example.org/.net are reserved
    # domains (RFC 2606), so no message can ever reach anyone.
    phone = f"+33 6 39 98 {rng.randint(0, 99):02d} {rng.randint(0, 99):02d}"
    telecom: list[dict[str, Any]] = [
        {"system": "phone", "value": phone, "use": "mobile" if age >= 15 else "home"}
    ]
    if age >= 15:
        family = ascii_slug(person.used_family or person.family)
        domain = rng.choice(("example.org", "example.net"))
        email = f"{ascii_slug(person.given[0])}.{family}{rng.randint(1, 99)}@{domain}"
        telecom.append({"system": "email", "value": email, "use": "home"})
    return telecom


def _address(rng: random.Random, person: Person) -> dict[str, Any]:
    lines = [f"{rng.randint(1, 120)} {rng.choice(STREETS)}"]
    if rng.random() < 0.15:
        lines.append(f"Bâtiment {rng.choice('ABCD')}, appartement {rng.randint(1, 40)}")
    home = person.home
    return {
        "extension": [_insee_extension(home.insee, home.name)],
        "use": "home",
        "type": "both",
        "line": lines,
        "city": home.name,
        "district": department_name(home.department),
        "postalCode": home.postal_code,
        "country": "FR",
    }


def patient_resource(
    rng: random.Random,
    person: Person,
    *,
    patient_id: str,
    order: int,
    general_practitioner: Resource,
    reference_date: date,
) -> Resource:
    """The FHIR Patient of ``person``, with a TEST-OID INS and ``general_practitioner``."""
    age = (reference_date - person.birth_date).days // 365
    ins = {
        "use": "official",
        "type": {
            "coding": [{"system": identity_service.SYSTEM_FR_CORE_V2_0203, "code": "INS-NIR-TEST"}]
        },
        "system": identity_service.SYSTEM_INS_NIR_TEST,
        "value": nir_of(person, order),
    }
    return {
        "resourceType": "Patient",
        "id": patient_id,
        "extension": [_birth_place(person)],
        "identifier": [ins],
        "active": True,
        "name": _human_names(person),
        "telecom": _telecom(rng, person, age),
        "gender": person.sex,
        "birthDate": person.birth_date.isoformat(),
        "address": [_address(rng, person)],
        "communication": [
            {
                "language": {
                    "coding": [{"system": "urn:ietf:bcp:47", "code": "fr-FR"}],
                    "text": "Français",
                },
                "preferred": True,
            }
        ],
        "generalPractitioner": [
            {"reference": f"Practitioner/{general_practitioner['id']}"},
        ],
    }
