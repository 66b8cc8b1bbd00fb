"""A holder's repository for the measures tests (``space``: see conftest)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection
from tests.space import Holder

from carnet.access.schemas import AccessContext
from carnet.core.actor import Actor, ActorKind
from carnet.record.service import Repository
from carnet.runtime import Runtime

NOW = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)


@dataclass
class Space:
    holder: Holder
    repo: Repository
    db: Connection

    @property
    def pid(self) -> str:
        return self.holder.patient_id


def open_space(rt: Runtime, db: Connection, holder: Holder) -> Space:
    ctx = AccessContext(
        actor=Actor(ActorKind.PATIENT, holder.patient_id), patient_id=holder.patient_id
    )
    return Space(holder, rt.record.repository(db=db, ctx=ctx), db)
