"""A holder's repository inside a rolled-back transaction, for the profile's service tests."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import orjson
import pytest
from tests.space import make_holder

from carnet.access.schemas import AccessContext
from carnet.core.actor import Actor, ActorKind
from carnet.record.service import Repository
from carnet.runtime import Runtime

TODAY = date(2026, 11, 26)


class Space:
    """The holder's id and repository."""

    def __init__(self, repo: Repository, patient_id: str) -> None:
        self.repo = repo
        self.patient_id = patient_id

    def body(self, resource_type: str, resource_id: str) -> dict[str, Any]:
        """The stored FHIR resource, as JSON."""
        return dict(orjson.loads(self.repo.read(resource_type, resource_id).body))

    def count(self, resource_type: str) -> int:
        params = [
            ("patient", f"Patient/{self.patient_id}"),
            ("_count", "0"),
            ("_total", "accurate"),
        ]
        total = self.repo.search(resource_type, params).total
        assert total is not None
        return total


@pytest.fixture
def space(rt: Runtime) -> Iterator[Space]:
    # The holder is committed first (SQLite has one writer), then the test's work is rolled back.
    holder = make_holder(rt)
    ctx = AccessContext(
        actor=Actor(ActorKind.PATIENT, holder.patient_id), patient_id=holder.patient_id
    )
    with rt.database.engine.connect() as db:
        trans = db.begin()
        try:
            yield Space(rt.record.repository(db=db, ctx=ctx), holder.patient_id)
        finally:
            trans.rollback()
