"""Recording measures through the Repository: codes, units, ranges, BMI, dates, targets."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import orjson
import pytest
from tests.measures.measure_space import NOW, Space

from carnet.measures import service
from carnet.measures.catalogue import BY_SLUG, MEASURES, PROFILE_BASE, TAASIP, UCUM
from carnet.measures.errors import InvalidMeasure, MeasureNotFound

# One plausible value per measure, and its expected LOINC (or TRE_R308) code and UCUM unit.
CASES: list[tuple[str, dict[str, Any], str, str]] = [
    ("poids", {"value": "72,5"}, "29463-7", "kg"),
    ("taille", {"value": "168"}, "8302-2", "cm"),
    ("tour-de-taille", {"value": "84"}, "8280-0", "cm"),
    ("temperature", {"value": "37.2"}, "8310-5", "Cel"),
    ("glycemie", {"value": "95", "moment": "a-jeun", "unit": "mg/dL"}, "2345-7", "mg/dL"),
    ("glucose-interstitiel", {"value": "140", "days": "14"}, "MED-969", "mg/dL"),
    ("hba1c", {"value": "6,8"}, "4548-4", "%"),
    ("igg", {"value": "7.1", "days": "14"}, "MED-972", "%"),
    ("tension", {"value": "128", "value2": "82"}, "85354-9", "mm[Hg]"),
    ("douleur", {"value": "4"}, "72514-3", "{score}"),
    ("frequence-cardiaque", {"value": "64"}, "8867-4", "/min"),
    ("pas", {"value": "8500"}, "41950-7", "/d"),
    ("perimetre-cranien", {"value": "35,2"}, "8287-5", "cm"),
]
# Just outside each measure's plausible range.
OUT_OF_RANGE: list[tuple[str, dict[str, Any]]] = [
    ("poids", {"value": "0.2"}),
    ("poids", {"value": "700"}),
    ("taille", {"value": "300"}),
    ("tour-de-taille", {"value": "5"}),
    ("temperature", {"value": "47"}),
    ("temperature", {"value": "3"}),
    ("glycemie", {"value": "1200", "moment": "a-jeun"}),
    ("glycemie", {"value": "60", "moment": "a-jeun", "unit": "mmol/L"}),
    ("glucose-interstitiel", {"value": "5", "days": "14"}),
    ("hba1c", {"value": "40"}),
    ("igg", {"value": "1", "days": "7"}),
    ("tension", {"value": "400", "value2": "80"}),
    ("tension", {"value": "120", "value2": "5"}),
    ("douleur", {"value": "11"}),
    ("douleur", {"value": "-1"}),
    ("frequence-cardiaque", {"value": "400"}),
    ("pas", {"value": "200000"}),
    ("perimetre-cranien", {"value": "90"}),
]


def add(space: Space, slug: str, when: Any = None, **fields: Any) -> Any:
    return service.add_measure(
        space.repo,
        patient_id=space.pid,
        slug=slug,
        when=when or NOW - timedelta(hours=1),
        now=NOW,
        **fields,
    )


def observations(space: Space) -> list[dict[str, Any]]:
    found = space.repo.search("Observation", [("patient", f"Patient/{space.pid}")])
    return [orjson.loads(m.body) for m in found.matches]


def test_the_catalogue_has_the_fourteen_measures_with_distinct_codes() -> None:
    assert len(MEASURES) == 14
    assert len({m.code for m in MEASURES}) == 14
    assert {m.code for m in MEASURES if m.system == TAASIP} == {"MED-969", "MED-972"}
    assert BY_SLUG["imc"].code == "39156-5" and BY_SLUG["imc"].computed


@pytest.mark.parametrize(("slug", "fields", "code", "unit"), CASES)
def test_each_measure_is_stored_as_a_vital_signs_observation(
    space: Space, slug: str, fields: dict[str, Any], code: str, unit: str
) -> None:
    made = add(space, slug, comment="après la marche", **fields)
    body = orjson.loads(space.repo.read("Observation", made.id).body)
    assert body["code"]["coding"][0]["code"] == code
    assert body["category"][0]["coding"][0]["code"] == "vital-signs"
    assert body["subject"] == {"reference": f"Patient/{space.pid}"}
    assert body["performer"] == [{"reference": f"Patient/{space.pid}"}]
    assert body["meta"]["profile"][0].startswith(PROFILE_BASE + "mes-observation-")
    assert body["note"] == [{"text": "après la marche"}]
    assert body["effectiveDateTime"].startswith("2026-11-26T09:00:00")
    quantity = body["component"][0]["valueQuantity"] if slug == "tension" else body["valueQuantity"]
    assert quantity["system"] == UCUM and quantity["code"] == unit
    assert made.own and made.slug == slug


def test_blood_pressure_is_a_panel_of_systolic_and_diastolic(space: Space) -> None:
    made = add(space, "tension", value="131", value2="79")
    body = orjson.loads(space.repo.read("Observation", made.id).body)
    assert "valueQuantity" not in body
    assert body["meta"]["profile"] == [PROFILE_BASE + "mes-observation-bp"]
    codes = {c["code"]["coding"][0]["code"]: c["valueQuantity"]["value"] for c in body["component"]}
    assert codes == {"8480-6": 131, "8462-4": 79}
    assert (made.value, made.value2) == (131, 79)


def test_systolic_must_be_above_diastolic_and_nothing_is_stored(space: Space) -> None:
    with pytest.raises(InvalidMeasure) as refused:
        add(space, "tension", value="80", value2="90")
    assert refused.value.reason == "systolic-not-above"
    assert observations(space) == []


def test_glucose_keeps_its_moment_and_converts_to_mg_per_decilitre(space: Space) -> None:
    in_mmol = add(space, "glycemie", value="5,5", unit="mmol/L", moment="apres-repas")
    in_g = add(space, "glycemie", value="1,10", unit="g/L", moment="a-jeun")
    assert in_mmol.value == 99 and in_mmol.unit == "mg/dL" and in_mmol.moment == "apres-repas"
    assert in_g.value == 110
    body = orjson.loads(space.repo.read("Observation", in_mmol.id).body)
    moment = body["extension"][0]
    assert moment["url"].endswith("mesures-moment-of-measurement")
    assert moment["valueCodeableConcept"]["coding"][0]["code"] == "apres-repas"


def test_glucose_without_a_moment_or_with_an_unknown_unit_is_refused(space: Space) -> None:
    with pytest.raises(InvalidMeasure) as no_moment:
        add(space, "glycemie", value="95")
    with pytest.raises(InvalidMeasure) as bad_unit:
        add(space, "glycemie", value="95", moment="a-jeun", unit="mg")
    assert (no_moment.value.reason, bad_unit.value.reason) == ("moment-required", "bad-unit")
    assert observations(space) == []


def test_sensor_values_carry_their_number_of_days(space: Space) -> None:
    made = add(space, "igg", value="6.9", days="14")
    body = orjson.loads(space.repo.read("Observation", made.id).body)
    assert body["extension"] == [
        {
            "url": "https://interop.esante.gouv.fr/ig/fhir/mesures/StructureDefinition/"
            "mesures-number-of-days",
            "valueInteger": 14,
        }
    ]
    assert made.days == 14
    for days, reason in (("", "days-required"), ("0", "out-of-range"), ("2.5", "not-a-number")):
        with pytest.raises(InvalidMeasure) as refused:
            add(space, "glucose-interstitiel", value="120", days=days)
        assert refused.value.reason == reason


@pytest.mark.parametrize(("slug", "fields"), OUT_OF_RANGE)
def test_values_outside_the_plausible_range_are_refused_and_nothing_is_stored(
    space: Space, slug: str, fields: dict[str, Any]
) -> None:
    with pytest.raises(InvalidMeasure) as refused:
        add(space, slug, **fields)
    assert refused.value.reason == "out-of-range"
    assert observations(space) == []


def test_a_range_refusal_gives_the_bounds_in_the_unit_typed(space: Space) -> None:
    with pytest.raises(InvalidMeasure) as refused:
        add(space, "glycemie", value="70", unit="mmol/L", moment="a-jeun")
    assert refused.value.low == pytest.approx(10 / 18.016)
    assert refused.value.high == pytest.approx(1000 / 18.016)


@pytest.mark.parametrize("value", ["", "abc", "nan", "inf", "1e999"])
def test_what_is_not_a_number_is_refused(space: Space, value: str) -> None:
    with pytest.raises(InvalidMeasure) as refused:
        add(space, "poids", value=value)
    assert refused.value.reason in {"missing", "not-a-number"}


def test_a_date_in_the_future_is_refused_and_nothing_is_stored(space: Space) -> None:
    with pytest.raises(InvalidMeasure) as refused:
        add(space, "poids", value="70", when=NOW + timedelta(minutes=5))
    assert (refused.value.reason, refused.value.field) == ("future", "date")
    assert observations(space) == []


def test_bmi_is_never_accepted_as_input(space: Space) -> None:
    with pytest.raises(InvalidMeasure) as refused:
        add(space, "imc", value="22")
    assert refused.value.reason == "computed"
    assert observations(space) == []


def test_bmi_is_computed_from_the_latest_weight_and_height(space: Space) -> None:
    add(space, "taille", value="170", when=NOW - timedelta(days=30))
    add(space, "poids", value="80", when=NOW - timedelta(days=20))
    add(space, "poids", value="72,25", when=NOW - timedelta(days=1))
    latest = service.latest_measures(space.repo, patient_id=space.pid)
    assert latest["imc"].value == 25.0  # 72.25 / 1.7²
    assert latest["poids"].value == 72.25
    series = service.measure_series(space.repo, patient_id=space.pid, slug="imc")
    assert [e.value for e in series] == [27.7, 25.0]
    assert all(o["code"]["coding"][0]["code"] != "39156-5" for o in observations(space))


def test_history_pages_go_from_newest_to_oldest(space: Space) -> None:
    for day in range(12):
        add(space, "pas", value=str(1000 + day), when=NOW - timedelta(days=day + 1))
    first = service.measure_page(space.repo, patient_id=space.pid, slug="pas", count=5)
    assert [e.value for e in first.entries] == [1000, 1001, 1002, 1003, 1004]
    assert first.next_cursor
    second = service.measure_page(
        space.repo, patient_id=space.pid, slug="pas", count=5, cursor=first.next_cursor
    )
    assert [e.value for e in second.entries] == [1005, 1006, 1007, 1008, 1009]
    series = service.measure_series(space.repo, patient_id=space.pid, slug="pas")
    assert [e.value for e in series][:2] == [1011, 1010]  # oldest first


def test_a_person_deletes_their_own_measure_not_another(space: Space) -> None:
    made = add(space, "poids", value="70")
    assert service.delete_measure(space.repo, patient_id=space.pid, measure_id=made.id) == "poids"
    assert observations(space) == []
    with pytest.raises(MeasureNotFound):
        service.delete_measure(space.repo, patient_id=space.pid, measure_id=made.id)
    by_someone_else = space.repo.create(
        {
            "resourceType": "Observation",
            "status": "final",
            "code": {"coding": [{"system": "http://loinc.org", "code": "29463-7"}]},
            "subject": {"reference": f"Patient/{space.pid}"},
            "effectiveDateTime": "2026-11-01",
            "valueQuantity": {"value": 70, "unit": "kg", "system": UCUM, "code": "kg"},
        }
    )
    with pytest.raises(MeasureNotFound):
        service.delete_measure(space.repo, patient_id=space.pid, measure_id=by_someone_else.id)


def test_a_target_is_a_goal_set_changed_and_removed(space: Space) -> None:
    target = service.set_target(space.repo, patient_id=space.pid, slug="poids", low="60", high="68")
    assert target is not None and (target.low, target.high) == (60, 68)
    goal = orjson.loads(space.repo.read("Goal", target.goal_id).body)
    assert goal["target"][0]["detailRange"]["high"]["code"] == "kg"
    assert goal["subject"] == {"reference": f"Patient/{space.pid}"}
    changed = service.set_target(space.repo, patient_id=space.pid, slug="poids", low="", high="66")
    assert changed is not None and changed.goal_id == target.goal_id
    assert (changed.low, changed.high) == (None, 66)
    assert service.target_of(space.repo, patient_id=space.pid, slug="poids") == changed
    assert (
        service.set_target(space.repo, patient_id=space.pid, slug="poids", low="", high="") is None
    )
    assert service.target_of(space.repo, patient_id=space.pid, slug="poids") is None


def test_a_target_needs_its_low_bound_below_its_high_bound(space: Space) -> None:
    with pytest.raises(InvalidMeasure) as refused:
        service.set_target(space.repo, patient_id=space.pid, slug="poids", low="70", high="60")
    assert refused.value.reason == "target-order"
    with pytest.raises(InvalidMeasure) as out:
        service.set_target(space.repo, patient_id=space.pid, slug="poids", low="", high="900")
    assert out.value.reason == "out-of-range"
