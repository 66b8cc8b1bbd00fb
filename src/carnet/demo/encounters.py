"""Encounters of a demo patient: child health examinations, consultations, emergencies and
stays, with the measurements taken and the prescriptions made there."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Final

from carnet.demo.clinical import Problem, medication_request
from carnet.demo.context import (
    RECORD_FROM,
    SNOMED,
    PatientContext,
    Resource,
    add_years,
    coding,
    reference,
)
from carnet.demo.directory import (
    CARDIOLOGY,
    EMERGENCY,
    ENDOCRINOLOGY,
    GP,
    OBSTETRICS,
    PAEDIATRICS,
    PNEUMOLOGY,
    PSYCHIATRY,
    RHEUMATOLOGY,
    DirectoryIndex,
    Staff,
)
from carnet.demo.observations import Growth, measurements, vital_signs

_ACT_CODE: Final = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
_PARTICIPATION: Final = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"
_CLASSES: Final = {"AMB": "ambulatory", "EMER": "emergency", "IMP": "inpatient encounter"}
_SPECIALTY_VISITS: Final = {
    GP: "Consultation de médecine générale",
    PAEDIATRICS: "Consultation de pédiatrie",
    CARDIOLOGY: "Consultation de cardiologie",
    ENDOCRINOLOGY: "Consultation d'endocrinologie",
    PNEUMOLOGY: "Consultation de pneumologie",
    PSYCHIATRY: "Consultation de psychiatrie",
    RHEUMATOLOGY: "Consultation de rhumatologie",
    OBSTETRICS: "Consultation de gynécologie-obstétrique",
}
# Mandatory child health examinations: (from day, to day, when). The first one is placed from
# day 2, so that nothing is ever dated on the birth date.
CHILD_EXAMS: Final = (
    (2, 7, "dans les 8 jours"), (8, 14, "2e semaine"), (31, 60, "2e mois"),
    (61, 91, "3e mois"), (92, 121, "4e mois"), (122, 152, "5e mois"), (153, 182, "6e mois"),
    (244, 273, "9e mois"), (335, 365, "12e mois"), (366, 395, "13e mois"),
    (487, 547, "16e-18e mois"), (700, 760, "24e-25e mois"), (731, 1095, "3e année"),
    (1096, 1461, "4e année"), (1462, 1826, "5e année"), (1827, 2191, "6e année"),
    (2192, 2556, "7e année"), (2922, 3287, "8-9 ans"), (4018, 4748, "11-13 ans"),
    (5479, 5844, "15-16 ans"),
)  # fmt: skip


def _label(kind: str, specialty: str) -> str:
    labels = {
        "child_exam": "Examen de santé de l'enfant",
        "emergency": "Passage aux urgences",
        "inpatient": "Hospitalisation complète",
    }
    return labels.get(kind) or _SPECIALTY_VISITS.get(specialty, "Consultation spécialisée")


@dataclass
class Visit:
    """One encounter and what happened there."""

    kind: str  # child_exam | gp | acute | specialist | emergency | inpatient
    label: str  # French type text
    day: date
    end_day: date
    staff: Staff
    encounter: Resource
    problems: list[Problem]
    observations: list[Resource] = field(default_factory=list)
    prescriptions: list[Resource] = field(default_factory=list)


@dataclass
class Planner:
    """Builds one patient's visits."""

    ctx: PatientContext
    index: DirectoryIndex
    gp: Staff
    growth: Growth
    visits: list[Visit] = field(default_factory=list)

    def visit(
        self,
        kind: str,
        day: date,
        staff: Staff,
        problems: list[Problem],
        specialty: str = GP,
    ) -> Visit:
        """Add an Encounter of ``kind`` on ``day`` with ``staff``, about ``problems``."""
        ctx = self.ctx
        day = ctx.event_day(day)
        end_day = day
        if kind == "inpatient":
            end_day = min(day + timedelta(days=ctx.rng.randint(2, 8)), ctx.reference_date)
        label = _label(kind, specialty)
        hour = ctx.rng.randint(8, 17)
        start = ctx.stamp(day, hour, 0)
        end = ctx.stamp(end_day, hour if kind != "inpatient" else 11, 30)
        klass = {"emergency": "EMER", "inpatient": "IMP"}.get(kind, "AMB")
        snomed = {
            "child_exam": ("410620009", "Well child visit"),
            "emergency": ("50849002", "Emergency room admission"),
            "inpatient": ("32485007", "Hospital admission"),
        }.get(kind, ("11429006", "Consultation"))
        encounter: Resource = {
            "resourceType": "Encounter",
            "id": ctx.new_id(),
            "status": "finished",
            "class": coding(_ACT_CODE, klass, _CLASSES[klass]),
            "type": [{"coding": [coding(SNOMED, *snomed)], "text": label}],
            "subject": ctx.subject,
            "participant": [
                {
                    "type": [{"coding": [coding(_PARTICIPATION, "PPRF", "primary performer")]}],
                    "individual": reference(staff.practitioner),
                }
            ],
            "period": {"start": start, "end": end},
            "serviceProvider": reference(staff.organization),
        }
        if problems:
            encounter["reasonReference"] = [reference(p.resource) for p in problems]
        made = Visit(kind, label, day, end_day, staff, ctx.add(encounter), problems)
        self.visits.append(made)
        return made

    def measure(self, visit: Visit, kinds: tuple[str, ...]) -> None:
        """Record vital signs of ``kinds`` taken during ``visit``."""
        hypertensive = any(p.spec.key == "hypertension" for p in visit.problems)
        values = measurements(self.ctx, self.growth, visit.day, hypertensive=hypertensive)
        when = visit.encounter["period"]["start"]
        visit.observations.extend(
            vital_signs(
                self.ctx,
                values,
                kinds,
                when=when,
                encounter=visit.encounter,
                performer=visit.staff.practitioner,
            )
        )

    def prescribe(self, visit: Visit, problem: Problem, medicine: str, *, long_term: bool) -> None:
        """Add a prescription line for ``problem`` made during ``visit``."""
        visit.prescriptions.append(
            medication_request(
                self.ctx,
                medicine,
                problem=problem,
                encounter=visit.encounter,
                requester=visit.staff.practitioner,
                authored=visit.encounter["period"]["start"],
                long_term=long_term,
            )
        )

    def child_exams(self) -> None:
        """The mandatory examinations already due, the most recent ones recorded."""
        ctx = self.ctx
        age_days = (ctx.reference_date - ctx.birth_date).days
        due = []
        for start, end, _ in CHILD_EXAMS:
            if start >= age_days:
                break
            day = ctx.birth_date + timedelta(days=ctx.rng.randint(start, min(end, age_days - 1)))
            if day >= max(RECORD_FROM, add_years(ctx.reference_date, -5)):
                due.append(day)
        # The four latest; infants also keep their first one (measurements at birth).
        keep = due[-4:]
        if ctx.age < 2 and len(due) > 4:
            keep = [due[0], *due[-4:]]
        for day in keep:
            staff = self.gp
            if ctx.rng.random() < 0.5:
                staff = self.index.pick(ctx.rng, ctx.department, specialty=PAEDIATRICS)
            visit = self.visit("child_exam", day, staff, [], PAEDIATRICS)
            age = (day - ctx.birth_date).days / 365.25
            kinds = ("weight", "height") + (("head",) if age < 3 else ("bmi",))
            self.measure(visit, kinds)

    def acute(self, problem: Problem) -> None:
        """A consultation the day an acute problem began, with its treatment."""
        ctx = self.ctx
        staff, specialty = self.gp, GP
        if ctx.age < 16 and ctx.rng.random() < 0.4:
            specialty = PAEDIATRICS
            staff = self.index.pick(ctx.rng, ctx.department, specialty=specialty)
        visit = self.visit("acute", problem.onset, staff, [problem], specialty)
        self.measure(visit, ("weight", "heart_rate") if ctx.age < 16 else ("pressure",))
        for medicine in problem.spec.medicines:
            self.prescribe(visit, problem, medicine, long_term=False)

    def follow_up(self, chronic: list[Problem]) -> None:
        """An adult's visits to their GP over the last three years; the last one renews the
        long-term treatments."""
        ctx = self.ctx
        count = min(4, 2 + len(chronic) + (1 if ctx.age >= 70 else 0))
        since = max(add_years(ctx.reference_date, -3), RECORD_FROM)
        days = sorted(ctx.random_day(since, ctx.reference_date) for _ in range(count))
        weighed = False
        for number, day in enumerate(days):
            visit = self.visit("gp", day, self.gp, chronic)
            kinds = ["pressure"] if ctx.rng.random() < 0.9 or chronic else []
            if ctx.rng.random() < 0.5:
                kinds += ["weight", "bmi"] if weighed else ["weight", "height", "bmi"]
                weighed = True
            if ctx.rng.random() < 0.3:
                kinds.append("heart_rate")
            self.measure(visit, tuple(kinds))
            if number == len(days) - 1:
                for problem in chronic:
                    if problem.spec.medicines:
                        self.prescribe(visit, problem, problem.spec.medicines[0], long_term=True)

    def specialists(self, chronic: list[Problem]) -> None:
        """Some chronic problems are also seen by a specialist at the hospital."""
        ctx = self.ctx
        for problem in chronic:
            specialty = problem.spec.specialty
            if specialty is None or ctx.rng.random() >= 0.35:
                continue
            staff = self.index.pick(ctx.rng, ctx.department, specialty=specialty)
            since = max(add_years(ctx.reference_date, -3), RECORD_FROM)
            day = ctx.random_day(since, ctx.reference_date)
            visit = self.visit("specialist", day, staff, [problem], specialty)
            self.measure(visit, ("pressure", "heart_rate") if specialty == CARDIOLOGY else ())

    def hospital(self, chronic: list[Problem]) -> None:
        """Now and then, a visit to the emergency department or a hospital stay."""
        ctx = self.ctx
        since = max(add_years(ctx.reference_date, -3), RECORD_FROM)
        if ctx.rng.random() < 0.04 + (0.06 if ctx.age >= 75 else 0):
            staff = self.index.pick(ctx.rng, ctx.department, specialty=EMERGENCY)
            day = ctx.random_day(since, ctx.reference_date)
            visit = self.visit("emergency", day, staff, [], EMERGENCY)
            self.measure(visit, ("pressure", "heart_rate"))
        if ctx.age >= 18 and ctx.rng.random() < 0.02 + (0.06 if ctx.age >= 70 else 0):
            followed = [p for p in chronic if p.spec.specialty is not None]
            problem = ctx.rng.choice(followed) if followed else None
            specialty = problem.spec.specialty if problem and problem.spec.specialty else EMERGENCY
            staff = self.index.pick(ctx.rng, ctx.department, specialty=specialty)
            day = ctx.random_day(since, ctx.reference_date - timedelta(days=10))
            visit = self.visit("inpatient", day, staff, [problem] if problem else [], specialty)
            self.measure(visit, ("pressure", "weight"))
