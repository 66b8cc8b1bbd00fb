"""Partial dates, refused input (nothing stored), "not concerned" declarations and links."""

from __future__ import annotations

from datetime import date

import pytest
from tests.profile.conftest import TODAY, Space

from carnet.profile import service
from carnet.profile.dates import parse_partial
from carnet.profile.errors import (
    InvalidProfileEntry,
    ItemsPresent,
    NotConcernable,
    ProfileItemNotFound,
)
from carnet.profile.schemas import PartialDate, Section


def add(space: Space, section: Section, **values: str):  # type: ignore[no-untyped-def]
    return service.create_item(
        space.repo, patient_id=space.patient_id, section=section, values=values, today=TODAY
    )


@pytest.mark.parametrize(
    ("year", "month", "day", "expected"),
    [
        ("2019", "", "", PartialDate(2019)),
        ("2019", "03", "", PartialDate(2019, 3)),
        ("2020", "2", "29", PartialDate(2020, 2, 29)),
        ("2026", "", "", PartialDate(2026)),  # the current year is not in the future
        ("", "", "", None),
    ],
)
def test_partial_dates_as_typed(year: str, month: str, day: str, expected: object) -> None:
    assert parse_partial(year, month, day, field="onset_year", today=TODAY) == expected


@pytest.mark.parametrize(
    ("year", "month", "day", "reason"),
    [
        ("2019", "13", "", "bad-date"),
        ("2019", "0", "", "bad-date"),
        ("2019", "2", "29", "bad-date"),
        ("2019", "", "5", "day-without-month"),
        ("1850", "", "", "bad-date"),
        ("20x9", "", "", "bad-date"),
        ("2027", "", "", "future"),
        ("2026", "12", "", "future"),
        ("2026", "11", "27", "future"),
        ("", "3", "", "required"),
    ],
)
def test_impossible_dates_are_refused(year: str, month: str, day: str, reason: str) -> None:
    with pytest.raises(InvalidProfileEntry) as refused:
        parse_partial(year, month, day, field="onset_year", today=TODAY)
    assert refused.value.reason == reason
    assert refused.value.field == "onset_year"


@pytest.mark.parametrize(
    ("section", "values", "field", "reason"),
    [
        (Section.DISEASES, {"name": "  "}, "name", "required"),
        (Section.DISEASES, {"name": "x" * 201}, "name", "too-long"),
        (Section.DISEASES, {"name": "Asthme", "onset_year": "2030"}, "onset_year", "future"),
        (Section.TREATMENTS, {"name": "Doliprane"}, "start_year", "required"),
        (
            Section.TREATMENTS,
            {"name": "Doliprane", "start_year": "2019", "start_month": "13"},
            "start_year",
            "bad-date",
        ),
        (
            Section.TREATMENTS,
            {"name": "Doliprane", "start_year": "2020", "end_year": "2019"},
            "end_year",
            "end-before-start",
        ),
        (
            Section.TREATMENTS,
            {"name": "Doliprane", "start_year": "2020", "disease": "nope"},
            "disease",
            "unknown-link",
        ),
        (Section.DISABILITIES, {"type": "FLYING"}, "type", "unknown-choice"),
        (Section.FAMILY_HISTORY, {"relationship": "MOTHER"}, "condition", "required"),
        (
            Section.FAMILY_HISTORY,
            {"relationship": "MOTHER", "condition": "Diabète", "onset_age": "-3"},
            "onset_age",
            "not-a-number",
        ),
        (Section.BLOOD_GROUP, {"group": "Z"}, "group", "unknown-choice"),
        (
            Section.HOSPITALIZATIONS,
            {"reason": "Fracture", "start_year": "2020", "document": "absent-document"},
            "document",
            "unknown-link",
        ),
    ],
)
def test_bad_input_is_refused_and_nothing_is_stored(
    space: Space, section: Section, values: dict[str, str], field: str, reason: str
) -> None:
    with pytest.raises(InvalidProfileEntry) as refused:
        add(space, section, **values)
    assert (refused.value.field, refused.value.reason) == (field, reason)
    for resource_type in ("Condition", "MedicationStatement", "Encounter", "Observation"):
        assert space.count(resource_type) == 0


def test_a_link_to_an_item_of_another_section_is_unknown(space: Space) -> None:
    disability = add(space, Section.DISABILITIES, type="ENGINE")
    with pytest.raises(InvalidProfileEntry) as refused:
        # A Condition of this space, but not a disease: not a reason for a treatment.
        add(space, Section.TREATMENTS, name="Kiné", start_year="2020", disease=disability.id)
    assert refused.value.reason == "unknown-link"


def test_not_concerned_is_declared_dated_and_cleared_by_a_new_item(space: Space) -> None:
    on = service.declare_not_concerned(
        space.repo, patient_id=space.patient_id, section=Section.ALLERGIES, today=TODAY
    )
    assert on == TODAY
    lists = space.repo.search("List", [("patient", f"Patient/{space.patient_id}")]).matches
    assert len(lists) == 1
    body = space.body("List", lists[0].id)
    assert body["emptyReason"]["coding"][0]["code"] == "nilknown"
    assert body["date"] == "2026-11-26"
    assert body["code"]["coding"][0]["code"] == "ALLERGIES"
    states = {s.section: s for s in service.overview(space.repo, patient_id=space.patient_id)}
    assert states[Section.ALLERGIES].not_concerned_on == TODAY
    assert states[Section.DISEASES].not_concerned_on is None
    add(space, Section.ALLERGIES, substance="Arachide")
    states = {s.section: s for s in service.overview(space.repo, patient_id=space.patient_id)}
    assert states[Section.ALLERGIES].not_concerned_on is None
    assert states[Section.ALLERGIES].count == 1
    assert space.count("List") == 0


def test_not_concerned_is_refused_while_the_section_holds_items(space: Space) -> None:
    add(space, Section.DISEASES, name="Asthme")
    with pytest.raises(ItemsPresent):
        service.declare_not_concerned(
            space.repo, patient_id=space.patient_id, section=Section.DISEASES, today=TODAY
        )
    with pytest.raises(NotConcernable):
        service.declare_not_concerned(
            space.repo, patient_id=space.patient_id, section=Section.BLOOD_GROUP, today=TODAY
        )
    assert space.count("List") == 0


def test_deleting_a_disease_removes_the_links_to_it(space: Space) -> None:
    disease = add(space, Section.DISEASES, name="Diabète de type 2")
    treatment = add(
        space, Section.TREATMENTS, name="Metformine", start_year="2022", disease=disease.id
    )
    stay = add(
        space, Section.HOSPITALIZATIONS, reason="Bilan", start_year="2023", disease=disease.id
    )
    service.delete_item(
        space.repo, patient_id=space.patient_id, section=Section.DISEASES, item_id=disease.id
    )
    assert "reasonReference" not in space.body("MedicationStatement", treatment.id)
    assert "reasonReference" not in space.body("Encounter", stay.id)
    kept = service.get_item(
        space.repo, patient_id=space.patient_id, section=Section.TREATMENTS, item_id=treatment.id
    )
    assert kept.links == ()


def test_a_stay_linked_to_a_document_loses_the_link_when_it_goes(space: Space) -> None:
    document = space.repo.create(
        {
            "resourceType": "DocumentReference",
            "status": "current",
            "subject": {"reference": f"Patient/{space.patient_id}"},
            "content": [{"attachment": {"contentType": "application/pdf", "title": "CR"}}],
        }
    )
    stay = add(
        space, Section.HOSPITALIZATIONS, reason="Chirurgie", start_year="2024", document=document.id
    )
    operation = add(
        space,
        Section.HOSPITALIZATIONS,
        kind="SURGERY",
        reason="Ménisque",
        start_year="2024",
        document=document.id,
    )
    assert space.body("Encounter", stay.id)["extension"][0]["valueReference"] == {
        "reference": f"DocumentReference/{document.id}"
    }
    assert space.body("Procedure", operation.id)["report"] == [
        {"reference": f"DocumentReference/{document.id}"}
    ]
    changed = service.remove_links_to(
        space.repo, patient_id=space.patient_id, reference=f"DocumentReference/{document.id}"
    )
    assert changed == 2
    assert "extension" not in space.body("Encounter", stay.id)
    assert "report" not in space.body("Procedure", operation.id)


def test_an_item_of_another_section_is_not_found(space: Space) -> None:
    disease = add(space, Section.DISEASES, name="Asthme")
    with pytest.raises(ProfileItemNotFound):
        service.delete_item(
            space.repo,
            patient_id=space.patient_id,
            section=Section.DISABILITIES,
            item_id=disease.id,
        )


def test_today_bounds_the_dates(space: Space) -> None:
    with pytest.raises(InvalidProfileEntry):
        service.create_item(
            space.repo,
            patient_id=space.patient_id,
            section=Section.DISEASES,
            values={"name": "Asthme", "onset_year": "2026", "onset_month": "11", "onset_day": "26"},
            today=date(2026, 11, 25),
        )
