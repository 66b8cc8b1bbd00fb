"""A holder's space and a repository acting as them, for the wishes area's service tests."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

import pytest
from sqlalchemy import Connection
from tests.space import Holder, make_holder

from carnet.access.schemas import AccessContext
from carnet.core.actor import Actor, ActorKind
from carnet.record.service import Repository
from carnet.runtime import Runtime

T = TypeVar("T")


@contextmanager
def acting_as(rt: Runtime, holder: Holder) -> Iterator[tuple[Repository, Connection]]:
    """The holder's repository, in one committed transaction."""
    ctx = AccessContext(
        actor=Actor(ActorKind.PATIENT, holder.patient_id), patient_id=holder.patient_id
    )
    with rt.transaction() as db:
        yield rt.record.repository(db=db, ctx=ctx), db


@pytest.fixture
def holder(rt: Runtime) -> Holder:
    return make_holder(rt)


@pytest.fixture
def run(rt: Runtime, holder: Holder) -> Callable[[Callable[[Repository, Connection], T]], T]:
    """``run(work)``: ``work(repo, db)`` as the holder, in one transaction (rolled back when it
    raises, as a page's would be)."""

    def runner(work: Callable[[Repository, Connection], T]) -> T:
        with acting_as(rt, holder) as (repo, db):
            return work(repo, db)

    return runner
