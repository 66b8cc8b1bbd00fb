"""One step of a bulk export job: read the next stretch of rows, store it as a part.

An export runs as a chain of short jobs (each step re-enqueues the next in its own transaction),
so no transaction is long: SQLite's single writer is never held for more than about a second,
a job's lease never runs out, progress survives a crash, and a deletion takes effect at the
next step. Each step reads at most ``STEP_ROWS`` rows, streamed, and writes them as one part per
resource type met: memory stays flat whatever the export's size.

Rows are read by segments, one per type (and per patient for a patient or group export), each
in id order after the last id read: the unique (type, id) index serves them on both databases.
The export is a snapshot at its ``transaction_time``: a row changed since is exported as the
version current then (from the archive), and a row created since is left out.
"""

from __future__ import annotations

import time
from datetime import datetime

import orjson

from carnet.core.ids import new_id
from carnet.record import scan_rows
from carnet.record.door import RepositoryBase, sealing_context
from carnet.record.export_frames import PartWriter
from carnet.record.export_rows import FileEntry, Plan, Progress
from carnet.record.schemas import ExportPolicy
from carnet.record.store import AnyRow
from carnet.storage.service import SYSTEM_OWNER

STEP_ROWS = 10_000
STEP_SECONDS = 1.0
_BINARY_CONTEXT = b"export/"


class ExportSteps(RepositoryBase):
    def _export_step(
        self, key_owner: str, at: datetime, plan: Plan, progress: Progress, policy: ExportPolicy
    ) -> bool:
        """Export the next stretch into ``progress``; True once every segment is done."""
        writer = PartWriter()
        current: str | None = None
        budget = STEP_ROWS
        deadline = time.monotonic() + STEP_SECONDS
        while progress.segment < plan.segments and budget > 0 and time.monotonic() < deadline:
            resource_type, patient_id = plan.segment(progress.segment)
            if current is not None and current != resource_type:
                self._export_flush(writer, current, key_owner, progress, policy)
                writer = PartWriter()
            current = resource_type
            room = (
                policy.file_resources - _open_count(progress, resource_type, policy) - writer.lines
            )
            if room <= 0:  # the file is full: its last part goes out, the next one starts
                self._export_flush(writer, current, key_owner, progress, policy)
                writer = PartWriter()
                continue
            limit = min(budget, room)
            fetched, last_id = self._export_segment(
                writer,
                resource_type=resource_type,
                patient_id=patient_id,
                plan=plan,
                progress=progress,
                at=at,
                limit=limit,
            )
            budget -= fetched
            if fetched < limit:
                progress.segment, progress.after = progress.segment + 1, ""
            else:
                progress.after = last_id
        if current is not None:
            self._export_flush(writer, current, key_owner, progress, policy)
        return progress.segment >= plan.segments

    def _export_segment(
        self,
        writer: PartWriter,
        *,
        resource_type: str,
        patient_id: str | None,
        plan: Plan,
        progress: Progress,
        at: datetime,
        limit: int,
    ) -> tuple[int, str]:
        """Frame up to ``limit`` rows of one segment; return how many were read, and the id of
        the last one."""
        patients: scan_rows.PatientFilter = "one" if patient_id is not None else "all"
        if patient_id is None and plan.any_patient:
            patients = "any"
        fetched, last_id = 0, progress.after
        for row in scan_rows.segment_rows(
            self._db,
            resource_type,
            patients=patients,
            patient_id=patient_id,
            after_id=progress.after,
            limit=limit,
            since=plan.since,
        ):
            fetched, last_id = fetched + 1, row.id
            self._export_frame(
                writer, row, resource_type=resource_type, at=at, since=plan.since, progress=progress
            )
        return fetched, last_id

    def _export_frame(
        self,
        writer: PartWriter,
        row: AnyRow,
        *,
        resource_type: str,
        at: datetime,
        since: datetime | None,
        progress: Progress,
    ) -> None:
        """Add the row's version as of ``at`` to the part, if it is exported at all."""
        version, patient_id, body, blob_id, erased = (
            row.version,
            row.patient_id,
            row.body,
            row.blob_id,
            row.key_destroyed_at is not None,
        )
        if row.last_updated > at:  # changed after the export began: take the version of then
            then = scan_rows.version_as_of(self._db, row.key, at)
            if then is None or then.deleted or (since is not None and then.last_updated <= since):
                return
            version, body, blob_id = then.version, then.body, then.blob_id
            if then.patient_id != patient_id:
                patient_id = then.patient_id
                erased = self._record.storage.is_destroyed(
                    self._db, owner_id=patient_id or SYSTEM_OWNER
                )
        elif row.deleted:
            return
        if not self._may_read(resource_type, patient_id, row.held):
            return  # refused: skipped silently, never counted
        if erased:
            progress.erased[resource_type] = progress.erased.get(resource_type, 0) + 1
            return
        owner = patient_id or SYSTEM_OWNER
        context = sealing_context(resource_type, row.id, version)
        if blob_id is not None:
            # A Binary's content lives in the blob store: the line carries it back, sealed
            # again under the same owner's key.
            key = self._record.storage.data_key(self._db, owner_id=owner)
            plain = self._with_blob(key.open(body, context), owner, blob_id)
            context = _BINARY_CONTEXT + context
            body = key.seal(plain, context)
        writer.add(owner, context, body)

    def _export_flush(
        self,
        writer: PartWriter,
        resource_type: str,
        key_owner: str,
        progress: Progress,
        policy: ExportPolicy,
    ) -> None:
        """Store the part (sealed as a whole under ``key_owner``) in the type's open file."""
        if not writer.lines:
            return
        entry = _open_file(progress, resource_type, policy)
        if entry is None or entry.count + writer.lines > policy.file_resources:
            entry = FileEntry(id=new_id(), resource_type=resource_type)
            progress.files.append(entry)
        # The lines are ciphertext already: deflating them would cost time for nothing.
        blob_id = self._record.storage.put_blob(
            self._db, owner_id=key_owner, data=writer.getvalue(), compress=False
        )
        entry.parts.append(blob_id)
        entry.count += writer.lines
        progress.written += writer.lines

    def _export_errors(self, key_owner: str, progress: Progress) -> None:
        """The error file: one OperationOutcome per type with erased resources (no ids)."""
        if not progress.erased:
            return
        writer = PartWriter()
        for resource_type, count in sorted(progress.erased.items()):
            outcome = {
                "resourceType": "OperationOutcome",
                "issue": [
                    {
                        "severity": "error",
                        "code": "deleted",
                        "diagnostics": f"{count} {resource_type} resource(s) not exported: "
                        "their data has been erased.",
                    }
                ],
            }
            writer.add("", b"", orjson.dumps(outcome))
        blob_id = self._record.storage.put_blob(
            self._db, owner_id=key_owner, data=writer.getvalue()
        )
        entry = FileEntry(
            id=new_id(), resource_type="OperationOutcome", count=writer.lines, error=True
        )
        entry.parts.append(blob_id)
        progress.files.append(entry)


def _open_file(progress: Progress, resource_type: str, policy: ExportPolicy) -> FileEntry | None:
    """The type's last output file while it has room."""
    for entry in reversed(progress.files):
        if entry.resource_type == resource_type and not entry.error:
            return entry if entry.count < policy.file_resources else None
    return None


def _open_count(progress: Progress, resource_type: str, policy: ExportPolicy) -> int:
    entry = _open_file(progress, resource_type, policy)
    return entry.count if entry is not None else 0
