"""Immunizations following the French vaccination schedule for the patient's age and birth year."""

from __future__ import annotations

import string
from datetime import date, timedelta
from typing import Final, NamedTuple

from carnet.demo.context import (
    ATC,
    RECORD_FROM,
    PatientContext,
    Resource,
    add_months,
    coding,
    reference,
)

_SITE: Final = "http://terminology.hl7.org/CodeSystem/v3-ActSite"
_ROUTE: Final = "http://terminology.hl7.org/CodeSystem/v3-RouteOfAdministration"
_FUNCTION: Final = "http://terminology.hl7.org/CodeSystem/v2-0443"
PRIMARY: Final = "Primovaccination"
BOOSTER: Final = "Rappel"


class Dose(NamedTuple):
    number: int  # dose number in the national schedule (boosters continue the count)
    series: str
    months: int  # nominal age in months (or months after the previous dose)
    spread_days: int  # given between the nominal day and this many days later
    after_previous: bool = False


class VaccineItem(NamedTuple):
    key: str
    atc: str
    atc_label: str  # WHO ATC name
    target: str  # French: diseases covered
    products: tuple[str, ...]
    doses: tuple[Dose, ...]
    coverage: float
    born_from: date | None = None
    born_before: date | None = None
    # Recorded only when the first dose falls on or after this day (the recommendation's start).
    first_dose_from: date | None = None
    # Adults offered the vaccine when a campaign starts get it then, if already of age.
    campaign_from: date | None = None
    sexes: frozenset[str] = frozenset({"male", "female"})
    route: str = "IM"


def _months(years: int) -> int:
    return 12 * years


_D2013: Final = date(2013, 1, 1)
_D2018: Final = date(2018, 1, 1)
_D2025: Final = date(2025, 1, 1)
_INFANT_PRIMARY: Final = (
    Dose(1, PRIMARY, 2, 21),
    Dose(2, PRIMARY, 4, 21),
    Dose(3, BOOSTER, 11, 30),
)
_HPV: Final = (Dose(1, PRIMARY, _months(11), 3 * 365), Dose(2, PRIMARY, 6, 60, after_previous=True))
_DTCAP: Final = "diphtheria-pertussis-poliomyelitis-tetanus"
_DTP: Final = "diphtheria-poliomyelitis-tetanus"
_DTCAP_TEXT: Final = "Diphtérie, tétanos, coqueluche, poliomyélite"
_DTP_TEXT: Final = "Diphtérie, tétanos, poliomyélite"
_HPV_TEXT: Final = "papillomavirus (human types 6, 11, 16, 18, 31, 33, 45, 52, 58)"
_ACWY: Final = (
    "meningococcus A, C, Y, W-135, tetravalent purified polysaccharides antigen conjugated"
)
_PCV: Final = "pneumococcus, purified polysaccharides antigen conjugated"

# The schedule as data: infant items apply to the birth cohorts of the schedule in force
# (simplified schedule of 2013; MenC at 5 and 12 months from 2018; MenB and ACWY from 2025).
SCHEDULE: Final = (
    VaccineItem("hexavalent", "J07CA09",
                "diphtheria-hemophilus influenzae B-pertussis-poliomyelitis-tetanus-hepatitis B",
                "Diphtérie, tétanos, coqueluche, poliomyélite, Haemophilus influenzae b, "
                "hépatite B", ("Vaxelis", "Hexyon", "Infanrix Hexa"), _INFANT_PRIMARY, 0.97,
                born_from=_D2013),
    VaccineItem("pneumococcal_infant", "J07AL02", _PCV, "Pneumocoque",
                ("Prevenar 13", "Vaxneuvance"), _INFANT_PRIMARY, 0.95, born_from=_D2013),
    VaccineItem("menc_single", "J07AH07",
                "meningococcus C, purified polysaccharides antigen conjugated", "Méningocoque C",
                ("Neisvac", "Menjugate"), (Dose(1, PRIMARY, 12, 60),), 0.75,
                born_from=_D2013, born_before=_D2018),
    VaccineItem("menc", "J07AH07", "meningococcus C, purified polysaccharides antigen conjugated",
                "Méningocoque C", ("Neisvac",),
                (Dose(1, PRIMARY, 5, 21), Dose(2, BOOSTER, 12, 30)), 0.9,
                born_from=_D2018, born_before=_D2025),
    VaccineItem("menb", "J07AH09", "meningococcus B, multicomponent vaccine", "Méningocoque B",
                ("Bexsero",),
                (Dose(1, PRIMARY, 3, 21), Dose(2, PRIMARY, 5, 21), Dose(3, BOOSTER, 12, 30)),
                0.9, born_from=_D2025),
    VaccineItem("acwy_infant", "J07AH08", _ACWY, "Méningocoques A, C, W, Y",
                ("Nimenrix", "MenQuadfi"), (Dose(1, PRIMARY, 6, 21), Dose(2, BOOSTER, 12, 30)),
                0.9, born_from=_D2025),
    VaccineItem("mmr", "J07BD52", "measles, combinations with mumps and rubella, live attenuated",
                "Rougeole, oreillons, rubéole", ("Priorix", "M-M-RvaxPro"),
                (Dose(1, PRIMARY, 12, 30), Dose(2, PRIMARY, 16, 60)), 0.93, born_from=_D2013),
    VaccineItem("rotavirus", "J07BH01", "rota virus, live attenuated", "Rotavirus",
                ("Rotarix",), (Dose(1, PRIMARY, 2, 14), Dose(2, PRIMARY, 3, 14)), 0.5,
                born_from=date(2022, 1, 1), route="PO"),
    VaccineItem("dtcap_6", "J07CA02", _DTCAP, _DTCAP_TEXT, ("Tetravac-acellulaire",
                "Infanrixtetra"), (Dose(4, BOOSTER, _months(6), 300),), 0.85),
    VaccineItem("dtcap_11", "J07CA02", _DTCAP, _DTCAP_TEXT, ("Repevax", "Boostrixtetra"),
                (Dose(5, BOOSTER, _months(11), 2 * 365),), 0.75),
    VaccineItem("hpv_girls", "J07BM03", _HPV_TEXT, "Papillomavirus humains", ("Gardasil 9",),
                _HPV, 0.5, first_dose_from=date(2019, 1, 1), sexes=frozenset({"female"})),
    VaccineItem("hpv_boys", "J07BM03", _HPV_TEXT, "Papillomavirus humains", ("Gardasil 9",),
                _HPV, 0.3, first_dose_from=date(2021, 1, 1), sexes=frozenset({"male"})),
    VaccineItem("acwy_teen", "J07AH08", _ACWY, "Méningocoques A, C, W, Y",
                ("Nimenrix", "MenQuadfi", "Menveo"), (Dose(1, PRIMARY, _months(11), 3 * 365),),
                0.4, first_dose_from=_D2025),
    VaccineItem("dtcap_25", "J07CA02", _DTCAP, _DTCAP_TEXT, ("Repevax", "Boostrixtetra"),
                (Dose(6, BOOSTER, _months(25), 364),), 0.5),
    VaccineItem("dtp_45", "J07CA01", _DTP, _DTP_TEXT, ("Revaxis",),
                (Dose(7, BOOSTER, _months(45), 364),), 0.45),
    VaccineItem("dtp_65", "J07CA01", _DTP, _DTP_TEXT, ("Revaxis",),
                (Dose(8, BOOSTER, _months(65), 364),), 0.45),
    VaccineItem("dtp_75", "J07CA01", _DTP, _DTP_TEXT, ("Revaxis",),
                (Dose(9, BOOSTER, _months(75), 364),), 0.4),
    VaccineItem("dtp_85", "J07CA01", _DTP, _DTP_TEXT, ("Revaxis",),
                (Dose(10, BOOSTER, _months(85), 364),), 0.35),
    VaccineItem("pneumococcal_senior", "J07AL02", _PCV, "Pneumocoque",
                ("Prevenar 20", "Capvaxive"), (Dose(1, PRIMARY, _months(65), 364),), 0.25,
                campaign_from=_D2025),
    VaccineItem("zoster", "J07BK03", "zoster, purified antigen", "Zona", ("Shingrix",),
                (Dose(1, PRIMARY, _months(65), 364),
                 Dose(2, PRIMARY, 2, 30, after_previous=True)),
                0.15, campaign_from=date(2024, 1, 1)),
)  # fmt: skip
INFLUENZA: Final = VaccineItem(
    "influenza", "J07BB02", "influenza, inactivated, split virus or surface antigen",
    "Grippe saisonnière", ("Efluelda", "Vaxigrip Tetra", "Influvac Tetra"),
    (Dose(1, "Campagne", 0, 0),), 0.6,
)  # fmt: skip
# Influenza: recorded for the last seasons, for people aged 65 or more at the campaign.
INFLUENZA_AGE: Final = 65
INFLUENZA_SEASONS: Final = 4


def _applies(item: VaccineItem, ctx: PatientContext) -> bool:
    if ctx.sex not in item.sexes:
        return False
    if item.born_from is not None and ctx.birth_date < item.born_from:
        return False
    return item.born_before is None or ctx.birth_date < item.born_before


def _dose_days(ctx: PatientContext, item: VaccineItem) -> list[tuple[Dose, date]]:
    planned: list[tuple[Dose, date]] = []
    previous: date | None = None
    for dose in item.doses:
        base = previous if dose.after_previous and previous else ctx.birth_date
        nominal = add_months(base, dose.months)
        if item.campaign_from is not None and not dose.after_previous:
            nominal = max(nominal, item.campaign_from)
        day = nominal + timedelta(days=ctx.rng.randint(0, dose.spread_days))
        if day > ctx.reference_date:
            break
        if not planned and item.first_dose_from and day < item.first_dose_from:
            return []
        planned.append((dose, day))
        previous = day
    # Doses before the electronic record are not in it.
    return [(dose, day) for dose, day in planned if day >= RECORD_FROM]


def _lot(ctx: PatientContext) -> str:
    letters = "".join(ctx.rng.choice(string.ascii_uppercase) for _ in range(2))
    return f"{letters}{ctx.rng.randint(1000, 9999)}{ctx.rng.choice(string.ascii_uppercase)}"


def _immunization(
    ctx: PatientContext, item: VaccineItem, dose: Dose, day: date, performer: Resource
) -> Resource:
    day = ctx.event_day(day)
    product = ctx.rng.choice(item.products)
    when = ctx.stamp(day)
    resource: Resource = {
        "resourceType": "Immunization",
        "id": ctx.new_id(),
        "status": "completed",
        "vaccineCode": {
            "coding": [coding(ATC, item.atc, item.atc_label)],
            "text": f"{product} ({item.target})",
        },
        "patient": ctx.subject,
        "occurrenceDateTime": when,
        "recorded": when,
        "primarySource": True,
        "lotNumber": _lot(ctx),
        "expirationDate": add_months(day, ctx.rng.randint(4, 18)).isoformat(),
        "performer": [
            {
                "function": {"coding": [coding(_FUNCTION, "AP", "Administering Provider")]},
                "actor": reference(performer),
            }
        ],
        "protocolApplied": [{"series": dose.series, "doseNumberPositiveInt": dose.number}],
    }
    if item.route == "PO":
        resource["route"] = {"coding": [coding(_ROUTE, "PO", "Swallow, oral")]}
    else:
        infant = ctx.age_on(day) < 2
        site = ctx.rng.choice(("LT", "RT") if infant else ("LA", "RA"))
        labels = {"LT": "left thigh", "RT": "right thigh", "LA": "left arm", "RA": "right arm"}
        resource["site"] = {"coding": [coding(_SITE, site, labels[site])]}
        resource["route"] = {"coding": [coding(_ROUTE, "IM", "Injection, intramuscular")]}
    return resource


def _influenza(ctx: PatientContext, vaccinator: Resource) -> list[Resource]:
    if ctx.rng.random() >= INFLUENZA.coverage:
        return []
    made = []
    last = ctx.reference_date.year
    for year in range(last - INFLUENZA_SEASONS, last + 1):
        day = date(year, 10, 15) + timedelta(days=ctx.rng.randint(0, 60))
        if day > ctx.reference_date or ctx.age_on(day) < INFLUENZA_AGE:
            continue
        if ctx.rng.random() < 0.85:
            dose = INFLUENZA.doses[0]._replace(series=f"Campagne {year}-{year + 1}")
            made.append(_immunization(ctx, INFLUENZA, dose, day, vaccinator))
    return made


def immunizations(
    ctx: PatientContext, *, child_doctor: Resource, gp: Resource, pharmacist: Resource
) -> list[Resource]:
    """The patient's recorded immunizations, in date order, added to the record."""
    made: list[Resource] = []
    for item in SCHEDULE:
        if not _applies(item, ctx) or ctx.rng.random() >= item.coverage:
            continue
        for dose, day in _dose_days(ctx, item):
            performer = child_doctor if ctx.age_on(day) < 6 else gp
            made.append(_immunization(ctx, item, dose, day, performer))
    made.extend(_influenza(ctx, pharmacist if ctx.rng.random() < 0.4 else gp))
    made.sort(key=lambda resource: resource["occurrenceDateTime"])
    return [ctx.add(resource) for resource in made]
