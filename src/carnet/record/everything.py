"""Patient/$everything through the door: the patient's compartment, then what it references.

It returns the Patient, every resource of its compartment (``patient_id``), then the resources
outside every compartment (Practitioner, Organization, Medication, Location…) that those
resources reference directly, by relative reference (``Type/id``): one level, not their own
references in turn, and never a resource of another compartment. Pages are cut by keyset
(``scan_rows``), so they neither skip nor repeat while writes go on. Access is applied twice:
pushed into the SQL by resource type, so that refused rows are never fetched, then decided again
for each row (the authoritative check: a refused row is skipped silently, never counted nor
listed). Each page writes an audit event listing what it returned, in the patient's chain.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from datetime import datetime

from carnet.access import service as access_service
from carnet.access.schemas import Action, ResourceFacts
from carnet.audit.tags import EventTag, Outcome
from carnet.record import scan_rows, store
from carnet.record.door import Detail, RepositoryBase, sealing_context
from carnet.record.errors import InvalidCursor, ResourceDeleted, ResourceNotFound
from carnet.record.labels import labels_of
from carnet.record.schemas import ScanEntry, ScanPage, StoredResource
from carnet.storage.errors import DataKeyDestroyed
from carnet.storage.service import SYSTEM_OWNER, DataKey

# The stored bodies are compact JSON (orjson), so a reference reads exactly like this; a quote
# inside a string value is escaped and cannot fake one.
_REFERENCE = re.compile(
    rb'"reference":"([A-Z][A-Za-z]{1,63})/([A-Za-z0-9\-.]{1,64})(?:/_history/[0-9]+)?"'
)
_EVERYTHING_CURSOR = re.compile(r"^([12])\.([A-Z][A-Za-z]{0,63}|-)\.([0-9]{1,19})$")
_FIRST = (1, "", 0)


class Everything(RepositoryBase):
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

    # --- $everything ------------------------------------------------------------------------

    def _open_compartment(self, tag: EventTag, patient_id: str, entity: str) -> DataKey:
        """The patient's data key, once the Patient is known to exist and be readable."""
        row = store.current(self._db, "Patient", patient_id)
        if row is None:
            self._refuse(tag, ResourceNotFound(), None, entity)
        facts = ResourceFacts("Patient", row.patient_id, labels_of(row.held))
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
            # Only what the actor may read leads to the shared resources it references.
            bodies = (
                key.open(r.body, sealing_context(r.resource_type, r.id, r.version))
                for r in scan_rows.compartment_bodies(self._db, patient_id, own_types)
                if self._may_read(r.resource_type, patient_id, r.held)
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
        for row in rows:
            resource_type, resource_id, patient_id = row.resource_type, row.id, row.patient_id
            if not self._may_read(resource_type, patient_id, row.held):
                continue
            version, updated, body, blob = row.version, row.last_updated, row.body, row.blob_id
            plain = key.open(body, sealing_context(resource_type, resource_id, version))
            if blob is not None:
                plain = self._with_blob(plain, key.owner_id, blob)
            opened.append(
                StoredResource(resource_type, resource_id, version, updated, patient_id, plain)
            )
        return opened


def _versioned(resource: StoredResource) -> str:
    return f"{resource.reference}/_history/{resource.version}"


def _everything_position(cursor: str | None) -> tuple[int, str, int]:
    if cursor is None:
        return _FIRST
    match = _EVERYTHING_CURSOR.match(cursor)
    if match is None:
        raise InvalidCursor
    return int(match[1]), match[2], int(match[3])
