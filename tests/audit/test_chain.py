"""The hash-chained audit trail: appends, verification, tamper detection, concurrency."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import Connection, text

from carnet.audit.schemas import AuditRecord
from carnet.audit.tags import EventTag, Outcome
from carnet.core.actor import Actor, ActorKind
from carnet.core.ids import new_id
from carnet.runtime import Runtime

ACTOR = Actor(kind=ActorKind.SYSTEM, id="test-client", label="Test client")


def _append(rt: Runtime, db: Connection, patient_id: str | None, n: int = 1) -> None:
    for i in range(n):
        rt.audit.record(
            db,
            AuditRecord(
                tag=EventTag.RECORD_RESOURCE_READ,
                outcome=Outcome.SUCCESS,
                actor=ACTOR,
                patient_id=patient_id,
                entity=f"Observation/{i}/_history/1",
                detail={"n": i},
            ),
        )


def test_events_chain_per_patient_and_verify(rt: Runtime, db: Connection) -> None:
    a, b = new_id(), new_id()
    _append(rt, db, a, 3)
    _append(rt, db, b, 2)
    _append(rt, db, None, 1)
    events = rt.audit.chain_events(db, chain_id=a)
    assert [e.seq for e in events] == [3, 2, 1]
    assert events[0].actor_label == "Test client"
    assert events[0].id == f"{a}.3"
    assert events[0].detail == {"n": 2}
    report = rt.audit.verify(db)
    assert report.ok, report.first_break
    assert report.events >= 6


def _break(rt: Runtime, db: Connection, chain: str) -> tuple[str, int, str]:
    report = rt.audit.verify(db)
    assert report.first_break is not None, "the change went unnoticed"
    brk = report.first_break
    assert brk.chain_id == chain
    return brk.chain_id, brk.seq, brk.reason


def test_editing_a_row_is_detected(rt: Runtime, db: Connection) -> None:
    chain = new_id()
    _append(rt, db, chain, 3)
    db.execute(
        text("UPDATE audit_event SET actor_id = 'someone-else' WHERE chain_id = :c AND seq = 2"),
        {"c": chain},
    )
    assert _break(rt, db, chain) == (chain, 2, "the event was altered")


def test_deleting_a_middle_row_is_detected(rt: Runtime, db: Connection) -> None:
    chain = new_id()
    _append(rt, db, chain, 3)
    db.execute(text("DELETE FROM audit_event WHERE chain_id = :c AND seq = 2"), {"c": chain})
    assert _break(rt, db, chain)[1] == 2


def test_deleting_the_last_row_is_detected(rt: Runtime, db: Connection) -> None:
    chain = new_id()
    _append(rt, db, chain, 3)
    db.execute(text("DELETE FROM audit_event WHERE chain_id = :c AND seq = 3"), {"c": chain})
    assert _break(rt, db, chain)[1] == 3


def test_deleting_the_tail_and_rewinding_the_head_is_detected(rt: Runtime, db: Connection) -> None:
    """Without the audit key, a head cannot be moved back over deleted events."""
    chain = new_id()
    _append(rt, db, chain, 3)
    db.execute(text("DELETE FROM audit_event WHERE chain_id = :c AND seq = 3"), {"c": chain})
    db.execute(
        text(
            "UPDATE audit_chain_head SET seq = 2, mac = (SELECT mac FROM audit_event "
            "WHERE chain_id = :c AND seq = 2) WHERE chain_id = :c"
        ),
        {"c": chain},
    )
    assert _break(rt, db, chain)[2] == "the chain head was altered"


def test_deleting_a_whole_chain_is_detected(rt: Runtime, db: Connection) -> None:
    chain = new_id()
    _append(rt, db, chain, 2)
    db.execute(text("DELETE FROM audit_event WHERE chain_id = :c"), {"c": chain})
    assert _break(rt, db, chain)[2] == "the chain's events are missing"


def test_inserting_a_row_is_detected(rt: Runtime, db: Connection) -> None:
    chain = new_id()
    _append(rt, db, chain, 2)
    # Shift the last event up and slip a forged one in its place (a plausible-looking MAC).
    db.execute(text("UPDATE audit_event SET seq = 3 WHERE chain_id = :c AND seq = 2"), {"c": chain})
    db.execute(
        text(
            "INSERT INTO audit_event SELECT chain_id, 2, prev_mac, mac, recorded_at, tag, "
            "outcome, actor_kind, actor_id, actor_label, mode, entity, detail, request_id "
            "FROM audit_event WHERE chain_id = :c AND seq = 1"
        ),
        {"c": chain},
    )
    db.execute(text("UPDATE audit_chain_head SET seq = 3 WHERE chain_id = :c"), {"c": chain})
    assert _break(rt, db, chain)[1] == 2


def test_reordering_rows_is_detected(rt: Runtime, db: Connection) -> None:
    chain = new_id()
    _append(rt, db, chain, 3)
    db.execute(
        text("UPDATE audit_event SET seq = 99 WHERE chain_id = :c AND seq = 1"), {"c": chain}
    )
    db.execute(text("UPDATE audit_event SET seq = 1 WHERE chain_id = :c AND seq = 2"), {"c": chain})
    db.execute(
        text("UPDATE audit_event SET seq = 2 WHERE chain_id = :c AND seq = 99"), {"c": chain}
    )
    assert _break(rt, db, chain)[1] == 1


def test_recomputing_a_plain_hash_is_not_enough(rt: Runtime, db: Connection) -> None:
    """Without the audit key, a forger cannot produce a valid MAC for an edited event."""
    import hashlib

    chain = new_id()
    _append(rt, db, chain, 1)
    row = db.execute(text("SELECT * FROM audit_event WHERE chain_id = :c"), {"c": chain}).one()
    forged = hashlib.sha256(b"forged" + row.mac.encode()).hexdigest()
    db.execute(
        text("UPDATE audit_event SET outcome = 'refused', mac = :m WHERE chain_id = :c"),
        {"m": forged, "c": chain},
    )
    db.execute(
        text("UPDATE audit_chain_head SET mac = :m WHERE chain_id = :c"), {"m": forged, "c": chain}
    )
    assert _break(rt, db, chain)[2] == "the event was altered"


@pytest.mark.slow
def test_concurrent_appends_to_one_chain_never_fork(rt: Runtime) -> None:
    chain = new_id()
    threads, per_thread = 8, 25
    errors: list[BaseException] = []

    def hammer() -> None:
        try:
            for _ in range(per_thread):
                with rt.transaction() as db:
                    _append(rt, db, chain)
        except BaseException as exc:
            errors.append(exc)

    workers = [threading.Thread(target=hammer) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert not errors
    with rt.transaction(readonly=True) as db:
        seqs = (
            db.execute(
                text("SELECT seq FROM audit_event WHERE chain_id = :c ORDER BY seq"), {"c": chain}
            )
            .scalars()
            .all()
        )
        assert seqs == list(range(1, threads * per_thread + 1))
        report = rt.audit.verify(db)
    assert report.ok, report.first_break
