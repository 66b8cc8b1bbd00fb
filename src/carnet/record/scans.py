"""Reading many resources through the door: Patient/$everything, type and system history.

Every scan pages by keyset (``scan_rows``), so pages neither skip nor repeat while writes go on.
Access is applied twice: pushed into the SQL by resource type (and by compartment for an actor
who acts in one) so that refused rows are never fetched, then decided again for each row (the
authoritative check: a refused row is skipped silently, never counted nor listed). Each page
writes audit events listing what it returned, in the chain of the patient it concerns.

$everything returns the Patient, every resource of its compartment (``patient_id``), then the
resources outside every compartment (Practitioner, Organization, Medication, Location…) that
those resources reference directly, by relative reference (``Type/id``): one level, not their
own references in turn, and never a resource of another compartment.
"""

from __future__ import annotations

import heapq
import re
from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Literal

from carnet.access import service as access_service
from carnet.access.schemas import Action, ResourceFacts
from carnet.audit.tags import EventTag, Outcome
from carnet.record import scan_rows, store
from carnet.record.door import Detail, RepositoryBase, sealing_context
from carnet.record.errors import InvalidCursor, ResourceDeleted, ResourceNotFound
from carnet.record.schemas import HistoryEntry, HistoryPage, ScanEntry, ScanPage, StoredResource
from carnet.storage.errors import DataKeyDestroyed
from carnet.storage.service import SYSTEM_OWNER, DataKey

# The stored bodies are compact JSON (orjson), so a reference reads exactly like this; a quote
# inside a string value is escaped and cannot fake one.
_REFERENCE = re.compile(
    rb'"reference":"([A-Z][A-Za-z]{1,63})/([A-Za-z0-9\-.]{1,64})(?:/_history/[0-9]+)?"'
)
_EVERYTHING_CURSOR = re.compile(r"^([12])\.([A-Z][A-Za-z]{0,63}|-)\.([0-9]{1,19})$")
_HISTORY_CURSOR = re.compile(r"^([0-9]{1,19})\.([0-9]{1,19})\.([0-9]{1,9})$")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_FIRST = (1, "", 0)


class Scans(RepositoryBase):
    def everything(
        self,
        patient_id: str,
        *,
        count: int,
        since: datetime | None = None,
        types: Collection[str] | None = None,
        cursor: str | None = None,
    ) -> ScanPage:
        """One page of the patient's compartment, then of what it references (see the module).

        Raises ResourceNotFound when the Patient is absent or refused, a Gone when it was
        deleted or erased, InvalidCursor for a cursor this method did not make.
        """
        tag = EventTag.RECORD_PATIENT_EVERYTHING
        entity = f"Patient/{patient_id}/$everything"
        for resource_type in types or ():
            self._require_type(resource_type, tag)
        phase, after_type, after_key = _everything_position(cursor)
        key = self._open_compartment(tag, patient_id, entity)
        wanted = sorted(types or self._record.resource_types)
        own_types = self._readable_types(wanted, patient_id)
        entries: list[ScanEntry] = []
        if phase == 1:
            entries, next_cursor = self._compartment_entries(
                patient_id, key, own_types, since=since, after=(after_type, after_key), count=count
            )
            if next_cursor is not None:
                return self._everything_page(tag, patient_id, entity, entries, next_cursor)
            after_type, after_key = "", 0
        # Every compartment row this page could see was opened here: their references need no
        # second pass when the page started at the beginning, unfiltered.
        seen = None
        if cursor is None and types is None and since is None:
            seen = [e.resource.body for e in entries]
        # References are followed from the whole compartment (as far as the actor may read
        # it), whatever _type says; _type then filters what they lead to.
        sources = own_types
        if types is not None:
            sources = self._readable_types(sorted(self._record.resource_types), patient_id)
        included, next_cursor = self._included_entries(
            patient_id,
            key,
            wanted=wanted,
            sources=sources,
            seen=seen,
            since=since,
            after=(after_type, after_key),
            room=count - len(entries),
        )
        return self._everything_page(tag, patient_id, entity, entries + included, next_cursor)

    def _compartment_entries(
        self,
        patient_id: str,
        key: DataKey,
        own_types: Sequence[str],
        *,
        since: datetime | None,
        after: tuple[str, int],
        count: int,
    ) -> tuple[list[ScanEntry], str | None]:
        """A page of the compartment itself, and the cursor of the next one (None: done)."""
        rows = scan_rows.compartment_page(
            self._db,
            patient_id,
            after=after,
            limit=count + 1,
            types=None if len(own_types) == len(self._record.resource_types) else own_types,
            since=since,
        )
        entries = [ScanEntry(r) for r in self._open_scan_rows(rows[:count], key)]
        if len(rows) <= count:
            return entries, None
        last = rows[count - 1]
        return entries, f"1.{last.resource_type}.{last.key}"

    def _included_entries(
        self,
        patient_id: str,
        key: DataKey,
        *,
        wanted: Sequence[str],
        sources: Sequence[str],
        seen: Sequence[bytes] | None,
        since: datetime | None,
        after: tuple[str, int],
        room: int,
    ) -> tuple[list[ScanEntry], str | None]:
        """Up to ``room`` referenced resources after ``after``, and the next cursor."""
        shared = [
            row
            for row in self._referenced_rows(patient_id, key, wanted, sources, seen)
            if (row.resource_type, row.key) > after and (since is None or row.last_updated > since)
        ]
        next_cursor = None
        if len(shared) > room:
            last_type, last_key = (
                (shared[room - 1].resource_type, shared[room - 1].key) if room else ("-", 0)
            )
            next_cursor = f"2.{last_type}.{last_key}"
        if not shared[:room]:
            return [], next_cursor
        system_key = self._record.storage.data_key(self._db, owner_id=SYSTEM_OWNER)
        opened = self._open_scan_rows(shared[:room], system_key)
        return [ScanEntry(r, included=True) for r in opened], next_cursor

    def _everything_page(
        self,
        tag: EventTag,
        patient_id: str,
        entity: str,
        entries: list[ScanEntry],
        next_cursor: str | None,
    ) -> ScanPage:
        returned = [_versioned(e.resource) for e in entries]
        detail: Detail = {"count": len(entries), "returned": returned}
        self._audit(tag, Outcome.SUCCESS, patient_id, entity, detail=detail)
        return ScanPage(entries=tuple(entries), next_cursor=next_cursor)

    def history_type(
        self,
        resource_type: str,
        *,
        count: int,
        since: datetime | None = None,
        cursor: str | None = None,
    ) -> HistoryPage:
        """Every version of every resource of one type (deletions included), newest first."""
        tag = EventTag.RECORD_RESOURCE_HISTORY_TYPE
        self._require_type(resource_type, tag)
        visible = bool(self._readable_types([resource_type], self.ctx.patient_id))
        return self._scan_history(
            tag,
            f"{resource_type}/_history",
            count=count,
            since=since,
            cursor=cursor,
            resource_type=resource_type,
            types=None if visible else [],
        )

    def history_system(
        self, *, count: int, since: datetime | None = None, cursor: str | None = None
    ) -> HistoryPage:
        """Every version of every resource the actor may read, newest first."""
        tag = EventTag.RECORD_RESOURCE_HISTORY_SYSTEM
        every_type = sorted(self._record.resource_types)
        visible = self._readable_types(every_type, self.ctx.patient_id)
        return self._scan_history(
            tag,
            "_history",
            count=count,
            since=since,
            cursor=cursor,
            resource_type=None,
            types=None if len(visible) == len(every_type) else visible,
        )

    # --- $everything ------------------------------------------------------------------------

    def _open_compartment(self, tag: EventTag, patient_id: str, entity: str) -> DataKey:
        """The patient's data key, once the Patient is known to exist and be readable."""
        row = store.current(self._db, "Patient", patient_id)
        if row is None:
            self._refuse(tag, ResourceNotFound(), None, entity)
        facts = ResourceFacts(resource_type="Patient", patient_id=row.patient_id)
        decision = access_service.decide(self.ctx, Action.READ, facts)
        if not decision.allowed:
            self._refuse(tag, ResourceNotFound(), row.patient_id, entity, refused_by=decision.rule)
        if row.deleted:
            self._refuse(tag, ResourceDeleted(), patient_id, entity)
        try:
            return self._record.storage.data_key(self._db, owner_id=patient_id)
        except DataKeyDestroyed as exc:
            self._refuse(tag, exc, patient_id, entity)

    def _referenced_rows(
        self,
        patient_id: str,
        key: DataKey,
        wanted: Sequence[str],
        own_types: Sequence[str],
        seen: Sequence[bytes] | None,
    ) -> list[store.AnyRow]:
        bodies: Iterable[bytes]
        if seen is not None:
            bodies = seen
        else:
            bodies = (
                key.open(r.body, sealing_context(r.resource_type, r.id, r.version))
                for r in scan_rows.compartment_bodies(self._db, patient_id, own_types)
            )
        targets: dict[str, set[str]] = defaultdict(set)
        shared_types = set(self._readable_types(wanted, None))
        for body in bodies:
            for found_type, found_id in _REFERENCE.findall(body):
                resource_type = found_type.decode()
                if resource_type in shared_types:
                    targets[resource_type].add(found_id.decode())
        rows = [
            row
            for resource_type in sorted(targets)
            for row in scan_rows.shared_rows(
                self._db, resource_type, sorted(targets[resource_type])
            )
            if not row.deleted
        ]
        return sorted(rows, key=lambda r: (r.resource_type, r.key))

    def _open_scan_rows(self, rows: Sequence[store.AnyRow], key: DataKey) -> list[StoredResource]:
        """The rows the actor may read, opened with ``key`` (refused ones skipped silently)."""
        opened = []
        decisions: dict[tuple[str, str | None], bool] = {}  # pure: decided once per kind
        for _, resource_type, resource_id, patient_id, version, updated, _, body, blob in rows:
            allowed = decisions.get((resource_type, patient_id))
            if allowed is None:
                facts = ResourceFacts(resource_type=resource_type, patient_id=patient_id)
                allowed = access_service.decide(self.ctx, Action.READ, facts).allowed
                decisions[resource_type, patient_id] = allowed
            if not allowed:
                continue
            plain = key.open(body, sealing_context(resource_type, resource_id, version))
            if blob is not None:
                plain = self._with_blob(plain, key.owner_id, blob)
            opened.append(
                StoredResource(resource_type, resource_id, version, updated, patient_id, plain)
            )
        return opened

    def _readable_types(self, types: Iterable[str], patient_id: str | None) -> list[str]:
        """The types whose resources in ``patient_id``'s compartment (None: outside every
        compartment) the actor may read: what the SQL may fetch at all."""
        return [
            t
            for t in types
            if access_service.decide(self.ctx, Action.READ, ResourceFacts(t, patient_id)).allowed
        ]

    # --- history ----------------------------------------------------------------------------

    def _scan_history(
        self,
        tag: EventTag,
        entity: str,
        *,
        count: int,
        since: datetime | None,
        cursor: str | None,
        resource_type: str | None,
        types: Sequence[str] | None,
    ) -> HistoryPage:
        after = _history_position(cursor)
        rows: list[store.AnyRow] = []
        if types is None or types:  # an empty list: nothing the actor may read
            sides = [
                scan_rows.history_page(
                    self._db,
                    archived=archived,
                    limit=count + 1,
                    resource_type=resource_type,
                    types=types,
                    patient_id=self.ctx.patient_id,
                    since=since,
                    after=after,
                )
                for archived in (False, True)
            ]
            newest_first = heapq.merge(*sides, key=_history_order, reverse=True)
            rows = [row for row, _ in zip(newest_first, range(count + 1), strict=False)]
        next_cursor = None
        if len(rows) > count:
            rows = rows[:count]
            last = rows[-1]
            next_cursor = f"{_micros(last.last_updated)}.{last.key}.{last.version}"
        opened = [(row.patient_id, self._scan_history_entry(row)) for row in rows]
        entries = [(owner, entry) for owner, entry in opened if entry is not None]
        self._audit_scan_by_patient(tag, entity, entries)
        return HistoryPage(entries=tuple(e for _, e in entries), next_cursor=next_cursor)

    def _scan_history_entry(self, row: store.AnyRow) -> HistoryEntry | None:
        facts = ResourceFacts(resource_type=row.resource_type, patient_id=row.patient_id)
        if not access_service.decide(self.ctx, Action.READ, facts).allowed:
            return None
        method: Literal["POST", "PUT", "DELETE"] = (
            "DELETE" if row.deleted else ("POST" if row.version == 1 else "PUT")
        )
        body = None
        if not row.deleted:
            owner = row.patient_id or SYSTEM_OWNER
            try:
                key = self._record.storage.key_from(
                    owner,
                    kek_id=row.key_kek_id,
                    wrapped=row.key_wrapped,
                    destroyed_at=row.key_destroyed_at,
                )
                body = key.open(row.body, sealing_context(row.resource_type, row.id, row.version))
                if row.blob_id is not None:
                    body = self._with_blob(body, owner, row.blob_id)
            except DataKeyDestroyed:
                return None  # erased data is gone from every listing
        return HistoryEntry(
            resource_type=row.resource_type,
            id=row.id,
            version=row.version,
            last_updated=row.last_updated,
            method=method,
            body=body,
        )

    def _audit_scan_by_patient(
        self, tag: EventTag, entity: str, entries: Sequence[tuple[str | None, HistoryEntry]]
    ) -> None:
        """One event per patient whose versions the page returned (in their chain), and one in
        the system chain for the rest (or for an empty page)."""
        by_patient: dict[str | None, list[str]] = defaultdict(list)
        for patient_id, entry in entries:
            by_patient[patient_id].append(
                f"{entry.resource_type}/{entry.id}/_history/{entry.version}"
            )
        if not by_patient:
            by_patient[None] = []
        for patient_id, returned in by_patient.items():
            detail: Detail = {"count": len(returned), "returned": returned}
            self._audit(tag, Outcome.SUCCESS, patient_id, entity, detail=detail)


def _versioned(resource: StoredResource) -> str:
    return f"{resource.reference}/_history/{resource.version}"


def _everything_position(cursor: str | None) -> tuple[int, str, int]:
    if cursor is None:
        return _FIRST
    match = _EVERYTHING_CURSOR.match(cursor)
    if match is None:
        raise InvalidCursor
    return int(match[1]), match[2], int(match[3])


def _history_position(cursor: str | None) -> tuple[datetime, int, int] | None:
    if cursor is None:
        return None
    match = _HISTORY_CURSOR.match(cursor)
    if match is None:
        raise InvalidCursor
    try:
        at = _EPOCH + timedelta(microseconds=int(match[1]))
    except OverflowError:
        raise InvalidCursor from None
    return at, int(match[2]), int(match[3])


def _micros(at: datetime) -> int:
    return (at - _EPOCH) // timedelta(microseconds=1)


def _history_order(row: store.AnyRow) -> tuple[datetime, int, int]:
    return row.last_updated, row.key, row.version
