"""The International Patient Summary as the holder's repository builds it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from tests.space import make_holder
from tests.summary import records
from tests.summary.bundle_checks import sections_by_code, unresolved
from tests.summary.records import space

from carnet.core.errors import NotFound
from carnet.runtime import Runtime
from carnet.summary.service import international_summary

NOW = datetime(2026, 11, 26, 9, 30, tzinfo=UTC)
BASE = "https://carnet.example/fhir"


def test_an_empty_record_still_has_the_required_sections(rt: Runtime) -> None:
    holder = make_holder(rt)
    with space(rt, holder.patient_id) as repo:
        repo.create(records.not_concerned(holder.patient_id, "ALLERGIES"))
        bundle = international_summary(repo, patient_id=holder.patient_id, base_url=BASE, now=NOW)
        sections = sections_by_code(bundle)
        assert list(sections) == ["11450-4", "48765-2", "10160-0"]
        reasons = {code: s["emptyReason"]["coding"][0]["code"] for code, s in sections.items()}
        assert reasons == {
            "11450-4": "unavailable",
            "48765-2": "nilknown",
            "10160-0": "unavailable",
        }
        assert "Non concerné" in sections["48765-2"]["text"]["div"]
        assert "Aucune information" in sections["10160-0"]["text"]["div"]
        assert [e["resource"]["resourceType"] for e in bundle["entry"]] == [
            "Composition", "Patient", "Device"
        ]  # fmt: skip
        assert unresolved(bundle) == []
        assert bundle["timestamp"] == "2026-11-26T09:30:00Z"
        rt.record.prepare(bundle)


def test_every_section_points_at_resources_in_the_bundle(rt: Runtime) -> None:
    holder = make_holder(rt)
    pid = holder.patient_id
    with space(rt, pid) as repo:
        for resource in (
            records.condition(pid, "Asthme"),
            records.allergy(pid),
            records.medication(pid),
            records.immunization(pid),
            records.weight(pid, 60, "2025-01-01"),
        ):
            repo.create(resource)
        repo.create(
            {
                "resourceType": "Procedure",
                "status": "completed",
                "code": {"text": "Appendicectomie"},
                "subject": {"reference": f"Patient/{pid}"},
                "performedDateTime": "2010-04-02",
            }
        )
        repo.create(
            {
                "resourceType": "Observation",
                "status": "final",
                "category": records.category("social-history"),
                "code": records.loinc("72166-2", "Tabac"),
                "subject": {"reference": f"Patient/{pid}"},
                "valueCodeableConcept": {"text": "Non-fumeur"},
            }
        )
        repo.create(
            {
                "resourceType": "Consent",
                "status": "active",
                "scope": {"text": "Directives anticipées"},
                "category": [{"text": "Directives anticipées"}],
                "patient": {"reference": f"Patient/{pid}"},
                "dateTime": "2024-02-01",
            }
        )
        bundle = international_summary(repo, patient_id=pid, base_url=BASE, now=NOW)
        sections = sections_by_code(bundle)
        assert list(sections) == [
            "11450-4", "48765-2", "10160-0", "11369-6", "8716-3", "47519-4", "42348-3", "29762-2"
        ]  # fmt: skip
        assert all("emptyReason" not in s and len(s["entry"]) == 1 for s in sections.values())
        assert "Appendicectomie — 02/04/2010" in sections["47519-4"]["text"]["div"]
        assert unresolved(bundle) == []
        rt.record.prepare(bundle)


def test_another_persons_summary_is_not_found(rt: Runtime) -> None:
    mine, theirs = make_holder(rt), make_holder(rt)
    with space(rt, mine.patient_id) as repo, pytest.raises(NotFound):
        international_summary(repo, patient_id=theirs.patient_id, base_url=BASE, now=NOW)
