"""Opposition end to end on a real database: a generated registry is imported and informed by a
campaign, then people oppose online (code + NIR + Vitale serial + birth date) or by phone
through an operator, get a PDF proof, and later change their mind and ask for a space."""

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
from tests.enrollment.pdf_reader import pages, read_pdf, texts

from carnet.audit import models as audit_models
from carnet.core.actor import CARNET, Actor, ActorKind
from carnet.core.clock import FrozenClock
from carnet.core.errors import InvalidInput, NotFound
from carnet.demo.registry_extract import synthetic_registry
from carnet.enrollment import models
from carnet.enrollment import service as enrollment_service
from carnet.enrollment.errors import (
    ActivationCodeRefused,
    IdentityMismatch,
    InvalidNir,
    NotOpposed,
    OppositionWindowClosed,
    TooManyTries,
)
from carnet.enrollment.schemas import CodeChannel, OppositionChannel, OppositionReceipt
from carnet.notify.adapters.local import MemoryEmailSender
from carnet.runtime import Runtime, build_runtime

Status = enrollment_service.BeneficiaryStatus
CODE = re.compile(r"\b[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}\b")
REFERENCE = re.compile(r"\bOPP-[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}\b")
TODAY = date(2026, 11, 26)
OPERATOR = Actor(kind=ActorKind.OPERATOR, id="operator-7", label="Conseiller 7")
ADDRESS = "203.0.113.9"
Row = dict[str, str]


@pytest.fixture
def rt(fresh_database_url: str, tmp_path: Path) -> Iterator[Runtime]:
    settings = make_settings(
        fresh_database_url,
        tmp_path / "var",
        enrollment={"regeneration_failures": 3, "address_failures": 5, "code_days": 3},
    )
    clock = FrozenClock(datetime(2026, 11, 26, 9, 0, tzinfo=UTC))
    runtime = build_runtime(settings, clock=clock, configure_logs=False)
    yield runtime
    runtime.close()


@pytest.fixture
def rows(rt: Runtime, tmp_path: Path) -> list[Row]:
    """A generated registry of 60 lines, imported, and its pilot départements informed."""
    generated = list(synthetic_registry(60, seed=11))
    report = enrollment_service.import_registry(
        source=write_file(tmp_path / "registry.txt", generated),
        storage=rt.storage,
        audit=rt.audit,
        transaction=rt.transaction,
    )
    assert report.lines_rejected == 0
    with rt.transaction() as db:
        rt.enrollment.start_campaign(db, actor=CARNET, departements="31,44,80", send_date=TODAY)
    run_jobs(rt)
    return generated


def run_jobs(rt: Runtime) -> None:
    rt.worker(name="test").run_until_idle()


def emails(rt: Runtime) -> MemoryEmailSender:
    sender = rt.notify.email
    assert isinstance(sender, MemoryEmailSender)
    return sender


def informed(rows: list[Row], *, email: bool = True) -> list[Row]:
    return [
        r
        for r in rows
        if not r["nir_ouvrant_droit"]
        and r["departement"] in {"31", "44", "80"}
        and bool(r["email"]) is email
    ]


def code_of(rt: Runtime, row: Row, kind: str = "space_opening") -> str:
    sent = [m for m in emails(rt).outbox if m.to == row["email"] and m.kind == kind]
    assert sent
    found = CODE.search(sent[-1].text)
    assert found is not None
    return found.group()


def oppose(
    rt: Runtime,
    row: Row,
    code: str,
    *,
    for_children: str = "",
    child_nir: str | None = None,
    **changes: str,
) -> OppositionReceipt:
    values = {
        "nir": row["nir"],
        "vitale_serial": row["numero_serie_vitale"],
        "birth_date": row["date_naissance"],
        "address": ADDRESS,
    } | changes
    with rt.transaction() as db:
        return rt.enrollment.opposition.oppose_online(
            db,
            nir=values["nir"],
            code=code,
            vitale_serial=values["vitale_serial"],
            birth_date=date.fromisoformat(values["birth_date"]),
            client_address=values["address"],
            for_children=bool(for_children),
            child_nir=child_nir,
        )


def by_phone(rt: Runtime, row: Row, actor: Actor = OPERATOR) -> OppositionReceipt:
    with rt.transaction() as db:
        return rt.enrollment.opposition.oppose_by_phone(
            db,
            actor=actor,
            nir=row["nir"],
            vitale_serial=row["numero_serie_vitale"],
            birth_date=date.fromisoformat(row["date_naissance"]),
        )


def ask(rt: Runtime, row: Row, **changes: str):
    values = {"vitale_serial": row["numero_serie_vitale"], "birth": row["date_naissance"]}
    values |= changes
    with rt.transaction() as db:
        return rt.enrollment.opposition.ask_for_space(
            db,
            nir=row["nir"],
            vitale_serial=values["vitale_serial"],
            birth_date=date.fromisoformat(values["birth"]),
            client_address=ADDRESS,
        )


def status_of(rt: Runtime, row: Row) -> Status:
    with rt.transaction(readonly=True) as db:
        found = enrollment_service.find_beneficiary(db, storage=rt.storage, nir=row["nir"])
    assert found is not None
    return found.status


def events(rt: Runtime, tag: str) -> list[tuple[str, str, str | None, dict[str, object]]]:
    event = audit_models.event
    with rt.transaction(readonly=True) as db:
        found = db.execute(
            select(event.c.outcome, event.c.actor_id, event.c.chain_id, event.c.detail)
            .where(event.c.tag == tag)
            .order_by(event.c.recorded_at, event.c.chain_id, event.c.seq)
        ).all()
    return [(o, a, p, json.loads(d)) for o, a, p, d in found]


def use(rt: Runtime, row: Row, code: str) -> str | None:
    with rt.transaction() as db:
        return rt.enrollment.use_activation_code(db, nir=row["nir"], code=code)


def proof_lines(pdf: bytes) -> list[str]:
    (content,) = pages(read_pdf(pdf))
    return [t.text for t in texts(content)]


def test_an_online_opposition_is_recorded_told_and_proved(rt: Runtime, rows: list[Row]) -> None:
    row = informed(rows)[0]
    code = code_of(rt, row)
    receipt = oppose(rt, row, code)
    assert REFERENCE.fullmatch(receipt.reference)
    assert (receipt.channel, receipt.operator, receipt.dmp_merge_refused) == (
        OppositionChannel.ONLINE,
        None,
        True,
    )
    assert not receipt.repeated
    assert status_of(rt, row) is Status.OPPOSED
    assert use(rt, row, code) is None  # used up: nothing left to activate

    run_jobs(rt)
    [told] = [m for m in emails(rt).outbox if m.kind == "space_opposition"]
    assert told.to == row["email"]
    assert receipt.reference in told.text
    assert "http://testserver/opposition/demander-un-profil" in told.text
    assert row["nir"] not in told.text and row["nom_naissance"] not in told.text

    with rt.transaction() as db:
        pdf = rt.enrollment.opposition.proof_pdf(db, actor=OPERATOR, receipt=receipt.reference)
    lines = proof_lines(pdf)
    text = "\n".join(lines)
    assert receipt.reference in lines
    assert row["nom_naissance"].upper() in text or row["nom_usage"].upper() in text
    assert f"{row['nir'][0]} {row['nir'][1:3]} {row['nir'][3:5]} ** *** *** **" in lines
    assert row["nir"] not in text and row["nir"][5:13] not in text
    assert "en ligne, avec votre code personnel" in lines
    assert "26 novembre 2026 à 10:00" in text  # Paris time
    assert "dossier médical partagé" in text
    [recorded] = events(rt, "enrollment:opposition:record")
    assert recorded[0] == "success" and recorded[3]["channel"] == "online"
    assert events(rt, "enrollment:opposition:proof")[0][1] == "operator-7"


def test_opposing_twice_gives_the_same_receipt(rt: Runtime, rows: list[Row]) -> None:
    row = informed(rows)[0]
    code = code_of(rt, row)
    first = oppose(rt, row, code)
    again = oppose(rt, row, code.lower())
    assert (again.reference, again.opposed_at, again.repeated) == (
        first.reference,
        first.opposed_at,
        True,
    )
    phoned = by_phone(rt, row)
    assert (phoned.reference, phoned.channel, phoned.repeated) == (
        first.reference,
        OppositionChannel.ONLINE,
        True,
    )
    with rt.transaction(readonly=True) as db:
        assert len(db.execute(select(models.opposition)).all()) == 1
    with pytest.raises(ActivationCodeRefused):
        oppose(rt, row, "AAAA-BBBB-CCCC")  # another code: refused, as any wrong code


def test_wrong_details_are_refused_and_change_nothing(rt: Runtime, rows: list[Row]) -> None:
    row = informed(rows)[0]
    code = code_of(rt, row)
    bad_key = row["nir"][:13] + f"{(int(row['nir'][13:]) + 1) % 100:02d}"
    with pytest.raises(InvalidNir) as invalid:
        oppose(rt, row, code, nir=bad_key)
    assert invalid.value.rule == "key"
    with pytest.raises(ActivationCodeRefused) as wrong:
        oppose(rt, row, "AAAA-BBBB-CCCC")
    assert wrong.value.reason == "wrong"
    with pytest.raises(IdentityMismatch):
        oppose(rt, row, code, vitale_serial="1" * len(row["numero_serie_vitale"]))
    # The third slip locks the NIR: it is told so, and even the right details wait now.
    with pytest.raises(TooManyTries):
        oppose(rt, row, code, birth_date="1950-01-01")
    with pytest.raises(TooManyTries):
        oppose(rt, row, code)
    assert status_of(rt, row) is Status.NOTIFIED
    with rt.transaction(readonly=True) as db:
        assert db.execute(select(models.opposition)).all() == []
    assert isinstance(rt.clock, FrozenClock)
    rt.clock.advance(timedelta(minutes=rt.settings.enrollment.regeneration_lockout_minutes))
    assert oppose(rt, row, code).reference
    reasons = [e[3]["reason"] for e in events(rt, "enrollment:opposition:record")]
    assert sorted(reasons) == ["code-wrong", "locked", "mismatch", "mismatch", "recorded"]
    flags = [e[3].get("locked") for e in events(rt, "enrollment:opposition:record")]
    assert sorted(flag for flag in flags if flag is not None) == [False, False, True]


def test_tries_are_counted_per_client_address(rt: Runtime, rows: list[Row]) -> None:
    people = informed(rows)
    for row in people[:2]:
        with pytest.raises(IdentityMismatch):
            oppose(rt, row, "AAAA-BBBB-CCCC", birth_date="1950-01-01")
        with pytest.raises(IdentityMismatch):
            oppose(rt, row, "AAAA-BBBB-CCCC", birth_date="1950-01-02")
    with pytest.raises(TooManyTries):  # the fifth from one address, on yet another NIR
        oppose(rt, people[2], "AAAA-BBBB-CCCC", birth_date="1950-01-01")
    with pytest.raises(TooManyTries):
        oppose(rt, people[3], code_of(rt, people[3]))
    assert oppose(rt, people[3], code_of(rt, people[3]), address="198.51.100.4").reference


def test_used_and_expired_codes_are_told_apart(rt: Runtime, rows: list[Row]) -> None:
    row, other = informed(rows)[:2]
    old = code_of(rt, row)
    with rt.transaction() as db:
        rt.enrollment.regenerate_code(
            db,
            nir=row["nir"],
            vitale_serial=row["numero_serie_vitale"],
            birth_date=date.fromisoformat(row["date_naissance"]),
            channel=CodeChannel.EMAIL,
        )
    with pytest.raises(ActivationCodeRefused) as used:
        oppose(rt, row, old)
    assert used.value.reason == "used"
    assert isinstance(rt.clock, FrozenClock)
    rt.clock.advance(timedelta(days=4))  # past the code's 3 days, within the window
    with pytest.raises(ActivationCodeRefused) as expired:
        oppose(rt, other, code_of(rt, other))
    assert expired.value.reason == "expired"


def test_after_the_window_the_space_can_only_be_closed(rt: Runtime, rows: list[Row]) -> None:
    row = informed(rows)[0]
    assert isinstance(rt.clock, FrozenClock)
    # The window ends on 7 January 2027 (26 November + 6 weeks), that day included.
    rt.clock.advance(timedelta(days=42, hours=13))  # 7 January, 23:00 in Paris
    assert by_phone(rt, informed(rows)[1]).reference
    rt.clock.advance(timedelta(hours=1))
    with pytest.raises(OppositionWindowClosed):
        by_phone(rt, row)
    assert status_of(rt, row) is Status.NOTIFIED
    reasons = [e[3]["reason"] for e in events(rt, "enrollment:opposition:record")]
    assert reasons == ["recorded", "window-closed"]


def test_an_open_space_cannot_be_opposed(rt: Runtime, rows: list[Row]) -> None:
    row = informed(rows)[0]
    code = code_of(rt, row)
    opposed = informed(rows)[1]
    by_phone(rt, opposed)
    ask(rt, opposed)  # now open
    with pytest.raises(OppositionWindowClosed):
        by_phone(rt, opposed)
    with rt.transaction() as db:
        rt.enrollment.opening.open(
            db, actor=CARNET, beneficiary_id=status_id(rt, row), opened_by="activation"
        )
    with pytest.raises(OppositionWindowClosed):
        oppose(rt, row, code)


def status_id(rt: Runtime, row: Row) -> str:
    with rt.transaction(readonly=True) as db:
        found = enrollment_service.find_beneficiary(db, storage=rt.storage, nir=row["nir"])
    assert found is not None
    return found.id


def test_an_operator_records_an_opposition_by_phone(rt: Runtime, rows: list[Row]) -> None:
    row = informed(rows, email=False)[0]  # waiting for a letter: no e-mail, no code needed
    assert status_of(rt, row) is Status.LETTER_DUE
    receipt = by_phone(rt, row)
    assert (receipt.channel, receipt.operator) == (OppositionChannel.PHONE, "operator:operator-7")
    assert status_of(rt, row) is Status.OPPOSED
    with rt.transaction(readonly=True) as db:
        found = rt.enrollment.opposition.receipt_for(db, beneficiary_id=receipt.beneficiary_id)
        assert found == receipt
        assert rt.enrollment.opposition.receipt_for(db, beneficiary_id="nobody") is None
    with rt.transaction() as db:
        pdf = rt.enrollment.opposition.proof_pdf(db, actor=OPERATOR, receipt=receipt)
    assert "par téléphone, auprès d’un conseiller" in proof_lines(pdf)
    [recorded] = events(rt, "enrollment:opposition:record")
    assert recorded[:2] == ("success", "operator-7")
    # Nobody else records by phone; a wrong detail is refused, audited with the operator.
    with pytest.raises(InvalidInput):
        by_phone(rt, informed(rows)[0], actor=CARNET)
    wrong = informed(rows)[0] | {"date_naissance": "1950-01-01"}
    with pytest.raises(IdentityMismatch):
        by_phone(rt, wrong)
    refused = [e[:2] for e in events(rt, "enrollment:opposition:record") if e[0] == "refused"]
    assert refused == [("refused", "operator-7")]


def test_changing_ones_mind_opens_the_space_and_sends_a_code(rt: Runtime, rows: list[Row]) -> None:
    row = informed(rows)[0]
    receipt = oppose(rt, row, code_of(rt, row))
    with pytest.raises(IdentityMismatch):
        ask(rt, row, birth="1950-01-01")
    answer = ask(rt, row)
    assert answer.sent_to is CodeChannel.EMAIL
    assert status_of(rt, row) is Status.OPEN
    run_jobs(rt)
    new_code = code_of(rt, row, kind="activation_code")
    assert use(rt, row, new_code) == answer.beneficiary_id
    with rt.transaction(readonly=True) as db:
        space = db.execute(
            select(models.space).where(models.space.c.patient_id == answer.beneficiary_id)
        ).one()
        withdrawn = db.execute(select(models.opposition.c.withdrawn_at)).scalar_one()
    assert (space.opened_by, space.dmp_merge) == ("request", "refused")
    assert withdrawn is not None
    with pytest.raises(NotFound), rt.transaction() as db:
        rt.enrollment.opposition.proof_pdf(db, actor=OPERATOR, receipt=receipt)
    # Asking again, or without having opposed, is refused.
    with pytest.raises(NotOpposed):
        ask(rt, row)
    with pytest.raises(NotOpposed):
        ask(rt, informed(rows)[1])
    outcomes = [(e[0], e[3]["reason"]) for e in events(rt, "enrollment:opposition:withdraw")]
    assert sorted(outcomes) == [
        ("refused", "mismatch"),
        ("refused", "not-opposed"),
        ("refused", "not-opposed"),
        ("success", "opened"),
    ]


def test_a_proof_ticket_works_only_in_its_browser_and_for_a_while(
    rt: Runtime, rows: list[Row]
) -> None:
    row = informed(rows)[0]
    receipt = oppose(rt, row, code_of(rt, row))
    opposition = rt.enrollment.opposition
    ticket = opposition.proof_ticket(receipt, binding="browser-a")
    with rt.transaction() as db:
        pdf = opposition.proof_by_ticket(
            db, reference=receipt.reference, ticket=ticket, binding="browser-a"
        )
    assert pdf.startswith(b"%PDF-")
    for reference, binding in (
        (receipt.reference, "browser-b"),
        ("OPP-AAAA-BBBB-CCCC", "browser-a"),
    ):
        with pytest.raises(NotFound), rt.transaction() as db:
            opposition.proof_by_ticket(db, reference=reference, ticket=ticket, binding=binding)
    assert isinstance(rt.clock, FrozenClock)
    rt.clock.advance(timedelta(minutes=16))
    with pytest.raises(NotFound), rt.transaction() as db:
        opposition.proof_by_ticket(
            db, reference=receipt.reference, ticket=ticket, binding="browser-a"
        )
