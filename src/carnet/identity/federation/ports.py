"""What federated sign-in needs from above: the known people, found through the record.

The identity area may not reach the record (it sits below it); the portal passes an object
that searches Patients by blind-indexed traits and reads directory Practitioners through the
record's one door, as Carnet itself, so that those reads are audited like any other.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from sqlalchemy import Connection

from carnet.identity.federation.people import Candidate, Params


class KnownPeople(Protocol):
    def patients(self, db: Connection, searches: Sequence[Params]) -> list[Candidate]:
        """The patients any of ``searches`` finds (deduplicated), with their identities."""
        ...

    def practitioner(self, db: Connection, practitioner_id: str) -> Mapping[str, Any] | None:
        """The directory Practitioner of that id, or None."""
        ...
