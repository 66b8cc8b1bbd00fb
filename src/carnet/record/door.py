"""What every part of the repository shares: its context, auditing, refusing, and which types
the actor may read at all.

Each call ends with an audit event in the caller's transaction: success, or the reason it
failed. A refusal raises the same error as absence (``ResourceNotFound``), and is audited in the
chain of the patient it concerns.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, NoReturn

import orjson
from sqlalchemy import Connection

from carnet.access import service as access_service
from carnet.access.schemas import AccessContext, Action, ResourceFacts
from carnet.audit.schemas import AuditRecord
from carnet.audit.tags import EventTag, Outcome
from carnet.core.errors import ClientError, Gone, InvalidInput, NotFound
from carnet.record.errors import UnknownResourceType, WriteRefused
from carnet.record.labels import labels_of

if TYPE_CHECKING:
    from carnet.record.service import Record

Detail = Mapping[str, str | int | bool | list[str]]

_OUTCOMES: dict[type[ClientError], Outcome] = {
    NotFound: Outcome.NOT_FOUND,
    Gone: Outcome.GONE,
    InvalidInput: Outcome.INVALID,
}


class RepositoryBase:
    def __init__(self, *, record: Record, db: Connection, ctx: AccessContext) -> None:
        self._record = record
        self._db = db
        self.ctx = ctx
        self._read_decisions: dict[tuple[str, str | None, int], bool] = {}
        self._audit_buffer: list[AuditRecord] | None = None
        """While set (inside a transaction bundle), audit records are kept here instead of
        being written: the bundle writes them grouped, or only its failures if it rolls back."""

    def _require_type(self, resource_type: str, tag: EventTag) -> None:
        if resource_type not in self._record.resource_types:
            self._refuse(tag, UnknownResourceType(), None, "-")

    def _readable_types(self, types: Iterable[str], patient_id: str | None) -> list[str]:
        """The types whose resources in ``patient_id``'s compartment (None: outside every
        compartment) the actor may read: what the SQL may fetch at all."""
        return [
            t
            for t in types
            if access_service.decide(self.ctx, Action.READ, ResourceFacts(t, patient_id)).allowed
        ]

    def _may_read(self, resource_type: str, patient_id: str | None, held: int) -> bool:
        """The read decision for a stored row: its type, owner and visibility labels (pure, so
        decided once per combination within the request)."""
        kind = (resource_type, patient_id, held)
        allowed = self._read_decisions.get(kind)
        if allowed is None:
            facts = ResourceFacts(resource_type, patient_id, labels_of(held))
            allowed = access_service.decide(self.ctx, Action.READ, facts).allowed
            self._read_decisions[kind] = allowed
        return allowed

    def _refuse(
        self,
        tag: EventTag,
        error: ClientError,
        patient_id: str | None,
        entity: str,
        *,
        refused_by: str | None = None,
    ) -> NoReturn:
        """Audit a failure, then raise it (``refused_by`` names the access rule that refused)."""
        outcome = Outcome.REFUSED if refused_by else outcome_of(error)
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
        detail: Detail | None = None,
    ) -> None:
        record = AuditRecord(
            tag=tag,
            outcome=outcome,
            actor=self.ctx.actor,
            patient_id=patient_id,
            entity=entity,
            mode=self.ctx.mode.value,
            detail=detail or {},
        )
        if self._audit_buffer is not None:
            self._audit_buffer.append(record)
            return
        self._record.audit.record(self._db, record)

    def _audit_many(self, records: list[AuditRecord]) -> None:
        """Several events at once (``AuditTrail.record_many``: a few statements for any number
        of chains), or held back like ``_audit``'s."""
        if self._audit_buffer is not None:
            self._audit_buffer.extend(records)
            return
        self._record.audit.record_many(self._db, records)

    def _with_blob(self, body: bytes, owner: str, blob_id: str) -> bytes:
        """A Binary's JSON with its content put back from the blob store."""
        data = self._record.storage.get_blob(self._db, owner_id=owner, blob_id=blob_id)
        resource = orjson.loads(body)
        resource["data"] = base64.b64encode(data or b"").decode()
        return orjson.dumps(resource)


class Failure(Exception):
    """A write failure whose context is known, carried out of the savepoint to be audited."""

    def __init__(
        self,
        error: ClientError,
        patient_id: str | None,
        entity: str,
        outcome: Outcome,
        detail: Detail | None = None,
    ) -> None:
        super().__init__(error.message)
        self.error = error
        self.patient_id = patient_id
        self.entity = entity
        self.outcome = outcome
        self.detail = detail or {}

    @classmethod
    def refused(cls, patient_id: str | None, entity: str, rule: str) -> Failure:
        return cls(WriteRefused(), patient_id, entity, Outcome.REFUSED, {"rule": rule})


def outcome_of(error: ClientError) -> Outcome:
    for error_type, outcome in _OUTCOMES.items():
        if isinstance(error, error_type):
            return outcome
    return Outcome.CONFLICT


def sealing_context(resource_type: str, resource_id: str, version: int) -> bytes:
    """Associated data binding a sealed body to its resource and version."""
    return f"{resource_type}/{resource_id}/{version}".encode()
