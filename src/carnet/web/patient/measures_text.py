"""The measures pages' words: each measure's name and unit, the glucose moments, and the
sentence shown for every refusal (``measures.errors.InvalidMeasure.reason``)."""

from __future__ import annotations

from typing import Final

from carnet.measures.errors import InvalidMeasure
from carnet.web.i18n import N_

NAMES: Final[dict[str, str]] = {
    "poids": N_("Poids"),
    "taille": N_("Taille"),
    "imc": N_("Indice de masse corporelle (IMC)"),
    "tour-de-taille": N_("Tour de taille"),
    "temperature": N_("Température"),
    "glycemie": N_("Glycémie"),
    "glucose-interstitiel": N_("Glucose interstitiel"),
    "hba1c": N_("Hémoglobine glyquée (HbA1c)"),
    "igg": N_("Indicateur de gestion du glucose (IGG)"),
    "tension": N_("Tension artérielle"),
    "douleur": N_("Douleur"),
    "frequence-cardiaque": N_("Fréquence cardiaque"),
    "pas": N_("Nombre de pas par jour"),
    "perimetre-cranien": N_("Périmètre crânien"),
}
# Shown through the templates' ``_()``, which always applies ``%`` formatting: a literal
# percent sign is written ``%%``.
UNITS: Final[dict[str, str]] = {
    "kg": "kg",
    "cm": "cm",
    "kg/m2": "kg/m²",
    "Cel": "°C",
    "mg/dL": "mg/dL",
    "g/L": "g/L",
    "mmol/L": "mmol/L",
    "%": "%%",
    "mm[Hg]": "mmHg",
    "{score}": "/10",
    "/min": N_("battements/min"),
    "/d": N_("pas"),
}
MOMENTS: Final[dict[str, str]] = {
    "a-jeun": N_("À jeun"),
    "avant-repas": N_("Avant un repas"),
    "apres-repas": N_("Après un repas"),
    "apres-effort": N_("Après un effort"),
    "coucher": N_("Au coucher"),
    "malaise": N_("Lors d’un malaise"),
    "autre": N_("Autre moment"),
}
# Out of the plausible range, per measure (and per glucose unit): the limits, in words.
OUT_OF_RANGE: Final[dict[str, str]] = {
    "poids": N_("Le poids doit être compris entre 0,3 et 500 kg."),
    "taille": N_("La taille doit être comprise entre 20 et 260 cm."),
    "imc": N_("L’IMC visé doit être compris entre 5 et 100 kg/m²."),
    "tour-de-taille": N_("Le tour de taille doit être compris entre 20 et 300 cm."),
    "temperature": N_("La température doit être comprise entre 25 et 45 °C."),
    "glycemie:mg/dL": N_("La glycémie doit être comprise entre 10 et 1 000 mg/dL."),
    "glycemie:g/L": N_("La glycémie doit être comprise entre 0,1 et 10 g/L."),
    "glycemie:mmol/L": N_("La glycémie doit être comprise entre 0,56 et 55,5 mmol/L."),
    "glucose-interstitiel": N_(
        "Le glucose interstitiel doit être compris entre 10 et 1 000 mg/dL."
    ),
    "hba1c": N_("L’hémoglobine glyquée doit être comprise entre 2 et 25 %%."),
    "igg": N_("L’IGG doit être compris entre 2 et 25 %%."),
    "tension": N_("La pression systolique doit être comprise entre 20 et 300 mmHg."),
    "tension:value2": N_("La pression diastolique doit être comprise entre 10 et 200 mmHg."),
    "douleur": N_("La douleur se note de 0 (aucune) à 10 (la pire imaginable)."),
    "frequence-cardiaque": N_(
        "La fréquence cardiaque doit être comprise entre 20 et 300 battements par minute."
    ),
    "pas": N_("Le nombre de pas doit être compris entre 0 et 150 000 par jour."),
    "perimetre-cranien": N_("Le périmètre crânien doit être compris entre 20 et 80 cm."),
    "days": N_("Le nombre de jours doit être un nombre entier de 1 à 90."),
}
REASONS: Final[dict[str, str]] = {
    "unknown-measure": N_("Cette mesure n’existe pas."),
    "computed": N_(
        "L’IMC ne se saisit pas : il est calculé à partir de votre dernier poids et de "
        "votre dernière taille."
    ),
    "missing": N_("Saisissez une valeur."),
    "not-a-number": N_("Saisissez un nombre, par exemple 72,5."),
    "bad-date": N_("Saisissez une date valide, par exemple 14/03/2026."),
    "future": N_("La date de la mesure ne peut pas être dans le futur."),
    "systolic-not-above": N_(
        "La pression diastolique (le second chiffre) doit être inférieure à la pression systolique."
    ),
    "moment-required": N_("Indiquez à quel moment la glycémie a été mesurée."),
    "days-required": N_("Indiquez sur combien de jours porte la mesure (de 1 à 90)."),
    "bad-unit": N_("Choisissez l’unité de la glycémie : mg/dL, g/L ou mmol/L."),
    "comment-too-long": N_("Le commentaire ne doit pas dépasser 500 caractères."),
    "target-order": N_("La limite basse de l’objectif doit être inférieure à sa limite haute."),
}
FIELDS: Final[dict[str, str]] = {
    "value": "valeur",
    "value2": "valeur2",
    "date": "date",
    "unit": "unite",
    "moment": "moment",
    "days": "jours",
    "comment": "commentaire",
    "slug": "valeur",
    "low": "objectif_bas",
    "high": "objectif_haut",
}


def refusal(error: InvalidMeasure, *, slug: str, unit: str = "") -> tuple[str, str]:
    """The form field a refusal belongs to and the sentence that says what to fix."""
    field = FIELDS.get(error.field, "valeur")
    if error.reason != "out-of-range":
        return field, REASONS[error.reason]
    if error.field == "days":
        return field, OUT_OF_RANGE["days"]
    key = f"{slug}:value2" if error.field == "value2" else slug
    if slug == "glycemie" and error.field == "value":
        key = f"glycemie:{unit or 'mg/dL'}"
    return field, OUT_OF_RANGE.get(key, REASONS["not-a-number"])
