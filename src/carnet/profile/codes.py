"""Code systems and codes the profile writes.

Standard ones where they exist (HL7 terminology, LOINC, v3-RoleCode); otherwise Carnet's own
``urn:carnet:profil:*`` systems, whose codes are MES's enum values. Displays are French, as MES
shows them; the portal translates its own copies of these labels.
"""

from __future__ import annotations

from typing import Final

from carnet.profile.schemas import (
    BloodGroup,
    DisabilityRate,
    DisabilityType,
    LifestyleSection,
    Section,
)

TAG_SYSTEM: Final = "urn:carnet:profil"
TAG_CODE: Final = "profil-medical"
"""``meta.tag`` on every resource the person writes in their profile (to find them again)."""
SECTION_SYSTEM: Final = "urn:carnet:profil:rubrique"
CATEGORY_SYSTEM: Final = "urn:carnet:profil:categorie"
DISABILITY_TYPE_SYSTEM: Final = "urn:carnet:profil:type-handicap"
DISABILITY_RATE_SYSTEM: Final = "urn:carnet:profil:taux-handicap"
LIFESTYLE_SYSTEM: Final = "urn:carnet:profil:habitude-de-vie"
BLOOD_GROUP_SYSTEM: Final = "urn:carnet:profil:groupe-sanguin"
LINK_EXTENSION: Final = "urn:carnet:profil:lien"
"""An extension holding a ``valueReference`` where FHIR has no element for the link (a stay's
document, an allergy's treatment)."""

CONDITION_CATEGORY: Final = "http://terminology.hl7.org/CodeSystem/condition-category"
CONDITION_CLINICAL: Final = "http://terminology.hl7.org/CodeSystem/condition-clinical"
ALLERGY_CLINICAL: Final = "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical"
OBSERVATION_CATEGORY: Final = "http://terminology.hl7.org/CodeSystem/observation-category"
ACT_CODE: Final = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
ROLE_CODE: Final = "http://terminology.hl7.org/CodeSystem/v3-RoleCode"
LIST_EMPTY_REASON: Final = "http://terminology.hl7.org/CodeSystem/list-empty-reason"
MEDICATION_STATEMENT_CATEGORY: Final = (
    "http://terminology.hl7.org/CodeSystem/medication-statement-category"
)
LOINC: Final = "http://loinc.org"
SNOMED: Final = "http://snomed.info/sct"
CIM10: Final = "http://hl7.org/fhir/sid/icd-10"
UCUM: Final = "http://unitsofmeasure.org"
SURGICAL_PROCEDURE: Final = "387713003"
"""SNOMED CT "Surgical procedure", the category of an operation."""
BLOOD_GROUP_LOINC: Final = "882-1"

DISEASE_CODE_SYSTEMS: Final = {"snomed": SNOMED, "cim10": CIM10}

DISABILITY_TYPES: Final[dict[DisabilityType, str]] = {
    DisabilityType.SENSORY: "Handicap sensoriel",
    DisabilityType.NEURO_DEVELOPMENTAL_DISORDER: "Trouble du neurodéveloppement",
    DisabilityType.PSYCHIC: "Handicap psychique",
    DisabilityType.ENGINE: "Handicap moteur",
    DisabilityType.POLY_DISABILITY: "Polyhandicap",
    DisabilityType.DISABLING_DISEASES: "Maladie invalidante",
    DisabilityType.OTHERS: "Autre handicap",
}
DISABILITY_RATES: Final[dict[DisabilityRate, str]] = {
    DisabilityRate.LESS_THAN_50: "Taux d’incapacité inférieur à 50 %",
    DisabilityRate.BETWEEN_50_AND_79: "Taux d’incapacité de 50 à 79 %",
    DisabilityRate.BIGGER_THAN_80_OR_EQUAL: "Taux d’incapacité de 80 % ou plus",
    DisabilityRate.UNKNOWN: "Taux d’incapacité inconnu",
}
LIFESTYLES: Final[dict[LifestyleSection, tuple[str, str, str]]] = {
    # section: (system, code, display): LOINC where a code says exactly this, else our own.
    LifestyleSection.FOOD: (LIFESTYLE_SYSTEM, "FOOD", "Alimentation"),
    LifestyleSection.PHYSICAL_ACTIVITY: (
        LIFESTYLE_SYSTEM,
        "PHYSICAL_ACTIVITY",
        "Activité physique",
    ),
    LifestyleSection.SLEEP: (LIFESTYLE_SYSTEM, "SLEEP", "Sommeil"),
    LifestyleSection.SCREEN: (LIFESTYLE_SYSTEM, "SCREEN", "Écrans"),
    LifestyleSection.ALCOHOL: (LOINC, "11331-6", "Alcool"),
    LifestyleSection.TOBACCO: (LOINC, "72166-2", "Tabac"),
}
BLOOD_GROUPS: Final[dict[BloodGroup, str]] = {group: group.symbol for group in BloodGroup}
FAMILY_RELATIONSHIPS: Final[dict[str, tuple[str, str]]] = {
    # MES FamilyRelationshipEnum-like choices: (v3-RoleCode, French display)
    "MOTHER": ("MTH", "Mère"),
    "FATHER": ("FTH", "Père"),
    "SISTER": ("SIS", "Sœur"),
    "BROTHER": ("BRO", "Frère"),
    "DAUGHTER": ("DAU", "Fille"),
    "SON": ("SON", "Fils"),
    "GRANDMOTHER": ("GRMTH", "Grand-mère"),
    "GRANDFATHER": ("GRFTH", "Grand-père"),
    "AUNT": ("AUNT", "Tante"),
    "UNCLE": ("UNCLE", "Oncle"),
    "COUSIN": ("COUSN", "Cousin ou cousine"),
    "OTHER": ("FAMMEMB", "Autre membre de la famille"),
}
ALLERGY_CATEGORIES: Final = ("food", "medication", "environment", "biologic")
CRITICALITIES: Final = ("low", "high", "unable-to-assess")
DISEASE_STATUSES: Final = ("active", "resolved")

SECTION_CODES: Final[dict[Section, str]] = {section: section.value for section in Section}


def coding(system: str, code: str, display: str = "") -> dict[str, str]:
    """A Coding (display left out when empty)."""
    value = {"system": system, "code": code}
    if display:
        value["display"] = display
    return value


def first_code(concept: object, system: str) -> str:
    """The code of ``concept``'s first coding in ``system`` (empty when there is none)."""
    if not isinstance(concept, dict):
        return ""
    for item in concept.get("coding") or []:
        if isinstance(item, dict) and item.get("system") == system:
            return str(item.get("code") or "")
    return ""
