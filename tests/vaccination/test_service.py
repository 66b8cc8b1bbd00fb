"""Recording vaccinations through the record: what is stored, what is refused (and not
stored), and who may validate."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

import orjson
import pytest
from tests.space import make_holder

from carnet.access.schemas import AccessContext
from carnet.core.actor import Actor, ActorKind
from carnet.record.service import Repository
from carnet.runtime import Runtime
from carnet.vaccination import resources
from carnet.vaccination import service as vaccination_service
from carnet.vaccination.errors import (
    InvalidVaccination,
    VaccinationLocked,
    VaccinationNotFound,
    ValidationRefused,
)
from carnet.vaccination.schemas import DoseStatus, DoseType, VaccinationInput

TODAY = date(2026, 11, 26)


@pytest.fixture
def holder_repo(rt: Runtime) -> Iterator[tuple[str, Repository]]:
    """A new holder, and their Repository in a transaction (committed after the test)."""
    holder = make_holder(rt, birth_date="2012-06-01", sex="male")
    with in_space(rt, holder.patient_id) as repo:
        yield holder.patient_id, repo


@contextmanager
def in_space(
    rt: Runtime, patient_id: str, kind: ActorKind = ActorKind.PATIENT
) -> Iterator[Repository]:
    ctx = AccessContext(actor=Actor(kind, patient_id), patient_id=patient_id)
    with rt.transaction() as db:
        yield rt.record.repository(db=db, ctx=ctx)


def entry(**changes: object) -> VaccinationInput:
    values: dict[str, object] = {
        "vaccine": "hpv",
        "occurred_on": date(2026, 9, 1),
        "dose_type": "INITIMMUNIZ",
        "lot_number": "LOT-42A",
        "performer": "Dr Anne Leroy",
        "comment": "Au cabinet",
    }
    return VaccinationInput(**(values | changes))  # type: ignore[arg-type]


def count(repo: Repository, patient_id: str) -> int:
    return len(vaccination_service.list_vaccinations(repo, patient_id=patient_id))


def test_a_patient_records_an_immunization(holder_repo: tuple[str, Repository]) -> None:
    patient_id, repo = holder_repo
    made = vaccination_service.record_vaccination(
        repo, patient_id=patient_id, entry=entry(), today=TODAY
    )
    assert made.vaccine == "hpv" and made.atc == "J07BM03"
    assert made.dose_type is DoseType.INITIAL
    assert made.entered_by_patient and not made.validated and made.editable
    body = orjson.loads(repo.read("Immunization", made.id).body)
    assert body["patient"] == {"reference": f"Patient/{patient_id}"}
    assert body["occurrenceDateTime"] == "2026-09-01"
    assert body["primarySource"] is False
    assert body["reportOrigin"]["coding"][0]["code"] == "record"
    assert body["lotNumber"] == "LOT-42A"
    assert body["performer"][0]["actor"] == {"display": "Dr Anne Leroy"}
    assert body["note"] == [{"text": "Au cabinet"}]
    codes = {c["code"] for c in body["vaccineCode"]["coding"]}
    assert codes == {"hpv", "J07BM03"}
    assert not any(e["url"] == resources.VALIDATED_EXTENSION for e in body["extension"])
    schedule = vaccination_service.schedule_for(repo, patient_id=patient_id, today=TODAY)
    assert schedule is not None
    hpv = {d.key: d for d in schedule.doses}["hpv/1"]
    assert hpv.status is DoseStatus.DONE and hpv.immunization_id == made.id


@pytest.mark.parametrize(
    ("changes", "reason", "field", "message"),
    [
        (
            {"occurred_on": date(2026, 11, 27)},
            "future-date",
            "occurred_on",
            "La date de vaccination ne peut pas être dans le futur",
        ),
        (
            {"occurred_on": date(2012, 5, 31)},
            "before-birth",
            "occurred_on",
            "antérieure à la date de naissance",
        ),
        ({"vaccine": "vaccin-inconnu"}, "unknown-vaccine", "vaccine", "ne figure pas"),
        ({"dose_type": "TRIPLE"}, "unknown-dose-type", "dose_type", "type d’injection"),
        ({"lot_number": "X" * 41}, "too-long", "lot_number", "trop long"),
    ],
)
def test_bad_input_is_refused_with_a_french_message_and_nothing_stored(
    holder_repo: tuple[str, Repository],
    changes: dict[str, object],
    reason: str,
    field: str,
    message: str,
) -> None:
    patient_id, repo = holder_repo
    with pytest.raises(InvalidVaccination) as refused:
        vaccination_service.record_vaccination(
            repo, patient_id=patient_id, entry=entry(**changes), today=TODAY
        )
    assert refused.value.reason == reason and refused.value.field == field
    assert message in str(refused.value)
    assert count(repo, patient_id) == 0


def test_every_problem_is_listed(holder_repo: tuple[str, Repository]) -> None:
    patient_id, repo = holder_repo
    with pytest.raises(InvalidVaccination) as refused:
        vaccination_service.record_vaccination(
            repo,
            patient_id=patient_id,
            entry=entry(vaccine="?", dose_type="?", occurred_on=date(2030, 1, 1)),
            today=TODAY,
        )
    assert [r for r, _f in refused.value.problems] == [
        "unknown-vaccine",
        "unknown-dose-type",
        "future-date",
    ]


def test_a_patient_cannot_validate_their_own_entry(holder_repo: tuple[str, Repository]) -> None:
    patient_id, repo = holder_repo
    with pytest.raises(ValidationRefused):
        vaccination_service.record_vaccination(
            repo, patient_id=patient_id, entry=entry(), today=TODAY, validated=True
        )
    made = vaccination_service.record_vaccination(
        repo, patient_id=patient_id, entry=entry(), today=TODAY
    )
    with pytest.raises(ValidationRefused):
        vaccination_service.update_vaccination(
            repo,
            patient_id=patient_id,
            vaccination_id=made.id,
            entry=entry(),
            today=TODAY,
            validated=True,
        )
    assert not vaccination_service.get_vaccination(
        repo, patient_id=patient_id, vaccination_id=made.id
    ).validated


def test_a_representative_cannot_validate_either(rt: Runtime) -> None:
    holder = make_holder(rt, birth_date="2020-02-02")
    with (
        in_space(rt, holder.patient_id, ActorKind.REPRESENTATIVE) as repo,
        pytest.raises(ValidationRefused),
    ):
        vaccination_service.record_vaccination(
            repo,
            patient_id=holder.patient_id,
            entry=entry(vaccine="ror"),
            today=TODAY,
            validated=True,
        )


def test_a_professional_s_validation_locks_the_entry_for_the_patient(rt: Runtime) -> None:
    holder = make_holder(rt, birth_date="2012-06-01")
    patient_id = holder.patient_id
    # A professional's validated entry, as it arrives in the record (written here as Carnet).
    resource = resources.immunization(entry(), patient_id=patient_id, validated=True)
    with rt.carnet_repository() as carnet:
        stored = carnet.create(resource)
    with in_space(rt, patient_id) as repo:
        seen = vaccination_service.get_vaccination(
            repo, patient_id=patient_id, vaccination_id=stored.id
        )
        assert seen.validated and not seen.editable
        with pytest.raises(VaccinationLocked):
            vaccination_service.update_vaccination(
                repo, patient_id=patient_id, vaccination_id=stored.id, entry=entry(), today=TODAY
            )
        with pytest.raises(VaccinationLocked):
            vaccination_service.delete_vaccination(
                repo, patient_id=patient_id, vaccination_id=stored.id
            )
        assert vaccination_service.get_vaccination(
            repo, patient_id=patient_id, vaccination_id=stored.id
        ).validated


def test_correct_then_delete_an_own_entry(holder_repo: tuple[str, Repository]) -> None:
    patient_id, repo = holder_repo
    made = vaccination_service.record_vaccination(
        repo, patient_id=patient_id, entry=entry(), today=TODAY
    )
    changed = vaccination_service.update_vaccination(
        repo,
        patient_id=patient_id,
        vaccination_id=made.id,
        entry=entry(vaccine="meningocoque-acwy", dose_type="BOOSTER", comment=""),
        today=TODAY,
    )
    assert changed.version == made.version + 1
    assert changed.vaccine == "meningocoque-acwy" and changed.comment == ""
    with pytest.raises(InvalidVaccination):
        vaccination_service.update_vaccination(
            repo,
            patient_id=patient_id,
            vaccination_id=made.id,
            entry=entry(occurred_on=date(2027, 1, 1)),
            today=TODAY,
        )
    assert (
        vaccination_service.get_vaccination(
            repo, patient_id=patient_id, vaccination_id=made.id
        ).vaccine
        == "meningocoque-acwy"
    )
    vaccination_service.delete_vaccination(repo, patient_id=patient_id, vaccination_id=made.id)
    with pytest.raises(VaccinationNotFound):
        vaccination_service.get_vaccination(repo, patient_id=patient_id, vaccination_id=made.id)
    assert count(repo, patient_id) == 0


def test_another_space_s_vaccination_is_not_found(rt: Runtime) -> None:
    mine, other = make_holder(rt), make_holder(rt)
    with in_space(rt, other.patient_id) as other_repo:
        theirs = vaccination_service.record_vaccination(
            other_repo, patient_id=other.patient_id, entry=entry(), today=TODAY
        )
    with in_space(rt, mine.patient_id) as repo:
        with pytest.raises(VaccinationNotFound):
            vaccination_service.get_vaccination(
                repo, patient_id=mine.patient_id, vaccination_id=theirs.id
            )
        with pytest.raises(VaccinationNotFound):
            vaccination_service.delete_vaccination(
                repo, patient_id=mine.patient_id, vaccination_id=theirs.id
            )
        # Even naming the other space: the Repository refuses it like an absent one.
        with pytest.raises(VaccinationNotFound):
            vaccination_service.get_vaccination(
                repo, patient_id=other.patient_id, vaccination_id=theirs.id
            )
    with in_space(rt, other.patient_id) as other_repo:
        assert count(other_repo, other.patient_id) == 1


def test_an_immunization_from_elsewhere_is_read_leniently(rt: Runtime) -> None:
    holder = make_holder(rt, birth_date="1990-01-01")
    foreign = {
        "resourceType": "Immunization",
        "status": "completed",
        "vaccineCode": {
            "coding": [{"system": "http://www.whocc.no/atc", "code": "J07BL01"}],
            "text": "Stamaril",
        },
        "patient": {"reference": f"Patient/{holder.patient_id}"},
        "occurrenceDateTime": "2015-06",
        "primarySource": True,
    }
    with rt.carnet_repository() as carnet:
        carnet.create(foreign)
    with in_space(rt, holder.patient_id) as repo:
        (seen,) = vaccination_service.list_vaccinations(repo, patient_id=holder.patient_id)
        assert seen.vaccine == "" and seen.vaccine_label.fr == "Stamaril"
        assert seen.atc == "J07BL01" and seen.occurred_on == date(2015, 6, 1)
        assert seen.dose_type is DoseType.OTHER and not seen.entered_by_patient
        assert (
            vaccination_service.schedule_for(repo, patient_id=holder.patient_id, today=TODAY)
            is not None
        )
