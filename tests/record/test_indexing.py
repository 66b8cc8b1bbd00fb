"""Index values from the official search expressions, blind keys, compartment owners."""

from __future__ import annotations

import logging
import os
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import fhirpathpy
import orjson
import pytest
from fhirpathpy.models import models

from carnet.record import indexing
from carnet.record.blind import BLIND_PARAMS, blind_query_keys, normalise_text
from carnet.record.dates import DATE_MAX, DATE_MIN, date_range
from carnet.record.definitions import get_definitions
from carnet.record.index_paths import presence_steps, present
from carnet.record.index_values import (
    ISO_4217,
    DateEntry,
    QuantityEntry,
    ReferenceEntry,
    StringEntry,
    TokenEntry,
)
from carnet.record.indexing import IndexEntries, Indexer

TESTDATA = Path(
    os.environ.get(
        "CARNET_TESTDATA", Path(__file__).resolve().parents[2].parent / "shared" / "testdata"
    )
)
LOINC = "http://loinc.org"


@pytest.fixture(scope="module")
def indexer() -> Indexer:
    return Indexer(get_definitions())


def utc(*parts: int) -> datetime:
    """``utc(2019, 3, 5, 10)``: a UTC datetime from its leading parts."""
    return datetime(*parts, tzinfo=UTC)  # type: ignore[arg-type, misc]


def of(rows: tuple[Any, ...], param: str) -> list[Any]:
    return [row for row in rows if row.param == param]


def observation(**changes: Any) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Observation",
        "id": "o1",
        "meta": {"tag": [{"system": "http://example.org/tags", "code": "t1"}]},
        "status": "final",
        "code": {
            "coding": [{"system": LOINC, "code": "8867-4", "display": "Fréquence cardiaque"}],
            "text": "Pouls",
        },
        "subject": {"reference": "Patient/p1"},
        "effectiveDateTime": "2024-03-05T10:00:00+01:00",
        "valueQuantity": {
            "value": 72,
            "unit": "beats/min",
            "system": "http://unitsofmeasure.org",
            "code": "/min",
        },
    }
    resource.update(changes)
    return resource


# --- token ----------------------------------------------------------------------------------------
def test_codeable_concept_codes_and_text(indexer: Indexer) -> None:
    entries = indexer.extract(observation())
    assert of(entries.token, "code") == [TokenEntry("code", LOINC, "8867-4")]
    assert of(entries.token, "status") == [TokenEntry("status", None, "final")]
    texts = {row.value for row in of(entries.string, "code:text")}
    assert texts == {"frequence cardiaque", "pouls"}


def test_identifier_and_its_type(indexer: Indexer) -> None:
    identifier = {
        "system": "urn:oid:1.2.250.1.71.4.2.1",
        "value": "A123",
        "type": {
            "coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "MR"}]
        },
    }
    entries = indexer.extract(observation(identifier=[identifier]))
    assert of(entries.token, "identifier") == [
        TokenEntry("identifier", "urn:oid:1.2.250.1.71.4.2.1", "A123")
    ]
    assert of(entries.token, "identifier:of-type") == [
        TokenEntry("identifier:of-type", "http://terminology.hl7.org/CodeSystem/v2-0203", "MR|A123")
    ]


def test_contact_point_and_boolean_tokens(indexer: Indexer) -> None:
    practitioner = {
        "resourceType": "Practitioner",
        "active": True,
        "telecom": [
            {"system": "phone", "value": "01 23 45 67 89"},
            {"system": "email", "value": "a@b.fr"},
        ],
    }
    entries = indexer.extract(practitioner)
    assert of(entries.token, "active") == [TokenEntry("active", None, "true")]
    assert of(entries.token, "phone") == [TokenEntry("phone", "phone", "01 23 45 67 89")]
    assert of(entries.token, "email") == [TokenEntry("email", "email", "a@b.fr")]
    assert len(of(entries.token, "telecom")) == 2


def test_tags_security_profile_source(indexer: Indexer) -> None:
    meta = {
        "tag": [{"system": "http://example.org/tags", "code": "t1"}],
        "security": [
            {"system": "http://terminology.hl7.org/CodeSystem/v3-Confidentiality", "code": "R"}
        ],
        "profile": ["http://example.org/StructureDefinition/p"],
        "source": "http://example.org/source#a",
        "lastUpdated": "2024-01-01T00:00:00Z",
    }
    entries = indexer.extract(observation(meta=meta))
    assert of(entries.token, "_tag") == [TokenEntry("_tag", "http://example.org/tags", "t1")]
    assert [row.code for row in of(entries.token, "_security")] == ["R"]
    assert [row.value for row in of(entries.uri, "_profile")] == [
        "http://example.org/StructureDefinition/p"
    ]
    assert [row.value for row in of(entries.uri, "_source")] == ["http://example.org/source#a"]
    # _id and _lastUpdated are columns of the resource table, not index rows.
    assert not of(entries.token, "_id")
    assert not of(entries.date, "_lastUpdated")


# --- string ---------------------------------------------------------------------------------------
def test_names_are_normalised_and_kept_exact(indexer: Indexer) -> None:
    name = {
        "family": "Lefèvre-Duval",
        "given": ["Élodie", "Anne  Marie"],
        "prefix": ["Dr"],
        "text": "Dr Élodie LEFÈVRE",
    }
    entries = indexer.extract({"resourceType": "Practitioner", "name": [name]})
    rows = of(entries.string, "name")
    assert StringEntry("name", "lefevre-duval", "Lefèvre-Duval") in rows
    assert StringEntry("name", "elodie", "Élodie") in rows
    assert StringEntry("name", "anne marie", "Anne  Marie") in rows
    assert StringEntry("name", "dr", "Dr") in rows
    assert StringEntry("name", "dr elodie lefevre", "Dr Élodie LEFÈVRE") in rows
    assert [row.value for row in of(entries.string, "family")] == ["lefevre-duval"]


def test_addresses_give_every_part(indexer: Indexer) -> None:
    address = {
        "line": ["3 rue de l'Église", "Bât. B"],
        "city": "Saint-Étienne",
        "postalCode": "42000",
        "country": "FR",
    }
    entries = indexer.extract({"resourceType": "Organization", "address": [address]})
    assert {row.value for row in of(entries.string, "address")} == {
        "3 rue de l'eglise",
        "bat. b",
        "saint-etienne",
        "42000",
        "fr",
    }
    assert [row.value for row in of(entries.string, "address-city")] == ["saint-etienne"]


def test_long_strings_are_cut(indexer: Indexer) -> None:
    entries = indexer.extract({"resourceType": "Organization", "name": "x" * 300})
    row = of(entries.string, "name")[0]
    assert len(row.value) == len(row.exact) == 255


def test_normalise_text() -> None:
    assert normalise_text("  Ça  VA\tBien ") == "ca va bien"
    assert normalise_text("ﬁn") == "fin"  # compatibility forms too (NFKD)


# --- date -----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "low", "high"),
    [
        ("2019", utc(2019, 1, 1), utc(2020, 1, 1)),
        ("2019-12", utc(2019, 12, 1), utc(2020, 1, 1)),
        ("2019-02", utc(2019, 2, 1), utc(2019, 3, 1)),
        ("2019-03-05", utc(2019, 3, 5), utc(2019, 3, 6)),
        ("2019-03-05T10:00:00+02:00", utc(2019, 3, 5, 8), utc(2019, 3, 5, 8, 0, 1)),
        ("2019-03-05T10:00:00", utc(2019, 3, 5, 10), utc(2019, 3, 5, 10, 0, 1)),
        (
            "2019-03-05T10:00:00.25Z",
            utc(2019, 3, 5, 10, 0, 0, 250000),
            utc(2019, 3, 5, 10, 0, 0, 260000),
        ),
        ("2019-03-05T23:30:00-01:00", utc(2019, 3, 6, 0, 30), utc(2019, 3, 6, 0, 30, 1)),
        ("2016-12-31T23:59:60Z", utc(2016, 12, 31, 23, 59, 59), utc(2017, 1, 1)),
        ("9999", utc(9999, 1, 1), DATE_MAX),
    ],
)
def test_date_ranges(value: str, low: datetime, high: datetime) -> None:
    assert date_range(value) == (low, high)


@pytest.mark.parametrize(
    "value", ["2019-02-30", "2019-13", "19", "0000", "2019-03-05T25:00:00Z", "soon"]
)
def test_invalid_dates_give_nothing(value: str) -> None:
    assert date_range(value) is None


def test_date_entries(indexer: Indexer) -> None:
    entries = indexer.extract(observation())
    assert of(entries.date, "date") == [
        DateEntry("date", utc(2024, 3, 5, 9), utc(2024, 3, 5, 9, 0, 1))
    ]


def test_invalid_date_does_not_break_extraction(indexer: Indexer) -> None:
    # The schema's regex lets a 30th of February through; the index skips it.
    entries = indexer.extract(observation(effectiveDateTime="2019-02-30"))
    assert not of(entries.date, "date")
    assert of(entries.token, "code")


def test_periods(indexer: Indexer) -> None:
    resource = observation(effectivePeriod={"start": "2024-03-05"})
    del resource["effectiveDateTime"]
    assert of(indexer.extract(resource).date, "date") == [
        DateEntry("date", utc(2024, 3, 5), DATE_MAX)
    ]
    resource["effectivePeriod"] = {"end": "2024-03"}
    assert of(indexer.extract(resource).date, "date") == [
        DateEntry("date", DATE_MIN, utc(2024, 4, 1))
    ]


def test_timing_spans_events_and_bounds(indexer: Indexer) -> None:
    timing = {
        "event": ["2024-03-10", "2024-03-02T08:00:00Z"],
        "repeat": {"boundsPeriod": {"start": "2024-03-01", "end": "2024-03-20"}},
    }
    resource = observation(effectiveTiming=timing)
    del resource["effectiveDateTime"]
    assert of(indexer.extract(resource).date, "date") == [
        DateEntry("date", utc(2024, 3, 1), utc(2024, 3, 21))
    ]


def test_patient_birthdate_is_blind_but_encounter_dates_are_not(indexer: Indexer) -> None:
    encounter = {
        "resourceType": "Encounter",
        "status": "finished",
        "class": {"code": "AMB"},
        "period": {"start": "2024-01-02T10:00:00Z", "end": "2024-01-02T11:00:00Z"},
    }
    assert of(indexer.extract(encounter).date, "date") == [
        DateEntry("date", utc(2024, 1, 2, 10), utc(2024, 1, 2, 11, 0, 1))
    ]


# --- reference ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("reference", "expected"),
    [
        ("Patient/p1", ("Patient", "p1", None)),
        ("Patient/p1/_history/3", ("Patient", "p1", None)),
        (
            "https://fhir.example.org/r4/Patient/p1",
            ("Patient", "p1", "https://fhir.example.org/r4/Patient/p1"),
        ),
        (
            "urn:uuid:0c2a34a4-d948-4917-98b8-f44a77e459d8",
            (None, None, "urn:uuid:0c2a34a4-d948-4917-98b8-f44a77e459d8"),
        ),
    ],
)
def test_reference_forms(
    indexer: Indexer, reference: str, expected: tuple[str | None, ...]
) -> None:
    entries = indexer.extract(observation(subject={"reference": reference}))
    # A Patient target is held by the narrower ``patient`` rows alone (``narrowed_by``).
    found = of(entries.reference, "subject") + of(entries.reference, "patient")
    assert [row[1:] for row in found] == [expected]


def test_narrower_parameters_hold_their_rows_alone(indexer: Indexer) -> None:
    to_patient = indexer.extract(observation(subject={"reference": "Patient/p1"}))
    assert of(to_patient.reference, "subject") == []
    assert of(to_patient.reference, "patient") == [ReferenceEntry("patient", "Patient", "p1", None)]
    to_group = indexer.extract(observation(subject={"reference": "Group/g1"}))
    assert of(to_group.reference, "subject") == [ReferenceEntry("subject", "Group", "g1", None)]
    assert of(to_group.reference, "patient") == []


def test_contained_and_odd_references_are_skipped(indexer: Indexer) -> None:
    for reference in ("#p1", "Unknown/1", "a/b/Patient/1"):
        entries = indexer.extract(observation(subject={"reference": reference}))
        assert not of(entries.reference, "subject"), reference


def test_resolve_filter_keeps_only_its_type(indexer: Indexer) -> None:
    entries = indexer.extract(observation(subject={"reference": "Group/g1"}))
    assert of(entries.reference, "subject") == [ReferenceEntry("subject", "Group", "g1", None)]
    assert not of(entries.reference, "patient")
    entries = indexer.extract(observation())
    assert of(entries.reference, "patient") == [ReferenceEntry("patient", "Patient", "p1", None)]


def test_reference_identifier(indexer: Indexer) -> None:
    subject = {"type": "Patient", "identifier": {"system": "urn:example:mrn", "value": "42"}}
    entries = indexer.extract(observation(subject=subject))
    assert of(entries.token, "subject:identifier") == []  # held by patient:identifier alone
    assert of(entries.token, "patient:identifier") == [
        TokenEntry("patient:identifier", "urn:example:mrn", "42")
    ]
    assert not entries.reference


def test_canonical_drops_its_version(indexer: Indexer) -> None:
    response = {
        "resourceType": "QuestionnaireResponse",
        "status": "completed",
        "questionnaire": "http://example.org/Questionnaire/q1|2.0",
    }
    entries = indexer.extract(response)
    assert of(entries.reference, "questionnaire") == [
        ReferenceEntry("questionnaire", None, None, "http://example.org/Questionnaire/q1")
    ]


# --- quantity, number -----------------------------------------------------------------------------
def test_quantity(indexer: Indexer) -> None:
    entries = indexer.extract(observation())
    expected = QuantityEntry(
        "value-quantity", 72.0, "http://unitsofmeasure.org", "/min", "beats/min"
    )
    assert of(entries.quantity, "value-quantity") == [expected]


def test_age_and_range(indexer: Indexer) -> None:
    condition = {
        "resourceType": "Condition",
        "subject": {"reference": "Patient/p1"},
        "onsetAge": {"value": 4, "unit": "a", "system": "http://unitsofmeasure.org", "code": "a"},
    }
    assert [row.value for row in of(indexer.extract(condition).quantity, "onset-age")] == [4.0]
    del condition["onsetAge"]
    condition["onsetRange"] = {"low": {"value": 2, "code": "a"}, "high": {"value": 5, "code": "a"}}
    assert [row.value for row in of(indexer.extract(condition).quantity, "onset-age")] == [2.0, 5.0]


def test_money(indexer: Indexer) -> None:
    invoice = {
        "resourceType": "Invoice",
        "status": "issued",
        "totalNet": {"value": 25.5, "currency": "EUR"},
    }
    assert of(indexer.extract(invoice).quantity, "totalnet") == [
        QuantityEntry("totalnet", 25.5, ISO_4217, "EUR", None)
    ]


def test_number(indexer: Indexer) -> None:
    assessment = {
        "resourceType": "RiskAssessment",
        "status": "final",
        "subject": {"reference": "Patient/p1"},
        "prediction": [
            {"probabilityDecimal": 0.25},
            {"probabilityRange": {"low": {"value": 1}, "high": {"value": 3}}},
        ],
    }
    assert [row.value for row in of(indexer.extract(assessment).number, "probability")] == [
        0.25,
        1.0,
        3.0,
    ]


def test_composites_pair_values_of_one_element(indexer: Indexer) -> None:
    entries = indexer.extract(observation())
    every = [
        row.param for table in (entries.token, entries.quantity, entries.string) for row in table
    ]
    assert "code-value-quantity" not in every  # pairs, not rows of the components
    pairs = {(row.param, row.ctx_code, row.ctx_system) for row in entries.composite}
    assert ("code-value-quantity", "8867-4", LOINC) in pairs
    assert all(row.second.param == row.param for row in entries.composite)
    # combo-code is code and component-code together: searched through theirs, not stored
    assert "combo-code" not in every


# --- blind ----------------------------------------------------------------------------------------
def patient() -> dict[str, Any]:
    return {
        "resourceType": "Patient",
        "id": "p1",
        "identifier": [{"system": "urn:oid:1.2.250.1.213.1.4.8", "value": "180057512345678"}],
        "name": [
            {"family": "Lefèvre", "given": ["Élodie"], "text": "Élodie Lefèvre", "prefix": ["Mme"]}
        ],
        "telecom": [
            {"system": "phone", "value": "06 12 34 56 78"},
            {"system": "email", "value": "Elodie@Example.FR"},
        ],
        "gender": "female",
        "birthDate": "1980-05-12",
        "deceasedDateTime": "2024-02-01T10:00:00+01:00",
        "address": [
            {
                "use": "home",
                "line": ["1 rue Haute"],
                "city": "Lyon",
                "postalCode": "69001",
                "country": "FR",
            }
        ],
        "managingOrganization": {"reference": "Organization/o1"},
    }


def test_patient_identifying_values_are_only_blind(indexer: Indexer) -> None:
    entries = indexer.extract(patient())
    blind_params = {param for resource_type, param in BLIND_PARAMS if resource_type == "Patient"}
    clear = [row for table in (entries.token, entries.string, entries.date) for row in table]
    leaked = [row for row in clear if row.param.split(":")[0] in blind_params]
    assert leaked == []
    assert of(entries.token, "gender") == [TokenEntry("gender", None, "female")]
    assert of(entries.token, "address-use") == [TokenEntry("address-use", None, "home")]
    assert of(entries.reference, "organization") == [
        ReferenceEntry("organization", "Organization", "o1", None)
    ]


def test_patient_blind_keys(indexer: Indexer) -> None:
    blind = indexer.extract(patient()).blind

    def keys(param: str) -> list[str]:
        return [row.key for row in of(blind, param)]

    assert keys("identifier") == [
        "urn:oid:1.2.250.1.213.1.4.8|180057512345678",
        "*|180057512345678",
    ]
    assert keys("name") == ["lefevre", "elodie", "elodie lefevre"]
    assert keys("family") == ["lefevre"]
    assert keys("given") == ["elodie"]
    assert keys("birthdate") == ["1980", "1980-05", "1980-05-12"]
    assert keys("death-date") == ["2024", "2024-02", "2024-02-01"]
    assert keys("phone") == ["0612345678", "+33612345678"]
    assert keys("email") == ["elodie@example.fr"]
    assert keys("telecom") == ["0612345678", "+33612345678", "elodie@example.fr"]
    assert keys("address") == ["1 rue haute", "lyon", "69001", "fr"]
    assert keys("address-postalcode") == ["69001"]


def test_identifier_types_are_blind_too(indexer: Indexer) -> None:
    """``:of-type`` on an identifying identifier: its (type system, type code, value) triples
    are blind keys of ``identifier:of-type``, never clear token rows."""
    resource = patient()
    resource["identifier"][0]["type"] = {
        "coding": [
            {"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "NI"},
            {"code": "INS-NIR"},
        ],
        "text": "NIR",
    }
    entries = indexer.extract(resource)
    assert [row.key for row in of(entries.blind, "identifier:of-type")] == [
        "http://terminology.hl7.org/CodeSystem/v2-0203|NI|180057512345678",
        "*|NI|180057512345678",
        "*|INS-NIR|180057512345678",
    ]
    assert [row for row in entries.token if row.param.startswith("identifier")] == []
    assert [row for row in entries.string if row.param.startswith("identifier")] == []


def test_related_person_and_coverage(indexer: Indexer) -> None:
    related = {
        "resourceType": "RelatedPerson",
        "patient": {"reference": "Patient/p1"},
        "name": [{"family": "Martin"}],
        "birthDate": "1950",
    }
    entries = indexer.extract(related)
    assert [row.key for row in of(entries.blind, "name")] == ["martin"]
    assert [row.key for row in of(entries.blind, "birthdate")] == ["1950"]
    assert not entries.string
    coverage = {
        "resourceType": "Coverage",
        "status": "active",
        "beneficiary": {"reference": "Patient/p1"},
        "payor": [{"reference": "Organization/cpam"}],
        "identifier": [{"value": "X1"}],
    }
    entries = indexer.extract(coverage)
    assert [row.key for row in entries.blind] == ["|X1", "*|X1"]
    assert not of(entries.token, "identifier")
    assert of(entries.reference, "beneficiary") == [
        ReferenceEntry("beneficiary", "Patient", "p1", None)
    ]


def test_blind_params_exist_in_r4() -> None:
    definitions = get_definitions()
    for resource_type, param in BLIND_PARAMS:
        assert definitions.search_param(resource_type, param) is not None, (resource_type, param)
    assert ("Patient", "address-use") not in BLIND_PARAMS
    assert ("Coverage", "beneficiary") not in BLIND_PARAMS


@pytest.mark.parametrize(
    ("param", "query", "expected"),
    [
        (
            "identifier",
            "urn:oid:1.2.250.1.213.1.4.8|180057512345678",
            ["urn:oid:1.2.250.1.213.1.4.8|180057512345678"],
        ),
        ("identifier", "180057512345678", ["*|180057512345678"]),
        ("identifier", "|X1", ["|X1"]),
        ("name", "  LEFÈVRE ", ["lefevre"]),
        ("given", "Élodie", ["elodie"]),
        ("birthdate", "1980-05", ["1980-05"]),
        ("birthdate", "1980-05-12T00:00:00Z", ["1980-05-12"]),
        ("phone", "+33 6 12 34 56 78", ["+33612345678", "0612345678"]),
        ("phone", "0033612345678", ["+33612345678", "0612345678"]),
        ("phone", "+33 (0)6 12 34 56 78", ["+33612345678", "0612345678"]),
        ("telecom", "phone|06.12.34.56.78", ["0612345678", "+33612345678"]),
        ("email", "ELODIE@example.fr", ["elodie@example.fr"]),
        ("address-city", "lyon", ["lyon"]),
        ("gender", "female", []),
    ],
)
def test_blind_query_keys(param: str, query: str, expected: list[str]) -> None:
    assert blind_query_keys("Patient", param, query) == expected


def test_queries_find_what_was_stored(indexer: Indexer) -> None:
    stored = {(row.param, row.key) for row in indexer.extract(patient()).blind}
    for param, query in [
        ("phone", "+33612345678"),
        ("identifier", "180057512345678"),
        ("birthdate", "1980"),
        ("name", "élodie"),
        ("email", "elodie@EXAMPLE.fr"),
    ]:
        assert {(param, key) for key in blind_query_keys("Patient", param, query)} & stored, param


# --- compartment owner ----------------------------------------------------------------------------
def test_patient_refs(indexer: Indexer) -> None:
    resource = observation(
        performer=[
            {"reference": "Patient/p2"},
            {"reference": "Practitioner/d1"},
            {"reference": "Patient/p1"},
        ]
    )
    assert indexer.patient_refs(resource) == ("p1", "p2")
    assert indexer.patient_refs(observation(subject={"reference": "Group/g1"})) == ()
    assert indexer.patient_refs(patient()) == ("p1",)
    assert indexer.patient_refs({"resourceType": "Practitioner", "id": "d1"}) == ()


def test_absolute_urls_never_make_an_owner(indexer: Indexer) -> None:
    resource = observation(subject={"reference": "https://elsewhere.example/fhir/Patient/p9"})
    assert indexer.patient_refs(resource) == ()
    assert of(indexer.extract(resource).reference, "patient")  # still searchable


# --- machinery ------------------------------------------------------------------------------------
def test_entries_match_the_index_columns(indexer: Indexer) -> None:
    entries = indexer.extract(observation())
    assert isinstance(entries, IndexEntries)
    assert TokenEntry._fields == ("param", "system", "code")
    assert StringEntry._fields == ("param", "value", "exact")
    assert DateEntry._fields == ("param", "low", "high")
    assert ReferenceEntry._fields == ("param", "target_type", "target_id", "url")
    assert QuantityEntry._fields == ("param", "value", "system", "code", "unit")
    with pytest.raises(AttributeError):
        entries.token = ()  # type: ignore[misc]


def test_rows_are_not_repeated(indexer: Indexer) -> None:
    code = {"coding": [{"system": LOINC, "code": "1"}, {"system": LOINC, "code": "1"}]}
    entries = indexer.extract(observation(code=code))
    assert of(entries.token, "code") == [TokenEntry("code", LOINC, "1")]


def test_unknown_type_gives_nothing(indexer: Indexer) -> None:
    assert indexer.extract({"resourceType": "Nope"}) == IndexEntries()
    assert indexer.extract({}) == IndexEntries()


def test_extension_only_primitives_are_skipped(indexer: Indexer) -> None:
    absent = {
        "extension": [
            {
                "url": "http://hl7.org/fhir/StructureDefinition/data-absent-reason",
                "valueCode": "unknown",
            }
        ]
    }
    resource = {
        "resourceType": "Patient",
        "_birthDate": absent,
        "name": [{"given": ["A", None], "_given": [None, absent]}],
    }
    entries = indexer.extract(resource)
    assert [row.key for row in of(entries.blind, "given")] == ["a"]
    assert not of(entries.blind, "birthdate")


def test_threads_share_one_indexer() -> None:
    shared = Indexer(get_definitions())
    cases = [observation(), patient(), observation(subject={"reference": "Group/g"})] * 30
    expected = [shared.extract(case) for case in cases[:3]] * 30
    fresh = Indexer(get_definitions())
    with ThreadPoolExecutor(max_workers=8) as pool:
        assert list(pool.map(fresh.extract, cases)) == expected


def test_presence_steps() -> None:
    assert presence_steps("Patient.meta.profile", "Patient") == (
        frozenset({"meta", "_meta"}),
        frozenset({"profile", "_profile"}),
    )
    assert presence_steps("Observation.value.ofType(Quantity)", "Observation") == (
        frozenset({"valueQuantity", "_valueQuantity"}),
    )
    steps = presence_steps("Observation.component.value.ofType(Quantity)", "Observation")
    assert steps is not None
    assert steps[1] == frozenset({"valueQuantity", "_valueQuantity"})
    # exists() finds false in nothing: such branches are always evaluated.
    assert (
        presence_steps("Patient.deceased.exists() and Patient.deceased != false", "Patient") is None
    )
    assert presence_steps("Bundle.entry[0].resource", "Bundle") is None


# --- corpus ---------------------------------------------------------------------------------------
def _bundles() -> list[list[dict[str, Any]]]:
    folder = TESTDATA / "synthea-r4" / "bundles"
    if not folder.is_dir():
        pytest.skip(f"the Synthea bundles are not at {folder} (set CARNET_TESTDATA)")
    return [
        list(orjson.loads(path.read_bytes())["entry"]) for path in sorted(folder.glob("*.json"))
    ]


def _resolved(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The bundle's resources with ``urn:uuid`` references made ``Type/id``, as a transaction
    would store them."""
    local = {
        entry["fullUrl"]: f"{entry['resource']['resourceType']}/{entry['resource']['id']}"
        for entry in entries
    }
    text = orjson.dumps([entry["resource"] for entry in entries]).decode()
    for full_url, relative in local.items():
        text = text.replace(f'"{full_url}"', f'"{relative}"')
    resources: list[dict[str, Any]] = orjson.loads(text)
    return resources


@pytest.mark.corpus
def test_synthea_extraction(indexer: Indexer) -> None:
    blind_params = {param for resource_type, param in BLIND_PARAMS if resource_type == "Patient"}
    for entries in _bundles():
        resources = _resolved(entries)
        owner = next(r["id"] for r in resources if r["resourceType"] == "Patient")
        for resource in resources:
            found = indexer.extract(resource)
            kind = resource["resourceType"]
            if kind == "Observation":
                assert of(found.token, "code"), resource["id"]
                assert of(found.date, "date"), resource["id"]
            if kind == "Patient":
                assert {row.param for row in found.blind} >= {"name", "birthdate", "identifier"}
                clear = [row for table in (found.token, found.string, found.date) for row in table]
                assert not [row for row in clear if row.param.split(":")[0] in blind_params]
            if get_definitions().in_patient_compartment(kind):
                assert indexer.patient_refs(resource) == (owner,), (kind, resource["id"])


@pytest.mark.corpus
def test_official_examples_extract(indexer: Indexer, caplog: pytest.LogCaptureFixture) -> None:
    folder = TESTDATA / "fhir-r4-spec" / "examples"
    if not folder.is_dir():
        pytest.skip(f"the official R4 examples are not at {folder} (set CARNET_TESTDATA)")
    with caplog.at_level(logging.WARNING, logger=indexing.__name__):
        for path in sorted(folder.glob("*.json")):
            resource = orjson.loads(path.read_bytes())
            indexer.extract(resource)
            indexer.patient_refs(resource)
    assert not caplog.records  # no expression failed on any official example


@pytest.mark.corpus
def test_skipped_branches_would_find_nothing(indexer: Indexer) -> None:
    """The presence shortcut never hides a value fhirpathpy would have found."""
    folder = TESTDATA / "fhir-r4-spec" / "examples"
    if not folder.is_dir():
        pytest.skip(f"the official R4 examples are not at {folder} (set CARNET_TESTDATA)")
    resources = [orjson.loads(path.read_bytes()) for path in sorted(folder.glob("*.json"))]
    resources += [entry["resource"] for entry in _bundles()[0]]
    checked = 0
    for resource in resources:
        plan = indexer._plan(resource["resourceType"])
        for compiled in plan.params:
            for branch in compiled.branches:
                if branch.presence is None or present(resource, branch.presence):
                    continue
                full = fhirpathpy.compile(branch.expression, models["r4"])(resource, None)
                assert full == [], (resource["resourceType"], branch.expression)
                checked += 1
    assert checked > 10_000


@pytest.mark.corpus
@pytest.mark.slow
def test_extraction_throughput(indexer: Indexer) -> None:
    resources = [entry["resource"] for entries in _bundles() for entry in entries]
    for resource_type in {resource["resourceType"] for resource in resources}:
        indexer.prepare(resource_type)
    started = time.perf_counter()
    for resource in resources:
        indexer.extract(resource)
    elapsed = time.perf_counter() - started
    observations = [r for r in resources if r["resourceType"] == "Observation"]
    started = time.perf_counter()
    for resource in observations:
        indexer.extract(resource)
    per_observation = (time.perf_counter() - started) / len(observations)
    print(
        f"\nextraction: {len(resources) / elapsed:,.0f} Synthea resources/s on one core, "
        f"{per_observation * 1000:.2f} ms per Observation"
    )


def test_input_is_not_modified(indexer: Indexer) -> None:
    resource = patient()
    before = orjson.dumps(resource)
    indexer.extract(resource)
    indexer.patient_refs(resource)
    assert orjson.dumps(resource) == before


@pytest.mark.parametrize(
    "changes",
    [
        {"code": "8867-4"},
        {"code": {"coding": "x", "text": 3}},
        {"subject": "Patient/p1"},
        {"subject": {"reference": 12}},
        {"valueQuantity": {"value": "72"}},
        {"effectivePeriod": {"start": 2019}},
        {"meta": {"tag": "t"}},
    ],
)
def test_unvalidated_shapes_never_raise(indexer: Indexer, changes: dict[str, Any]) -> None:
    indexer.extract(observation(**changes))
    indexer.patient_refs(observation(**changes))
