"""The signed-in person's space, as the patient's pages reach it.

Every page of the patient area that shows or changes health data goes through ``SpacePages``:
it requires a fully signed-in patient account, works out who is acting (the holder, or a parent
acting for a child's profile) and gives the view a Repository for that actor, inside one
transaction run in the threadpool. The Repository decides and audits every read and write; the
pages never reach the record another way.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy import Connection
from starlette.requests import Request
from starlette.responses import Response

from carnet.access.schemas import AccessContext
from carnet.core.actor import Actor, ActorKind
from carnet.identity.accounts.schemas import AccountKind, CurrentSession
from carnet.record.service import Record, Repository
from carnet.web.accounts.guards import require, sign_in_redirect
from carnet.web.rendering import Portal

_T = TypeVar("_T")
_PATIENT_ACCOUNTS: tuple[AccountKind, ...] = ("patient",)


@dataclass(frozen=True, slots=True)
class Acting:
    """Who acts in which space, for one request."""

    session: CurrentSession
    ctx: AccessContext

    @property
    def patient_id(self) -> str:
        assert self.ctx.patient_id is not None
        return self.ctx.patient_id

    @property
    def for_someone_else(self) -> bool:
        """A parent acting in a child's space (not the holder themselves)."""
        return self.ctx.actor.kind is not ActorKind.PATIENT


def acting_context(session: CurrentSession) -> AccessContext:
    """The access context of a signed-in patient account, in the profile it acts as.

    The holder acts as ``patient``; acting in another profile (a child's) makes the account a
    ``representative`` of that space, which the access rules treat differently
    (``INVISIBLE_REPRESENTANTS_LEGAUX``).
    """
    person = session.person_id or ""
    space = session.patient_id or person
    kind = ActorKind.PATIENT if space == person else ActorKind.REPRESENTATIVE
    return AccessContext(actor=Actor(kind=kind, id=person), patient_id=space)


class SpacePages:
    """What the patient area's views share: the guard, and a repository in a transaction."""

    def __init__(self, portal: Portal) -> None:
        self.portal = portal

    @property
    def record(self) -> Record:
        record = self.portal.deps.record
        assert record is not None, "the patient's pages need the record"
        return record

    def acting(self, request: Request) -> Acting | Response:
        """The person acting, or a redirect to sign in (nobody, or not a patient account)."""
        session = require(request, kinds=_PATIENT_ACCOUNTS)
        if isinstance(session, Response):
            return session
        if not session.person_id:
            return sign_in_redirect(request)
        return Acting(session=session, ctx=acting_context(session))

    async def run(self, acting: Acting, work: Callable[[Repository, Connection], _T]) -> _T:
        """``work(repo, db)`` in one transaction, in the threadpool, as ``acting``."""

        def in_db(db: Connection) -> _T:
            return work(self.record.repository(db=db, ctx=acting.ctx), db)

        return await self.portal.in_transaction(in_db)
