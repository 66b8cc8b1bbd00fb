"""The classification table: every JDV_J07 code, twelve categories, unknown codes in AUTR_DOC."""

from __future__ import annotations

from pathlib import Path

import pytest

from carnet.documents.categories import (
    CATEGORIES,
    PATIENT_TYPE_CODES,
    category_of_type,
    type_codes,
)

JDV = (
    Path(__file__).resolve().parents[3] / "shared" / "reference" / "jdv-j07-document-type-codes.psv"
)


def test_twelve_categories_each_with_a_patient_type_code() -> None:
    assert len(CATEGORIES) == 12
    assert set(PATIENT_TYPE_CODES) == set(CATEGORIES)
    assert {code for code, _ in PATIENT_TYPE_CODES.values()} >= {
        f"DOCPAT0{n}" for n in range(1, 10)
    } | {"EXPPAT_2", "EXPPAT_3"}


def test_the_table_classifies_every_jdv_j07_code() -> None:
    table = type_codes()
    assert len(table) == 114
    assert {row.category for row in table.values()} <= set(CATEGORIES)
    if JDV.exists():
        listed = {line.split("|")[0] for line in JDV.read_text(encoding="utf-8").splitlines()}
        assert listed == {code for _, code in table}


@pytest.mark.parametrize(
    ("code", "system", "category"),
    [
        ("11502-2", "http://loinc.org", "BIOLOGIE"),
        ("18748-4", None, "RADIO_SC"),
        ("57833-6", "http://loinc.org", "ORD_SOIN"),
        ("60591-5", None, "SYNTHESE"),
        ("89601-9", None, "CERT_MED"),
        ("EXPPAT_3", "urn:oid:1.2.250.1.213.1.1.4.12", "DIR_ANT"),
        ("DOCPAT08", None, "SYNTH_PML"),
        ("74465-6", None, "QUEST_SANTE"),
        ("99999-9", "http://loinc.org", "AUTR_DOC"),
        (None, None, "AUTR_DOC"),
    ],
)
def test_type_codes_land_in_categories(code: str | None, system: str | None, category: str) -> None:
    assert category_of_type(code, system) == category
