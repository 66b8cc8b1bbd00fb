"""Applying one batch of checked registry lines in the caller's transaction.

Every decision about a line (duplicate, holder, unchanged, revival of a death, erased data) is
taken before anything is written; the batch's writes then go as a few bulk statements
(data keys, new rows, changed rows, rows seen again). A rejected line writes nothing, and the
batch's other lines go on.

Each beneficiary's identifying values are sealed with their own data key, made here at
registration under the beneficiary's id. That id becomes the id of their space's Patient when it
opens, so the space reuses the key, and destroying the person's key (retention, express
deletion) erases their registry data along with their record: one key to shred, no second copy
of their identity under some shared key.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from datetime import date, datetime
from typing import Any

import orjson
from sqlalchemy import Connection, bindparam, exists, insert, select, update

from carnet.core.ids import new_id
from carnet.enrollment import models
from carnet.enrollment.schemas import BeneficiaryStatus, LineError, RegistryEntry, RegistryReport
from carnet.storage.errors import DataKeyDestroyed
from carnet.storage.service import DataKey, Storage, join_data_key

NIR_DOMAIN = "enrollment-nir"
_LINE_DOMAIN = "enrollment-line"
_CHUNK = 500  # bound values per IN list: SQLite caps them
_table = models.beneficiary
# Statuses of a live space: a death reported for them closes it (``retention.close_deaths``).
_LIVE_SPACE = (BeneficiaryStatus.OPEN, BeneficiaryStatus.ACTIVE, BeneficiaryStatus.SUSPENDED)


def sealing_context(beneficiary_id: str) -> bytes:
    """Associated data of a beneficiary's sealed entry: a value moved to another row fails."""
    return f"enrollment/beneficiary/{beneficiary_id}".encode()


def entry_bytes(entry: RegistryEntry) -> bytes:
    values = {item.name: getattr(entry, item.name) for item in fields(RegistryEntry)}
    return orjson.dumps(values)


def entry_from(data: bytes) -> RegistryEntry:
    values: dict[str, Any] = orjson.loads(data)
    values["birth_date"] = date.fromisoformat(values["birth_date"])
    if values["death_date"] is not None:
        values["death_date"] = date.fromisoformat(values["death_date"])
    return RegistryEntry(**values)


def open_entry(storage: Storage, row: Any) -> RegistryEntry | None:
    """The entry sealed in a beneficiary ``row`` read with its data key's columns
    (``join_data_key``); None once the key is destroyed (the person's data was erased)."""
    try:
        key = storage.key_from(
            row.id,
            kek_id=row.key_kek_id,
            wrapped=row.key_wrapped,
            destroyed_at=row.key_destroyed_at,
        )
    except DataKeyDestroyed:
        return None
    return entry_from(key.open(row.sealed, sealing_context(row.id)))


@dataclass(slots=True)
class _Known:
    """A beneficiary as the batch knows it: stored, or created by an earlier line."""

    id: str
    holder_id: str | None
    status: str
    status_at: datetime
    content_mac: str
    seen_run: int
    seen_line: int
    key: tuple[Any, Any, Any] | None = None  # kek id, wrapped key, destroyed at


@dataclass(slots=True)
class _Writes:
    updates: list[dict[str, Any]] = field(default_factory=list)
    touches: list[dict[str, Any]] = field(default_factory=list)
    pending: list[tuple[str, RegistryEntry, dict[str, Any]]] = field(default_factory=list)
    """New rows waiting for their data key: (id, entry, row)."""
    gained_dependants: set[str] = field(default_factory=set)
    deaths: list[str] = field(default_factory=list)
    """Beneficiaries with a live space whose death this batch reports (``closure``)."""


Refusal = tuple[str, str, str]
"""Why a line is refused: (column, rule, reason)."""


class BatchApplier:
    """Applies batches of one run. Nothing is kept between batches."""

    def __init__(self, *, storage: Storage, run: int, now: datetime) -> None:
        self.storage = storage
        self.run = run
        self.now = now

    def index(self, nir: str) -> str:
        return self.storage.blind_index(NIR_DOMAIN, nir)

    def apply(
        self, db: Connection, lines: list[tuple[int, RegistryEntry]], report: RegistryReport
    ) -> list[LineError]:
        """Apply checked lines (in file order); return the errors of the lines refused."""
        batch = _Batch(self, db, lines, report)
        errors = [
            LineError(number, *refusal)
            for number, entry in lines
            if (refusal := batch.plan(number, entry)) is not None
        ]
        batch.write()
        return errors


class _Batch:
    """One batch's decisions: what is known of its NIRs, and the writes queued so far."""

    def __init__(
        self,
        applier: BatchApplier,
        db: Connection,
        lines: list[tuple[int, RegistryEntry]],
        report: RegistryReport,
    ) -> None:
        self.applier = applier
        self.storage = applier.storage
        self.run = applier.run
        self.now = applier.now
        self.db = db
        self.report = report
        self.indexes = {
            nir: applier.index(nir) for _, e in lines for nir in (e.nir, e.holder_nir) if nir
        }
        self.known = self._load(set(self.indexes.values()))
        self.writes = _Writes()

    def _load(self, indexes: set[str]) -> dict[str, _Known]:
        joined, key_columns = join_data_key(_table, _table.c.id)
        wanted = sorted(indexes)
        known: dict[str, _Known] = {}
        for start in range(0, len(wanted), _CHUNK):
            rows = self.db.execute(
                select(
                    _table.c.nir_index,
                    _table.c.id,
                    _table.c.holder_id,
                    _table.c.status,
                    _table.c.status_at,
                    _table.c.content_mac,
                    _table.c.seen_run,
                    _table.c.seen_line,
                    *key_columns,
                )
                .select_from(joined)
                .where(_table.c.nir_index.in_(wanted[start : start + _CHUNK]))
            )
            for row in rows:
                known[row.nir_index] = _Known(
                    row.id,
                    row.holder_id,
                    row.status,
                    row.status_at,
                    row.content_mac,
                    row.seen_run,
                    row.seen_line,
                    (row.key_kek_id, row.key_wrapped, row.key_destroyed_at),
                )
        return known

    def _holder(self, entry: RegistryEntry) -> tuple[str | None, Refusal | None]:
        if not entry.holder_nir:
            return None, None
        holder = self.known.get(self.indexes[entry.holder_nir])
        column = "nir_ouvrant_droit"
        if holder is None:
            reason = "no holder with this NIR: list the holder first, in this file or before"
            return None, (column, "holder-unknown", reason)
        if holder.holder_id is not None:
            return None, (column, "holder-is-dependant", "the holder is a dependant themselves")
        # A holder's death does not refuse their dependants: the file announcing it still lists
        # the children under them until the insurer attaches them to someone else.
        return holder.id, None

    def plan(self, number: int, entry: RegistryEntry) -> Refusal | None:
        """Decide one line and queue its writes, or say why it is refused (queueing nothing)."""
        nir_index = self.indexes[entry.nir]
        current = self.known.get(nir_index)
        if current is not None and current.seen_run == self.run:
            reason = f"this NIR was already given on line {current.seen_line} of the file"
            return ("nir", "nir-duplicate", reason)
        holder_id, refusal = self._holder(entry)
        if refusal is not None:
            return refusal
        mac = self.storage.blind_index(_LINE_DOMAIN, entry_bytes(entry).decode())
        status = BeneficiaryStatus.DECEASED if entry.death_date else BeneficiaryStatus.REGISTERED
        row = self._row(entry, holder_id, status, mac, number)
        if current is None:
            beneficiary_id = new_id()
            self.writes.pending.append((beneficiary_id, entry, row))
            self.known[nir_index] = _Known(
                beneficiary_id, holder_id, status, self.now, mac, self.run, number
            )
            self.report.created += 1
            self.report.deceased += status == BeneficiaryStatus.DECEASED
        elif current.content_mac == mac:
            self.writes.touches.append({"b_id": current.id, "v_run": self.run, "v_line": number})
            self.report.unchanged += 1
        else:
            refusal = self._update(current, entry, row)
            if refusal is not None:
                return refusal
        if holder_id is not None:
            self.writes.gained_dependants.add(holder_id)
        self.known[nir_index] = replace(
            self.known[nir_index],
            holder_id=holder_id,
            status=status,
            content_mac=mac,
            seen_run=self.run,
            seen_line=number,
        )
        return None

    def _update(self, current: _Known, entry: RegistryEntry, row: dict[str, Any]) -> Refusal | None:
        if current.status == BeneficiaryStatus.DECEASED and entry.death_date is None:
            reason = "recorded as deceased; a line without a date of death does not revive them"
            return ("date_deces", "death-revival", reason)
        if (
            row["v_holder_id"] is not None
            and current.holder_id is None
            and self._has_dependants(current.id)
        ):
            reason = "a holder with dependants cannot become a dependant"
            return ("nir_ouvrant_droit", "holder-has-dependants", reason)
        assert current.key is not None  # loaded rows carry their key columns
        kek_id, wrapped, destroyed_at = current.key
        try:
            key = self.storage.key_from(
                current.id, kek_id=kek_id, wrapped=wrapped, destroyed_at=destroyed_at
            )
        except DataKeyDestroyed:
            return ("nir", "erased", "this beneficiary's data was erased: an operator decides")
        if row["v_status"] == BeneficiaryStatus.REGISTERED:
            # A living person's later line says nothing of where enrollment stands (informed,
            # letter due…): keep it, or they would be informed again by the next wave.
            row["v_status"] = current.status
        elif current.status in _LIVE_SPACE:
            # A death closes the space: the closure job does it (sessions, Patient, audit) from
            # the pending event this batch writes, and the status moves then.
            row["v_status"] = current.status
            self.writes.deaths.append(current.id)
            self.report.deceased += 1
        if current.status == row["v_status"]:
            row["v_status_at"] = current.status_at
        elif row["v_status"] == BeneficiaryStatus.DECEASED:
            self.report.deceased += 1
        row["sealed"] = key.seal(entry_bytes(entry), sealing_context(current.id))
        self.writes.updates.append({"b_id": current.id, **row})
        self.report.updated += 1
        return None

    def _has_dependants(self, beneficiary_id: str) -> bool:
        if beneficiary_id in self.writes.gained_dependants:
            return True
        query = select(exists().where(_table.c.holder_id == beneficiary_id))
        return bool(self.db.execute(query).scalar_one())

    def _row(
        self,
        entry: RegistryEntry,
        holder_id: str | None,
        status: BeneficiaryStatus,
        mac: str,
        number: int,
    ) -> dict[str, Any]:
        return {
            "v_holder_id": holder_id,
            "v_departement": entry.departement,
            "v_status": status.value,
            "v_status_at": self.now,
            "v_content_mac": mac,
            "v_run": self.run,
            "v_line": number,
            "v_updated_at": self.now,
        }

    def write(self) -> None:
        """The queued writes, as a few bulk statements (new rows first: a dependant may point
        at a holder created in this batch)."""
        writes = self.writes
        if writes.pending:
            keys: dict[str, DataKey] = self.storage.create_new_data_keys(
                self.db, owner_ids=[beneficiary_id for beneficiary_id, _, _ in writes.pending]
            )
            self.db.execute(
                insert(_table),
                [
                    {
                        "id": beneficiary_id,
                        "nir_index": self.indexes[entry.nir],
                        "holder_id": row["v_holder_id"],
                        "departement": row["v_departement"],
                        "status": row["v_status"],
                        "status_at": row["v_status_at"],
                        "sealed": keys[beneficiary_id].seal(
                            entry_bytes(entry), sealing_context(beneficiary_id)
                        ),
                        "content_mac": row["v_content_mac"],
                        "seen_run": row["v_run"],
                        "seen_line": row["v_line"],
                        "created_at": self.now,
                        "updated_at": self.now,
                    }
                    for beneficiary_id, entry, row in writes.pending
                ],
            )
        if writes.updates:
            self.db.execute(_UPDATE, writes.updates)
        if writes.touches:
            self.db.execute(_TOUCH, writes.touches)
        if writes.deaths:
            death = {"kind": "death", "reason": "death", "actor": "system:registry"}
            self.db.execute(
                insert(models.space_event),
                [
                    {"id": new_id(), "patient_id": b_id, "at": self.now, "done_at": None, **death}
                    for b_id in writes.deaths
                ],
            )


_UPDATE = (
    update(_table)
    .where(_table.c.id == bindparam("b_id"))
    .values(
        holder_id=bindparam("v_holder_id"),
        departement=bindparam("v_departement"),
        status=bindparam("v_status"),
        status_at=bindparam("v_status_at"),
        sealed=bindparam("sealed"),
        content_mac=bindparam("v_content_mac"),
        seen_run=bindparam("v_run"),
        seen_line=bindparam("v_line"),
        updated_at=bindparam("v_updated_at"),
    )
)
_TOUCH = (
    update(_table)
    .where(_table.c.id == bindparam("b_id"))
    .values(seen_run=bindparam("v_run"), seen_line=bindparam("v_line"))
)
