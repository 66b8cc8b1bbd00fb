"""Download my data: a ZIP of the person's whole record, prepared after commit, kept a while.

    state = archives.request(db, ctx=ctx)          # the page's "prepare my archive"
    ...  jobs run: the bulk export, then ARCHIVE_BUILD_JOB
    download = archives.download(db, ctx=ctx, archive_id=state.id)
    for index in range(download.parts): archives.part(db, ctx=ctx, download=download, index=index)

What is in it: ``fhir/<Type>.ndjson``, the person's compartment as FHIR NDJSON, written by the
record's own bulk export (``Patient/$export`` run **as the person**, so the access rules and the
audit apply to every line as to a read: what the person cannot see is not exported); every
original document, ``documents/<DocumentReference id>.<ext>``, byte for byte from its Binary (or
its inline data); and ``README.txt``, in French, saying what each part is.

Memory stays bounded: lines are streamed from the export's parts into the ZIP, which is spooled
to a temporary file, one document at a time; the ZIP is then stored as blobs of at most
``chunk_bytes`` each, sealed under the person's own key (destroying the key destroys the
archive), and read back one blob at a time on download.

Rules: one archive in preparation per person (``ArchiveInProgress``); a new request replaces a
ready or expired one; an archive is kept ``keep`` (7 days) after it is ready, then the periodic
``ARCHIVE_EXPIRE_JOB`` deletes its blobs (the row stays, "expired", for the page to say so);
only the person who asked may download it: to anyone else it does not exist (``ArchiveNotFound``,
audited like a refused export download).
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import IO, TYPE_CHECKING, Any, Final

import orjson
from sqlalchemy import Connection

from carnet.access.schemas import AccessContext
from carnet.audit.tags import EventTag, Outcome
from carnet.core.actor import Actor, ActorKind
from carnet.core.errors import Conflict, NotFound
from carnet.core.ids import new_id
from carnet.record import archive_rows as rows
from carnet.record.archive_zip import write_zip
from carnet.record.errors import ExportNotFound
from carnet.record.schemas import ExportRequest

if TYPE_CHECKING:
    from carnet.record.service import Record

log = logging.getLogger(__name__)

ARCHIVE_BUILD_JOB: Final = "record:archive-build"
ARCHIVE_EXPIRE_JOB: Final = "record:archive-expire"
_POLL: Final = timedelta(seconds=1)
"""How soon the build looks again at an export still running."""
_STALE: Final = timedelta(hours=6)


class ArchiveInProgress(Conflict):
    def __init__(self) -> None:
        super().__init__("An archive is already being prepared.")


class ArchiveNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("No such archive.")


@dataclass(frozen=True, slots=True)
class ArchiveState:
    """Where a person's archive stands: ``preparing``, ``ready`` (until ``expires_at``),
    ``failed`` or ``expired``."""

    id: str
    status: str
    created_at: datetime
    expires_at: datetime | None
    size: int | None


@dataclass(frozen=True, slots=True)
class ArchiveDownload:
    """A ready archive handed to its requester: read it blob by blob with ``part``."""

    id: str
    parts: int
    size: int
    filename: str


class Archives:
    """Prepares, serves and expires archives; built once per process from the ``Record``."""

    def __init__(
        self,
        record: Record,
        *,
        keep: timedelta = timedelta(days=7),
        chunk_bytes: int = 4 * 1024 * 1024,
    ) -> None:
        self.record = record
        self.keep = keep
        self.chunk_bytes = chunk_bytes

    # --- the person's side ---------------------------------------------------------------------

    def request(self, db: Connection, *, ctx: AccessContext) -> ArchiveState:
        """Start preparing an archive of ``ctx``'s space, in the caller's transaction. Raises
        ``ArchiveInProgress`` while one is being prepared; a ready one is replaced."""
        patient_id = _space(ctx)
        earlier = rows.of_patient(db, patient_id)
        now = self.record.clock.now()
        # A preparation that never finished (its job parked after repeated failures) does not
        # block the person for ever.
        if any(row.status == rows.PREPARING and row.created_at > now - _STALE for row in earlier):
            raise ArchiveInProgress
        for row in earlier:
            self._discard(db, row)
        repo = self.record.repository(db=db, ctx=ctx)
        export_id = repo.start_export(
            ExportRequest(level="patient", request_url="/mes-donnees"), self.record.export_policy
        )
        archive_id = new_id()
        rows.add(
            db,
            {
                "id": archive_id,
                "patient_id": patient_id,
                "requester_kind": str(ctx.actor.kind),
                "requester_id": ctx.actor.id,
                "export_id": export_id,
                "status": rows.PREPARING,
                "created_at": now,
            },
        )
        self._jobs().enqueue(
            db, kind=ARCHIVE_BUILD_JOB, payload={"archive": archive_id}, run_after=now
        )
        return ArchiveState(archive_id, rows.PREPARING, now, None, None)

    def latest(self, db: Connection, *, ctx: AccessContext) -> ArchiveState | None:
        """The newest archive ``ctx``'s actor asked for in this space (None: none)."""
        for row in rows.of_patient(db, _space(ctx)):
            if _asked_by(row, ctx):
                return ArchiveState(row.id, row.status, row.created_at, row.expires_at, row.size)
        return None

    def download(self, db: Connection, *, ctx: AccessContext, archive_id: str) -> ArchiveDownload:
        """A ready archive, to the person who asked for it (audited); ``ArchiveNotFound`` for
        anyone else, or when it is not ready, expired or gone."""
        row = rows.get(db, archive_id)
        repo = self.record.repository(db=db, ctx=ctx)
        entity = f"archive/{archive_id}"
        tag = EventTag.RECORD_EXPORT_DOWNLOAD
        if row is None or not _asked_by(row, ctx) or row.status != rows.READY:
            patient_id = None if row is None else row.patient_id
            refused = None if row is None or _asked_by(row, ctx) else "archive-of-another"
            repo._refuse(tag, ArchiveNotFound(), patient_id, entity, refused_by=refused)  # noqa: SLF001
        repo._audit(tag, Outcome.SUCCESS, row.patient_id, entity, detail={"size": row.size or 0})  # noqa: SLF001
        day = row.created_at.date().isoformat()
        return ArchiveDownload(
            id=row.id,
            parts=len(rows.parts_of(row)),
            size=int(row.size or 0),
            filename=f"mes-donnees-{day}.zip",
        )

    def part(
        self, db: Connection, *, ctx: AccessContext, download: ArchiveDownload, index: int
    ) -> bytes:
        """One blob of a downloaded archive (in the caller's short transaction). Raises
        ``ArchiveNotFound`` when it expired or was replaced meanwhile."""
        row = rows.get(db, download.id)
        parts = [] if row is None or not _asked_by(row, ctx) else rows.parts_of(row)
        if row is None or row.status != rows.READY or index >= len(parts):
            raise ArchiveNotFound
        data = self.record.storage.get_blob(db, owner_id=row.patient_id, blob_id=parts[index])
        if data is None:
            raise ArchiveNotFound
        return data

    # --- jobs -----------------------------------------------------------------------------------

    def build(self, db: Connection, payload: Mapping[str, Any]) -> None:
        """``ARCHIVE_BUILD_JOB``: once the export is complete, write the ZIP and store it;
        until then, look again shortly."""
        row = rows.get(db, str(payload["archive"]), lock=True)
        if row is None or row.status != rows.PREPARING:
            return
        repo = self.record.repository(db=db, ctx=_requester(row))
        try:
            status = repo.export_status(row.export_id)
        except ExportNotFound:
            rows.save(db, row.id, status=rows.FAILED)
            return
        if status.state in {"accepted", "in-progress"}:
            self._jobs().enqueue(
                db,
                kind=ARCHIVE_BUILD_JOB,
                payload={"archive": row.id},
                run_after=self.record.clock.now() + _POLL,
            )
            return
        if status.state != "completed":
            rows.save(db, row.id, status=rows.FAILED)
            return
        with tempfile.TemporaryFile() as spool:
            write_zip(repo, status, spool)
            size = spool.tell()
            spool.seek(0)
            parts = self._store(db, row.patient_id, spool)
        now = self.record.clock.now()
        rows.save(
            db,
            row.id,
            status=rows.READY,
            parts=orjson.dumps(parts).decode(),
            size=size,
            ready_at=now,
            expires_at=now + self.keep,
        )
        repo.delete_export(row.export_id)  # its files are in the archive now
        log.info("archive ready: %d parts", len(parts))

    def expire(self, db: Connection, _payload: Mapping[str, Any] | None = None) -> None:
        """``ARCHIVE_EXPIRE_JOB`` (periodic): delete the blobs of archives past their time;
        the rows stay, marked expired, so the person's page can say so."""
        expired = rows.expired(db, self.record.clock.now(), limit=100)
        for archive_id in expired:
            row = rows.get(db, archive_id, lock=True)
            if row is not None:
                self._drop_parts(db, row)
                rows.save(db, archive_id, status=rows.EXPIRED, parts=None)

    # --- internals ------------------------------------------------------------------------------

    def _jobs(self) -> Any:
        jobs = self.record.jobs
        if jobs is None:
            raise RuntimeError("archives need the job queue (Record built without one)")
        return jobs

    def _store(self, db: Connection, patient_id: str, spool: IO[bytes]) -> list[str]:
        storage = self.record.storage
        parts = []
        while chunk := spool.read(self.chunk_bytes):
            # A ZIP does not shrink further: no compression before sealing.
            parts.append(storage.put_blob(db, owner_id=patient_id, data=chunk, compress=False))
        return parts

    def _drop_parts(self, db: Connection, row: Any) -> None:
        for blob_id in rows.parts_of(row):
            self.record.storage.delete_blob(db, owner_id=row.patient_id, blob_id=blob_id)

    def _discard(self, db: Connection, row: Any) -> None:
        self._drop_parts(db, row)
        rows.remove(db, row.id)


def _space(ctx: AccessContext) -> str:
    if not ctx.patient_id:
        raise ArchiveNotFound
    return ctx.patient_id


def _asked_by(row: Any, ctx: AccessContext) -> bool:
    return bool(
        row.requester_kind == str(ctx.actor.kind)
        and row.requester_id == ctx.actor.id
        and row.patient_id == ctx.patient_id
    )


def _requester(row: Any) -> AccessContext:
    """The context the build acts in: the person who asked, in their space."""
    actor = Actor(kind=ActorKind(row.requester_kind), id=row.requester_id)
    return AccessContext(actor=actor, patient_id=row.patient_id)
