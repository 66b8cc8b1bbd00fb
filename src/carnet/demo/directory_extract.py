"""The demo directory, and as many synthetic professionals as wanted, as rows of the Annuaire
Santé extract (``PS_LibreAcces_Personne_activite``).

Rows are plain dicts keyed by the extract's column keys (``interop.directory.columns``: the two
areas are siblings and share this contract, checked by the tests); ``interop.service
.write_extract`` turns them into a file. Pure and deterministic, like the rest of the demo:

- ``directory_activities``: the demo directory of a seed, so that importing its extract updates
  the very resources ``carnet demo seed`` writes (same national identifiers, same ids);
- ``synthetic_activities``: a large extract (the benchmark's million lines) in bounded memory,
  professionals listed one after another as in the real file, 1 to 4 activities each.

Nobody real: RPPS numbers start with 999, ADELI numbers and FINESS numbers with the
non-existent département 00, SIREN numbers with 000; phone numbers are in the 01 99 00 range
reserved for fiction; e-mail domains end in .example.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Final

from carnet.demo.context import ascii_slug, make_rng
from carnet.demo.directory import generate_directory
from carnet.demo.names import PROFESSIONAL_GIVEN_NAMES, PROFESSIONAL_SURNAMES
from carnet.demo.places import COMMUNES, ORGANIZATION_STREETS
from carnet.demo.schemas import DemoDirectory
from carnet.identity import service as identity_service

Row = dict[str, str]

# Organisation type (its text in the demo) → (mode of practice, secteur d'activité).
_DEMO_KINDS: Final = {
    "Établissement de santé": ("S", "SA01", "Hôpital public"),
    "Laboratoire de biologie médicale": ("S", "", ""),
    "Pharmacie d'officine": ("L", "", ""),
    "Exercice de ville regroupé": ("L", "SA08", "Cabinet de groupe"),
}
_CIVILITIES: Final = {"male": ("M", "Monsieur"), "female": ("MME", "Madame")}
_DOCTORS: Final = frozenset({"10", "21", "40"})


def _identifier(resource: dict[str, object], system: str) -> str:
    identifiers = resource["identifier"]
    assert isinstance(identifiers, list)
    return next(str(i["value"]) for i in identifiers if i["system"] == system)


def _person_columns(rpps: str, family: str, given: str, gender: str, profession: str) -> Row:
    civility, civility_label = _CIVILITIES[gender]
    row = {
        "pp_id_type": "8",
        "pp_id": rpps,
        "pp_national_id": "8" + rpps,
        "civility_code": civility,
        "civility_label": civility_label,
        "family_name": family.upper(),
        "given_name": given.upper(),
        "profession_code": profession,
        "profession_label": identity_service.PROFESSIONS_TRE_G15[profession],
        "category_code": "C",
        "category_label": "Civil",
    }
    if profession in _DOCTORS:
        row |= {"exercise_civility_code": "DR", "exercise_civility_label": "Docteur"}
    return row


def _specialty_columns(code: str) -> Row:
    return {
        "savoir_faire_type_code": "S",
        "savoir_faire_type_label": "Spécialité ordinale",
        "savoir_faire_code": code,
        "savoir_faire_label": identity_service.SPECIALTIES_TRE_R38.get(code, ""),
    }


def directory_activities(directory: DemoDirectory) -> Iterator[Row]:
    """One row per PractitionerRole of ``directory`` (its practitioner and organisation)."""
    practitioners = {p["id"]: p for p in directory.practitioners}
    organizations = {o["id"]: o for o in directory.organizations}
    for role in directory.practitioner_roles:
        practitioner = practitioners[role["practitioner"]["reference"].split("/")[1]]
        organization = organizations[role["organization"]["reference"].split("/")[1]]
        name = practitioner["name"][0]
        profession = role["code"][0]["coding"][0]["code"]
        row = _person_columns(
            _identifier(practitioner, identity_service.SYSTEM_RPPS),
            name["family"],
            name["given"][0],
            practitioner["gender"],
            profession,
        )
        for specialty in role.get("specialty", ()):
            row |= _specialty_columns(specialty["coding"][0]["code"])
        mode, sector, sector_label = _DEMO_KINDS[organization["type"][0]["text"]]
        address = organization["address"][0]
        commune = next(c for c in COMMUNES if c.postal_code == address["postalCode"])
        number, _, street = address["line"][0].partition(" ")
        row |= {
            "mode_code": mode,
            "mode_label": {"L": "Libéral", "S": "Salarié"}[mode],
            "finess_site": _identifier(organization, identity_service.SYSTEM_FINESS),
            "structure_name": organization["name"],
            "street_number": number,
            "street_name": street,
            "postal_code": address["postalCode"],
            "commune_code": commune.insee,
            "commune_label": commune.name.upper(),
            "phone": organization["telecom"][0]["value"].replace("+33 ", "0").replace(" ", ""),
            "sector_code": sector,
            "sector_label": sector_label,
        }
        yield row


# --- Synthetic professionals in bulk ----------------------------------------------------------
# (profession, weight, specialties drawn for it)
_PROFESSIONS: Final = (
    ("10", 30, ("SM54", "SM54", "SM26", "SM53", *identity_service.SPECIALTIES_TRE_R38)),
    ("60", 25, ()),
    ("70", 10, ()),
    ("21", 10, ()),
    ("40", 6, ()),
    ("50", 4, ()),
    ("93", 4, ()),
    ("91", 3, ()),
    ("96", 2, ()),
    ("26", 2, ()),
    ("80", 2, ()),
    ("95", 2, ()),
)
# Kind of structure: (weight, mode, sector, label, identified by)
_KINDS: Final = (
    (40, "L", "SA07", "Cabinet individuel", "technical"),
    (25, "L", "SA08", "Cabinet de groupe", "siret"),
    (15, "S", "SA05", "Centre de santé", "finess"),
    (20, "S", "SA01", "Hôpital public", "finess"),
)
_ACTIVITY_COUNTS: Final = ((1, 35), (2, 30), (3, 20), (4, 15))
_ADELI_EVERY: Final = 20  # one professional in 20 (non-doctors only) is listed by ADELI
_ADELI_LIMIT: Final = _ADELI_EVERY * 10_000
_WITHOUT_ACTIVITY: Final = 0.05


def _unreal_luhn(rng: random.Random, prefix: str, length: int) -> str:
    body = prefix + "".join(str(rng.randint(0, 9)) for _ in range(length - len(prefix) - 1))
    return identity_service.luhn_complete(body)


def _structure(seed: int, index: int) -> Row:
    rng = make_rng(seed, "extract-structure", index)
    _, mode, sector, label, identified_by = rng.choices(_KINDS, weights=[k[0] for k in _KINDS])[0]
    commune = rng.choice(COMMUNES)
    name = f"{label} {commune.name} {index}"
    row = {
        "mode_code": mode,
        "mode_label": {"L": "Libéral", "S": "Salarié"}[mode],
        "structure_name": name,
        "street_number": str(rng.randint(1, 120)),
        "street_name": rng.choice(ORGANIZATION_STREETS),
        "postal_code": commune.postal_code,
        "commune_code": commune.insee,
        "commune_label": commune.name.upper(),
        "phone": f"019900{rng.randint(0, 9999):04d}",
        "email": f"contact@{ascii_slug(label)}{index}.example",
        "sector_code": sector,
        "sector_label": label,
        "technical_id": f"SYN{index:010d}",
    }
    if identified_by == "siret":
        siren = _unreal_luhn(rng, "000", 9)
        row |= {"siren": siren, "siret": identity_service.luhn_complete(siren + "0001")}
    elif identified_by == "finess":
        row["finess_site"] = _unreal_luhn(rng, "00", 9)
        row["finess_legal"] = _unreal_luhn(rng, "00", 9)
    return row


def _professional(rng: random.Random, number: int, taken: frozenset[str]) -> Row:
    profession, _, specialties = rng.choices(_PROFESSIONS, weights=[p[1] for p in _PROFESSIONS])[0]
    gender = rng.choice(("male", "female"))
    family = rng.choice(PROFESSIONAL_SURNAMES)
    given = rng.choice(PROFESSIONAL_GIVEN_NAMES[gender])
    rpps = identity_service.luhn_complete(f"999{number:07d}")
    while rpps in taken:  # a number the demo directory already holds
        number += 5_000_000
        rpps = identity_service.luhn_complete(f"999{number % 10_000_000:07d}")
    row = _person_columns(rpps, family, given, gender, profession)
    if profession not in _DOCTORS and number % _ADELI_EVERY == 1 and number < _ADELI_LIMIT:
        # Unique while the order number (4 digits) lasts; département 00 exists nowhere.
        adeli = identity_service.luhn_complete(f"00{profession}{number // _ADELI_EVERY:04d}")
        row |= {"pp_id_type": "0", "pp_id": adeli, "pp_national_id": "0" + adeli}
    if specialties:
        row |= _specialty_columns(rng.choice(specialties))
    return row


def synthetic_activities(count: int, *, seed: int = 1) -> Iterator[Row]:
    """``count`` rows: synthetic professionals one after another, each with 1 to 4 activities
    (5 % with none) among ``count // 12`` structures. Professional *i* and structure *j* of a
    seed are always the same; memory does not grow with ``count``."""
    if count < 0:
        raise ValueError("count must be >= 0")
    taken = frozenset(
        _identifier(p, identity_service.SYSTEM_RPPS)
        for p in generate_directory(seed=seed).practitioners
    )
    structures = max(10, count // 12)
    written = number = 0
    while written < count:
        rng = make_rng(seed, "extract-professional", number)
        person = _professional(rng, number, taken)
        number += 1
        if rng.random() < _WITHOUT_ACTIVITY:
            written += 1
            yield person
            continue
        activities = rng.choices(*zip(*_ACTIVITY_COUNTS, strict=True))[0]
        for _ in range(min(activities, count - written)):
            written += 1
            yield person | _structure(seed, rng.randrange(structures))
