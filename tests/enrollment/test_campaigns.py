"""Notification waves end to end on a real database: a generated registry is imported, a
campaign runs as jobs, e-mails leave through the outbox, the rest is marked for letters; then
bounces, activation codes and their regeneration."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from tests.conftest import make_settings
from tests.enrollment.conftest import write_file

from carnet.audit import models as audit_models
from carnet.core.actor import CARNET
from carnet.core.clock import FrozenClock
from carnet.core.errors import InvalidInput, NotFound
from carnet.demo.registry_extract import synthetic_registry
from carnet.enrollment import models
from carnet.enrollment import service as enrollment_service
from carnet.jobs import models as jobs_models
from carnet.notify.adapters.local import MemoryEmailSender, MemorySmsSender
from carnet.runtime import Runtime, build_runtime

Status = enrollment_service.BeneficiaryStatus
Channel = enrollment_service.CodeChannel
PILOTS = enrollment_service.PILOT_DEPARTEMENTS
CODE = re.compile(r"\b[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}\b")
TODAY = date(2026, 11, 26)
Row = dict[str, str]


@pytest.fixture
def rt(fresh_database_url: str, tmp_path: Path) -> Iterator[Runtime]:
    """A runtime on its own database, with a clock the tests move and small campaign steps."""
    settings = make_settings(
        fresh_database_url,
        tmp_path / "var",
        enrollment={"campaign_batch": 3, "regeneration_failures": 3},
    )
    clock = FrozenClock(datetime(2026, 11, 26, 9, 0, tzinfo=UTC))
    runtime = build_runtime(settings, clock=clock, configure_logs=False)
    yield runtime
    runtime.close()


@pytest.fixture
def rows(rt: Runtime, tmp_path: Path) -> list[Row]:
    """A generated registry of 80 lines (holders and children), imported."""
    generated = list(synthetic_registry(80, seed=5))
    report = enrollment_service.import_registry(
        source=write_file(tmp_path / "registry.txt", generated),
        storage=rt.storage,
        audit=rt.audit,
        transaction=rt.transaction,
    )
    assert (report.created, report.lines_rejected) == (80, 0)
    return generated


def emails(rt: Runtime) -> MemoryEmailSender:
    sender = rt.notify.email
    assert isinstance(sender, MemoryEmailSender)
    return sender


def texts(rt: Runtime) -> MemorySmsSender:
    sender = rt.notify.sms
    assert isinstance(sender, MemorySmsSender)
    return sender


def holders(rows: list[Row], departements: tuple[str, ...] = PILOTS) -> list[Row]:
    return [r for r in rows if not r["nir_ouvrant_droit"] and r["departement"] in departements]


def start(rt: Runtime, departements: str = "31,44,80", **options: object) -> str:
    with rt.transaction() as db:
        campaign = rt.enrollment.start_campaign(
            db,
            actor=CARNET,
            departements=departements,
            send_date=TODAY,
            **options,  # type: ignore[arg-type]
        )
    return campaign.id


def run_jobs(rt: Runtime) -> None:
    rt.worker(name="test").run_until_idle()


def status_of(rt: Runtime, nir: str) -> Status:
    with rt.transaction(readonly=True) as db:
        found = enrollment_service.find_beneficiary(db, storage=rt.storage, nir=nir)
    assert found is not None
    return found.status


def id_of(rt: Runtime, nir: str) -> str:
    with rt.transaction(readonly=True) as db:
        found = enrollment_service.find_beneficiary(db, storage=rt.storage, nir=nir)
    assert found is not None
    return found.id


def code_sent_to(rt: Runtime, address: str, kind: str = "space_opening") -> str:
    sent = [m for m in emails(rt).outbox if m.to == address and m.kind == kind]
    assert sent, "no such e-mail"
    found = CODE.search(sent[-1].text)
    assert found is not None
    return found.group()


def use(rt: Runtime, nir: str, code: str) -> str | None:
    with rt.transaction() as db:
        return rt.enrollment.use_activation_code(db, nir=nir, code=code)


def regenerate(
    rt: Runtime,
    row: Row,
    channel: Channel = Channel.EMAIL,
    *,
    address: str | None = None,
    **changes: str,
) -> enrollment_service.CodeRequestAnswer:
    values = {
        "nir": row["nir"],
        "vitale_serial": row["numero_serie_vitale"],
        "birth_date": row["date_naissance"],
    } | changes
    with rt.transaction() as db:
        return rt.enrollment.regenerate_code(
            db,
            nir=values["nir"],
            vitale_serial=values["vitale_serial"],
            birth_date=date.fromisoformat(values["birth_date"]),
            channel=channel,
            client_address=address,
        )


def test_a_campaign_informs_exactly_the_holders_of_its_departements(
    rt: Runtime, rows: list[Row]
) -> None:
    chosen = holders(rows)
    with_email = [r for r in chosen if r["email"]]
    without_email = [r for r in chosen if not r["email"]]
    assert with_email and without_email  # the registry exercises both paths
    campaign_id = start(rt)
    run_jobs(rt)

    sent = [m for m in emails(rt).outbox if m.kind == "space_opening"]
    assert sorted(m.to for m in sent) == sorted(r["email"] for r in with_email)
    for message in sent:
        assert CODE.search(message.text) is not None
        assert "http://testserver/activation" in message.text
        assert "7 janvier 2027" in message.text  # 26 November 2026 + 6 weeks
        assert not {r["nir"] for r in rows} & set(re.findall(r"\w+", message.text))
    for row in with_email:
        assert status_of(rt, row["nir"]) is Status.NOTIFIED
    for row in without_email:
        assert status_of(rt, row["nir"]) is Status.LETTER_DUE
    # Children are informed through their holder's notice (no message of their own) and follow
    # the holder's status; other départements wait for their wave.
    by_nir = {r["nir"]: r for r in chosen}
    children = [r for r in rows if r["nir_ouvrant_droit"] in by_nir]
    assert children
    for child in children:
        holder_status = status_of(rt, by_nir[child["nir_ouvrant_droit"]]["nir"])
        assert status_of(rt, child["nir"]) is holder_status
    untouched = [r for r in rows if r not in chosen and r not in children]
    assert any(r["departement"] not in PILOTS for r in untouched)
    for row in untouched:
        assert status_of(rt, row["nir"]) is Status.REGISTERED

    with rt.transaction(readonly=True) as db:
        campaign = rt.enrollment.campaign(db, campaign_id=campaign_id)
        starts = db.execute(
            select(audit_models.event.c.actor_id, audit_models.event.c.detail).where(
                audit_models.event.c.tag == "enrollment:campaign:start"
            )
        ).all()
    assert campaign.status is enrollment_service.CampaignStatus.FINISHED
    assert (campaign.emailed, campaign.letters_due, campaign.skipped) == (
        len(with_email),
        len(without_email),
        0,
    )
    assert campaign.opposition_ends == date(2027, 1, 7)
    assert [(actor, json.loads(detail)["departements"]) for actor, detail in starts] == [
        ("carnet", ["31", "44", "80"])
    ]


def test_running_again_informs_nobody_twice(rt: Runtime, rows: list[Row]) -> None:
    start(rt)
    run_jobs(rt)
    first = len(emails(rt).outbox)
    second = start(rt, "80,44,31,59")
    run_jobs(rt)
    with rt.transaction(readonly=True) as db:
        campaign = rt.enrollment.campaign(db, campaign_id=second)
    # Only the newly named département's holders are informed by the second campaign.
    new = holders(rows, ("59",))
    assert (campaign.emailed, campaign.letters_due) == (
        len([r for r in new if r["email"]]),
        len([r for r in new if not r["email"]]),
    )
    assert len(emails(rt).outbox) == first + campaign.emailed
    for row in holders(rows):
        with rt.transaction(readonly=True) as db:
            assert len(rt.enrollment.notices(db, beneficiary_id=id_of(rt, row["nir"]))) == 1


def test_a_later_registry_line_does_not_undo_a_notice(
    rt: Runtime, rows: list[Row], tmp_path: Path
) -> None:
    start(rt)
    run_jobs(rt)
    informed = next(r for r in holders(rows) if r["email"])
    moved = [r | {"adresse": "3 rue Neuve"} if r is informed else r for r in rows]
    enrollment_service.import_registry(
        source=write_file(tmp_path / "later.txt", moved),
        storage=rt.storage,
        audit=rt.audit,
        transaction=rt.transaction,
    )
    assert status_of(rt, informed["nir"]) is Status.NOTIFIED


def test_no_code_is_stored_in_clear(rt: Runtime, rows: list[Row]) -> None:
    start(rt)
    run_jobs(rt)
    codes = {code_sent_to(rt, r["email"]) for r in holders(rows) if r["email"]}
    assert len(codes) == len(holders(rows)) - len([r for r in holders(rows) if not r["email"]])
    forms = codes | {code.replace("-", "") for code in codes}
    with rt.transaction(readonly=True) as db:
        stored = db.execute(select(models.activation_code)).all()
        stored += db.execute(select(jobs_models.job)).all()  # the outbox, once sent
        stored += db.execute(select(models.notice)).all()
    assert len(stored) >= len(holders(rows))
    dump = repr(stored)
    assert not [form for form in forms if form in dump]


def test_a_code_works_once(rt: Runtime, rows: list[Row]) -> None:
    start(rt)
    run_jobs(rt)
    row = next(r for r in holders(rows) if r["email"])
    other = next(r for r in holders(rows) if r["email"] and r is not row)
    code = code_sent_to(rt, row["email"])
    assert use(rt, other["nir"], code) is None  # bound to its person
    assert use(rt, row["nir"], code.lower().replace("-", " ")) == id_of(rt, row["nir"])
    assert use(rt, row["nir"], code) is None


def test_a_code_expires(rt: Runtime, rows: list[Row]) -> None:
    start(rt)
    run_jobs(rt)
    row = next(r for r in holders(rows) if r["email"])
    code = code_sent_to(rt, row["email"])
    assert isinstance(rt.clock, FrozenClock)
    rt.clock.advance(rt.settings.enrollment.code_lifetime + timedelta(seconds=1))
    assert use(rt, row["nir"], code) is None


def test_a_bounce_turns_the_person_to_a_letter(rt: Runtime, rows: list[Row]) -> None:
    start(rt)
    run_jobs(rt)
    row = next(r for r in holders(rows) if r["email"])
    with rt.transaction(readonly=True) as db:
        [(notice_id, channel, status)] = rt.enrollment.notices(
            db, beneficiary_id=id_of(rt, row["nir"])
        )
    assert (channel, status) == ("email", "queued")
    with rt.transaction() as db:
        assert rt.enrollment.record_bounce(db, notice_id=notice_id) is True
    with rt.transaction() as db:
        assert rt.enrollment.record_bounce(db, notice_id=notice_id) is False  # once is enough
    assert status_of(rt, row["nir"]) is Status.LETTER_DUE
    with rt.transaction(readonly=True) as db:
        assert rt.enrollment.notices(db, beneficiary_id=id_of(rt, row["nir"])) == [
            (notice_id, "email", "bounced")
        ]
    with pytest.raises(NotFound), rt.transaction() as db:
        rt.enrollment.record_bounce(db, notice_id="no-such-notice")


def test_a_new_code_replaces_the_old_one(rt: Runtime, rows: list[Row]) -> None:
    start(rt)
    run_jobs(rt)
    row = next(r for r in holders(rows) if r["email"] and r["mobile"])
    old = code_sent_to(rt, row["email"])
    answer = regenerate(rt, row)
    run_jobs(rt)
    new = code_sent_to(rt, row["email"], kind="activation_code")
    assert new != old
    assert use(rt, row["nir"], old) is None
    assert use(rt, row["nir"], new) == id_of(rt, row["nir"])

    # By SMS, to the mobile on file, in E.164 form.
    assert regenerate(rt, row, Channel.SMS).channel is Channel.SMS
    run_jobs(rt)
    [sms] = texts(rt).outbox
    assert sms.to == "+33" + row["mobile"][1:]
    by_sms = CODE.search(sms.text)
    assert by_sms is not None
    assert use(rt, row["nir"], by_sms.group()) == id_of(rt, row["nir"])
    assert answer == enrollment_service.CodeRequestAnswer(channel=Channel.EMAIL)


def test_wrong_details_get_the_same_answer_and_lock_the_nir(rt: Runtime, rows: list[Row]) -> None:
    start(rt)
    run_jobs(rt)
    row = next(r for r in holders(rows) if r["email"])
    sent = len(emails(rt).outbox)
    right = regenerate(rt, row)
    run_jobs(rt)
    assert len(emails(rt).outbox) == sent + 1
    wrong_serial = "1" * len(row["numero_serie_vitale"])
    answers = [
        regenerate(rt, row, vitale_serial=wrong_serial),
        regenerate(rt, row, birth_date="1950-01-01"),
        regenerate(rt, row, nir="2" + row["nir"][1:]),  # nobody's NIR: counted apart
    ]
    assert all(answer == right for answer in answers)
    run_jobs(rt)
    assert len(emails(rt).outbox) == sent + 1

    # The third mismatch on one NIR locks it: the right details get the same answer, no code.
    assert regenerate(rt, row, vitale_serial=wrong_serial) == right
    assert regenerate(rt, row) == right
    run_jobs(rt)
    assert len(emails(rt).outbox) == sent + 1
    with rt.transaction(readonly=True) as db:
        outcomes = db.execute(
            select(audit_models.event.c.outcome, audit_models.event.c.detail).where(
                audit_models.event.c.tag == "enrollment:code:regenerate"
            )
        ).all()
    reasons = [(outcome, json.loads(detail)["reason"]) for outcome, detail in outcomes]
    assert reasons.count(("success", "sent")) == 1
    assert reasons[-1] == ("refused", "locked")

    # The lock lasts its window, then the right details work again.
    assert isinstance(rt.clock, FrozenClock)
    rt.clock.advance(timedelta(minutes=rt.settings.enrollment.regeneration_lockout_minutes))
    regenerate(rt, row)
    run_jobs(rt)
    assert len(emails(rt).outbox) == sent + 2


def test_mismatches_from_one_address_lock_that_address(
    fresh_database_url: str, tmp_path: Path
) -> None:
    """Trying many people's NIRs from one address locks the address, whatever the NIRs; the
    same person from another address is not locked out."""
    settings = make_settings(
        fresh_database_url,
        tmp_path / "var",
        enrollment={"regeneration_failures": 3, "address_failures": 4},
    )
    clock = FrozenClock(datetime(2026, 11, 26, 9, 0, tzinfo=UTC))
    rt = build_runtime(settings, clock=clock, configure_logs=False)
    try:
        generated = list(synthetic_registry(80, seed=5))
        enrollment_service.import_registry(
            source=write_file(tmp_path / "registry.txt", generated),
            storage=rt.storage,
            audit=rt.audit,
            transaction=rt.transaction,
        )
        start(rt)
        run_jobs(rt)
        people = [r for r in holders(generated) if r["email"]]
        for other in people[1:5]:  # one slip each: no NIR reaches its own limit
            regenerate(rt, other, address="198.51.100.7", birth_date="1950-01-01")
        sent = len(emails(rt).outbox)
        regenerate(rt, people[0], address="198.51.100.7")  # right details, locked address
        run_jobs(rt)
        assert len(emails(rt).outbox) == sent
        regenerate(rt, people[0], address="203.0.113.20")  # another address: sent
        run_jobs(rt)
        assert len(emails(rt).outbox) == sent + 1
    finally:
        rt.close()


def test_unknown_departements_are_refused(rt: Runtime) -> None:
    with pytest.raises(InvalidInput):
        start(rt, "31,00")
    with rt.transaction(readonly=True) as db:
        assert rt.enrollment.campaigns(db) == []
