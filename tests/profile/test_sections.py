"""Each section stored as FHIR in the person's compartment, and read back as profile items."""

from __future__ import annotations

from tests.profile.conftest import TODAY, Space

from carnet.profile import service
from carnet.profile.schemas import PartialDate, Section

TAG = {"system": "urn:carnet:profil", "code": "profil-medical"}


def add(space: Space, section: Section, **values: str):  # type: ignore[no-untyped-def]
    return service.create_item(
        space.repo, patient_id=space.patient_id, section=section, values=values, today=TODAY
    )


def test_a_disease_is_a_problem_list_condition_with_a_partial_onset(space: Space) -> None:
    item = add(
        space,
        Section.DISEASES,
        name="Asthme",
        code_system="cim10",
        code="J45",
        onset_year="2019",
        onset_month="3",
    )
    body = space.body("Condition", item.id)
    assert body["subject"] == {"reference": f"Patient/{space.patient_id}"}
    assert body["category"][0]["coding"][0]["code"] == "problem-list-item"
    assert body["code"] == {
        "text": "Asthme",
        "coding": [{"system": "http://hl7.org/fhir/sid/icd-10", "code": "J45"}],
    }
    assert body["onsetDateTime"] == "2019-03"
    assert body["clinicalStatus"]["coding"][0]["code"] == "active"
    assert TAG in body["meta"]["tag"]
    assert item.start == PartialDate(2019, 3)
    listed = service.list_section(space.repo, patient_id=space.patient_id, section=Section.DISEASES)
    assert [i.label for i in listed] == ["Asthme"]
    assert listed[0].start is not None and listed[0].start.display == "03/2019"


def test_a_treatment_for_a_disease_is_a_medication_statement_with_its_reason(space: Space) -> None:
    disease = add(space, Section.DISEASES, name="Hypertension")
    treatment = add(
        space,
        Section.TREATMENTS,
        name="Amlodipine",
        dosage="5 mg le matin",
        comment="Bien toléré",
        start_year="2021",
        end_year="2022",
        end_month="6",
        end_day="30",
        disease=disease.id,
    )
    body = space.body("MedicationStatement", treatment.id)
    assert body["medicationCodeableConcept"] == {"text": "Amlodipine"}
    assert body["effectivePeriod"] == {"start": "2021", "end": "2022-06-30"}
    assert body["dosage"] == [{"text": "5 mg le matin"}]
    assert body["note"] == [{"text": "Bien toléré"}]
    assert body["status"] == "completed"
    assert body["reasonReference"] == [{"reference": f"Condition/{disease.id}"}]
    listed = service.list_section(
        space.repo, patient_id=space.patient_id, section=Section.TREATMENTS
    )
    assert listed[0].links[0].label == "Hypertension"


def test_a_stay_is_an_inpatient_encounter_and_an_operation_a_surgical_procedure(
    space: Space,
) -> None:
    stay = add(
        space,
        Section.HOSPITALIZATIONS,
        kind="STAY",
        reason="Pneumonie",
        place="CHU de Nantes",
        start_year="2020",
        start_month="1",
        start_day="4",
        end_year="2020",
        end_month="1",
        end_day="9",
    )
    encounter = space.body("Encounter", stay.id)
    assert encounter["class"]["code"] == "IMP"
    assert encounter["period"] == {"start": "2020-01-04", "end": "2020-01-09"}
    assert encounter["reasonCode"] == [{"text": "Pneumonie"}]
    assert encounter["location"] == [{"location": {"display": "CHU de Nantes"}}]
    operation = add(
        space, Section.HOSPITALIZATIONS, kind="SURGERY", reason="Appendicectomie", start_year="2001"
    )
    procedure = space.body("Procedure", operation.id)
    assert procedure["category"]["coding"][0]["code"] == "387713003"
    assert procedure["performedPeriod"] == {"start": "2001"}
    listed = service.list_section(
        space.repo, patient_id=space.patient_id, section=Section.HOSPITALIZATIONS
    )
    assert [i.resource_type for i in listed] == ["Encounter", "Procedure"]  # most recent first


def test_a_disability_is_a_condition_of_its_own_category_with_mes_codes(space: Space) -> None:
    item = add(space, Section.DISABILITIES, type="SENSORY", rate="BETWEEN_50_AND_79")
    body = space.body("Condition", item.id)
    assert body["category"][0]["coding"][0] == {
        "system": "urn:carnet:profil:categorie",
        "code": "disability",
        "display": "Handicap",
    }
    assert body["code"]["coding"][0]["code"] == "SENSORY"
    assert body["severity"]["coding"][0]["code"] == "BETWEEN_50_AND_79"
    # Disabilities and diseases are both Conditions, but never mixed up.
    assert (
        service.list_section(space.repo, patient_id=space.patient_id, section=Section.DISEASES)
        == []
    )
    assert item.label == "Handicap sensoriel"


def test_an_allergy_and_the_treatment_it_concerns(space: Space) -> None:
    treatment = add(space, Section.TREATMENTS, name="Amoxicilline", start_year="2018")
    item = add(
        space,
        Section.ALLERGIES,
        substance="Pénicilline",
        category="medication",
        criticality="high",
        reaction="Urticaire",
        treatment=treatment.id,
    )
    body = space.body("AllergyIntolerance", item.id)
    assert body["patient"] == {"reference": f"Patient/{space.patient_id}"}
    assert body["code"] == {"text": "Pénicilline"}
    assert body["category"] == ["medication"]
    assert body["criticality"] == "high"
    assert body["reaction"] == [{"manifestation": [{"text": "Urticaire"}]}]
    assert body["extension"][0]["valueReference"] == {
        "reference": f"MedicationStatement/{treatment.id}"
    }
    service.delete_item(
        space.repo, patient_id=space.patient_id, section=Section.TREATMENTS, item_id=treatment.id
    )
    assert "extension" not in space.body("AllergyIntolerance", item.id)


def test_family_history_has_a_role_code_and_an_onset_age(space: Space) -> None:
    item = add(
        space, Section.FAMILY_HISTORY, relationship="MOTHER", condition="Diabète", onset_age="52"
    )
    body = space.body("FamilyMemberHistory", item.id)
    assert body["relationship"]["coding"][0]["code"] == "MTH"
    assert body["condition"][0]["code"] == {"text": "Diabète"}
    assert body["condition"][0]["onsetAge"]["value"] == 52
    assert item.detail == "Mère"


def test_lifestyle_is_one_social_history_observation_per_topic(space: Space) -> None:
    service.save_lifestyles(
        space.repo,
        patient_id=space.patient_id,
        values={"TOBACCO": "Non-fumeuse depuis 2015", "SLEEP": "7 heures"},
        today=TODAY,
    )
    items = service.save_lifestyles(
        space.repo,
        patient_id=space.patient_id,
        values={"TOBACCO": "Non-fumeuse depuis 2016", "SLEEP": ""},
        today=TODAY,
    )
    assert [(i.label, i.detail) for i in items] == [("Tabac", "Non-fumeuse depuis 2016")]
    body = space.body("Observation", items[0].id)
    assert body["category"][0]["coding"][0]["code"] == "social-history"
    assert body["code"]["coding"][0] == {
        "system": "http://loinc.org",
        "code": "72166-2",
        "display": "Tabac",
    }
    assert body["valueString"] == "Non-fumeuse depuis 2016"
    assert space.count("Observation") == 1


def test_the_blood_group_is_one_loinc_882_1_observation(space: Space) -> None:
    add(space, Section.BLOOD_GROUP, group="APOS")
    item = add(space, Section.BLOOD_GROUP, group="ONEG")
    body = space.body("Observation", item.id)
    assert body["code"]["coding"][0]["code"] == "882-1"
    assert body["valueCodeableConcept"]["coding"][0]["code"] == "ONEG"
    assert item.label == "O-"
    assert space.count("Observation") == 1  # replaced, not added


def test_update_and_delete_an_item(space: Space) -> None:
    item = add(space, Section.DISEASES, name="Migraine")
    changed = service.update_item(
        space.repo,
        patient_id=space.patient_id,
        section=Section.DISEASES,
        item_id=item.id,
        values={"name": "Migraine avec aura", "status": "resolved", "onset_year": "2010"},
        today=TODAY,
    )
    assert changed.id == item.id and changed.label == "Migraine avec aura"
    assert space.body("Condition", item.id)["clinicalStatus"]["coding"][0]["code"] == "resolved"
    service.delete_item(
        space.repo, patient_id=space.patient_id, section=Section.DISEASES, item_id=item.id
    )
    assert (
        service.list_section(space.repo, patient_id=space.patient_id, section=Section.DISEASES)
        == []
    )


def test_a_stay_turned_into_an_operation_changes_resource_type(space: Space) -> None:
    stay = add(space, Section.HOSPITALIZATIONS, reason="Fracture", start_year="2015")
    moved = service.update_item(
        space.repo,
        patient_id=space.patient_id,
        section=Section.HOSPITALIZATIONS,
        item_id=stay.id,
        values={"kind": "SURGERY", "reason": "Ostéosynthèse", "start_year": "2015"},
        today=TODAY,
    )
    assert moved.resource_type == "Procedure"
    assert space.count("Encounter") == 0 and space.count("Procedure") == 1


def test_conditions_from_elsewhere_are_not_part_of_the_profile(space: Space) -> None:
    # A problem-list Condition that a professional's document brought in: not an item the
    # person entered, so not listed (nor edited, nor deleted) here.
    space.repo.create(
        {
            "resourceType": "Condition",
            "subject": {"reference": f"Patient/{space.patient_id}"},
            "category": [
                {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/condition-category",
                            "code": "problem-list-item",
                        }
                    ]
                }
            ],
            "code": {"text": "Importée"},
        }
    )
    add(space, Section.DISEASES, name="Saisie")
    listed = service.list_section(space.repo, patient_id=space.patient_id, section=Section.DISEASES)
    assert [i.label for i in listed] == ["Saisie"]
