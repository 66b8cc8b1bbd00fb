"""Writing through the door: create, update (and update as create), delete.

Each write runs inside a savepoint: a failure undoes everything the write did (resource rows,
versions, index entries, blob rows), then its audit event is written after the rollback so that
it survives the caller's commit.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy.exc import IntegrityError

from carnet.access import service as access_service
from carnet.access.schemas import Action, ResourceFacts
from carnet.audit.tags import EventTag, Outcome
from carnet.core.errors import ClientError, Issue
from carnet.core.ids import new_id
from carnet.record import fulltext_store, store
from carnet.record.door import Failure, RepositoryBase, outcome_of, sealing_context
from carnet.record.errors import (
    AlreadyShownToPatient,
    InvalidResource,
    MismatchedResource,
    VersionConflict,
    VersionMismatch,
)
from carnet.record.labels import INVISIBLE_TO_PATIENT, held_bits, labels_of
from carnet.record.prepared import PreparedWrite
from carnet.record.schemas import DeleteOutcome, StoredResource, WriteOutcome
from carnet.storage.errors import DataKeyDestroyed
from carnet.storage.service import SYSTEM_OWNER, DataKey


@dataclass(frozen=True, slots=True)
class Staged:
    """One version ready to store: decided, sealed, its Binary content in the blob store."""

    resource_type: str
    resource_id: str
    owner: str | None
    new: store.NewVersion
    plain: bytes
    """The version's JSON as stored (without a Binary's content)."""

    @property
    def entity(self) -> str:
        return f"{self.resource_type}/{self.resource_id}/_history/{self.new.version}"


class Writes(RepositoryBase):
    def create(self, resource: dict[str, Any] | PreparedWrite) -> StoredResource:
        """Store a new resource under a new server-assigned id."""
        tag = EventTag.RECORD_RESOURCE_CREATE
        prepared = self._prepared(resource)
        resource_type = self._require_valid(prepared, tag)
        with self._write_guard(tag, resource_type):
            return self._put(tag, new_id(), prepared, row=None, if_match=None).resource

    def update(
        self,
        resource_type: str,
        resource_id: str,
        resource: dict[str, Any] | PreparedWrite,
        *,
        if_match: int | None = None,
    ) -> WriteOutcome:
        """Store a new version (or the first one, when the id is new: update as create)."""
        tag = EventTag.RECORD_RESOURCE_UPDATE
        self._require_type(resource_type, tag)
        prepared = self._prepared(resource)
        self._require_same(prepared.resource, resource_type, resource_id, tag)
        self._require_valid(prepared, tag)
        with self._write_guard(tag, resource_type):
            row = store.current(self._db, resource_type, resource_id)
            if row is not None:
                self._require_writable(resource_type, resource_id, row, Action.UPDATE)
            if if_match is not None and (row is None or row.version != if_match):
                raise VersionMismatch
            return self._put(tag, resource_id, prepared, row=row, if_match=if_match)

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
                held=row.held,
            )
            if not store.replace(self._db, row, new):
                raise VersionConflict
            self._reindex(row.key, resource_type, row.patient_id, None, row.indexed)
            self._audit(tag, Outcome.SUCCESS, row.patient_id, f"{entity}/_history/{new.version}")
            return DeleteOutcome(version=new.version)

    def _put(
        self,
        tag: EventTag,
        resource_id: str,
        prepared: PreparedWrite,
        *,
        row: store.AnyRow | None,
        if_match: int | None,
    ) -> WriteOutcome:
        staged = self._stage(resource_id, prepared, row=row)
        resource_type = staged.resource_type
        if row is None:
            bits = store.index_bits(prepared.entries)
            key = store.insert_first(self._db, resource_type, resource_id, staged.new, indexed=bits)
            previous_bits = 0
        else:
            if not store.replace(self._db, row, staged.new):
                raise VersionMismatch if if_match is not None else VersionConflict
            key, bits, previous_bits = row.key, row.indexed, row.indexed
        self._reindex(key, resource_type, staged.owner, prepared, previous_bits, stored_bits=bits)
        self._audit(tag, Outcome.SUCCESS, staged.owner, staged.entity)
        return WriteOutcome(resource=self._stored(staged), created=row is None)

    def _stage(
        self,
        resource_id: str,
        prepared: PreparedWrite,
        *,
        row: store.AnyRow | None,
        keys: dict[str, DataKey] | None = None,
    ) -> Staged:
        """Decide, then make the version to store: meta, sealed body, blob (nothing written to
        the resource tables yet). ``keys`` caches data keys across the writes of a bundle."""
        resource_type = prepared.resource_type
        assert resource_type is not None
        entity = f"{resource_type}/{resource_id}"
        owner = self._owner(resource_type, resource_id, prepared)
        action = Action.CREATE if row is None else Action.UPDATE
        # Decided on the labels the new version will carry: nobody writes what they could not
        # then read (a holder cannot hide a document from themselves).
        held = held_bits(prepared.resource)
        if row is not None and held & ~row.held & INVISIBLE_TO_PATIENT and not row.deleted:
            raise Failure(AlreadyShownToPatient(), owner, entity, Outcome.CONFLICT)
        facts = ResourceFacts(resource_type, owner, labels_of(held))
        decision = access_service.decide(self.ctx, action, facts)
        if not decision.allowed:
            raise Failure.refused(owner, entity, decision.rule)
        version = 1 if row is None else row.version + 1
        now = self._record.clock.now()
        body_resource = {**prepared.resource, "id": resource_id}
        body_resource["meta"] = _meta(prepared.resource.get("meta"), version, now)
        key_owner = owner or SYSTEM_OWNER
        data_key = keys.get(key_owner) if keys is not None else None
        if data_key is None:
            try:
                data_key = self._record.storage.data_key(self._db, owner_id=key_owner, create=True)
            except DataKeyDestroyed as exc:
                # The space was erased: nothing may be written into it again.
                raise Failure(exc, owner, entity, Outcome.GONE) from None
            if keys is not None:
                keys[key_owner] = data_key
        blob_id = None
        if resource_type == "Binary" and "data" in body_resource:
            content = _decode_binary(body_resource.pop("data"))
            blob_id = self._record.storage.put_blob(self._db, owner_id=key_owner, data=content)
        plain = orjson.dumps(body_resource)
        new = store.NewVersion(
            patient_id=owner,
            version=version,
            last_updated=now,
            deleted=False,
            body=data_key.seal(plain, sealing_context(resource_type, resource_id, version)),
            blob_id=blob_id,
            held=held,
        )
        return Staged(resource_type, resource_id, owner, new, plain)

    def _stored(self, staged: Staged) -> StoredResource:
        """What the caller gets back: the plain JSON (a Binary's content put back)."""
        plain = staged.plain
        if staged.new.blob_id is not None:
            plain = self._with_blob(plain, staged.owner or SYSTEM_OWNER, staged.new.blob_id)
        new = staged.new
        return StoredResource(
            staged.resource_type,
            staged.resource_id,
            new.version,
            new.last_updated,
            staged.owner,
            plain,
        )

    def _reindex(
        self,
        key: int,
        resource_type: str,
        owner: str | None,
        prepared: PreparedWrite | None,
        previous_bits: int,
        *,
        stored_bits: int | None = None,
    ) -> None:
        store.write_index(
            self._db,
            key=key,
            resource_type=resource_type,
            patient_id=owner,
            entries=None if prepared is None else prepared.entries,
            blind_hash=self._record.storage.blind_index,
            patient_keys=self._record.patient_keys,
            previous_bits=previous_bits,
            stored_bits=previous_bits if stored_bits is None else stored_bits,
        )
        fulltext_store.on_write(
            self._db,
            self._record.storage,
            resource_key=key,
            owner=owner,
            resource=None if prepared is None else prepared.resource,
        )

    def _owner(self, resource_type: str, resource_id: str, prepared: PreparedWrite) -> str | None:
        """The patient whose compartment holds the resource (and whose key seals it)."""
        if resource_type == "Patient":
            return resource_id
        if resource_type == "Binary":
            return self._binary_owner(prepared.resource)
        return prepared.patient_refs[0] if prepared.patient_refs else None

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
        facts = ResourceFacts(resource_type, row.patient_id, labels_of(row.held))
        entity = f"{resource_type}/{resource_id}"
        read = access_service.decide(self.ctx, Action.READ, facts)
        if not read.allowed:
            # Writing over what the caller cannot see: refused like any other write, without
            # saying that something is there.
            raise Failure.refused(row.patient_id, entity, read.rule)
        decision = access_service.decide(self.ctx, action, facts)
        if not decision.allowed:
            raise Failure.refused(row.patient_id, entity, decision.rule)

    @contextmanager
    def _write_guard(self, tag: EventTag, resource_type: str) -> Iterator[None]:
        """A savepoint around a write: on failure, undo it, then audit the failure."""
        try:
            with self._db.begin_nested():
                yield
        except Failure as failure:
            self._audit(
                tag, failure.outcome, failure.patient_id, failure.entity, detail=failure.detail
            )
            raise failure.error from None
        except IntegrityError:
            # Two writers created the same id at once: the loser sees a conflict.
            self._audit(tag, Outcome.CONFLICT, None, resource_type)
            raise VersionConflict from None
        except ClientError as exc:
            self._audit(tag, outcome_of(exc), None, resource_type)
            raise

    def _prepared(self, resource: dict[str, Any] | PreparedWrite) -> PreparedWrite:
        if isinstance(resource, PreparedWrite):
            return resource
        return self._record.prepare(resource)

    def _require_valid(self, prepared: PreparedWrite, tag: EventTag) -> str:
        """The resource type of a structurally valid write; otherwise audit and refuse."""
        if prepared.resource_type is None:
            issue = Issue("required", "The resource has no resourceType.", "resourceType")
            self._refuse(tag, InvalidResource([issue]), None, "-")
        self._require_type(prepared.resource_type, tag)
        if prepared.issues:
            self._refuse(tag, InvalidResource(list(prepared.issues)), None, prepared.resource_type)
        return prepared.resource_type

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


def _meta(meta: Any, version: int, now: datetime) -> dict[str, Any]:
    kept = dict(meta) if isinstance(meta, dict) else {}
    kept["versionId"] = str(version)
    kept["lastUpdated"] = now.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return kept


def _decode_binary(data: Any) -> bytes:
    try:
        # base64Binary allows whitespace between groups (official examples wrap their lines).
        return base64.b64decode("".join(data.split()), validate=True)
    except (AttributeError, binascii.Error, TypeError, ValueError):
        issue = Issue("value", "Binary.data is not valid base64.", "Binary.data")
        raise InvalidResource([issue]) from None
