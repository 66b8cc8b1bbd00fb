"""The medical profile's pages: section slugs, titles, the fields of each section's form, the
choices' labels, and the sentence for each reason an entry is refused.

The templates draw every section's form from ``FIELDS`` (one generic form), so a section's
fields are said once, here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from carnet.profile.errors import InvalidProfileEntry
from carnet.profile.schemas import (
    BloodGroup,
    DisabilityRate,
    DisabilityType,
    HospitalKind,
    LifestyleSection,
    Section,
)
from carnet.web.forms import Form
from carnet.web.i18n import N_

SLUGS: Final[dict[str, Section]] = {
    "maladies": Section.DISEASES,
    "traitements": Section.TREATMENTS,
    "hospitalisations": Section.HOSPITALIZATIONS,
    "handicaps": Section.DISABILITIES,
    "allergies": Section.ALLERGIES,
    "antecedents-familiaux": Section.FAMILY_HISTORY,
    "habitudes-de-vie": Section.LIFESTYLES,
    "groupe-sanguin": Section.BLOOD_GROUP,
}
SLUG_OF: Final[dict[Section, str]] = {section: slug for slug, section in SLUGS.items()}
TITLES: Final[dict[Section, str]] = {
    Section.DISEASES: N_("Maladies et sujets de santé"),
    Section.TREATMENTS: N_("Traitements"),
    Section.HOSPITALIZATIONS: N_("Hospitalisations et opérations"),
    Section.DISABILITIES: N_("Handicaps"),
    Section.ALLERGIES: N_("Allergies"),
    Section.FAMILY_HISTORY: N_("Antécédents familiaux"),
    Section.LIFESTYLES: N_("Habitudes de vie"),
    Section.BLOOD_GROUP: N_("Groupe sanguin"),
}
ADD_TITLES: Final[dict[Section, str]] = {
    Section.DISEASES: N_("Ajouter une maladie ou un sujet de santé"),
    Section.TREATMENTS: N_("Ajouter un traitement"),
    Section.HOSPITALIZATIONS: N_("Ajouter une hospitalisation ou une opération"),
    Section.DISABILITIES: N_("Ajouter un handicap"),
    Section.ALLERGIES: N_("Ajouter une allergie"),
    Section.FAMILY_HISTORY: N_("Ajouter un antécédent familial"),
    Section.LIFESTYLES: N_("Mes habitudes de vie"),
    Section.BLOOD_GROUP: N_("Mon groupe sanguin"),
}
EMPTY: Final = N_("Aucun élément pour le moment.")

Options = tuple[tuple[str, str], ...]
DISABILITY_TYPES: Final[Options] = (
    (DisabilityType.SENSORY, N_("Handicap sensoriel")),
    (DisabilityType.NEURO_DEVELOPMENTAL_DISORDER, N_("Trouble du neurodéveloppement")),
    (DisabilityType.PSYCHIC, N_("Handicap psychique")),
    (DisabilityType.ENGINE, N_("Handicap moteur")),
    (DisabilityType.POLY_DISABILITY, N_("Polyhandicap")),
    (DisabilityType.DISABLING_DISEASES, N_("Maladie invalidante")),
    (DisabilityType.OTHERS, N_("Autre handicap")),
)
DISABILITY_RATES: Final[Options] = (
    (DisabilityRate.LESS_THAN_50, N_("Inférieur à 50 %%")),
    (DisabilityRate.BETWEEN_50_AND_79, N_("De 50 à 79 %%")),
    (DisabilityRate.BIGGER_THAN_80_OR_EQUAL, N_("80 %% ou plus")),
    (DisabilityRate.UNKNOWN, N_("Je ne sais pas")),
)
RELATIONSHIPS: Final[Options] = (
    ("MOTHER", N_("Mère")),
    ("FATHER", N_("Père")),
    ("SISTER", N_("Sœur")),
    ("BROTHER", N_("Frère")),
    ("DAUGHTER", N_("Fille")),
    ("SON", N_("Fils")),
    ("GRANDMOTHER", N_("Grand-mère")),
    ("GRANDFATHER", N_("Grand-père")),
    ("AUNT", N_("Tante")),
    ("UNCLE", N_("Oncle")),
    ("COUSIN", N_("Cousin ou cousine")),
    ("OTHER", N_("Autre membre de la famille")),
)
LIFESTYLES: Final[Options] = (
    (LifestyleSection.FOOD, N_("Alimentation")),
    (LifestyleSection.PHYSICAL_ACTIVITY, N_("Activité physique")),
    (LifestyleSection.SLEEP, N_("Sommeil")),
    (LifestyleSection.SCREEN, N_("Écrans")),
    (LifestyleSection.ALCOHOL, N_("Alcool")),
    (LifestyleSection.TOBACCO, N_("Tabac")),
)
BLOOD_GROUPS: Final[Options] = tuple((g.value, g.symbol) for g in BloodGroup)
HOSPITAL_KINDS: Final[Options] = (
    (HospitalKind.STAY, N_("Hospitalisation")),
    (HospitalKind.SURGERY, N_("Opération chirurgicale")),
)
DISEASE_STATUSES: Final[Options] = (("active", N_("En cours")), ("resolved", N_("Guérie")))
CODE_SYSTEMS: Final[Options] = (("snomed", "SNOMED CT"), ("cim10", "CIM-10"))
ALLERGY_CATEGORIES: Final[Options] = (
    ("food", N_("Aliment")),
    ("medication", N_("Médicament")),
    ("environment", N_("Environnement (pollen, poussière, animaux…)")),
    ("biologic", N_("Produit biologique")),
)
CRITICALITIES: Final[Options] = (
    ("low", N_("Faible")),
    ("high", N_("Élevée")),
    ("unable-to-assess", N_("Je ne sais pas")),
)
CHOICE_LABELS: Final[dict[str, dict[str, str]]] = {
    "type": dict(DISABILITY_TYPES),
    "rate": dict(DISABILITY_RATES),
    "relationship": dict(RELATIONSHIPS),
    "section": dict(LIFESTYLES),
    "kind": dict(HOSPITAL_KINDS),
    "status": dict(DISEASE_STATUSES),
    "category": dict(ALLERGY_CATEGORIES),
    "criticality": dict(CRITICALITIES),
}


@dataclass(frozen=True, slots=True)
class Field:
    """One control of a section's form."""

    name: str
    label: str
    kind: str = "text"
    """``text``, ``textarea``, ``select``, ``radios``, ``number``, ``date`` (three inputs whose
    names end in ``_year``, ``_month``, ``_day``) or ``link`` (a select of other items)."""
    required: bool = False
    hint: str = ""
    options: Options = ()


_DATE_HINT: Final = N_("L’année suffit ; ajoutez le mois et le jour si vous les connaissez.")
FIELDS: Final[dict[Section, tuple[Field, ...]]] = {
    Section.DISEASES: (
        Field("name", N_("Nom de la maladie ou du sujet de santé"), required=True),
        Field("onset", N_("Depuis quand ?"), "date", hint=_DATE_HINT),
        Field("status", N_("Situation"), "radios", options=DISEASE_STATUSES),
        Field(
            "code_system", N_("Classification du code (facultatif)"), "select", options=CODE_SYSTEMS
        ),
        Field("code", N_("Code (facultatif)"), hint=N_("Par exemple J45 en CIM-10.")),
        Field("comment", N_("Commentaire"), "textarea"),
    ),
    Section.TREATMENTS: (
        Field("name", N_("Nom du médicament ou du traitement"), required=True),
        Field("dosage", N_("Posologie"), hint=N_("Par exemple : 1 comprimé le matin.")),
        Field("start", N_("Début du traitement"), "date", required=True, hint=_DATE_HINT),
        Field("end", N_("Fin du traitement (facultatif)"), "date", hint=_DATE_HINT),
        Field("disease", N_("Traitement de la maladie (facultatif)"), "link"),
        Field("comment", N_("Commentaire"), "textarea"),
    ),
    Section.HOSPITALIZATIONS: (
        Field("kind", N_("Type"), "radios", options=HOSPITAL_KINDS),
        Field("reason", N_("Motif ou nom de l’opération"), required=True),
        Field("place", N_("Établissement (facultatif)")),
        Field(
            "start", N_("Date d’entrée ou de l’opération"), "date", required=True, hint=_DATE_HINT
        ),
        Field("end", N_("Date de sortie (facultatif)"), "date", hint=_DATE_HINT),
        Field("disease", N_("Maladie concernée (facultatif)"), "link"),
        Field("document", N_("Document associé (facultatif)"), "link"),
    ),
    Section.DISABILITIES: (
        Field("type", N_("Type de handicap"), "radios", required=True, options=DISABILITY_TYPES),
        Field("rate", N_("Taux d’incapacité"), "select", options=DISABILITY_RATES),
        Field("description", N_("Précisions (facultatif)")),
        Field("onset", N_("Depuis quand ? (facultatif)"), "date", hint=_DATE_HINT),
    ),
    Section.ALLERGIES: (
        Field(
            "substance", N_("Allergie à"), required=True, hint=N_("Aliment, médicament, pollen…")
        ),
        Field("category", N_("Catégorie"), "select", options=ALLERGY_CATEGORIES),
        Field("reaction", N_("Réaction (facultatif)"), hint=N_("Par exemple : urticaire.")),
        Field("criticality", N_("Gravité"), "select", options=CRITICALITIES),
        Field("onset", N_("Depuis quand ? (facultatif)"), "date", hint=_DATE_HINT),
        Field("treatment", N_("Traitement concerné (facultatif)"), "link"),
    ),
    Section.FAMILY_HISTORY: (
        Field(
            "relationship",
            N_("Membre de la famille"),
            "select",
            required=True,
            options=RELATIONSHIPS,
        ),
        Field("condition", N_("Maladie"), required=True),
        Field(
            "onset_age",
            N_("Âge au début de la maladie (facultatif)"),
            "number",
            hint=N_("En années."),
        ),
    ),
    Section.BLOOD_GROUP: (
        Field("group", N_("Groupe sanguin"), "radios", required=True, options=BLOOD_GROUPS),
    ),
    Section.LIFESTYLES: tuple(Field(value, label, "textarea") for value, label in LIFESTYLES),
}


def field_names(section: Section) -> tuple[str, ...]:
    """Every submitted name of a section's form (a date is three inputs)."""
    names: list[str] = []
    for field in FIELDS[section]:
        if field.kind == "date":
            names += [f"{field.name}_year", f"{field.name}_month", f"{field.name}_day"]
        else:
            names.append(field.name)
    return tuple(names)


REASONS: Final[dict[str, str]] = {
    "required": N_("Ce champ est obligatoire."),
    "too-long": N_("Ce texte est trop long : raccourcissez-le."),
    "bad-date": N_(
        "Cette date n’existe pas : l’année s’écrit avec 4 chiffres, le mois de 1 à 12, "
        "et le jour doit exister dans ce mois."
    ),
    "future": N_("Cette date est dans le futur : indiquez une date passée."),
    "day-without-month": N_("Indiquez aussi le mois, ou retirez le jour."),
    "end-before-start": N_("La date de fin est avant la date de début."),
    "unknown-choice": N_("Choisissez une des propositions."),
    "unknown-link": N_("L’élément choisi n’existe plus : choisissez-en un autre."),
    "not-a-number": N_("Indiquez un âge en années, de 0 à 130."),
}
REQUIRED: Final[dict[str, str]] = {
    "name": N_("Indiquez un nom."),
    "substance": N_("Indiquez à quoi vous êtes allergique."),
    "reason": N_("Indiquez le motif de l’hospitalisation ou le nom de l’opération."),
    "condition": N_("Indiquez la maladie."),
    "relationship": N_("Choisissez le membre de la famille."),
    "type": N_("Choisissez le type de handicap."),
    "group": N_("Choisissez votre groupe sanguin."),
    "start_year": N_("Indiquez au moins l’année de début."),
}
ITEMS_PRESENT: Final = N_(
    "Vous ne pouvez pas déclarer ne pas être concerné(e) : cette rubrique contient des "
    "éléments. Supprimez-les d’abord."
)
NOTICES: Final[dict[str, str]] = {
    "ajoute": N_("L’élément est enregistré."),
    "modifie": N_("Les modifications sont enregistrées."),
    "supprime": N_("L’élément est supprimé."),
    "non-concerne": N_("Votre déclaration est enregistrée."),
    "retire": N_("Votre déclaration est retirée."),
}


def add_refusal(form: Form, section: Section, error: InvalidProfileEntry) -> None:
    """Put the refusal next to its field (a date's error goes to its year input, a choice's
    to its first option)."""
    message = REQUIRED.get(error.field) if error.reason == "required" else None
    field = next((f for f in FIELDS[section] if f.name == error.field), None)
    anchor = error.field
    if field is not None and field.kind == "radios" and field.options:
        anchor = f"{field.name}-{field.options[0][0]}"
    form.add_error(error.field, message or REASONS[error.reason], anchor=anchor)
