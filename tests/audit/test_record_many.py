"""Appending many events at once (``AuditTrail.record_many``): the same chains as one by one,
over more chains than one SQL list holds, and on PostgreSQL a plan that stays an index probe
however far the chain-head table has grown past its statistics."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Connection, text
from tests.conftest import make_settings

from carnet.audit.schemas import AuditRecord
from carnet.audit.tags import EventTag, Outcome
from carnet.core.actor import Actor, ActorKind
from carnet.core.ids import new_id
from carnet.runtime import Runtime, build_runtime

ACTOR = Actor(kind=ActorKind.SYSTEM, id="test-batch", label="Test batch")


def _records(patient_ids: list[str], entity: str) -> list[AuditRecord]:
    return [
        AuditRecord(
            tag=EventTag.RECORD_RESOURCE_READ,
            outcome=Outcome.SUCCESS,
            actor=ACTOR,
            patient_id=patient_id,
            entity=entity,
            detail={},
        )
        for patient_id in patient_ids
    ]


def test_many_chains_at_once_chain_as_one_by_one(rt: Runtime, db: Connection) -> None:
    # 1,234 chains: more than one IN list on SQLite (500 values each).
    patients = [new_id() for _ in range(1234)]
    first = rt.audit.record_many(db, _records(patients, "Patient/a"))
    assert {entry.seq for entry in first} == {1}
    # Twice to one chain in one call keeps the order; known and new chains mixed.
    newcomer = new_id()
    again = rt.audit.record_many(
        db, _records([patients[0], patients[0], newcomer, *patients[1:]], "Patient/b")
    )
    assert [entry.seq for entry in again[:3]] == [2, 3, 1]
    assert {entry.seq for entry in again[3:]} == {2}
    events = rt.audit.chain_events(db, chain_id=patients[0])
    assert [event.seq for event in events] == [3, 2, 1]
    report = rt.audit.verify(db)
    assert report.ok, report.first_break


def _chain_head_scans(db: Connection) -> tuple[int, int]:
    row = db.execute(
        text(
            "SELECT seq_scan, COALESCE(idx_scan, 0) FROM pg_stat_xact_user_tables "
            "WHERE relname = 'audit_chain_head'"
        )
    ).one()
    return int(row[0]), int(row[1])


def test_chain_heads_are_probed_by_index_on_a_table_grown_past_its_statistics(
    fresh_database_url: str, tmp_path: Path
) -> None:
    """A batch job fills the chain-head table faster than statistics follow (autovacuum off,
    or not yet run): the plan PostgreSQL keeps for the repeated head lookup must stay an index
    probe, not a sequential scan whose cost grows with the table (opening spaces once slowed
    from 485 to 120 a second that way)."""
    if not fresh_database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL's plans; SQLite has no prepared-plan choice to check")
    rt = build_runtime(make_settings(fresh_database_url, tmp_path / "var"), configure_logs=False)
    try:
        with rt.transaction() as db:
            # Statistics taken on the empty table, as the bench's seed left them, then a
            # table grown far past them.
            db.execute(text("ANALYZE audit_chain_head"))
            db.execute(
                text(
                    "INSERT INTO audit_chain_head (chain_id, seq, mac, seal, updated_at) "
                    "SELECT 'grown-' || n, 0, 'x', 'x', now() FROM generate_series(1, 30000) AS n"
                )
            )
            # psycopg prepares a statement at its fifth run; PostgreSQL then plans five more
            # times before it settles on a plan: the runs after those are the ones that last.
            for _ in range(12):
                rt.audit.record_many(db, _records([new_id() for _ in range(500)], "Patient/c"))
            before = _chain_head_scans(db)
            for _ in range(4):
                rt.audit.record_many(db, _records([new_id() for _ in range(500)], "Patient/c"))
            after = _chain_head_scans(db)
    finally:
        rt.close()
    seq_scans, index_scans = (a - b for a, b in zip(after, before, strict=True))
    assert seq_scans == 0
    assert index_scans > 0
