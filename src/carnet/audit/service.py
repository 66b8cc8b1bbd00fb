"""Public face of the audit area: append events, verify the chains, read a patient's history."""

from __future__ import annotations

import hmac
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import orjson
from sqlalchemy import Connection, Select, bindparam, collate, insert, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from carnet.audit import models
from carnet.audit.chain import GENESIS, event_mac, head_seal
from carnet.audit.schemas import (
    SYSTEM_CHAIN,
    AuditEntry,
    AuditRecord,
    ChainBreak,
    VerifyReport,
)
from carnet.audit.tags import EventTag, Outcome
from carnet.core.clock import Clock
from carnet.core.db import among, insert_or_ignore
from carnet.core.logging import request_id_var

__all__ = [
    "SYSTEM_CHAIN",
    "AuditEntry",
    "AuditRecord",
    "AuditTrail",
    "EventTag",
    "Outcome",
    "VerifyReport",
]

_VERIFY_BATCH = 5_000

# Built once: the append runs on every audited call (see record/store.py for why).
_SELECT_HEAD = select(models.chain_head.c.seq, models.chain_head.c.mac).where(
    models.chain_head.c.chain_id == bindparam("chain_id")
)
_LOCK_HEAD = _SELECT_HEAD.with_for_update()
_INSERT_EVENT = insert(models.event)
_ADVANCE_HEAD = (
    update(models.chain_head)
    .where(models.chain_head.c.chain_id == bindparam("head_chain_id"))
    .values(
        seq=bindparam("seq"),
        mac=bindparam("mac"),
        seal=bindparam("seal"),
        updated_at=bindparam("updated_at"),
    )
)

_ADVANCE_HEADS_PG = text(
    "UPDATE audit_chain_head AS head"
    " SET seq = new.seq, mac = new.mac, seal = new.seal, updated_at = new.updated_at"
    " FROM unnest(CAST(:chain_ids AS varchar[]), CAST(:seqs AS bigint[]),"
    " CAST(:macs AS varchar[]), CAST(:seals AS varchar[]), CAST(:ats AS timestamptz[]))"
    " AS new(chain_id, seq, mac, seal, updated_at)"
    " WHERE head.chain_id = new.chain_id"
)
"""``_ADVANCE_HEAD`` for many chains in one statement (PostgreSQL: arrays, unnested)."""


class AuditTrail:
    """Appends to and verifies the hash chains. One per process."""

    def __init__(self, *, key: bytes, clock: Clock) -> None:
        self._key = key
        self.clock = clock

    def record(self, db: Connection, rec: AuditRecord) -> AuditEntry:
        """Append ``rec`` to its chain, in the caller's transaction."""
        chain_id = rec.patient_id or SYSTEM_CHAIN
        prev_seq, prev_mac = self._lock_head(db, chain_id)
        entry, row = self._event(rec, chain_id, prev_seq, prev_mac)
        db.execute(_INSERT_EVENT, row)
        db.execute(_ADVANCE_HEAD, self._head_row(chain_id, entry.seq, row["mac"], entry))
        return entry

    def record_many(self, db: Connection, records: Sequence[AuditRecord]) -> list[AuditEntry]:
        """Append many events, over any number of chains (several to one chain keep their
        order), in a few statements whatever their number: the chains and MACs ``record``
        would make one by one. For writers of thousands of events in one transaction (a batch
        of spaces opened, a bundle touching many patients)."""
        if not records:
            return []
        chains = list(dict.fromkeys(rec.patient_id or SYSTEM_CHAIN for rec in records))
        heads = self._lock_heads(db, chains)
        entries, rows = [], []
        last: dict[str, AuditEntry] = {}
        for rec in records:
            chain_id = rec.patient_id or SYSTEM_CHAIN
            prev_seq, prev_mac = heads[chain_id]
            entry, row = self._event(rec, chain_id, prev_seq, prev_mac)
            heads[chain_id] = (entry.seq, row["mac"])
            last[chain_id] = entry
            entries.append(entry)
            rows.append(row)
        db.execute(_INSERT_EVENT, rows)
        advanced = [
            self._head_row(chain_id, seq, mac, last[chain_id])
            for chain_id, (seq, mac) in heads.items()
        ]
        if db.dialect.name == "postgresql":
            # One statement over arrays, not one UPDATE per chain: a batch of a thousand spaces
            # advances two thousand heads.
            db.execute(
                _ADVANCE_HEADS_PG,
                {
                    "chain_ids": [row["head_chain_id"] for row in advanced],
                    "seqs": [row["seq"] for row in advanced],
                    "macs": [row["mac"] for row in advanced],
                    "seals": [row["seal"] for row in advanced],
                    "ats": [row["updated_at"] for row in advanced],
                },
            )
        else:
            db.execute(_ADVANCE_HEAD, advanced)
        return entries

    def _event(
        self, rec: AuditRecord, chain_id: str, prev_seq: int, prev_mac: str
    ) -> tuple[AuditEntry, dict[str, Any]]:
        """The entry following (``prev_seq``, ``prev_mac``) in its chain, and its row."""
        entry = AuditEntry(
            chain_id=chain_id,
            seq=prev_seq + 1,
            recorded_at=self.clock.now(),
            tag=str(rec.tag),
            outcome=str(rec.outcome),
            actor_kind=str(rec.actor.kind),
            actor_id=rec.actor.id,
            actor_label=rec.actor.label,
            mode=rec.mode,
            entity=rec.entity,
            detail=dict(rec.detail),
            request_id=request_id_var.get(),
        )
        detail = orjson.dumps(entry.detail, option=orjson.OPT_SORT_KEYS).decode()
        mac = self._mac(entry, prev_mac=prev_mac, detail=detail)
        row = {
            "chain_id": chain_id,
            "seq": entry.seq,
            "prev_mac": prev_mac,
            "mac": mac,
            "recorded_at": entry.recorded_at,
            "tag": entry.tag,
            "outcome": entry.outcome,
            "actor_kind": entry.actor_kind,
            "actor_id": entry.actor_id,
            "actor_label": entry.actor_label,
            "mode": entry.mode,
            "entity": entry.entity,
            "detail": detail,
            "request_id": entry.request_id,
        }
        return entry, row

    def _head_row(self, chain_id: str, seq: int, mac: str, entry: AuditEntry) -> dict[str, Any]:
        return {
            "head_chain_id": chain_id,
            "seq": seq,
            "mac": mac,
            "seal": head_seal(self._key, chain_id=chain_id, seq=seq, mac=mac),
            "updated_at": entry.recorded_at,
        }

    def _lock_heads(self, db: Connection, chains: list[str]) -> dict[str, tuple[int, str]]:
        """The tails of many chains, locked as ``_lock_head`` locks one (missing heads made in
        one statement). Locked in chain order, so two batches never wait for each other in a
        cycle."""
        wanted = sorted(chains)
        found = self._heads(db, wanted)
        missing = [chain_id for chain_id in wanted if chain_id not in found]
        if missing:
            now = self.clock.now()
            insert_stmt: Any = pg_insert if db.dialect.name == "postgresql" else sqlite_insert
            made = db.execute(
                insert_stmt(models.chain_head)
                .on_conflict_do_nothing(index_elements=["chain_id"])
                .returning(models.chain_head.c.chain_id),
                [
                    {
                        "chain_id": chain_id,
                        "seq": 0,
                        "mac": GENESIS,
                        "seal": head_seal(self._key, chain_id=chain_id, seq=0, mac=GENESIS),
                        "updated_at": now,
                    }
                    for chain_id in missing
                ],
            )
            # A head this transaction made is its own (locked until commit) and at genesis;
            # only those another transaction made meanwhile are read again, under their lock.
            created = set(made.scalars())
            found.update((chain_id, (0, GENESIS)) for chain_id in created)
            found.update(self._heads(db, [c for c in missing if c not in created]))
        return found

    def _heads(self, db: Connection, chains: list[str]) -> dict[str, tuple[int, str]]:
        found: dict[str, tuple[int, str]] = {}
        head = models.chain_head.c
        for condition in among(db, head.chain_id, chains):
            stmt = select(head.chain_id, head.seq, head.mac).where(condition)
            if db.dialect.name == "postgresql":
                stmt = stmt.order_by(head.chain_id).with_for_update()
            found.update({row.chain_id: (int(row.seq), str(row.mac)) for row in db.execute(stmt)})
        return found

    def _lock_head(self, db: Connection, chain_id: str) -> tuple[int, str]:
        """Read the chain's tail, holding its row lock until the transaction ends.

        On PostgreSQL ``FOR UPDATE`` makes concurrent appends to one chain wait for each other
        (without it two requests would both extend the same tail: a fork). SQLite has a single
        writer, which serialises them already.
        """
        stmt = _LOCK_HEAD if db.dialect.name == "postgresql" else _SELECT_HEAD
        row = db.execute(stmt, {"chain_id": chain_id}).first()
        if row is None:
            insert_or_ignore(
                db,
                models.chain_head,
                {
                    "chain_id": chain_id,
                    "seq": 0,
                    "mac": GENESIS,
                    "seal": head_seal(self._key, chain_id=chain_id, seq=0, mac=GENESIS),
                    "updated_at": self.clock.now(),
                },
                key="chain_id",
            )
            row = db.execute(stmt, {"chain_id": chain_id}).one()
        return int(row.seq), str(row.mac)

    def _mac(self, entry: Any, *, prev_mac: str, detail: str) -> str:
        """The MAC of an event given as an AuditEntry or a stored row (same attribute names)."""
        return event_mac(
            self._key,
            chain_id=entry.chain_id,
            seq=entry.seq,
            prev_mac=prev_mac,
            recorded_at=entry.recorded_at,
            tag=entry.tag,
            outcome=entry.outcome,
            actor_kind=entry.actor_kind,
            actor_id=entry.actor_id,
            actor_label=entry.actor_label,
            mode=entry.mode,
            entity=entry.entity,
            detail=detail,
            request_id=entry.request_id,
        )

    # --- reading --------------------------------------------------------------------------------

    def chain_events(
        self, db: Connection, *, chain_id: str, limit: int = 50, before_seq: int | None = None
    ) -> list[AuditEntry]:
        """The newest events of one chain (a patient's access history), newest first."""
        stmt = select(models.event).where(models.event.c.chain_id == chain_id)
        if before_seq is not None:
            stmt = stmt.where(models.event.c.seq < before_seq)
        rows = db.execute(stmt.order_by(models.event.c.seq.desc()).limit(limit)).all()
        return [_entry(row._mapping) for row in rows]  # noqa: SLF001 - public SQLAlchemy API

    # --- verification ---------------------------------------------------------------------------

    def verify(
        self, db: Connection, *, progress: Callable[[int], None] | None = None
    ) -> VerifyReport:
        """Recompute every chain; report the first break, or none.

        Detects an edited row (its MAC), a deleted or inserted row (the sequence and the
        previous-MAC link), reordered rows (both), and a truncated tail (the chain head).
        """
        started = time.perf_counter()
        head_order = _byte_order(db, models.chain_head.c.chain_id)
        event_order = _byte_order(db, models.event.c.chain_id, models.event.c.seq)
        # Server-side cursors on PostgreSQL: memory stays flat at any number of events; both are
        # closed even when the walk stops at the first break.
        with (
            _stream(db, select(models.chain_head).order_by(*head_order)) as heads,
            _stream(db, select(models.event).order_by(*event_order)) as events,
        ):
            walker = _ChainWalker(self, iter(heads))
            first_break = None
            for row in events:
                first_break = walker.feed(row)
                if first_break is not None:
                    break
                if progress is not None and walker.events % _VERIFY_BATCH == 0:
                    progress(_VERIFY_BATCH)
            else:
                first_break = walker.finish()
        return VerifyReport(
            chains=walker.chains,
            events=walker.events,
            seconds=time.perf_counter() - started,
            first_break=first_break,
        )

    def head_is_sealed(self, head: Any) -> bool:
        """Whether a chain head row carries the seal only the audit key can make."""
        expected = head_seal(self._key, chain_id=head.chain_id, seq=head.seq, mac=head.mac)
        return hmac.compare_digest(expected, head.seal)

    def check_event(self, row: Any, expected_seq: int, running_mac: str) -> ChainBreak | None:
        """Check one stored event against its expected place in the chain."""
        if row.seq != expected_seq:
            return ChainBreak(row.chain_id, expected_seq, "an event is missing or was inserted")
        if row.prev_mac != running_mac:
            return ChainBreak(row.chain_id, row.seq, "the link to the previous event is broken")
        if self._mac(row, prev_mac=row.prev_mac, detail=row.detail) != row.mac:
            return ChainBreak(row.chain_id, row.seq, "the event was altered")
        return None

    def record_verification(self, db: Connection, report: VerifyReport, actor: Any) -> None:
        self.record(
            db,
            AuditRecord(
                tag=EventTag.AUDIT_CHAIN_VERIFY,
                outcome=Outcome.SUCCESS if report.ok else Outcome.ERROR,
                actor=actor,
                patient_id=None,
                detail={"chains": report.chains, "events": report.events, "ok": report.ok},
            ),
        )


class _ChainWalker:
    """Walks the events in (chain, seq) order beside the chain heads, in the same order."""

    def __init__(self, trail: AuditTrail, heads: Iterator[Any]) -> None:
        self._trail = trail
        self._heads = heads
        self._head = next(heads, None)
        self.current: str | None = None
        self.expected_seq = 0
        self.running_mac = GENESIS
        self.chains = 0
        self.events = 0

    def feed(self, row: Any) -> ChainBreak | None:
        if row.chain_id != self.current:
            if self.current is not None and (broken := self._close_chain()) is not None:
                return broken
            self.current, self.expected_seq, self.running_mac = row.chain_id, 0, GENESIS
            self.chains += 1
        self.expected_seq += 1
        self.events += 1
        broken = self._trail.check_event(row, self.expected_seq, self.running_mac)
        self.running_mac = row.mac
        return broken

    def finish(self) -> ChainBreak | None:
        if self.current is not None and (broken := self._close_chain()) is not None:
            return broken
        return self._skip_empty_heads(until=None)

    def _close_chain(self) -> ChainBreak | None:
        current = self.current
        assert current is not None
        if (broken := self._skip_empty_heads(until=current)) is not None:
            return broken
        head = self._head
        if head is None or head.chain_id != current:
            return ChainBreak(current, self.expected_seq, "the chain has no head")
        if not self._trail.head_is_sealed(head):
            return ChainBreak(current, head.seq, "the chain head was altered")
        if head.seq != self.expected_seq or head.mac != self.running_mac:
            reason = "the chain's last events are missing (its head points further)"
            return ChainBreak(current, self.expected_seq + 1, reason)
        self._head = next(self._heads, None)
        return None

    def _skip_empty_heads(self, *, until: str | None) -> ChainBreak | None:
        """Pass heads of chains that have no events (before ``until``); a non-empty one means
        its events were deleted."""
        while self._head is not None and (until is None or self._head.chain_id < until):
            if self._head.seq != 0:
                return ChainBreak(self._head.chain_id, 1, "the chain's events are missing")
            self._head = next(self._heads, None)
        return None


def _byte_order(db: Connection, chain_column: Any, *rest: Any) -> tuple[Any, ...]:
    # Byte order on both databases, so that the event and head streams merge in Python's string
    # order whatever the PostgreSQL collation.
    first = collate(chain_column, "C") if db.dialect.name == "postgresql" else chain_column
    return (first, *rest)


def _stream(db: Connection, stmt: Select[Any]) -> Any:
    """A streamed result, usable as a context manager that closes its cursor."""
    return db.execute(stmt.execution_options(yield_per=_VERIFY_BATCH))


def _entry(row: Any) -> AuditEntry:
    detail = row["detail"]
    return AuditEntry(
        chain_id=row["chain_id"],
        seq=row["seq"],
        recorded_at=row["recorded_at"],
        tag=row["tag"],
        outcome=row["outcome"],
        actor_kind=row["actor_kind"],
        actor_id=row["actor_id"],
        actor_label=row["actor_label"],
        mode=row["mode"],
        entity=row["entity"],
        detail=orjson.loads(detail) if isinstance(detail, str) else detail,
        request_id=row["request_id"],
    )
