"""A synthetic beneficiary file of the insurer: holders (ouvrants droit) each followed by the
children attached to them, as rows keyed by the file's columns (``enrollment.registry_file``;
the two areas are siblings and share this contract, checked by the tests). The CLI writes them
with ``enrollment.service.write_registry``.

Pure, deterministic and streaming: line *k* of a seed is the same whatever the number asked,
and memory does not grow with it. Every NIR is distinct without remembering any: person *i* of
a kind (holder or child) gets the *i*-th slot of a fixed permutation of every (sex, year,
month, birthplace, order) combination of that kind, and the two kinds are born in different
years. Holders are 18 to 94, children 0 to 17; a fifth of the adults give no e-mail.

Nobody real: names are combined at random, mobiles are in the 06 39 98 range reserved for
fiction, e-mail domains are example.org and example.net (RFC 2606). With ``bad_every``, a
deliberately invalid line is inserted every so often (a wrong NIR key, an unknown département,
a NIR given twice, a child of an unknown holder), the rest of the file unchanged.
"""

from __future__ import annotations

import calendar
import functools
import math
import random
from collections.abc import Iterator
from datetime import date
from typing import Final, Literal

from carnet.demo.context import REFERENCE_DATE, ascii_slug, make_rng
from carnet.demo.names import PATIENT_SURNAMES, given_names_for
from carnet.demo.places import COMMUNES, COUNTRIES, DEPARTMENTS, STREETS, Commune, communes_of
from carnet.identity import service as identity_service

Row = dict[str, str]
Kind = Literal["holder", "child"]

_YEARS: Final[dict[Kind, range]] = {
    "holder": range(REFERENCE_DATE.year - 94, REFERENCE_DATE.year - 18),
    "child": range(REFERENCE_DATE.year - 17, REFERENCE_DATE.year),
}
# Birthplaces a NIR can carry: the communes of the table (once each), then countries abroad.
_BIRTHPLACES: Final = tuple(
    sorted({commune.insee for commune in COMMUNES}) + [country.insee for country in COUNTRIES]
)
_GOLDEN: Final = 0.6180339887498949
_CHILDREN: Final = ((0, 55), (1, 20), (2, 17), (3, 8))
_BAD_KINDS: Final = ("nir-key", "departement-unknown", "nir-duplicate", "holder-unknown")


def _slot_count(kind: Kind) -> int:
    return 2 * len(_YEARS[kind]) * 12 * len(_BIRTHPLACES) * 999


@functools.cache
def _stride(size: int) -> int:
    """A step coprime with ``size`` near its golden section: i -> i * step mod size is then a
    permutation, and consecutive people land far apart (varied ages and places)."""
    step = int(size * _GOLDEN)
    while math.gcd(step, size) != 1:
        step += 1
    return step


def _slot(kind: Kind, index: int) -> tuple[str, int, int, str, int]:
    """(sex, year, month, birthplace, order) of the ``index``-th person of ``kind``."""
    size = _slot_count(kind)
    if index >= size:
        raise ValueError(f"at most {size:,} distinct {kind}s")
    slot = index * _stride(size) % size
    slot, order = divmod(slot, 999)
    slot, place = divmod(slot, len(_BIRTHPLACES))
    slot, month = divmod(slot, 12)
    slot, year = divmod(slot, len(_YEARS[kind]))
    return (
        ("female" if slot else "male"),
        _YEARS[kind][year],
        month + 1,
        _BIRTHPLACES[place],
        order + 1,
    )


def _person(rng: random.Random, kind: Kind, index: int) -> tuple[str, date, str, str]:
    """Sex, birth date, birthplace and NIR."""
    sex, year, month, place, order = _slot(kind, index)
    birth = date(year, month, rng.randint(1, calendar.monthrange(year, month)[1]))
    nir_place = place if place.startswith("99") else identity_service.nir_place_code(place, birth)
    nir = identity_service.build_nir(
        "female" if sex == "female" else "male", birth, nir_place, order
    )
    return sex, birth, place, nir


def _holder(seed: int, index: int) -> tuple[Row, random.Random]:
    rng = make_rng(seed, "registry-holder", index)
    sex, birth, place, nir = _person(rng, "holder", index)
    department = rng.choices(list(DEPARTMENTS), weights=[w for _, w in DEPARTMENTS.values()])[0]
    home: Commune = rng.choice(communes_of(department))
    family = rng.choice(PATIENT_SURNAMES)
    given = rng.sample(given_names_for(sex, birth.year), rng.choice((1, 2, 2, 3)))
    used = ""
    if sex == "female" and rng.random() < 0.4:
        used = rng.choice([name for name in PATIENT_SURNAMES if name != family])
    photo = rng.random() < 0.7
    row = {
        "nir": nir,
        "nature_identifiant": "NIA" if place.startswith("99") and rng.random() < 0.2 else "NIR",
        "nir_ouvrant_droit": "",
        "numero_serie_vitale": _digits(rng, 11 if photo else rng.randint(8, 13)),
        "type_carte_vitale": "photo" if photo else "sans_photo",
        "nom_naissance": family,
        "nom_usage": used,
        "prenoms": " ".join(given),
        "sexe": "F" if sex == "female" else "M",
        "date_naissance": birth.isoformat(),
        "lieu_naissance": place,
        "adresse": f"{rng.randint(1, 120)} {rng.choice(STREETS)}",
        "code_postal": home.postal_code,
        "commune": home.name,
        "departement": home.department,
        "email": "",
        "mobile": f"063998{rng.randint(0, 9999):04d}" if rng.random() < 0.85 else "",
        "date_deces": "",
    }
    if rng.random() < 0.8:
        slug = ascii_slug(used or family)
        domain = rng.choice(("example.org", "example.net"))
        row["email"] = f"{ascii_slug(given[0])}.{slug}{rng.randint(1, 99)}@{domain}"
    return row, rng


def _child(seed: int, index: int, holder: Row) -> Row:
    rng = make_rng(seed, "registry-child", index)
    sex, birth, place, nir = _person(rng, "child", index)
    card = birth.year <= REFERENCE_DATE.year - 16  # a card of their own from 16
    return holder | {
        "nir": nir,
        "nature_identifiant": "NIR",
        "nir_ouvrant_droit": holder["nir"],
        "numero_serie_vitale": _digits(rng, 11) if card else "",
        "type_carte_vitale": "photo" if card else "",
        "nom_usage": "",
        "prenoms": " ".join(rng.sample(given_names_for(sex, birth.year), rng.choice((1, 2)))),
        "sexe": "F" if sex == "female" else "M",
        "date_naissance": birth.isoformat(),
        "lieu_naissance": place,
        "email": "",
        "mobile": "",
    }


def _digits(rng: random.Random, length: int) -> str:
    return "".join(rng.choice("0123456789") for _ in range(length))


def _households(seed: int) -> Iterator[Row]:
    children = 0
    for index in range(_slot_count("holder")):
        holder, rng = _holder(seed, index)
        yield holder
        age = REFERENCE_DATE.year - int(holder["date_naissance"][:4])
        count = rng.choices(*zip(*_CHILDREN, strict=True))[0] if 22 <= age <= 60 else 0
        for _ in range(count):
            yield _child(seed, children, holder)
            children += 1


def _fictitious_nir(row: Row, month: int) -> str:
    """A valid NIR with a fictitious month (50-99): never one of the generated people's."""
    first13 = row["nir"][0:3] + f"{month:02d}" + row["nir"][5:13]
    return first13 + identity_service.nir_key(first13)


def _bad(row: Row, kind: str) -> Row:
    """A line breaking one rule, made from the last good holder's ``row``."""
    if kind == "nir-key":
        key = int(row["nir"][13:]) % 97 + 1
        return row | {"nir": row["nir"][:13] + f"{key:02d}"}
    if kind == "departement-unknown":
        return row | {"departement": "00"}
    if kind == "nir-duplicate":
        return dict(row)
    return row | {
        "nir": _fictitious_nir(row, 50),
        "nir_ouvrant_droit": _fictitious_nir(row, 51),
        "numero_serie_vitale": "",
        "type_carte_vitale": "",
    }


def synthetic_registry(count: int, *, seed: int = 1, bad_every: int = 0) -> Iterator[Row]:
    """``count`` lines: households one after another (a holder, then their children). With
    ``bad_every`` = n > 1, every n-th line is an invalid one (the four kinds in turn)."""
    if count < 0 or bad_every == 1:
        raise ValueError("count must be >= 0 and bad_every 0 or more than 1")
    written = bad = 0
    last_holder: Row | None = None
    households = _households(seed)
    while written < count:
        if bad_every and last_holder is not None and (written + 1) % bad_every == 0:
            yield _bad(last_holder, _BAD_KINDS[bad % len(_BAD_KINDS)])
            bad += 1
        else:
            row = next(households)
            if not row["nir_ouvrant_droit"]:
                last_holder = row
            yield row
        written += 1
