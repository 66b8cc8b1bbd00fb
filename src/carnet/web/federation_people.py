"""The people federated sign-in may find, read through the record's one door as Carnet.

Patients are searched by the blind indexes of their traits (never in clear), a handful at a
time, and read back as identities; a Practitioner is read by the id its national identifier
gives. Every read is audited by the record like any other; nothing is written.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

import orjson
from sqlalchemy import Connection

from carnet.access.schemas import AccessContext
from carnet.core.errors import Gone, NotFound
from carnet.identity import service as identity_service
from carnet.identity.errors import InvalidIdentity
from carnet.identity.federation.people import Candidate, Params
from carnet.record.service import Record

# More people sharing a birth family name and a birth date than this is not a sign-in to
# resolve by traits alone; the match then fails rather than read a crowd.
_MAX_CANDIDATES = "20"


class RegisteredPeople(Protocol):
    """Registered holders whose space is not open yet (``enrollment.activation``)."""

    def federation_candidates(
        self, db: Connection, *, matricule: str
    ) -> list[tuple[str, identity_service.PatientIdentity]]: ...


class RecordPeople:
    """``identity.federation.ports.KnownPeople`` over the record (and, with ``registry``, the
    insurer's registry for people whose space is not open yet: they activate it)."""

    def __init__(
        self, record: Record, ctx: AccessContext, registry: RegisteredPeople | None = None
    ) -> None:
        self._record = record
        self._ctx = ctx
        self._registry = registry

    def patients(self, db: Connection, searches: Sequence[Params]) -> list[Candidate]:
        """Every Patient one of the searches finds, read as an identity (unreadable ones, such
        as an unqualified identity carrying its matricule, are left out)."""
        repo = self._record.repository(db=db, ctx=self._ctx)
        found: dict[str, Candidate] = {}
        for params in searches:
            result = repo.search("Patient", [*params, ("_count", _MAX_CANDIDATES)])
            for stored in result.matches:
                if stored.id in found:
                    continue
                try:
                    identity = identity_service.patient_identity(orjson.loads(stored.body))
                except InvalidIdentity:
                    continue
                found[stored.id] = Candidate(stored.id, identity)
            if self._registry is not None and params and params[0][0] == "identifier":
                # A search by INS matricule: the registered holder with no Patient yet.
                for person_id, identity in self._registry.federation_candidates(
                    db, matricule=params[0][1]
                ):
                    found.setdefault(person_id, Candidate(person_id, identity))
        return list(found.values())

    def practitioner(self, db: Connection, practitioner_id: str) -> Mapping[str, Any] | None:
        """The directory Practitioner, or None when there is none (or it was deleted)."""
        repo = self._record.repository(db=db, ctx=self._ctx)
        try:
            stored = repo.read("Practitioner", practitioner_id)
        except (NotFound, Gone):
            return None
        body = orjson.loads(stored.body)
        return body if isinstance(body, dict) else None
