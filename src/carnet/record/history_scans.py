"""Type and system history through the door: every version, newest first.

Pages are cut by keyset (the version's time, row and number, in ``scan_rows``), so they
neither skip nor repeat while writes go on. Access is applied twice: pushed into the SQL by
resource type (and by compartment for an actor who acts in one), so that refused rows are never
fetched, then decided again for each row (a refused or erased version is skipped silently).
Each page writes one audit event per patient whose versions it returned, in their chain.
"""

from __future__ import annotations

import heapq
import re
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Literal

from carnet.audit.tags import EventTag, Outcome
from carnet.record import scan_rows, store
from carnet.record.door import Detail, RepositoryBase, sealing_context
from carnet.record.errors import InvalidCursor
from carnet.record.schemas import HistoryEntry, HistoryPage
from carnet.storage.errors import DataKeyDestroyed
from carnet.storage.service import SYSTEM_OWNER

_HISTORY_CURSOR = re.compile(r"^([0-9]{1,19})\.([0-9]{1,19})\.([0-9]{1,9})$")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class HistoryScans(RepositoryBase):
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
        if not self._may_read(row.resource_type, row.patient_id, row.held):
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
