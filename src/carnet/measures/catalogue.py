"""The measures a person may record, as data: codes, UCUM units, plausible ranges, profiles.

Codes and profiles follow Mon espace santé's measures API (v1.5.2): LOINC for most measures,
the ANS TRE_R308 terminology for interstitial glucose (``MED-969``) and the glucose management
indicator (``MED-972``), one MES profile canonical per kind of measure. Plausible ranges are
wide on purpose: they refuse typing mistakes (a weight of 700 kg, a temperature of 3 °C), not
unusual values.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

LOINC: Final = "http://loinc.org"
UCUM: Final = "http://unitsofmeasure.org"
TAASIP: Final = "https://mos.esante.gouv.fr/NOS/TRE_R308-TAASIP/FHIR/TRE-R308-TAASIP"
CATEGORY_SYSTEM: Final = "http://terminology.hl7.org/CodeSystem/observation-category"
PROFILE_BASE: Final = "https://fhir.monespacesante.fr/ref/mesure/StructureDefinition/"
EXTENSION_BASE: Final = "https://interop.esante.gouv.fr/ig/fhir/mesures/StructureDefinition/"
MOMENT_EXTENSION: Final = EXTENSION_BASE + "mesures-moment-of-measurement"
DAYS_EXTENSION: Final = EXTENSION_BASE + "mesures-number-of-days"
MOMENT_SYSTEM: Final = "urn:carnet:mesures:moment"
"""Carnet's codes for the moment of a glucose measure (the MES list: fasting, after a meal,
after exercise, when feeling unwell, other; plus before a meal and bedtime)."""
SYSTOLIC: Final = "8480-6"
DIASTOLIC: Final = "8462-4"
BMI_CODE: Final = "39156-5"
GOAL_SYSTEM: Final = "urn:carnet:mesures:objectif"
"""The Goal's identifier system: one target per measure code, found again by it."""

Extra = Literal["", "moment", "days"]


@dataclass(frozen=True, slots=True)
class Measure:
    """One kind of measure: what is stored, and what a value may be."""

    slug: str
    """The measure's name in the portal's URLs (``/mesures/poids``)."""
    code: str
    system: str
    display: str
    unit: str
    """UCUM code of the stored value."""
    low: float
    high: float
    decimals: int
    profile: str
    extra: Extra = ""
    computed: bool = False
    """BMI: computed from weight and height, never accepted as input."""
    components: bool = False
    """Blood pressure: systolic and diastolic components, no single value."""

    @property
    def profile_url(self) -> str:
        return PROFILE_BASE + "mes-observation-" + self.profile


MEASURES: Final[tuple[Measure, ...]] = (
    Measure("poids", "29463-7", LOINC, "Body weight", "kg", 0.3, 500, 2, "bodyweight"),
    Measure("taille", "8302-2", LOINC, "Body height", "cm", 20, 260, 1, "bodyheight"),
    Measure("imc", BMI_CODE, LOINC, "Body mass index", "kg/m2", 5, 100, 1, "bmi", computed=True),
    Measure(
        "tour-de-taille",
        "8280-0",
        LOINC,
        "Waist circumference",
        "cm",
        20,
        300,
        1,
        "waistcircumference",
    ),
    Measure(
        "temperature", "8310-5", LOINC, "Body temperature", "Cel", 25, 45, 1, "bodytemperature"
    ),
    Measure(
        "glycemie", "2345-7", LOINC, "Glucose", "mg/dL", 10, 1000, 0, "glucose", extra="moment"
    ),
    Measure(
        "glucose-interstitiel",
        "MED-969",
        TAASIP,
        "Glucose interstitiel",
        "mg/dL",
        10,
        1000,
        0,
        "glucose",
        extra="days",
    ),
    Measure("hba1c", "4548-4", LOINC, "Hemoglobin A1c", "%", 2, 25, 1, "glucose"),
    Measure(
        "igg",
        "MED-972",
        TAASIP,
        "Index de gestion de glycémie (IGG)",
        "%",
        2,
        25,
        1,
        "glucose",
        extra="days",
    ),
    Measure(
        "tension",
        "85354-9",
        LOINC,
        "Blood pressure panel",
        "mm[Hg]",
        20,
        300,
        0,
        "bp",
        components=True,
    ),
    Measure("douleur", "72514-3", LOINC, "Pain severity", "{score}", 0, 10, 0, "painseverity"),
    Measure("frequence-cardiaque", "8867-4", LOINC, "Heart rate", "/min", 20, 300, 0, "heartrate"),
    Measure("pas", "41950-7", LOINC, "Steps per day", "/d", 0, 150000, 0, "stepsbyday"),
    Measure(
        "perimetre-cranien",
        "8287-5",
        LOINC,
        "Head circumference",
        "cm",
        20,
        80,
        1,
        "headcircumference",
    ),
)
BY_SLUG: Final = {m.slug: m for m in MEASURES}
BY_CODE: Final = {m.code: m for m in MEASURES}

DIASTOLIC_RANGE: Final = (10.0, 200.0)
"""Diastolic pressure's own plausible range (the panel's covers the systolic)."""

GLUCOSE_UNITS: Final = {"mg/dL": 1.0, "g/L": 100.0, "mmol/L": 18.016}
"""Factors to mg/dL (the stored unit): glucose's molar mass is 180.16 g/mol."""

MOMENTS: Final = (
    "a-jeun",
    "avant-repas",
    "apres-repas",
    "apres-effort",
    "coucher",
    "malaise",
    "autre",
)
DAYS_RANGE: Final = (1, 90)
"""Number of days a continuous sensor's value covers (MES proposes 7, 14, 30 and 90)."""
