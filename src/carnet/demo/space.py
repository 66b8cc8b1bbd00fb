"""The demo patient's and the demo child's spaces, filled through the areas' own services.

The population (``population``) writes what professionals' software would send: encounters,
results, letters. What a person keeps in their space themselves (documents they add, their
medical profile, measures taken at home, vaccinations they record, their circle and wishes)
only exists through the areas' services, so this module calls them, as Carnet, for the two
people the demo accounts sign in to (``accounts``: the holder, and the parent's child). Every
value comes from a random stream of (seed, person), and every step first looks at what its
area already holds and does nothing when its part is there: seeding again adds nothing.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from statistics import NormalDist
from typing import Any, Final

from sqlalchemy import Connection

from carnet.core.clock import utcnow
from carnet.core.errors import Gone, NotFound
from carnet.demo.context import REFERENCE_DATE, add_months, make_rng
from carnet.demo.letters import Letter, render_letter
from carnet.demo.names import PATIENT_SURNAMES, given_names_for
from carnet.demo.population import generate_directory, generate_patients
from carnet.demo.schemas import DemoPatient
from carnet.documents import service as documents
from carnet.interop.document_text import index_document
from carnet.jobs.service import JobQueue
from carnet.measures import service as measures
from carnet.notify import service as notify
from carnet.profile import service as profile
from carnet.profile.schemas import BloodGroup, LifestyleSection, Section
from carnet.record.service import Repository
from carnet.vaccination import service as vaccination
from carnet.vaccination.schemas import ScheduledDose, VaccinationInput
from carnet.wishes import service as wishes
from carnet.wishes.schemas import ContactInput

DEMO_PATIENT, DEMO_PARENT, DEMO_CHILD = 0, 1, 6
"""Indices in the population of the people the demo accounts sign in to (see ``accounts``)."""
TODAY: Final = REFERENCE_DATE
"""The day everything is entered "as of": dates stay the same whatever the clock says."""
GP_SPECIALTY: Final = "SM54"
# ``add_document`` is given no job queue here: the seeder indexes each document's text itself,
# in the same transaction.

RepositoryScope = Callable[[], AbstractContextManager[Repository]]


@dataclass(frozen=True, slots=True)
class Space:
    """One person's space being filled: who, their population record, a random stream."""

    person: DemoPatient
    parent: DemoPatient
    gp: dict[str, Any]
    rng: random.Random

    @property
    def id(self) -> str:
        return str(self.person.patient["id"])

    @property
    def birth(self) -> date:
        return date.fromisoformat(self.person.patient["birthDate"])

    @property
    def adult(self) -> bool:
        return add_months(self.birth, 18 * 12) <= TODAY

    def of_type(self, resource_type: str) -> Iterator[dict[str, Any]]:
        return (r for r in self.person.resources if r["resourceType"] == resource_type)


def demo_people(seed: int) -> tuple[list[DemoPatient], dict[str, Any]]:
    """The population's first people (the demo accounts' ones among them) and the demo GP."""
    directory = generate_directory(seed=seed)
    people = list(generate_patients(DEMO_CHILD + 1, seed=seed, directory=directory))
    gp = next(
        p
        for p in directory.practitioners
        if GP_SPECIALTY in {c.get("code") for q in p["qualification"] for c in q["code"]["coding"]}
    )
    return people, gp


def seed_spaces(repository: RepositoryScope, *, seed: int = 1) -> int:
    """Fill the demo patient's and the demo child's spaces (one transaction each); how many
    items were added (0 when everything was already there, or the people were not seeded)."""
    people, gp = demo_people(seed)
    added = 0
    for index in (DEMO_PATIENT, DEMO_CHILD):
        space = Space(people[index], people[DEMO_PARENT], gp, make_rng(seed, "space", index))
        with repository() as repo:
            try:
                repo.read("Patient", space.id)
            except (NotFound, Gone):
                continue  # fewer patients seeded than the demo accounts need
            for step in (_documents, _profile, _measures, _vaccinations, _wishes):
                added += step(repo, space)
    return added


def post_notices(db: Connection, jobs: JobQueue, *, seed: int = 1) -> int:
    """A "new document" notice in each demo space's notification centre, pointing at one of
    the professionals' letters the population wrote; none when the centre already has one."""
    people, _gp = demo_people(seed)
    posted = 0
    for index in (DEMO_PATIENT, DEMO_CHILD):
        person = people[index]
        patient_id = str(person.patient["id"])
        letters = [r for r in person.resources if r["resourceType"] == "DocumentReference"]
        if not letters or notify.inbox_page(db, patient_id=patient_id).total:
            continue
        link = f"/documents/{letters[0]['id']}"
        notify.post_to_inbox(db, jobs, patient_id=patient_id, kind="new_document", link=link)
        posted += 1
    return posted


# --- documents ---------------------------------------------------------------------------------


def _letter(space: Space, title: str, paragraphs: tuple[str, ...], *, own: bool) -> bytes:
    name = space.person.patient["name"][0]
    patient = (f"{' '.join(name.get('given', []))} {name['family'].upper()}",)
    gp_name = space.gp["name"][0]
    doctor = f"Dr {gp_name['given'][0]} {gp_name['family']}"
    letter = Letter(
        title=title,
        organization=("Document personnel",) if own else ("Cabinet médical", "Médecine générale"),
        author=patient if own else (doctor, "Médecin généraliste"),
        place_and_date=f"le {TODAY.strftime('%d/%m/%Y')}",
        patient=patient,
        paragraphs=paragraphs,
        signature="" if own else doctor,
    )
    return render_letter(letter)


def _documents(repo: Repository, space: Space) -> int:
    page = documents.list_documents(repo, patient_id=space.id, page_size=200)
    if any(view.by_patient for view in (*page.pinned, *page.items)):
        return 0
    author = f"Practitioner/{space.gp['id']}"
    professional = [
        ("Certificat médical de non contre-indication au sport", "89601-9", 40),
        ("Compte rendu d'imagerie : radiographie du poignet", "18748-4", 150),
    ]
    added = []
    for title, code, days in professional:
        body = ("Document de démonstration.", f"{title} : examen sans particularité.")
        added.append(
            documents.add_professional_document(
                repo,
                patient_id=space.id,
                author=author,
                content=_letter(space, title, body, own=False),
                filename="document.pdf",
                title=title,
                type_code=code,
                type_system="http://loinc.org",
                document_date=TODAY - timedelta(days=days),
            )
        )
    own = [
        ("Ordonnance de lunettes", "ORD_SOIN", 200, False),
        ("Attestation de mutuelle", "DOC_ADM", 90, True),
    ]
    for title, category, days, masked in own:
        note = ("Document ajouté par la personne elle-même (démonstration).",)
        added.append(
            documents.add_document(
                repo,
                patient_id=space.id,
                content=_letter(space, title, note, own=True),
                filename=f"{category.lower()}.pdf",
                title=title,
                category=category,
                document_date=TODAY - timedelta(days=days),
                masked=masked,
            )
        )
    documents.set_pinned(repo, patient_id=space.id, document_id=added[2].id, pinned=True)
    folder = documents.create_folder(repo, patient_id=space.id, name="Administratif")
    documents.move_documents(
        repo, patient_id=space.id, document_ids=[added[3].id], folder_id=folder.id
    )
    letters = [str(r["id"]) for r in space.of_type("DocumentReference")]
    for document_id in [*letters, *(view.id for view in added)]:
        index_document(repo, document_id=document_id)
    return len(added) + 1


# --- medical profile ---------------------------------------------------------------------------


def _text(concept: dict[str, Any]) -> str:
    return str(concept.get("text") or concept["coding"][0].get("display", ""))


def _start(value: str, prefix: str) -> dict[str, str]:
    year, month = value[:4], value[5:7]
    return {f"{prefix}_year": year, f"{prefix}_month": month.lstrip("0")} if month else {}


def _profile(repo: Repository, space: Space) -> int:
    states = profile.overview(repo, patient_id=space.id)
    if any(state.count or state.not_concerned_on for state in states):
        return 0
    items: list[tuple[Section, dict[str, str]]] = []
    for condition in space.of_type("Condition"):
        coding = condition["code"]["coding"][0]
        values = {"name": _text(condition["code"]), "code_system": "snomed", "status": "active"}
        values |= {"code": coding["code"]} | _start(condition.get("onsetDateTime", ""), "onset")
        items.append((Section.DISEASES, values))
    for allergy in space.of_type("AllergyIntolerance"):
        category = (allergy.get("category") or [""])[0]
        items.append(
            (Section.ALLERGIES, {"substance": _text(allergy["code"]), "category": category})
        )
    group = space.rng.choices(list(BloodGroup), weights=(38, 7, 8, 1, 3, 1, 36, 6))[0]
    items.append((Section.BLOOD_GROUP, {"group": group.value}))
    if space.adult:
        items.append((Section.FAMILY_HISTORY, _family(space.rng)))
    lifestyles = _LIFESTYLES_ADULT if space.adult else _LIFESTYLES_CHILD
    items.extend((Section.LIFESTYLES, {"section": s.value, "value": v}) for s, v in lifestyles)
    made = [
        profile.create_item(repo, patient_id=space.id, section=section, values=values, today=TODAY)
        for section, values in items
    ]
    disease = next((item.id for item in made if item.resource_type == "Condition"), "")
    for statement in space.of_type("MedicationStatement"):
        values = {"name": _text(statement["medicationCodeableConcept"]), "disease": disease}
        values |= {"dosage": "1 comprimé le matin"}
        values |= _start(statement.get("effectivePeriod", {}).get("start", ""), "start")
        made.append(
            profile.create_item(
                repo, patient_id=space.id, section=Section.TREATMENTS, values=values, today=TODAY
            )
        )
    # Two sections declared "not concerned" when empty; the others keep their invitation.
    for section in (Section.DISABILITIES, Section.HOSPITALIZATIONS):
        profile.declare_not_concerned(repo, patient_id=space.id, section=section, today=TODAY)
    return len(made) + 2


_LIFESTYLES_ADULT: Final = (
    (LifestyleSection.PHYSICAL_ACTIVITY, "Marche 30 minutes par jour, aquagym le samedi."),
    (LifestyleSection.TOBACCO, "Ne fume plus depuis 2005."),
    (LifestyleSection.FOOD, "Peu salé, depuis le diagnostic d'hypertension."),
)
_LIFESTYLES_CHILD: Final = (
    (LifestyleSection.PHYSICAL_ACTIVITY, "Football deux fois par semaine."),
    (LifestyleSection.SCREEN, "Environ deux heures par jour, pas après 21 h."),
    (LifestyleSection.SLEEP, "Se couche vers 22 h, se lève à 7 h en semaine."),
)


def _family(rng: random.Random) -> dict[str, str]:
    relation, condition = rng.choice(
        (("MOTHER", "Diabète de type 2"), ("FATHER", "Infarctus du myocarde"))
    )
    return {"relationship": relation, "condition": condition, "onset_age": str(rng.randint(55, 70))}


# --- measures ----------------------------------------------------------------------------------


def _at(day: date, rng: random.Random) -> datetime:
    return datetime.combine(day, time(rng.randint(7, 20), rng.choice((0, 15, 30, 45))), UTC)


def _latest(space: Space, code: str) -> dict[str, Any] | None:
    found = [r for r in space.of_type("Observation") if r["code"]["coding"][0]["code"] == code]
    return max(found, key=lambda r: r["effectiveDateTime"]) if found else None


def _measures(repo: Repository, space: Space) -> int:
    weights = measures.measure_series(repo, patient_id=space.id, slug="poids")
    if any(entry.own for entry in weights):
        return 0
    points = _adult_points(space) if space.adult else _growth_points(space)
    now = utcnow()
    for slug, day, value, value2 in points:
        measures.add_measure(
            repo,
            patient_id=space.id,
            slug=slug,
            value=value,
            value2=value2,
            when=_at(day, space.rng),
            now=now,
        )
    if space.adult:
        measures.set_target(repo, patient_id=space.id, slug="tension", low=100, high=135)
    return len(points)


Point = tuple[str, date, float, float | str]


def _adult_points(space: Space) -> list[Point]:
    """A year of monthly weights drifting down, a height, and three months of home blood
    pressure around the last one the doctor took."""
    rng = space.rng
    weight = _latest(space, "29463-7")
    height = _latest(space, "8302-2")
    pressure = _latest(space, "85354-9")
    start = float(weight["valueQuantity"]["value"]) + 2.5 if weight else 72.0
    points: list[Point] = []
    for month in range(12):
        value = start - 0.2 * month + rng.uniform(-0.4, 0.4)
        points.append(("poids", add_months(TODAY, month - 12), round(value, 1), ""))
    tall = float(height["valueQuantity"]["value"]) if height else 165.0
    points.append(("taille", TODAY - timedelta(days=100), tall, ""))
    systolic, diastolic = 135.0, 85.0
    if pressure:
        values = [c["valueQuantity"]["value"] for c in pressure["component"]]
        systolic, diastolic = float(values[0]), float(values[1])
    for week in range(12):
        high = round(systolic + rng.gauss(-2, 5))
        low = min(round(diastolic + rng.gauss(-1, 4)), high - 20)
        points.append(("tension", TODAY - timedelta(days=7 * (12 - week)), high, low))
    return points


_GROWTH_MONTHS: Final = (0.1, 1, 2, 4, 6, 9, 12, 18, 24, 36, 48, 72, 96, 120, 156)
_HEAD_UNTIL: Final = 36


def _centile_of(indicator: measures.Indicator, sex: str, months: float, value: float) -> float:
    """The centile ``value`` sits on at ``months`` (bisection on the reference's curve)."""
    low, high = 0.5, 99.5
    for _ in range(30):
        middle = (low + high) / 2
        if measures.percentile_value(indicator, sex, months, middle) < value:  # type: ignore[arg-type]
            low = middle
        else:
            high = middle
    return (low + high) / 2


def _growth_points(space: Space) -> list[Point]:
    """Weights, heights and head circumferences from birth, each near the centile of the
    child's last measure in the population (so the curves and that point agree)."""
    sex = str(space.person.patient.get("gender"))
    if sex not in ("male", "female"):
        return []
    normal = NormalDist()
    last_height = _latest(space, "8302-2")
    target = {"height": 50.0, "weight": 50.0, "head": 50.0}
    if last_height:
        day = date.fromisoformat(last_height["effectiveDateTime"][:10])
        months = measures.age_in_months(space.birth, day)
        value = float(last_height["valueQuantity"]["value"])
        target["height"] = _centile_of("height", sex, months, value)
        target["weight"] = target["head"] = min(97.0, max(3.0, target["height"] + 10))
    points: list[Point] = []
    slugs: dict[measures.Indicator, str] = {
        "weight": "poids",
        "height": "taille",
        "head": "perimetre-cranien",
    }
    for months in _GROWTH_MONTHS:
        day = space.birth + timedelta(days=round(months * 365.25 / 12))
        if day >= TODAY:
            break
        for indicator, slug in slugs.items():
            if indicator == "head" and months > _HEAD_UNTIL:
                continue
            z = normal.inv_cdf(target[indicator] / 100) + space.rng.gauss(0, 0.12)
            value = _reference(indicator, sex, months, min(99.0, max(1.0, 100 * normal.cdf(z))))
            points.append((slug, day, round(value, 2 if slug == "poids" else 1), ""))
    return points


def _reference(indicator: measures.Indicator, sex: str, months: float, centile: float) -> float:
    """The value on ``centile``; past 10 years, where weight-for-age stops, a weight from the
    body mass index's reference and the height's."""
    if indicator == "weight" and months > 120:
        bmi = measures.percentile_value("bmi", sex, months, centile)  # type: ignore[arg-type]
        height = measures.percentile_value("height", sex, months, centile)  # type: ignore[arg-type]
        return bmi * (height / 100) ** 2
    return measures.percentile_value(indicator, sex, months, centile)  # type: ignore[arg-type]


# --- vaccinations ------------------------------------------------------------------------------


def _vaccine_for(dose: ScheduledDose) -> str:
    """The referential vaccine covering the dose's diseases with the fewest others."""
    wanted = set(dose.diseases)
    fits = [v for v in vaccination.vaccines() if wanted <= set(v.diseases)]
    return min(fits, key=lambda v: (len(v.diseases), v.code)).code


def _vaccinations(repo: Repository, space: Space) -> int:
    given = vaccination.list_vaccinations(repo, patient_id=space.id)
    if any(v.entered_by_patient for v in given):
        return 0
    gp = space.gp["name"][0]
    performer = f"Dr {gp['given'][0]} {gp['family']}"
    recorded = 0
    long_ago = add_months(TODAY, -24)
    for _ in range(20):
        status = vaccination.schedule_for(repo, patient_id=space.id, today=TODAY)
        if status is None:
            break
        late = [d for d in status.overdue if d.due_until and d.due_until < long_ago]
        # Childhood doses given on time; then, when nothing is done yet, the latest one due
        # (this season's influenza for an older adult), so done, due and overdue all show.
        if late:
            dose = min(late, key=lambda d: d.due_from)
        elif status.due and not status.done:
            dose = max(status.due, key=lambda d: d.due_from)
        else:
            break
        day = min(dose.due_from + timedelta(days=space.rng.randint(0, 20)), TODAY)
        lot = f"{space.rng.choice('ABCDEFGHJKLMN')}{space.rng.randint(1000, 9999)}"
        entry = VaccinationInput(
            vaccine=_vaccine_for(dose),
            occurred_on=day,
            dose_type=dose.dose_type.value,
            lot_number=lot,
            performer=performer,
        )
        vaccination.record_vaccination(repo, patient_id=space.id, entry=entry, today=TODAY)
        recorded += 1
    return recorded


# --- circle and wishes -------------------------------------------------------------------------


def _mobile(rng: random.Random) -> str:
    # 06 39 98 xx xx: a mobile range reserved for fiction (as ``person`` uses).
    return f"06 39 98 {rng.randint(0, 99):02d} {rng.randint(0, 99):02d}"


def _contact(space: Space, relation: str, roles: tuple[str, ...], born: int) -> ContactInput:
    rng = space.rng
    sex = "female" if rng.random() < 0.5 else "male"
    address = space.person.patient["address"][0]
    return ContactInput(
        first_name=rng.choice(given_names_for(sex, born)),
        last_name=rng.choice(PATIENT_SURNAMES),
        relation=relation,
        mobile=_mobile(rng),
        postal_code=str(address["postalCode"]),
        city=str(address["city"]),
        roles=roles,
    )


def _wishes(repo: Repository, space: Space) -> int:
    if wishes.list_contacts(repo, patient_id=space.id):
        return 0
    year = space.birth.year
    if space.adult:
        contacts = [
            _contact(space, "SPOUSE", ("EMERGENCY_CONTACT",), year - 2),
            _contact(space, "CHILD", ("TRUSTED_CONTACT", "EMERGENCY_CONTACT"), year + 28),
        ]
    else:
        parent = space.parent.patient
        relation = "MOTHER" if parent.get("gender") == "female" else "FATHER"
        own = _contact(space, relation, ("EMERGENCY_CONTACT",), year - 30)
        name = parent["name"][0]
        contacts = [
            ContactInput(
                first_name=name["given"][0],
                last_name=name["family"],
                relation=own.relation,
                mobile=own.mobile,
                postal_code=own.postal_code,
                city=own.city,
                roles=own.roles,
            ),
            _contact(space, "OTHER", ("EMERGENCY_CONTACT",), year - 60),
        ]
    for contact in contacts:
        wishes.add_contact(repo, patient_id=space.id, contact=contact)
    if space.adult and wishes.donation_statement(repo, patient_id=space.id) is None:
        wishes.state_informed(repo, patient_id=space.id, today=TODAY - timedelta(days=30))
        return len(contacts) + 1
    return len(contacts)
