"""Opening spaces on a real database: a generated registry is imported, a campaign informs its
holders, then the opening job opens every space whose window ended without opposition; one
person's opening (request, activation), refusals, first choices, and the Patient and data key
the space shares with the registry entry."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlalchemy import Connection, func, select, update
from tests.conftest import make_settings
from tests.enrollment.conftest import write_file
from typer.testing import CliRunner

from carnet.audit import models as audit_models
from carnet.cli import app
from carnet.core.actor import CARNET
from carnet.core.clock import FrozenClock
from carnet.core.errors import InvalidInput
from carnet.demo.registry_extract import synthetic_registry
from carnet.enrollment import models, opening
from carnet.enrollment import service as enrollment_service
from carnet.enrollment.errors import NoSpace, SpaceNotOpenable
from carnet.enrollment.ports import NothingToMerge
from carnet.jobs import models as jobs_models
from carnet.notify.adapters.local import MemoryEmailSender
from carnet.record.errors import ResourceNotFound
from carnet.runtime import Runtime, build_runtime
from carnet.storage.errors import DataKeyDestroyed

Status = enrollment_service.BeneficiaryStatus
TODAY = date(2026, 11, 26)
WINDOW = timedelta(days=42)
Row = dict[str, str]


@pytest.fixture
def rt(fresh_database_url: str, tmp_path: Path) -> Iterator[Runtime]:
    """A runtime on its own database, a clock the tests move, small steps and batches."""
    settings = make_settings(
        fresh_database_url,
        tmp_path / "var",
        enrollment={"campaign_batch": 4, "opening_batch": 3},
    )
    clock = FrozenClock(datetime(2026, 11, 26, 9, 0, tzinfo=UTC))
    runtime = build_runtime(settings, clock=clock, configure_logs=False)
    yield runtime
    runtime.close()


@pytest.fixture
def rows(rt: Runtime, tmp_path: Path) -> list[Row]:
    """A generated registry of 60 lines (holders and children), imported, and a campaign over
    every département they live in, run to its end (people with an e-mail are ``notified``)."""
    generated = list(synthetic_registry(60, seed=11))
    enrollment_service.import_registry(
        source=write_file(tmp_path / "registry.txt", generated),
        storage=rt.storage,
        audit=rt.audit,
        transaction=rt.transaction,
    )
    departements = sorted({r["departement"] for r in generated})
    with rt.transaction() as db:
        rt.enrollment.start_campaign(
            db, actor=CARNET, departements=",".join(departements), send_date=TODAY
        )
    rt.worker(name="test").run_until_idle()
    return generated


def clock(rt: Runtime) -> FrozenClock:
    assert isinstance(rt.clock, FrozenClock)
    return rt.clock


def statuses(rt: Runtime) -> dict[str, str]:
    with rt.transaction(readonly=True) as db:
        table = models.beneficiary
        return {row.id: row.status for row in db.execute(select(table.c.id, table.c.status))}


def with_status(rt: Runtime, status: Status) -> list[str]:
    return sorted(i for i, s in statuses(rt).items() if s == status.value)


def holders_among(rt: Runtime, ids: list[str]) -> list[str]:
    """Those of ``ids`` who are holders: children get no e-mail of their own."""
    b = models.beneficiary
    with rt.transaction(readonly=True) as db:
        found = db.execute(select(b.c.id).where(b.c.id.in_(ids), b.c.holder_id.is_(None)))
        return sorted(found.scalars())


def spaces_count(rt: Runtime) -> int:
    with rt.transaction(readonly=True) as db:
        return int(db.execute(select(func.count()).select_from(models.space)).scalar_one())


def set_status(rt: Runtime, beneficiary_id: str, status: Status) -> None:
    # Stands for the step that owns that status (opposition, a death in a registry file).
    with rt.transaction() as db:
        db.execute(
            update(models.beneficiary)
            .where(models.beneficiary.c.id == beneficiary_id)
            .values(status=status.value)
        )


def read_patient(rt: Runtime, patient_id: str) -> dict[str, Any]:
    with rt.carnet_repository() as repo:
        return dict(orjson.loads(repo.read("Patient", patient_id).body))


def open_one(rt: Runtime, db: Connection, beneficiary_id: str, **options: Any) -> bool:
    return rt.enrollment.opening.open(
        db,
        actor=options.pop("actor", CARNET),
        beneficiary_id=beneficiary_id,
        opened_by=options.pop("opened_by", "request"),
        **options,
    )


def open_due(rt: Runtime, **options: Any) -> enrollment_service.OpeningReport:
    return rt.enrollment.opening.open_due(rt.transaction, **options)


def emails_of_kind(rt: Runtime, kind: str) -> list[Any]:
    rt.worker(name="test").run_until_idle()
    sender = rt.notify.email
    assert isinstance(sender, MemoryEmailSender)
    return [m for m in sender.outbox if m.kind == kind]


def test_the_job_opens_only_those_whose_window_ended_without_opposition(
    rt: Runtime, rows: list[Row]
) -> None:
    notified = with_status(rt, Status.NOTIFIED)
    letter_due = with_status(rt, Status.LETTER_DUE)
    assert len(notified) >= 8 and letter_due
    # During the window: nobody is due.
    clock(rt).advance(WINDOW)
    assert open_due(rt).opened == 0
    opposed, died = notified[0], notified[1]
    set_status(rt, opposed, Status.OPPOSED)
    set_status(rt, died, Status.DECEASED)
    clock(rt).advance(timedelta(days=1))
    with rt.transaction(readonly=True) as db:
        assert rt.enrollment.opening.due(db) == len(notified) - 2
    report = open_due(rt, batch=3)
    assert report.opened == len(notified) - 2
    assert report.batches >= report.opened // 3
    after = statuses(rt)
    assert {after[i] for i in notified[2:]} == {Status.OPEN.value}
    assert (after[opposed], after[died]) == (Status.OPPOSED.value, Status.DECEASED.value)
    # Letter-due people (and their children) wait for their letter; notified children opened.
    assert {after[i] for i in letter_due} == {Status.LETTER_DUE.value}
    assert spaces_count(rt) == len(notified) - 2
    # Each holder was told by e-mail, with a link and nothing else about them.
    sent = emails_of_kind(rt, opening.OPENED_TEMPLATE)
    assert len(sent) == len(holders_among(rt, notified[2:]))
    assert "/activation" in sent[0].text
    # Run again: nothing more.
    assert open_due(rt).opened == 0
    assert spaces_count(rt) == len(notified) - 2


def test_a_space_opens_with_the_legal_defaults_and_a_patient_carrying_the_ins(
    rt: Runtime, rows: list[Row]
) -> None:
    clock(rt).advance(WINDOW + timedelta(days=1))
    open_due(rt)
    holder = next(r for r in rows if not r["nir_ouvrant_droit"] and r["email"])
    with rt.transaction(readonly=True) as db:
        found = enrollment_service.find_beneficiary(db, storage=rt.storage, nir=holder["nir"])
        assert found is not None and found.status is Status.OPEN
        space = rt.enrollment.opening.space(db, patient_id=found.id)
    assert space is not None
    assert (space.opened_by, space.dmp_merge, space.default_confidentiality) == (
        "automatic",
        "none",
        "visible",
    )
    assert (space.samu_access, space.break_glass_access, space.emergency_masked_access) == (
        True,
        True,
        False,
    )
    patient = read_patient(rt, found.id)
    assert patient["identifier"][0]["value"] == holder["nir"]
    assert patient["birthDate"] == holder["date_naissance"]
    assert patient["name"][0]["family"] == holder["nom_naissance"]
    assert {t["system"] for t in patient["telecom"]} >= {"email"}
    assert patient["address"][0]["postalCode"] == holder["code_postal"]
    # The identifier is searchable through the blind index, as the record indexes it.
    with rt.carnet_repository() as repo:
        system = patient["identifier"][0]["system"]
        found_ids = repo.match("Patient", [("identifier", f"{system}|{holder['nir']}")], limit=2)
    assert found_ids == [found.id]


def test_the_space_reuses_the_registry_data_key_and_shredding_erases_both(
    rt: Runtime, rows: list[Row]
) -> None:
    beneficiary_id = holders_among(rt, with_status(rt, Status.NOTIFIED))[0]
    with rt.transaction() as db:
        assert open_one(rt, db, beneficiary_id, opened_by="activation")
        assert rt.storage.data_key(db, owner_id=beneficiary_id) is not None
    # One data key for the person: the registry entry and the Patient open with it.
    with rt.transaction() as db:
        keys = rt.storage.data_keys(db, owner_ids=[beneficiary_id])
    assert list(keys) == [beneficiary_id]
    assert read_patient(rt, beneficiary_id)["id"] == beneficiary_id
    with rt.transaction() as db:
        rt.storage.destroy_data_key(db, owner_id=beneficiary_id)
    with pytest.raises((ResourceNotFound, DataKeyDestroyed)):
        read_patient(rt, beneficiary_id)
    nir = next(r["nir"] for r in rows if _id(rt, r["nir"]) == beneficiary_id)
    with rt.transaction(readonly=True) as db, pytest.raises(DataKeyDestroyed):
        enrollment_service.find_beneficiary(db, storage=rt.storage, nir=nir)


def _id(rt: Runtime, nir: str) -> str | None:
    with rt.transaction(readonly=True) as db:
        table = models.beneficiary
        index = rt.storage.blind_index("enrollment-nir", nir)
        return db.execute(select(table.c.id).where(table.c.nir_index == index)).scalar()


def test_opening_twice_is_a_no_op(rt: Runtime, rows: list[Row]) -> None:
    beneficiary_id = holders_among(rt, with_status(rt, Status.NOTIFIED))[0]
    with rt.transaction() as db:
        assert open_one(rt, db, beneficiary_id) is True
    with rt.transaction() as db:
        assert open_one(rt, db, beneficiary_id) is False
        assert open_one(rt, db, beneficiary_id, opened_by="activation") is False
    assert spaces_count(rt) == 1
    with rt.transaction(readonly=True) as db:
        events = db.execute(
            select(audit_models.event.c.tag, audit_models.event.c.outcome).where(
                audit_models.event.c.chain_id == beneficiary_id,
                audit_models.event.c.tag == "enrollment:space:open",
            )
        ).all()
    assert [tuple(e) for e in events] == [("enrollment:space:open", "success")]
    assert len(emails_of_kind(rt, opening.OPENED_TEMPLATE)) == 1


@pytest.mark.parametrize(
    ("status", "opened_by", "reason"),
    [
        (Status.DECEASED, "request", "deceased"),
        (Status.OPPOSED, "activation", "opposed"),
        (Status.OPPOSED, "automatic", "opposed"),
        (Status.SUSPENDED, "request", "suspended"),
        (Status.CLOSED, "request", "closed"),
        (Status.ERASED, "request", "erased"),
        (Status.NOTIFIED, "automatic", "not-notified"),  # its window has not ended
    ],
)
def test_refusals_are_specific_audited_and_write_nothing(
    rt: Runtime, rows: list[Row], status: Status, opened_by: str, reason: str
) -> None:
    beneficiary_id = holders_among(rt, with_status(rt, Status.NOTIFIED))[0]
    set_status(rt, beneficiary_id, status)
    with rt.transaction() as db, pytest.raises(SpaceNotOpenable) as refused:
        open_one(rt, db, beneficiary_id, opened_by=opened_by)
    assert refused.value.reason == reason
    assert spaces_count(rt) == 0
    assert statuses(rt)[beneficiary_id] == status.value
    with rt.transaction(readonly=True) as db:
        outcome = db.execute(
            select(audit_models.event.c.outcome).where(
                audit_models.event.c.chain_id == beneficiary_id,
                audit_models.event.c.tag == "enrollment:space:open",
            )
        ).scalar_one()
    assert outcome == "refused"
    with pytest.raises(ResourceNotFound):
        read_patient(rt, beneficiary_id)


def test_an_opposed_person_who_asks_gets_a_space_without_the_dmp_merge(
    rt: Runtime, rows: list[Row]
) -> None:
    beneficiary_id = holders_among(rt, with_status(rt, Status.NOTIFIED))[0]
    set_status(rt, beneficiary_id, Status.OPPOSED)
    with rt.transaction() as db:
        assert open_one(rt, db, beneficiary_id, opened_by="request", dmp_merge=False)
        space = rt.enrollment.opening.space(db, patient_id=beneficiary_id)
    assert space is not None and (space.opened_by, space.dmp_merge) == ("request", "refused")
    assert statuses(rt)[beneficiary_id] == Status.OPEN.value
    with rt.transaction() as db, pytest.raises(SpaceNotOpenable) as refused:
        open_one(rt, db, "no-such-person")
    assert refused.value.reason == "unknown"


def test_a_crash_mid_batch_then_a_rerun_opens_everyone_exactly_once(
    rt: Runtime, rows: list[Row]
) -> None:
    notified = with_status(rt, Status.NOTIFIED)
    clock(rt).advance(WINDOW + timedelta(days=1))
    merged: list[str] = []

    class CrashingMerge:
        """Merges the first four, then the process dies in the middle of the second batch."""

        def merge(self, db: Connection, *, patient_id: str) -> str:
            if len(merged) == 4:
                raise RuntimeError("killed")
            merged.append(patient_id)
            return "merged"

    openings = rt.enrollment.opening
    openings.dmp = CrashingMerge()  # type: ignore[assignment]
    try:
        with pytest.raises(RuntimeError):
            openings.open_due(rt.transaction, batch=3)
    finally:
        openings.dmp = NothingToMerge()
    # The first batch committed; the second rolled back whole (its fourth person too).
    assert spaces_count(rt) == 3
    assert len(with_status(rt, Status.OPEN)) == 3
    report = openings.open_due(rt.transaction, batch=3)
    assert report.opened == len(notified) - 3
    assert spaces_count(rt) == len(notified)
    with rt.transaction(readonly=True) as db:
        patients = db.execute(
            select(func.count())
            .select_from(models.space)
            .where(models.space.c.dmp_merge == "merged")
        ).scalar_one()
        opened_events = db.execute(
            select(func.count())
            .select_from(audit_models.event)
            .where(audit_models.event.c.tag == "enrollment:space:open")
        ).scalar_one()
    assert patients == 3
    assert opened_events == len(notified)
    assert len(emails_of_kind(rt, opening.OPENED_TEMPLATE)) == len(holders_among(rt, notified))
    with rt.transaction(readonly=True) as db:
        assert rt.audit.verify(db).ok


def test_the_periodic_job_walks_in_steps_until_everyone_due_is_open(
    rt: Runtime, rows: list[Row]
) -> None:
    notified = with_status(rt, Status.NOTIFIED)
    clock(rt).advance(WINDOW + timedelta(days=1))
    with rt.transaction() as db:
        rt.jobs.enqueue(db, kind=opening.OPENING_STEP_JOB, payload={"after": ""})
    rt.worker(name="test").run_until_idle()
    assert sorted(with_status(rt, Status.OPEN)) == notified
    with rt.transaction(readonly=True) as db:
        failed = db.execute(
            select(func.count())
            .select_from(jobs_models.job)
            .where(jobs_models.job.c.status == "failed")
        ).scalar_one()
    assert failed == 0


def test_first_choices_are_recorded_and_audited(rt: Runtime, rows: list[Row]) -> None:
    beneficiary_id = holders_among(rt, with_status(rt, Status.NOTIFIED))[0]
    openings = rt.enrollment.opening
    with rt.transaction() as db, pytest.raises(NoSpace):
        openings.choose(
            db,
            actor=CARNET,
            patient_id=beneficiary_id,
            default_confidentiality="masked",
            samu_access=True,
            break_glass_access=True,
            emergency_masked_access=False,
        )
    with rt.transaction() as db:
        open_one(rt, db, beneficiary_id, opened_by="activation")
        space = openings.choose(
            db,
            actor=CARNET,
            patient_id=beneficiary_id,
            default_confidentiality="masked",
            samu_access=False,
            break_glass_access=True,
            emergency_masked_access=True,
        )
    assert (space.default_confidentiality, space.samu_access, space.emergency_masked_access) == (
        "masked",
        False,
        True,
    )
    with rt.transaction() as db, pytest.raises(InvalidInput):
        openings.choose(
            db,
            actor=CARNET,
            patient_id=beneficiary_id,
            default_confidentiality="secret",  # type: ignore[arg-type]
            samu_access=True,
            break_glass_access=True,
            emergency_masked_access=False,
        )
    with rt.transaction(readonly=True) as db:
        detail = db.execute(
            select(audit_models.event.c.detail).where(
                audit_models.event.c.chain_id == beneficiary_id,
                audit_models.event.c.tag == "enrollment:space:choose",
                audit_models.event.c.outcome == "success",
            )
        ).scalar_one()
    assert orjson.loads(detail)["changed"] == [
        "default_confidentiality",
        "emergency_masked_access",
        "samu_access",
    ]


def test_the_command_line_opens_what_is_due_and_names_nobody(
    rt: Runtime, rows: list[Row], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    notified = with_status(rt, Status.NOTIFIED)
    # The command runs on the system clock: windows that ended long ago.
    with rt.transaction() as db:
        db.execute(update(models.notice).values(opposition_ends=date(2020, 1, 1)))
    monkeypatch.setenv("CARNET_ENVIRONMENT", "test")
    monkeypatch.setenv("CARNET_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("CARNET_DATABASE__URL", rt.settings.database_url)
    monkeypatch.setenv("CARNET_JOBS__WORKER_IN_SERVER", "false")
    result = CliRunner().invoke(app, ["enrollment", "open", "--batch", "4"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    output = " ".join(result.output.split())
    assert f"{len(notified)} spaces opened in" in output
    assert sorted(with_status(rt, Status.OPEN)) == notified
    for row in rows:
        assert row["nir"] not in output and row["nom_naissance"] not in output
    result = CliRunner().invoke(app, ["enrollment", "open"], catch_exceptions=False)
    assert "0 spaces opened" in " ".join(result.output.split())


def test_two_runners_at_once_open_everyone_exactly_once(rt: Runtime, rows: list[Row]) -> None:
    notified = with_status(rt, Status.NOTIFIED)
    clock(rt).advance(WINDOW + timedelta(days=1))
    reports: list[enrollment_service.OpeningReport] = []

    def run() -> None:
        reports.append(rt.enrollment.opening.open_due(rt.transaction, batch=2))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    rest = open_due(rt)  # whatever a runner walked past while the other held it
    assert sum(r.opened for r in reports) + rest.opened == len(notified)
    assert spaces_count(rt) == len(notified)
    with rt.transaction(readonly=True) as db:
        opened_events = db.execute(
            select(func.count())
            .select_from(audit_models.event)
            .where(audit_models.event.c.tag == "enrollment:space:open")
        ).scalar_one()
        assert rt.audit.verify(db).ok
    assert opened_events == len(notified)
