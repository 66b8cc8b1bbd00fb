"""The operators' console on a real database: the dashboard's counts per département, a person
found by NIR (masked, audited on their chain), a campaign's notices, and a new code sent by an
operator."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from tests.conftest import make_settings
from tests.enrollment.conftest import write_file

from carnet.audit import models as audit_models
from carnet.core.actor import CARNET, Actor, ActorKind
from carnet.core.clock import FrozenClock
from carnet.core.errors import NotFound
from carnet.demo.registry_extract import synthetic_registry
from carnet.enrollment import errors
from carnet.enrollment import service as enrollment_service
from carnet.enrollment.schemas import CodeResent, NoticeStatus
from carnet.identity import service as identity_service
from carnet.notify.adapters.local import MemoryEmailSender
from carnet.runtime import Runtime, build_runtime

Status = enrollment_service.BeneficiaryStatus
OPERATOR = Actor(kind=ActorKind.OPERATOR, id="operator-7")
CODE = re.compile(r"\b[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}\b")
Row = dict[str, str]


@pytest.fixture
def rt(fresh_database_url: str, tmp_path: Path) -> Iterator[Runtime]:
    settings = make_settings(
        fresh_database_url,
        tmp_path / "var",
        public_base_url="https://carnet.example.fr",
        enrollment={"campaign_batch": 5},
    )
    clock = FrozenClock(datetime(2026, 11, 26, 9, 0, tzinfo=UTC))
    runtime = build_runtime(settings, clock=clock, configure_logs=False)
    yield runtime
    runtime.close()


@pytest.fixture
def rows(rt: Runtime, tmp_path: Path) -> list[Row]:
    """60 generated lines imported, the pilot départements informed."""
    generated = list(synthetic_registry(60, seed=11))
    enrollment_service.import_registry(
        source=write_file(tmp_path / "registry.txt", generated),
        storage=rt.storage,
        audit=rt.audit,
        transaction=rt.transaction,
    )
    with rt.transaction() as db:
        rt.enrollment.start_campaign(
            db, actor=CARNET, departements="31,44,80", send_date=date(2026, 11, 26)
        )
    rt.worker(name="test").run_until_idle()
    return generated


def emails(rt: Runtime) -> MemoryEmailSender:
    sender = rt.notify.email
    assert isinstance(sender, MemoryEmailSender)
    return sender


def informed(rows: list[Row], *, email: bool) -> list[Row]:
    return [
        r
        for r in rows
        if not r["nir_ouvrant_droit"]
        and r["departement"] in enrollment_service.PILOT_DEPARTEMENTS
        and bool(r["email"]) is email
    ]


def lookup(rt: Runtime, nir: str):  # type: ignore[no-untyped-def]
    with rt.transaction() as db:
        return rt.enrollment.console.lookup(db, actor=OPERATOR, nir=nir)


def events(rt: Runtime, tag: str) -> list[tuple[str, str, str, str]]:
    event = audit_models.event
    with rt.transaction(readonly=True) as db:
        found = db.execute(
            select(event.c.chain_id, event.c.actor_id, event.c.outcome, event.c.detail)
            .where(event.c.tag == tag)
            .order_by(event.c.recorded_at, event.c.seq)
        )
        return [(r.chain_id, r.actor_id, r.outcome, r.detail or "") for r in found]


def test_the_dashboard_counts_each_departement_by_status_and_notice(
    rt: Runtime, rows: list[Row], tmp_path: Path
) -> None:
    bounced = informed(rows, email=True)[0]
    with rt.transaction() as db:
        person = enrollment_service.find_beneficiary(db, storage=rt.storage, nir=bounced["nir"])
        assert person is not None
        notice_id = rt.enrollment.notices(db, beneficiary_id=person.id)[0][0]
        rt.enrollment.record_bounce(db, notice_id=notice_id)
    printed = rt.enrollment.print_letters(rt.transaction, tmp_path / "letters")
    with rt.transaction(readonly=True) as db:
        board = {c.departement: c for c in rt.enrollment.console.dashboard(db)}

    assert set(board) == {r["departement"] for r in rows}
    assert sum(c.beneficiaries for c in board.values()) == len(rows)
    pilots = enrollment_service.PILOT_DEPARTEMENTS
    informed_holders = {
        r["nir"] for r in rows if not r["nir_ouvrant_droit"] and r["departement"] in pilots
    }
    for departement, counts in board.items():
        people = [r for r in rows if r["departement"] == departement]
        holders = [r for r in people if not r["nir_ouvrant_droit"]]
        # Children are informed with their holder (and follow them to notified).
        children = [r for r in people if r["nir_ouvrant_droit"] in informed_holders]
        assert counts.beneficiaries == len(people)
        if departement in pilots:
            # Every holder informed (the letters printed turn them notified), children too.
            assert (counts.notified, counts.letter_due) == (len(holders) + len(children), 0)
            assert counts.registered == len(people) - len(holders) - len(children)
            assert counts.letters_printed == len(
                [r for r in holders if not r["email"] or r is bounced]
            )
            assert counts.bounced == (1 if bounced["departement"] == departement else 0)
        else:
            assert (counts.registered, counts.notified, counts.letters_printed) == (
                len(people) - len(children),
                len(children),
                0,
            )
        assert counts.opposed == counts.opened == counts.activated == counts.closed == 0
    assert sum(c.letters_printed for c in board.values()) == printed.letters


def test_a_campaign_counts_its_notices_by_status(rt: Runtime, rows: list[Row]) -> None:
    with rt.transaction(readonly=True) as db:
        (campaign,) = rt.enrollment.campaigns(db)
        counts = rt.enrollment.console.campaign_notices(db, campaign_id=campaign.id)
        with pytest.raises(NotFound):
            rt.enrollment.console.campaign_notices(db, campaign_id="nope")
    assert counts == {
        NoticeStatus.QUEUED.value: len(informed(rows, email=True)),
        NoticeStatus.BOUNCED.value: 0,
        NoticeStatus.LETTER_DUE.value: len(informed(rows, email=False)),
        NoticeStatus.LETTER_SENT.value: 0,
    }


def test_a_lookup_shows_the_person_masked_and_is_audited_on_their_chain(
    rt: Runtime, rows: list[Row]
) -> None:
    row = informed(rows, email=True)[0]
    person = lookup(rt, " ".join([row["nir"][:7], row["nir"][7:]]).lower())
    assert person is not None
    assert person.status is Status.NOTIFIED
    assert person.given_names == row["prenoms"]
    assert person.birth_date == date.fromisoformat(row["date_naissance"])
    assert row["nir"] not in person.nir_masked and person.nir_masked.startswith(row["nir"][0])
    assert person.email_masked.endswith("@" + row["email"].split("@")[1])
    assert row["email"] not in person.email_masked
    assert row["nir"] not in repr(person) and row["prenoms"] not in repr(person)
    assert [n.status for n in person.notices] == [NoticeStatus.QUEUED]
    assert person.notices[0].opposition_ends == date(2027, 1, 7)
    assert person.code_expires_at is not None and person.space is None
    assert events(rt, "enrollment:console:lookup") == [(person.id, "operator-7", "success", "{}")]


def test_an_unknown_nir_is_audited_on_the_system_chain(rt: Runtime, rows: list[Row]) -> None:
    del rows
    first13 = "2991299999123"
    unknown = first13 + identity_service.nir_key(first13)
    assert lookup(rt, unknown) is None
    assert events(rt, "enrollment:console:lookup") == [("_system", "operator-7", "not-found", "{}")]


@pytest.mark.parametrize(
    ("typed", "rule"),
    [("123", "format"), ("2991299999123XX", "format"), ("299129999912300", "key")],
)
def test_what_is_not_a_nir_is_refused(rt: Runtime, typed: str, rule: str) -> None:
    with pytest.raises(errors.InvalidNir) as refused:
        lookup(rt, typed)
    assert refused.value.rule == rule
    assert typed not in str(refused.value)


def test_an_operator_sends_a_new_code_that_replaces_the_old_one(
    rt: Runtime, rows: list[Row]
) -> None:
    row = informed(rows, email=True)[0]
    person = lookup(rt, row["nir"])
    assert person is not None
    old = CODE.search(next(m.text for m in emails(rt).outbox if m.to == row["email"]))
    assert old is not None
    with rt.transaction() as db:
        done = rt.enrollment.console.resend_code(db, actor=OPERATOR, beneficiary_id=person.id)
    assert done is CodeResent.EMAILED
    rt.worker(name="test").run_until_idle()
    message = [m for m in emails(rt).outbox if m.to == row["email"]][-1]
    assert message.kind == "activation_code"
    new = CODE.search(message.text)
    assert new is not None and row["nir"] not in message.text
    with rt.transaction() as db:
        assert rt.enrollment.use_activation_code(db, nir=row["nir"], code=old.group()) is None
        used = rt.enrollment.use_activation_code(db, nir=row["nir"], code=new.group())
    assert used == person.id
    resends = events(rt, "enrollment:console:code-resend")
    assert [(chain, actor, outcome) for chain, actor, outcome, _ in resends] == [
        (person.id, "operator-7", "success")
    ]
    assert "emailed" in resends[0][3]


def test_without_a_usable_e_mail_the_letter_due_carries_the_code(
    rt: Runtime, rows: list[Row]
) -> None:
    row = informed(rows, email=False)[0]
    person = lookup(rt, row["nir"])
    assert person is not None and person.status is Status.LETTER_DUE
    sent = len(emails(rt).outbox)
    with rt.transaction() as db:
        done = rt.enrollment.console.resend_code(db, actor=OPERATOR, beneficiary_id=person.id)
    assert done is CodeResent.LETTER_PENDING
    rt.worker(name="test").run_until_idle()
    assert len(emails(rt).outbox) == sent


def test_no_code_for_people_not_waiting_for_one(rt: Runtime, rows: list[Row]) -> None:
    waiting = [r for r in rows if r["departement"] not in enrollment_service.PILOT_DEPARTEMENTS]
    child = next(r for r in rows if r["nir_ouvrant_droit"])
    reasons: Counter[str] = Counter()
    for row, reason in (
        (next(r for r in waiting if not r["nir_ouvrant_droit"]), "not-informed"),
        (child, "dependant"),
    ):
        person = lookup(rt, row["nir"])
        assert person is not None
        with rt.transaction() as db, pytest.raises(errors.CodeNotResent) as refused:
            rt.enrollment.console.resend_code(db, actor=OPERATOR, beneficiary_id=person.id)
        assert refused.value.reason == reason
        reasons[reason] += 1
    with rt.transaction() as db, pytest.raises(NotFound):
        rt.enrollment.console.resend_code(db, actor=OPERATOR, beneficiary_id="nobody")
    outcomes = [outcome for _, _, outcome, _ in events(rt, "enrollment:console:code-resend")]
    assert outcomes == ["refused", "refused"]
    assert reasons == {"not-informed": 1, "dependant": 1}


def test_a_lookup_shows_the_space_once_open(rt: Runtime, rows: list[Row]) -> None:
    row = informed(rows, email=True)[1]
    person = lookup(rt, row["nir"])
    assert person is not None and person.space is None
    with rt.transaction() as db:
        rt.enrollment.opening.open(db, actor=CARNET, beneficiary_id=person.id, opened_by="request")
    opened = lookup(rt, row["nir"])
    assert opened is not None and opened.status is Status.OPEN
    assert opened.space is not None
    assert (opened.space.opened_by, opened.space.activated_at) == ("request", None)
    with rt.transaction() as db:
        done = rt.enrollment.console.resend_code(db, actor=OPERATOR, beneficiary_id=person.id)
    assert done is CodeResent.EMAILED  # an open space still waits for its activation
