"""Patching through the door: a JSON Patch applied to the current version, written as an update.

The patch is applied inside the caller's transaction (it needs the current version), then the
result is validated and indexed like any write and stored as a new version through the same
path as ``update``: same access decision, same audit (tagged ``patch``), same savepoint.
"""

from __future__ import annotations

from typing import Any

import orjson

from carnet.access import service as access_service
from carnet.access.schemas import Action, ResourceFacts
from carnet.audit.tags import EventTag, Outcome
from carnet.core.errors import ClientError, Issue
from carnet.record import store
from carnet.record.door import Failure, outcome_of
from carnet.record.errors import (
    InvalidResource,
    ResourceDeleted,
    ResourceNotFound,
    VersionMismatch,
)
from carnet.record.json_patch import apply_patch
from carnet.record.labels import labels_of
from carnet.record.reads import Reads
from carnet.record.schemas import WriteOutcome
from carnet.record.writes import Writes


class Patches(Reads, Writes):
    def patch(
        self,
        resource_type: str,
        resource_id: str,
        operations: Any,
        *,
        if_match: int | None = None,
    ) -> WriteOutcome:
        """Apply a JSON Patch (RFC 6902) to the current version and store the result.

        Raises ResourceNotFound (absent or refused), ResourceDeleted, VersionMismatch (If-Match),
        PatchMalformed (400), PatchConflict (a failed ``test`` or a missing path: 409), or
        InvalidResource when the result is not valid R4 or changes the type or id (422).
        """
        tag = EventTag.RECORD_RESOURCE_PATCH
        self._require_type(resource_type, tag)
        with self._write_guard(tag, resource_type):
            row = store.current(self._db, resource_type, resource_id)
            entity = f"{resource_type}/{resource_id}"
            if row is None:
                raise Failure(ResourceNotFound(), None, entity, Outcome.NOT_FOUND)
            facts = ResourceFacts(resource_type, row.patient_id, labels_of(row.held))
            seen = access_service.decide(self.ctx, Action.READ, facts)
            if not seen.allowed:
                # What the caller cannot see looks absent, as on a read.
                raise Failure(
                    ResourceNotFound(), row.patient_id, entity, Outcome.REFUSED, {"rule": seen.rule}
                )
            self._require_writable(resource_type, resource_id, row, Action.UPDATE)
            if row.deleted:
                raise Failure(ResourceDeleted(), row.patient_id, entity, Outcome.GONE)
            if if_match is not None and row.version != if_match:
                raise Failure(VersionMismatch(), row.patient_id, entity, Outcome.CONFLICT)
            current = self._open(resource_type, resource_id, row, tag=tag, entity=entity)
            try:
                patched = apply_patch(orjson.loads(current.body), operations)
                prepared = self._record.prepare(_checked(patched, resource_type, resource_id))
                if prepared.issues:
                    raise InvalidResource(list(prepared.issues))
            except ClientError as exc:
                raise Failure(exc, row.patient_id, entity, outcome_of(exc)) from None
            return self._put(tag, resource_id, prepared, row=row, if_match=if_match)


def _checked(patched: Any, resource_type: str, resource_id: str) -> dict[str, Any]:
    """The patched resource, refused when it is no longer this type and id."""
    if not isinstance(patched, dict):
        issue = Issue("structure", "The patch leaves something that is not a resource.")
        raise InvalidResource([issue])
    if patched.get("resourceType") != resource_type:
        issue = Issue(
            "invalid", "A patch cannot change the resource type.", f"{resource_type}.resourceType"
        )
        raise InvalidResource([issue])
    if patched.get("id") != resource_id:
        issue = Issue("invalid", "A patch cannot change the id.", f"{resource_type}.id")
        raise InvalidResource([issue])
    return patched
