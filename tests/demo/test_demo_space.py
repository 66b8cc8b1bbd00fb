"""The demo accounts' spaces after seeding: filled through the areas' services, the same after
a second run, and shown by the patient's pages."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from starlette.testclient import TestClient
from tests.accounts.factories import MadeAccount
from tests.conftest import make_settings, new_database
from tests.web.test_sign_in_http import csrf, sign_in

from carnet import migrations
from carnet.app import create_app
from carnet.demo import service as demo_service
from carnet.demo.accounts import seed_accounts
from carnet.demo.space import DEMO_CHILD, DEMO_PATIENT, TODAY, demo_people
from carnet.measures import service as measures
from carnet.notify import service as notify
from carnet.profile import service as profile
from carnet.runtime import Runtime, build_runtime
from carnet.vaccination import service as vaccination
from carnet.wishes import service as wishes

PATIENTS = 7  # the child is the seventh person of the population
TYPES = (
    "DocumentReference",
    "Binary",
    "List",
    "Basic",
    "Condition",
    "MedicationStatement",
    "AllergyIntolerance",
    "FamilyMemberHistory",
    "Observation",
    "Goal",
    "Immunization",
    "RelatedPerson",
)


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    """A database of its own, seeded as ``make run`` does (population, then accounts)."""
    directory: Path = tmp_path_factory.mktemp("demo-space")
    with new_database(directory) as url:
        migrations.upgrade(url)
        rt = build_runtime(make_settings(url, directory / "var"), configure_logs=False)
        try:
            demo_service.seed(repository=rt.carnet_repository, patients=PATIENTS)
            seed_accounts(accounts=rt.accounts, transaction=rt.transaction)
            yield rt
        finally:
            rt.close()


def ids() -> tuple[str, str]:
    people, _gp = demo_people(1)
    return str(people[DEMO_PATIENT].patient["id"]), str(people[DEMO_CHILD].patient["id"])


def counts(rt: Runtime) -> dict[str, Counter[str]]:
    """How many resources of each type, and notifications, each demo space holds."""
    found: dict[str, Counter[str]] = {}
    for patient_id in ids():
        tally: Counter[str] = Counter()
        with rt.carnet_repository() as repo:
            for resource_type in TYPES:
                params = [("patient", f"Patient/{patient_id}"), ("_count", "1000")]
                if resource_type in ("Binary", "Basic", "List", "Goal", "RelatedPerson"):
                    params = [("_count", "1000")]
                matches = repo.search(resource_type, params).matches
                tally[resource_type] = sum(1 for m in matches if m.patient_id == patient_id)
        with rt.transaction(readonly=True) as db:
            tally["inbox"] = notify.inbox_page(db, patient_id=patient_id).total
        found[patient_id] = tally
    return found


def test_seeding_again_adds_nothing(seeded: Runtime) -> None:
    before = counts(seeded)
    patient, child = ids()
    assert before[patient]["RelatedPerson"] == 2 and before[child]["RelatedPerson"] == 2
    assert before[patient]["inbox"] == 1 and before[child]["inbox"] == 1
    assert before[patient]["Goal"] == 1
    demo_service.seed(repository=seeded.carnet_repository, patients=PATIENTS)
    report = demo_service.seed(
        repository=seeded.carnet_repository, patients=PATIENTS, if_empty=True
    )
    assert report.skipped
    seed_accounts(accounts=seeded.accounts, transaction=seeded.transaction)
    assert counts(seeded) == before


def test_the_spaces_hold_each_area_s_part(seeded: Runtime) -> None:
    patient, child = ids()
    with seeded.carnet_repository() as repo:
        states = {s.section.value: s for s in profile.overview(repo, patient_id=patient)}
        assert states["DISEASES"].count == 1 and states["TREATMENTS"].count == 1
        assert states["DISABILITIES"].not_concerned_on == TODAY
        adult = vaccination.schedule_for(repo, patient_id=patient, today=TODAY)
        # The child turns 14 on 10 November 2026: the 11-13 booster is overdue from then.
        young = vaccination.schedule_for(repo, patient_id=child, today=date(2026, 11, 26))
        assert adult is not None and young is not None
        assert adult.done and adult.due
        assert young.done and young.due and young.overdue
        ov = wishes.overview(repo, patient_id=patient, today=TODAY)
        assert ov.trusted is not None and ov.donation is not None
        growth = measures.child_of(repo, patient_id=child)
        assert growth is not None
        for indicator in ("weight", "height", "head"):
            chart = measures.growth_chart(
                repo, patient_id=child, indicator=indicator, child=growth, today=date(2026, 11, 1)
            )
            assert len(chart.points) >= 8, indicator
        pressure = measures.measure_series(repo, patient_id=patient, slug="tension")
        assert sum(entry.own for entry in pressure) == 12


def signed_in(rt: Runtime, login: str, password: str) -> TestClient:
    with rt.transaction(readonly=True) as db:
        account_id = rt.accounts.find_account(db, login=login)
    assert account_id is not None
    browser = TestClient(create_app(rt), base_url="http://testserver")
    sign_in(browser, rt, MadeAccount(account_id, login, password, "", None))
    return browser


def test_the_demo_patient_s_pages_show_the_space(seeded: Runtime) -> None:
    patient, _child = ids()
    with seeded.carnet_repository() as repo:
        contacts = wishes.list_contacts(repo, patient_id=patient)
    with signed_in(seeded, "demo.patient", "Demo-Patient-2026!") as browser:
        listed = browser.get("/documents").text
        for title in ("Ordonnance de lunettes", "Attestation de mutuelle", "Certificat médical"):
            assert title in listed
        assert "Hypertension artérielle" in browser.get("/profil-medical/maladies").text
        assert "Amlodipine" in browser.get("/profil-medical/traitements").text
        assert browser.get("/profil-medical").status_code == 200
        assert "/mesures/tension" in browser.get("/mesures").text
        assert "<svg" in browser.get("/mesures/poids").text
        assert "Grippe" in browser.get("/vaccinations").text
        circle = browser.get("/volontes").text
        for contact in contacts:
            assert contact.last_name in circle
        assert browser.get("/notifications").status_code == 200


def test_the_parent_sees_the_child_s_growth_charts(seeded: Runtime) -> None:
    with signed_in(seeded, "demo.parent", "Demo-Parent-2026!") as browser:
        switched = browser.post("/profil", data={"csrf_token": csrf(browser, "/"), "profile": "1"})
        assert switched.status_code == 200
        growth = browser.get("/mesures/croissance")
        assert growth.status_code == 200 and "<svg" in growth.text
        assert "Rougeole" in browser.get("/vaccinations").text
