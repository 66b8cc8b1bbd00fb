"""The French text of the demo letters, written from the record they report on."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Final

from carnet.demo.context import Resource

if TYPE_CHECKING:
    from carnet.demo.documents import DocumentPlan

_MONTHS: Final = (
    "janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre",
    "octobre", "novembre", "décembre",
)  # fmt: skip
_MEASURE_WORDS: Final = {
    "29463-7": ("poids", "kg"),
    "8302-2": ("taille", "cm"),
    "39156-5": ("IMC", "kg/m²"),
    "9843-4": ("périmètre crânien", "cm"),
    "8867-4": ("fréquence cardiaque", "/min"),
}
_EMERGENCY_REASONS: Final = (
    ("malaise sans perte de connaissance", "bilan clinique et électrocardiogramme normaux"),
    ("douleur abdominale", "examen clinique rassurant, douleur soulagée par antalgiques"),
    ("traumatisme de la cheville", "entorse bénigne, immobilisation par attelle"),
    ("douleur thoracique atypique", "électrocardiogramme et troponine normaux"),
    ("plaie de la main", "suture simple, vaccination antitétanique vérifiée"),
)
Body = tuple[tuple[str, ...], tuple[tuple[str, ...], ...]]


@dataclass(frozen=True)
class Draft:
    """What a letter is written from: its plan, the patient's sex, the rest of the record."""

    plan: DocumentPlan
    sex: str
    record: list[Resource]

    @property
    def feminine(self) -> str:
        """The feminine ending of French words about the patient ("e" or "")."""
        return "e" if self.sex == "female" else ""


def french_date(day: date) -> str:
    """``day`` written out in French, e.g. "12 mars 2025"."""
    first = "1er" if day.day == 1 else str(day.day)
    return f"{first} {_MONTHS[day.month - 1]} {day.year}"


def _number(value: float) -> str:
    return f"{value:g}".replace(".", ",")


def _measures(observations: list[Resource]) -> str:
    parts = []
    for observation in observations:
        code = observation["code"]["coding"][0]["code"]
        if code == "85354-9":
            systolic, diastolic = (c["valueQuantity"]["value"] for c in observation["component"])
            parts.append(f"pression artérielle {systolic}/{diastolic} mmHg")
        elif code in _MEASURE_WORDS:
            word, unit = _MEASURE_WORDS[code]
            parts.append(f"{word} {_number(observation['valueQuantity']['value'])} {unit}")
    return ", ".join(parts)


def _treatments(prescriptions: list[Resource]) -> str:
    return " ; ".join(
        f"{rx['medicationCodeableConcept']['text']} : {rx['dosageInstruction'][0]['text']}"
        for rx in prescriptions
    )


def _consultation(draft: Draft) -> Body:
    visit, feminine = draft.plan.visit, draft.feminine
    assert visit is not None
    labels = [problem.spec.label.lower() for problem in visit.problems]
    motive = labels[0] if visit.kind == "acute" else "bilan de santé"
    if visit.kind != "acute" and labels:
        motive = "suivi de " + ", ".join(labels)
    paragraphs = []
    if visit.kind == "specialist":
        paragraphs.append("Cher confrère,")
    paragraphs.append(f"Patient{feminine} vu{feminine} ce jour en consultation. Motif : {motive}.")
    measures = _measures(visit.observations)
    paragraphs.append(f"Examen clinique : {measures or 'sans particularité'}.")
    if visit.kind == "acute":
        paragraphs.append(
            f"Conclusion : tableau compatible avec {labels[0]}. Évolution favorable attendue ; "
            "reconsulter en cas d'aggravation ou de fièvre persistante au-delà de 48 heures."
        )
    elif labels:
        paragraphs.append(
            "Conclusion : situation clinique stable. Poursuite du traitement en cours et du "
            "suivi habituel."
        )
    else:
        paragraphs.append("Conclusion : pas d'anomalie décelée ce jour.")
    if visit.prescriptions:
        paragraphs.append(f"Traitement prescrit : {_treatments(visit.prescriptions)}.")
    if visit.kind == "specialist":
        paragraphs.append("Je reste à votre disposition. Bien confraternellement.")
    return tuple(paragraphs), ()


def _child_exam(draft: Draft) -> Body:
    plan = draft.plan
    assert plan.visit is not None
    return (
        "Examen de santé systématique de l'enfant, inscrit au calendrier du carnet de santé.",
        f"Mesures : {_measures(plan.visit.observations)}.",
        "Développement staturo-pondéral et psychomoteur harmonieux. Examen clinique normal.",
        "Vaccinations vérifiées : à jour selon le calendrier vaccinal en vigueur.",
        "Prochain examen selon le calendrier des examens obligatoires.",
    ), ()


def _lab(draft: Draft) -> Body:
    plan = draft.plan
    assert plan.lab is not None
    rows: list[tuple[str, ...]] = [("Analyse", "Résultat", "Référence", "")]
    abnormal = False
    for result in plan.lab.results:
        value = result["valueQuantity"]
        flag = result["interpretation"][0]["coding"][0]["code"]
        abnormal = abnormal or flag != "N"
        rows.append(
            (
                result["code"]["text"],
                f"{_number(value['value'])} {value['unit']}",
                result["referenceRange"][0]["text"],
                {"H": "élevé", "L": "bas"}.get(flag, ""),
            )
        )
    paragraphs = [
        f"Prélèvement sanguin réalisé le {french_date(plan.day)}, à jeun.",
        "Résultats validés par le biologiste responsable.",
    ]
    if abnormal:
        paragraphs.append(
            "Certaines valeurs sont en dehors des valeurs de référence : "
            "à interpréter par le médecin prescripteur."
        )
    return tuple(paragraphs), tuple(rows)


def _prescription(draft: Draft) -> Body:
    plan = draft.plan
    assert plan.visit is not None
    lines = [
        f"{rx['medicationCodeableConcept']['text']} : {rx['dosageInstruction'][0]['text']}."
        for rx in plan.visit.prescriptions
    ]
    if any(rx["status"] == "active" for rx in plan.visit.prescriptions):
        lines.append("Traitement à renouveler 2 fois (durée totale : 3 mois).")
    else:
        lines.append("Durée du traitement : selon la posologie indiquée ci-dessus.")
    return tuple(lines), ()


def _discharge(draft: Draft) -> Body:
    visit, feminine = draft.plan.visit, draft.feminine
    assert visit is not None
    service = draft.plan.staff.practitioner["qualification"][-1]["code"]["coding"][0]["display"]
    reason = visit.problems[0].spec.label.lower() if visit.problems else "bilan"
    return (
        "Cher confrère,",
        (
            f"Votre patient{feminine} a été hospitalisé{feminine} du {french_date(visit.day)} "
            f"au {french_date(visit.end_day)} (service : {service.lower()})."
        ),
        f"Motif d'hospitalisation : {reason}.",
        "Évolution : favorable au cours du séjour, sans complication.",
        f"Constantes à la sortie : {_measures(visit.observations) or 'normales'}.",
        "Traitement de sortie : reprise du traitement habituel, sans modification.",
        "Suivi : consultation avec le médecin traitant dans les quinze jours.",
        "Bien confraternellement.",
    ), ()


def _emergency(draft: Draft) -> Body:
    plan = draft.plan
    assert plan.visit is not None
    # The reason follows from the encounter id, so that the same seed writes the same letter.
    encounter_id = plan.visit.encounter["id"]
    motive, finding = _EMERGENCY_REASONS[int(encounter_id[:8], 16) % len(_EMERGENCY_REASONS)]
    return (
        f"Passage aux urgences le {french_date(plan.visit.day)}. Motif : {motive}.",
        f"Constantes à l'arrivée : {_measures(plan.visit.observations) or 'normales'}.",
        f"Prise en charge : {finding}.",
        "Orientation : retour à domicile avec conseils de surveillance.",
    ), ()


def _summary(draft: Draft) -> Body:
    record = draft.record

    def texts(resource_type: str, path: str) -> list[str]:
        return [r[path]["text"] for r in record if r["resourceType"] == resource_type]

    active = [
        r["code"]["text"]
        for r in record
        if r["resourceType"] == "Condition" and r["clinicalStatus"]["coding"][0]["code"] == "active"
    ]
    vaccines = [r["vaccineCode"]["text"] for r in record if r["resourceType"] == "Immunization"]
    allergies = texts("AllergyIntolerance", "code")
    treatments = texts("MedicationStatement", "medicationCodeableConcept")
    return (
        "Synthèse établie par le médecin traitant.",
        f"Problèmes de santé actifs : {'; '.join(active) or 'aucun'}.",
        f"Allergies : {'; '.join(allergies) or 'aucune allergie connue'}.",
        f"Traitements au long cours : {'; '.join(treatments) or 'aucun'}.",
        f"Vaccinations récentes : {'; '.join(vaccines[-3:]) or 'non renseignées'}.",
        "Conseils : activité physique régulière et alimentation équilibrée.",
    ), ()


_WRITERS: Final[dict[str, Callable[[Draft], Body]]] = {
    "consultation": _consultation,
    "child_exam": _child_exam,
    "lab": _lab,
    "prescription": _prescription,
    "discharge": _discharge,
    "emergency": _emergency,
    "summary": _summary,
}


def letter_body(plan: DocumentPlan, *, sex: str, record: list[Resource]) -> Body:
    """The paragraphs and the table (first row = header; may be empty) of ``plan``'s letter."""
    return _WRITERS[plan.kind](Draft(plan, sex, record))
