"""Reading through the door: read, vread, a resource's history."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Literal

from carnet.access import service as access_service
from carnet.access.schemas import Action, ResourceFacts
from carnet.audit.tags import EventTag, Outcome
from carnet.record import store
from carnet.record.door import RepositoryBase, sealing_context
from carnet.record.errors import InvalidCursor, ResourceDeleted, ResourceNotFound
from carnet.record.labels import labels_of
from carnet.record.schemas import HistoryEntry, HistoryPage, StoredResource
from carnet.storage.errors import DataKeyDestroyed
from carnet.storage.service import SYSTEM_OWNER, DataKey

_VERSION_CURSOR = re.compile(r"^[1-9][0-9]{0,8}$")


class Reads(RepositoryBase):
    def read(self, resource_type: str, resource_id: str) -> StoredResource:
        """The current version. Raises ResourceNotFound (absent or refused) or a Gone."""
        tag = EventTag.RECORD_RESOURCE_READ
        self._require_type(resource_type, tag)
        row = store.current(self._db, resource_type, resource_id)
        entity = f"{resource_type}/{resource_id}"
        row = self._check_read(tag, entity, resource_type, row)
        if row.deleted:
            self._refuse(tag, ResourceDeleted(), row.patient_id, entity)
        stored = self._open(resource_type, resource_id, row, tag=tag, entity=entity)
        self._audit(tag, Outcome.SUCCESS, row.patient_id, f"{entity}/_history/{row.version}")
        return stored

    def vread(self, resource_type: str, resource_id: str, version: int) -> StoredResource:
        """One version by number. A version that records a deletion is a ResourceDeleted."""
        tag = EventTag.RECORD_RESOURCE_VREAD
        self._require_type(resource_type, tag)
        row = store.current(self._db, resource_type, resource_id)
        entity = f"{resource_type}/{resource_id}/_history/{version}"
        row = self._check_read(tag, entity, resource_type, row)
        found: store.AnyRow | None = row if row.version == version else None
        if found is None and 0 < version < row.version:
            found = store.past_version(self._db, row.key, version)
        if found is None:
            self._refuse(tag, ResourceNotFound(), row.patient_id, entity)
        if found.deleted:
            self._refuse(tag, ResourceDeleted(), row.patient_id, entity)
        stored = self._open(
            resource_type, resource_id, found, tag=tag, entity=entity, version=version
        )
        self._audit(tag, Outcome.SUCCESS, row.patient_id, entity)
        return stored

    def history(
        self, resource_type: str, resource_id: str, *, count: int = 100
    ) -> list[HistoryEntry]:
        """The resource's latest ``count`` versions, newest first (deletions included)."""
        return list(self.history_page(resource_type, resource_id, count=count).entries)

    def history_page(
        self,
        resource_type: str,
        resource_id: str,
        *,
        count: int,
        since: datetime | None = None,
        cursor: str | None = None,
    ) -> HistoryPage:
        """One page of the resource's versions, newest first (deletions included, without a
        body): those made at or after ``since``, below the version ``cursor`` names. Version
        numbers are the keyset, so new versions never shift later pages. Raises
        ResourceNotFound (absent or refused), InvalidCursor for a cursor not made here."""
        tag = EventTag.RECORD_RESOURCE_HISTORY
        self._require_type(resource_type, tag)
        before = _version_position(cursor)
        row = store.current(self._db, resource_type, resource_id)
        entity = f"{resource_type}/{resource_id}/_history"
        row = self._check_read(tag, entity, resource_type, row)
        rows: list[store.AnyRow] = []
        if (before is None or row.version < before) and (
            since is None or row.last_updated >= since
        ):
            rows.append(row)
        rows += store.past_versions(
            self._db, row.key, limit=count + 1 - len(rows), before=before, since=since
        )
        next_cursor = str(rows[count - 1].version) if len(rows) > count else None
        entries = tuple(
            self._history_entry(resource_type, resource_id, r, tag, entity) for r in rows[:count]
        )
        self._audit(tag, Outcome.SUCCESS, row.patient_id, entity, detail={"count": len(entries)})
        return HistoryPage(entries=entries, next_cursor=next_cursor)

    def _history_entry(
        self, resource_type: str, resource_id: str, row: store.AnyRow, tag: EventTag, entity: str
    ) -> HistoryEntry:
        body = None
        if not row.deleted:
            body = self._open(
                resource_type, resource_id, row, tag=tag, entity=entity, version=row.version
            ).body
        method: Literal["POST", "PUT", "DELETE"] = "PUT"
        if row.deleted:
            method = "DELETE"
        elif row.version == 1:
            method = "POST"
        return HistoryEntry(
            resource_type=resource_type,
            id=resource_id,
            version=row.version,
            last_updated=row.last_updated,
            method=method,
            body=body,
        )

    def _check_read(
        self, tag: EventTag, entity: str, resource_type: str, row: store.AnyRow | None
    ) -> store.AnyRow:
        """The row if the actor may read it; otherwise audit and raise ResourceNotFound, the
        same error whether the resource is absent or refused."""
        if row is None:
            self._refuse(tag, ResourceNotFound(), None, entity)
        facts = ResourceFacts(resource_type, row.patient_id, labels_of(row.held))
        decision = access_service.decide(self.ctx, Action.READ, facts)
        if not decision.allowed:
            self._refuse(tag, ResourceNotFound(), row.patient_id, entity, refused_by=decision.rule)
        return row

    def _open(
        self,
        resource_type: str,
        resource_id: str,
        row: store.AnyRow,
        *,
        tag: EventTag,
        entity: str,
        version: int | None = None,
    ) -> StoredResource:
        version = row.version if version is None else version
        owner = row.patient_id or SYSTEM_OWNER
        try:
            key = self._key_for(row, owner)
            body = key.open(row.body, sealing_context(resource_type, resource_id, version))
            if row.blob_id is not None:
                body = self._with_blob(body, owner, row.blob_id)
        except DataKeyDestroyed as exc:
            self._refuse(tag, exc, row.patient_id, entity)
        return StoredResource(
            resource_type=resource_type,
            id=resource_id,
            version=version,
            last_updated=row.last_updated,
            patient_id=row.patient_id,
            body=body,
        )

    def _key_for(self, row: store.AnyRow, owner: str) -> DataKey:
        storage = self._record.storage
        if "key_wrapped" in row._fields:  # a current row arrives with its owner's key
            return storage.key_from(
                owner,
                kek_id=row.key_kek_id,
                wrapped=row.key_wrapped,
                destroyed_at=row.key_destroyed_at,
            )
        return storage.data_key(self._db, owner_id=owner)


def _version_position(cursor: str | None) -> int | None:
    """The version below which an instance history page starts (None: the newest)."""
    if cursor is None:
        return None
    if not _VERSION_CURSOR.match(cursor):
        raise InvalidCursor
    return int(cursor)
