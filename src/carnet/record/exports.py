"""Bulk export through the door (FHIR Bulk Data 2.0): kick-off, status, files, deletion.

The kick-off records the export and enqueues its first job step in the caller's transaction (the
jobs outbox); the steps (``export_steps``) then run as the requester, so the access rules apply
to every row exported, as they would to a read. Only the requester may see the status, download
the files or delete the export; to anyone else it does not exist (and the attempt is audited).

Encryption and erasure: a file's parts are sealed under one data key, the ``key_owner``: the
patient's own key for an export of one patient (their "download my data"), the ``_system`` key
otherwise. Inside a part every line stays sealed under its own compartment owner's key, exactly
as in the record (``export_frames``), and is opened only on download. Destroying a patient's key
therefore makes their lines unreadable in every export, and in every backup of one, at once;
files also expire (``ExportPolicy.expires_after_seconds``), and a periodic job deletes them.

Audit: the kick-off, the completion, each download and the deletion are events in the export's
chain (its patient's for a one-patient export, the system's otherwise); a group export's
completion is also written in each member's chain.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from typing import Any

import orjson
from sqlalchemy import Connection

from carnet.access import service as access_service
from carnet.access.schemas import AccessContext, Action, Mode, ResourceFacts
from carnet.access.scopes import ScopeSet
from carnet.audit.tags import EventTag, Outcome
from carnet.core.actor import Actor, ActorKind
from carnet.core.ids import new_id
from carnet.record import export_rows, scan_rows, store
from carnet.record.door import Detail
from carnet.record.errors import ExportNotFound, ExportRefused
from carnet.record.export_frames import frames, open_lines
from carnet.record.export_rows import Plan, Progress
from carnet.record.export_steps import ExportSteps
from carnet.record.reads import Reads
from carnet.record.schemas import (
    ExportDownload,
    ExportFile,
    ExportPolicy,
    ExportRequest,
    ExportStatus,
)
from carnet.storage.service import SYSTEM_OWNER

EXPORT_STEP_JOB = "record:export-step"
_ACCEPTED, _RUNNING, _COMPLETED, _FAILED = "accepted", "in-progress", "completed", "failed"
_MAX_FAILURES = 3


class Exports(Reads, ExportSteps):
    def start_export(self, request: ExportRequest, policy: ExportPolicy) -> str:
        """Record an export and enqueue its first step; return its (random) id.

        Raises ExportRefused when the actor may not read one of the types asked for (or, when
        none was named, any type at all); for a group export, ResourceNotFound when the Group is
        absent or refused (its reading is decided and audited like any read).
        """
        tag = EventTag.RECORD_EXPORT_START
        for resource_type in request.types or ():
            self._require_type(resource_type, tag)
        members = self._export_members(request)
        plan = Plan(
            types=self._export_types(tag, request, members),
            since=request.since,
            members=members,
            any_patient=request.level != "system",
        )
        patient_id = members[0] if members is not None and len(members) == 1 else None
        key_owner = (
            patient_id if patient_id and self._export_has_patient(patient_id) else SYSTEM_OWNER
        )
        export_id = new_id()
        now = self._record.clock.now()
        export_rows.insert_export(
            self._db,
            {
                "id": export_id,
                "requester_kind": str(self.ctx.actor.kind),
                "requester_id": self.ctx.actor.id,
                "requester": _requester(self),
                "patient_id": patient_id,
                "level": request.level,
                "request": request.request_url,
                "plan": plan.dumps(),
                "status": _ACCEPTED,
                "progress": Progress().dumps(),
                "key_owner": key_owner,
                "transaction_time": now,
                "created_at": now,
                "expires_at": now + timedelta(seconds=policy.expires_after_seconds),
            },
        )
        jobs = self._record.jobs
        if jobs is None:
            raise RuntimeError("exports need the job queue (Record built without one)")
        jobs.enqueue(self._db, kind=EXPORT_STEP_JOB, payload={"export": export_id})
        detail: Detail = {"export": export_id, "level": request.level, "types": list(plan.types)}
        self._audit(tag, Outcome.SUCCESS, patient_id, f"$export/{export_id}", detail=detail)
        return export_id

    def export_status(self, export_id: str) -> ExportStatus:
        """The export as its requester sees it. Raises ExportNotFound for anyone else."""
        row = self._own_export(EventTag.RECORD_EXPORT_STATUS, export_id)
        progress = Progress.loads(row.progress)
        files = tuple(
            ExportFile(id=f.id, resource_type=f.resource_type, count=f.count, error=f.error)
            for f in progress.files
        )
        return ExportStatus(
            id=row.id,
            state=row.status,
            request_url=row.request,
            transaction_time=row.transaction_time,
            written=progress.written,
            files=files,
            expires_at=row.expires_at,
            error=row.error,
        )

    def delete_export(self, export_id: str) -> None:
        """Cancel the export if it runs, delete its files and forget it."""
        tag = EventTag.RECORD_EXPORT_DELETE
        row = self._own_export(tag, export_id, lock=True)
        self._discard_export(row)
        self._audit(tag, Outcome.SUCCESS, row.patient_id, f"$export/{export_id}")

    def export_download(self, export_id: str, file_id: str) -> ExportDownload:
        """Hand one file of a completed export to its requester (audited: who took which)."""
        tag = EventTag.RECORD_EXPORT_DOWNLOAD
        row = self._own_export(tag, export_id)
        entry = Progress.loads(row.progress).file(file_id) if row.status == _COMPLETED else None
        entity = f"$export/{export_id}/{file_id}"
        if entry is None:
            self._refuse(tag, ExportNotFound(), row.patient_id, entity)
        detail: Detail = {"type": entry.resource_type, "count": entry.count}
        self._audit(tag, Outcome.SUCCESS, row.patient_id, entity, detail=detail)
        return ExportDownload(export_id=export_id, file_id=file_id, parts=len(entry.parts))

    def export_part(self, download: ExportDownload, index: int) -> Iterator[bytes]:
        """The NDJSON lines of one part of a downloaded file, opened lazily.

        The owners' keys are fetched here, in the caller's (short) transaction; the lines are
        opened as the iterator is consumed, with no transaction held. Raises ExportNotFound if
        the export was deleted or expired meanwhile.
        """
        row = export_rows.get(self._db, download.export_id)
        entry = None
        if row is not None and self._is_export_requester(row) and row.status == _COMPLETED:
            entry = Progress.loads(row.progress).file(download.file_id)
        if row is None or entry is None or index >= len(entry.parts):
            raise ExportNotFound
        storage = self._record.storage
        part = storage.get_blob(self._db, owner_id=row.key_owner, blob_id=entry.parts[index])
        if part is None:
            raise ExportNotFound
        # An owner erased since the export has no key any more: their lines are gone.
        owners = {frame.owner for frame in frames(part) if frame.owner}
        keys = storage.data_keys(self._db, owner_ids=owners)
        return open_lines(part, keys.get)

    def run_export_step(self, export_id: str, policy: ExportPolicy) -> bool:
        """Run the next step of an export as its requester; True when another step is due."""
        row = export_rows.get(self._db, export_id, lock=True)
        if (
            row is None
            or row.status not in {_ACCEPTED, _RUNNING}
            or not self._is_export_requester(row)
        ):
            return False  # deleted or expired meanwhile: nothing left to do
        plan, progress = Plan.loads(row.plan), Progress.loads(row.progress)
        now = self._record.clock.now()
        values: dict[str, object] = {
            "status": _RUNNING,
            "expires_at": now + timedelta(seconds=policy.expires_after_seconds),
        }
        if row.status == _ACCEPTED:  # the first step: leave out the types with no rows at all
            present = scan_rows.present_types(
                self._db, plan.types, members=plan.members, any_patient=plan.any_patient
            )
            plan = replace(plan, types=tuple(t for t in plan.types if t in present))
            values["plan"] = plan.dumps()
        done = self._export_step(row.key_owner, row.transaction_time, plan, progress, policy)
        if done:
            self._export_errors(row.key_owner, progress)
            values.update(status=_COMPLETED, completed_at=now)
        export_rows.save(self._db, export_id, progress=progress.dumps(), **values)
        if done:
            self._audit_export_completion(row, plan, progress, Outcome.SUCCESS)
        return not done

    def export_step_failed(self, export_id: str) -> bool:
        """Count a failed step; after a few, fail the export. True when it should be retried."""
        row = export_rows.get(self._db, export_id, lock=True)
        if row is None or row.status not in {_ACCEPTED, _RUNNING}:
            return False
        progress = Progress.loads(row.progress)
        progress.failures += 1
        if progress.failures < _MAX_FAILURES:
            export_rows.save(self._db, export_id, progress=progress.dumps())
            return True
        export_rows.save(
            self._db,
            export_id,
            progress=progress.dumps(),
            status=_FAILED,
            error="The export failed; request it again later.",
        )
        self._audit_export_completion(row, Plan.loads(row.plan), progress, Outcome.ERROR)
        return False

    def expire_exports(self, *, limit: int = 100) -> int:
        """Delete the files and rows of exports past their expiry; return how many."""
        expired = export_rows.expired(self._db, self._record.clock.now(), limit=limit)
        for export_id in expired:
            row = export_rows.get(self._db, export_id, lock=True)
            if row is None:
                continue
            self._discard_export(row)
            self._audit(
                EventTag.RECORD_EXPORT_EXPIRE, Outcome.SUCCESS, row.patient_id, f"$export/{row.id}"
            )
        return len(expired)

    # --- internals --------------------------------------------------------------------------

    def _export_members(self, request: ExportRequest) -> tuple[str, ...] | None:
        """The patients whose compartments are read (None: every compartment)."""
        if request.level == "group":
            # Read here, through the door, not taken from the caller: which patients an export
            # reads is decided by the Group as the actor may see it.
            if request.group_id is None:
                raise ValueError("a group export names its group")
            group = orjson.loads(self.read("Group", request.group_id).body)
            return group_members(group)
        if request.level == "patient" and self.ctx.patient_id is not None:
            return (self.ctx.patient_id,)  # a patient exports their own record
        return None

    def _export_types(
        self, tag: EventTag, request: ExportRequest, members: tuple[str, ...] | None
    ) -> tuple[str, ...]:
        definitions = self._record.definitions
        candidates = tuple(dict.fromkeys(request.types or ())) or tuple(
            t
            for t in sorted(self._record.resource_types)
            if request.level == "system" or definitions.in_patient_compartment(t)
        )
        compartment = members[0] if members and self.ctx.patient_id else None
        readable = tuple(
            t
            for t in candidates
            if access_service.decide(self.ctx, Action.READ, ResourceFacts(t, compartment)).allowed
        )
        if not readable or (request.types and len(readable) < len(candidates)):
            self._refuse(tag, ExportRefused(), compartment, "$export")
        return tuple(sorted(set(readable)))

    def _export_has_patient(self, patient_id: str) -> bool:
        row = store.current(self._db, "Patient", patient_id)
        return row is not None and row.key_destroyed_at is None

    def _is_export_requester(self, row: store.AnyRow) -> bool:
        actor = self.ctx.actor
        return bool(row.requester_kind == str(actor.kind) and row.requester_id == actor.id)

    def _own_export(self, tag: EventTag, export_id: str, *, lock: bool = False) -> store.AnyRow:
        """The export's row if the actor requested it; otherwise audit and raise ExportNotFound
        (the same whether it does not exist or belongs to someone else)."""
        row = export_rows.get(self._db, export_id, lock=lock)
        if row is None or not self._is_export_requester(row):
            refused = None if row is None else "export-of-another-requester"
            patient_id = None if row is None else row.patient_id
            self._refuse(
                tag, ExportNotFound(), patient_id, f"$export/{export_id}", refused_by=refused
            )
        return row

    def _discard_export(self, row: store.AnyRow) -> None:
        for blob_id in Progress.loads(row.progress).blob_ids():
            self._record.storage.delete_blob(self._db, owner_id=row.key_owner, blob_id=blob_id)
        export_rows.remove(self._db, row.id)

    def _audit_export_completion(
        self, row: store.AnyRow, plan: Plan, progress: Progress, outcome: Outcome
    ) -> None:
        detail: Detail = {
            "export": row.id,
            "written": progress.written,
            "files": len(progress.files),
            "erased": sum(progress.erased.values()),
        }
        tag = EventTag.RECORD_EXPORT_COMPLETE
        entity = f"$export/{row.id}"
        self._audit(tag, outcome, row.patient_id, entity, detail=detail)
        if row.level == "group" and row.patient_id is None:
            for member in plan.members or ():
                self._audit(tag, outcome, member, entity, detail=detail)


def _requester(repo: Exports) -> str:
    ctx = repo.ctx
    return orjson.dumps(
        {
            "label": ctx.actor.label,
            "mode": str(ctx.mode),
            "scopes": str(ctx.scopes),
            "patient": ctx.patient_id,
        }
    ).decode()


def export_requester(db: Connection, export_id: str) -> AccessContext | None:
    """The access context an export's job steps act with: its requester's, as at kick-off
    (None when the export is gone)."""
    row = export_rows.get(db, export_id)
    if row is None:
        return None
    data = orjson.loads(row.requester)
    return AccessContext(
        actor=Actor(kind=ActorKind(row.requester_kind), id=row.requester_id, label=data["label"]),
        mode=Mode(data["mode"]),
        scopes=ScopeSet.parse(data["scopes"]),
        patient_id=data["patient"],
    )


def group_members(group: dict[str, Any]) -> tuple[str, ...]:
    """The patients of a Group: its active members whose entity is a local Patient reference
    (``Patient/id``), once each, in order."""
    members: list[str] = []
    for member in group.get("member") or ():
        if not isinstance(member, dict) or member.get("inactive") is True:
            continue
        reference = (member.get("entity") or {}).get("reference")
        if isinstance(reference, str) and reference.startswith("Patient/"):
            patient_id = reference.removeprefix("Patient/")
            if patient_id and "/" not in patient_id:
                members.append(patient_id)
    return tuple(dict.fromkeys(members))
