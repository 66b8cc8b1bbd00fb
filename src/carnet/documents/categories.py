"""The twelve categories the patient sees, and how a document's type code lands in one.

Categories and labels follow Mon espace santé's ``Category`` enum (mes-rules §8.2). A
professional's document is classified from its type code (JDV_J07, §8.3) by a table kept as data
(``data/type-code-categories.csv``: code, system, category, display); a code the table does not
know lands in ``AUTR_DOC``. A document the patient deposits carries the patient type code of the
category they chose (``DOCPAT01``–``DOCPAT09``, ``EXPPAT_2``, ``EXPPAT_3``).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Final

CATEGORY_SYSTEM: Final = "https://carnet.example/fhir/CodeSystem/document-category"
TRE_A05: Final = "urn:oid:1.2.250.1.213.1.1.4.12"
LOINC: Final = "http://loinc.org"
OTHER: Final = "AUTR_DOC"

CATEGORIES: Final[dict[str, str]] = {
    "SYNTHESE": "Ma santé en résumé",
    "ORD_SOIN": "Ordonnances et soins",
    "RADIO_SC": "Radio, écho, scanner, IRM",
    "BIOLOGIE": "Résultats de biologie",
    "CPT_REND": "Comptes rendus",
    "DEPISTAG": "Prévention et dépistages",
    "CERT_MED": "Certificats médicaux",
    "AUTR_DOC": "Autres documents",
    "DOC_ADM": "Pièces administratives",
    "SYNTH_PML": "Synthèse médicale",
    "DIR_ANT": "Directives anticipées",
    "QUEST_SANTE": "Questionnaire santé",
}
"""Category code → French label (translated where shown), in the order the pages list them."""

PATIENT_TYPE_CODES: Final[dict[str, tuple[str, str]]] = {
    "SYNTHESE": ("DOCPAT01", TRE_A05),
    "ORD_SOIN": ("DOCPAT02", TRE_A05),
    "CPT_REND": ("DOCPAT03", TRE_A05),
    "RADIO_SC": ("DOCPAT04", TRE_A05),
    "BIOLOGIE": ("DOCPAT05", TRE_A05),
    "DEPISTAG": ("DOCPAT06", TRE_A05),
    "CERT_MED": ("DOCPAT07", TRE_A05),
    "SYNTH_PML": ("DOCPAT08", TRE_A05),
    "DOC_ADM": ("DOCPAT09", TRE_A05),
    "DIR_ANT": ("EXPPAT_3", TRE_A05),
    "AUTR_DOC": ("EXPPAT_2", TRE_A05),
    "QUEST_SANTE": ("74465-6", LOINC),
}
"""Category chosen by the patient → the type code of a patient deposit (§8.2)."""


@dataclass(frozen=True, slots=True)
class TypeCode:
    code: str
    system: str
    category: str
    display: str


@cache
def type_codes() -> dict[tuple[str, str], TypeCode]:
    """The classification table, keyed by (system, code)."""
    text = resources.files("carnet.documents").joinpath("data/type-code-categories.csv")
    rows = [
        TypeCode(**row) for row in csv.DictReader(text.read_text(encoding="utf-8").splitlines())
    ]
    for row in rows:
        if row.category not in CATEGORIES:
            raise ValueError(f"unknown category {row.category!r} for {row.code}")
    return {(row.system, row.code): row for row in rows}


@cache
def _by_code() -> dict[str, TypeCode]:
    return {row.code: row for row in type_codes().values()}


def find_type(code: str, system: str | None = None) -> TypeCode | None:
    """The table's row for a type code (by system and code, else by code alone)."""
    if system is not None:
        found = type_codes().get((system, code))
        if found is not None:
            return found
    return _by_code().get(code)


def category_of_type(code: str | None, system: str | None = None) -> str:
    """The patient-facing category of a document type code; ``AUTR_DOC`` when unknown."""
    if not code:
        return OTHER
    found = find_type(code, system)
    return found.category if found is not None else OTHER


@cache
def type_codes_of(category: str) -> tuple[str, ...]:
    """The type codes the classification table puts in ``category``."""
    return tuple(sorted({row.code for row in type_codes().values() if row.category == category}))


def is_category(code: str) -> bool:
    return code in CATEGORIES
