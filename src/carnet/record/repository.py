"""The Repository: the one door to health data.

Every call follows the same steps (DESIGN.md §4): decide (access) → act → audit (success or
refusal) → return. A refusal is indistinguishable from absence to the caller and is still
audited. Writes run inside a savepoint, so a failure leaves no row, index entry or version behind
while its audit event, written after the savepoint is undone, survives the commit.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Literal, NoReturn

import orjson
from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from carnet.access import service as access_service
from carnet.access.schemas import AccessContext, Action, ResourceFacts
from carnet.audit.schemas import AuditRecord
from carnet.audit.tags import EventTag, Outcome
from carnet.core.errors import ClientError, Gone, InvalidInput, Issue, NotFound
from carnet.core.ids import new_id
from carnet.record import store
from carnet.record.errors import (
    InvalidResource,
    MismatchedResource,
    ResourceDeleted,
    ResourceNotFound,
    UnknownResourceType,
    VersionConflict,
    VersionMismatch,
    WriteRefused,
)
from carnet.record.schemas import DeleteOutcome, HistoryEntry, StoredResource, WriteOutcome
from carnet.storage.errors import DataKeyDestroyed
from carnet.storage.service import SYSTEM_OWNER

if TYPE_CHECKING:
    from carnet.record.service import Record

_OUTCOMES: dict[type[ClientError], Outcome] = {
    NotFound: Outcome.NOT_FOUND,
    Gone: Outcome.GONE,
    InvalidInput: Outcome.INVALID,
}


class Repository:
    """Health data as one actor may see and change it. Made per request by ``Record``."""

    def __init__(self, *, record: Record, db: Connection, ctx: AccessContext) -> None:
        self._record = record
        self._db = db
        self.ctx = ctx

    # --- reading --------------------------------------------------------------------------------

    def read(self, resource_type: str, resource_id: str) -> StoredResource:
        """The current version. Raises ResourceNotFound (absent or refused) or a Gone."""
        tag = EventTag.RECORD_RESOURCE_READ
        self._require_type(resource_type, tag)
        row = store.current(self._db, resource_type, resource_id)
        entity = f"{resource_type}/{resource_id}"
        self._check_read(tag, entity, resource_type, row)
        assert row is not None
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
        self._check_read(tag, entity, resource_type, row)
        assert row is not None
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
        """The resource's versions, newest first (deletions included, without a body)."""
        tag = EventTag.RECORD_RESOURCE_HISTORY
        self._require_type(resource_type, tag)
        row = store.current(self._db, resource_type, resource_id)
        entity = f"{resource_type}/{resource_id}/_history"
        self._check_read(tag, entity, resource_type, row)
        assert row is not None
        rows = [row, *store.past_versions(self._db, row.key, limit=max(count - 1, 0))][:count]
        entries = [self._history_entry(resource_type, resource_id, r, tag, entity) for r in rows]
        self._audit(tag, Outcome.SUCCESS, row.patient_id, entity, detail={"count": len(entries)})
        return entries

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
    ) -> None:
        if row is None:
            self._refuse(tag, ResourceNotFound(), None, entity)
        facts = ResourceFacts(resource_type=resource_type, patient_id=row.patient_id)
        decision = access_service.decide(self.ctx, Action.READ, facts)
        if not decision.allowed:
            self._refuse(tag, ResourceNotFound(), row.patient_id, entity, refused_by=decision.rule)

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
            key = self._record.storage.data_key(self._db, owner_id=owner)
            body = key.open(row.body, _context(resource_type, resource_id, version))
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

    def _with_blob(self, body: bytes, owner: str, blob_id: str) -> bytes:
        data = self._record.storage.get_blob(self._db, owner_id=owner, blob_id=blob_id)
        resource = orjson.loads(body)
        resource["data"] = base64.b64encode(data or b"").decode()
        return orjson.dumps(resource)

    # --- writing --------------------------------------------------------------------------------

    def create(self, resource: dict[str, Any]) -> StoredResource:
        """Store a new resource under a new server-assigned id."""
        tag = EventTag.RECORD_RESOURCE_CREATE
        resource_type = self._require_resource_type(resource, tag)
        self._validate(resource, tag, resource_type)
        resource_id = new_id()
        with self._write_guard(tag, resource_type):
            outcome = self._put(tag, resource_type, resource_id, resource, row=None, if_match=None)
        return outcome.resource

    def update(
        self,
        resource_type: str,
        resource_id: str,
        resource: dict[str, Any],
        *,
        if_match: int | None = None,
    ) -> WriteOutcome:
        """Store a new version (or the first one, when the id is new: update as create)."""
        tag = EventTag.RECORD_RESOURCE_UPDATE
        self._require_type(resource_type, tag)
        self._require_same(resource, resource_type, resource_id, tag)
        self._validate(resource, tag, resource_type)
        with self._write_guard(tag, resource_type):
            row = store.current(self._db, resource_type, resource_id)
            if row is not None:
                self._require_writable(resource_type, resource_id, row, Action.UPDATE)
            if if_match is not None and (row is None or row.version != if_match):
                raise VersionMismatch
            return self._put(tag, resource_type, resource_id, resource, row=row, if_match=if_match)

    def delete(self, resource_type: str, resource_id: str) -> DeleteOutcome:
        """Logically delete: a new version marks it deleted; the history stays."""
        tag = EventTag.RECORD_RESOURCE_DELETE
        self._require_type(resource_type, tag)
        entity = f"{resource_type}/{resource_id}"
        with self._write_guard(tag, resource_type):
            row = store.current(self._db, resource_type, resource_id)
            if row is None:
                # Deleting what does not exist succeeds (FHIR: idempotent), and is audited.
                self._audit(tag, Outcome.NOT_FOUND, None, entity)
                return DeleteOutcome(version=None)
            self._require_writable(resource_type, resource_id, row, Action.DELETE)
            if row.deleted:
                self._audit(tag, Outcome.SUCCESS, row.patient_id, entity)
                return DeleteOutcome(version=row.version)
            new = store.NewVersion(
                patient_id=row.patient_id,
                version=row.version + 1,
                last_updated=self._record.clock.now(),
                deleted=True,
                body=None,
                blob_id=None,
            )
            if not store.replace(self._db, row, new):
                raise VersionConflict
            self._reindex(row.key, resource_type, row.patient_id, None, row.indexed)
            self._audit(tag, Outcome.SUCCESS, row.patient_id, f"{entity}/_history/{new.version}")
            return DeleteOutcome(version=new.version)

    def _put(
        self,
        tag: EventTag,
        resource_type: str,
        resource_id: str,
        resource: dict[str, Any],
        *,
        row: store.AnyRow | None,
        if_match: int | None,
    ) -> WriteOutcome:
        owner = self._owner(resource_type, resource_id, resource)
        facts = ResourceFacts(resource_type=resource_type, patient_id=owner)
        action = Action.CREATE if row is None else Action.UPDATE
        decision = access_service.decide(self.ctx, action, facts)
        entity = f"{resource_type}/{resource_id}"
        if not decision.allowed:
            raise _Failure.refused(owner, entity, decision.rule)
        version = 1 if row is None else row.version + 1
        now = self._record.clock.now()
        body_resource = dict(resource)
        body_resource["id"] = resource_id
        body_resource["meta"] = _meta(resource.get("meta"), version, now)
        storage = self._record.storage
        key_owner = owner or SYSTEM_OWNER
        try:
            data_key = storage.data_key(self._db, owner_id=key_owner, create=True)
        except DataKeyDestroyed as exc:
            # The space was erased: nothing may be written into it again.
            raise _Failure(exc, owner, entity, Outcome.GONE) from None
        blob_id = None
        if resource_type == "Binary" and "data" in body_resource:
            content = _decode_binary(body_resource.pop("data"))
            blob_id = storage.put_blob(self._db, owner_id=key_owner, data=content)
        plain = orjson.dumps(body_resource)
        new = store.NewVersion(
            patient_id=owner,
            version=version,
            last_updated=now,
            deleted=False,
            body=data_key.seal(plain, _context(resource_type, resource_id, version)),
            blob_id=blob_id,
        )
        if row is None:
            key = store.insert_first(self._db, resource_type, resource_id, new)
            previous_bits = 0
        else:
            if not store.replace(self._db, row, new):
                raise VersionMismatch if if_match is not None else VersionConflict
            key, previous_bits = row.key, row.indexed
        self._reindex(key, resource_type, owner, body_resource, previous_bits)
        self._audit(
            tag, Outcome.SUCCESS, owner, f"{resource_type}/{resource_id}/_history/{version}"
        )
        if blob_id is not None:
            plain = self._with_blob(plain, key_owner, blob_id)
        stored = StoredResource(resource_type, resource_id, version, now, owner, plain)
        return WriteOutcome(resource=stored, created=row is None)

    def _reindex(
        self,
        key: int,
        resource_type: str,
        owner: str | None,
        resource: dict[str, Any] | None,
        previous_bits: int,
    ) -> None:
        entries = None if resource is None else self._record.indexer.extract(resource)
        store.write_index(
            self._db,
            key=key,
            resource_type=resource_type,
            patient_id=owner,
            entries=entries,
            blind_hash=self._record.storage.blind_index,
            previous_bits=previous_bits,
        )

    def _owner(self, resource_type: str, resource_id: str, resource: dict[str, Any]) -> str | None:
        """The patient whose compartment holds the resource (and whose key seals it)."""
        if resource_type == "Patient":
            return resource_id
        if resource_type == "Binary":
            return self._binary_owner(resource)
        refs = self._record.indexer.patient_refs(resource)
        return refs[0] if refs else None

    def _binary_owner(self, resource: dict[str, Any]) -> str | None:
        # Binary is in no compartment; its securityContext says whose data it is.
        reference = (resource.get("securityContext") or {}).get("reference") or ""
        target_type, _, target_id = reference.partition("/")
        if target_type == "Patient" and target_id:
            return target_id
        if target_type and target_id and "/" not in target_id:
            return store.patient_of(self._db, target_type, target_id)
        return None

    def _require_writable(
        self, resource_type: str, resource_id: str, row: store.AnyRow, action: Action
    ) -> None:
        facts = ResourceFacts(resource_type=resource_type, patient_id=row.patient_id)
        entity = f"{resource_type}/{resource_id}"
        read = access_service.decide(self.ctx, Action.READ, facts)
        if not read.allowed:
            # Writing over what the caller cannot see: refused like any other write, without
            # saying that something is there.
            raise _Failure.refused(row.patient_id, entity, read.rule)
        decision = access_service.decide(self.ctx, action, facts)
        if not decision.allowed:
            raise _Failure.refused(row.patient_id, entity, decision.rule)

    @contextmanager
    def _write_guard(self, tag: EventTag, resource_type: str) -> Iterator[None]:
        """A savepoint around a write: on failure, undo it, then audit the failure.

        The failure's audit event is written after the savepoint is rolled back, so that it
        survives while everything the write did is gone.
        """
        try:
            with self._db.begin_nested():
                yield
        except _Failure as failure:
            self._audit(
                tag, failure.outcome, failure.patient_id, failure.entity, detail=failure.detail
            )
            raise failure.error from None
        except IntegrityError:
            # Two writers created the same id at once: the loser sees a conflict.
            self._audit(tag, Outcome.CONFLICT, None, resource_type)
            raise VersionConflict from None
        except ClientError as exc:
            self._audit(tag, _outcome(exc), None, resource_type)
            raise

    # --- checks and audit -----------------------------------------------------------------------

    def _require_type(self, resource_type: str, tag: EventTag) -> None:
        if resource_type not in self._record.resource_types:
            self._refuse(tag, UnknownResourceType(), None, "-")

    def _require_resource_type(self, resource: dict[str, Any], tag: EventTag) -> str:
        resource_type = resource.get("resourceType")
        if not isinstance(resource_type, str):
            self._refuse(tag, InvalidResource([_issue_missing_type()]), None, "-")
        self._require_type(resource_type, tag)
        return resource_type

    def _require_same(
        self, resource: dict[str, Any], resource_type: str, resource_id: str, tag: EventTag
    ) -> None:
        if resource.get("resourceType") != resource_type:
            issue = Issue(
                "invalid",
                "The body's resourceType differs from the URL.",
                f"{resource_type}.resourceType",
            )
            self._refuse(tag, MismatchedResource(issue), None, resource_type)
        if resource.get("id") != resource_id:
            issue = Issue(
                "invalid", "The body's id must equal the id in the URL.", f"{resource_type}.id"
            )
            self._refuse(tag, MismatchedResource(issue), None, resource_type)

    def _validate(self, resource: dict[str, Any], tag: EventTag, resource_type: str) -> None:
        issues = self._record.validator.validate(resource)
        if issues:
            self._refuse(tag, InvalidResource(issues), None, resource_type)

    def _refuse(
        self,
        tag: EventTag,
        error: ClientError,
        patient_id: str | None,
        entity: str,
        *,
        refused_by: str | None = None,
    ) -> NoReturn:
        outcome = Outcome.REFUSED if refused_by else _outcome(error)
        detail = {"rule": refused_by} if refused_by else {}
        self._audit(tag, outcome, patient_id, entity, detail=detail)
        raise error

    def _audit(
        self,
        tag: EventTag,
        outcome: Outcome,
        patient_id: str | None,
        entity: str,
        *,
        detail: Mapping[str, str | int | bool | list[str]] | None = None,
    ) -> None:
        self._record.audit.record(
            self._db,
            AuditRecord(
                tag=tag,
                outcome=outcome,
                actor=self.ctx.actor,
                patient_id=patient_id,
                entity=entity,
                mode=self.ctx.mode.value,
                detail=detail or {},
            ),
        )


class _Failure(Exception):
    """A write failure whose context is known, carried out of the savepoint to be audited."""

    def __init__(
        self,
        error: ClientError,
        patient_id: str | None,
        entity: str,
        outcome: Outcome,
        detail: dict[str, str | int | bool | list[str]] | None = None,
    ) -> None:
        super().__init__(error.message)
        self.error = error
        self.patient_id = patient_id
        self.entity = entity
        self.outcome = outcome
        self.detail = detail or {}

    @classmethod
    def refused(cls, patient_id: str | None, entity: str, rule: str) -> _Failure:
        return cls(WriteRefused(), patient_id, entity, Outcome.REFUSED, {"rule": rule})


def _outcome(error: ClientError) -> Outcome:
    for error_type, outcome in _OUTCOMES.items():
        if isinstance(error, error_type):
            return outcome
    return Outcome.CONFLICT


def _context(resource_type: str, resource_id: str, version: int) -> bytes:
    """Associated data binding a sealed body to its resource and version."""
    return f"{resource_type}/{resource_id}/{version}".encode()


def _meta(meta: Any, version: int, now: Any) -> dict[str, Any]:
    kept = dict(meta) if isinstance(meta, dict) else {}
    kept["versionId"] = str(version)
    kept["lastUpdated"] = now.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return kept


def _decode_binary(data: Any) -> bytes:
    try:
        return base64.b64decode(data, validate=True)
    except (binascii.Error, TypeError, ValueError):
        issue = Issue("value", "Binary.data is not valid base64.", "Binary.data")
        raise InvalidResource([issue]) from None


def _issue_missing_type() -> Issue:
    return Issue("required", "The resource has no resourceType.", "resourceType")
