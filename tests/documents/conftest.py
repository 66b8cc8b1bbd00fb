"""A patient's space on the rolled-back ``db``: their repository, and Carnet's."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import Connection

from carnet.access.schemas import AccessContext
from carnet.core.actor import Actor, ActorKind
from carnet.core.ids import new_id
from carnet.record.service import Repository
from carnet.runtime import Runtime


@dataclass
class Space:
    patient_id: str
    repo: Repository
    """The holder's."""
    carnet: Repository
    """Carnet itself (system scopes): stands in for a professional's software."""
    db: Connection


@pytest.fixture
def space(rt: Runtime, db: Connection) -> Space:
    patient_id = new_id()
    carnet = rt.record.repository(db=db, ctx=rt.carnet_context())
    carnet.update(
        "Patient",
        patient_id,
        {"resourceType": "Patient", "id": patient_id, "name": [{"family": "Martin"}]},
    )
    ctx = AccessContext(actor=Actor(ActorKind.PATIENT, patient_id), patient_id=patient_id)
    return Space(patient_id, rt.record.repository(db=db, ctx=ctx), carnet, db)
