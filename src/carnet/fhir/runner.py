"""Running one request's repository work: authenticate, check the token, one transaction.

The operations and the type and system interactions use this (the instance interactions have
their own, tuned for sub-millisecond calls: ``Interactions._call``). Work runs in the threadpool,
at most as many at once as the database can serve; a ClientError still commits the transaction
(so the audit event of a refusal is kept, see core.errors).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import anyio
import anyio.to_thread
from starlette.requests import Request

from carnet.access.schemas import AccessContext
from carnet.fhir.auth import access_context
from carnet.fhir.interactions import FhirDeps
from carnet.record.service import Repository

T = TypeVar("T")


class Runner:
    def __init__(self, deps: FhirDeps) -> None:
        self.deps = deps
        self._limiter: anyio.CapacityLimiter | None = None

    def _threads(self) -> anyio.CapacityLimiter:
        # Made on first use, inside the event loop.
        if self._limiter is None:
            self._limiter = anyio.CapacityLimiter(self.deps.database.max_concurrency)
        return self._limiter

    async def context(self, request: Request) -> AccessContext:
        """The caller's access context (Unauthenticated without a valid bearer token)."""
        return await self.in_thread(lambda: access_context(request, self.deps.authz))

    async def run(
        self,
        ctx: AccessContext,
        work: Callable[[Repository], T],
        *,
        readonly: bool = False,
    ) -> T:
        """Run ``work`` with the caller's repository in a transaction of its own."""

        def in_transaction() -> T:
            with self.deps.database.transaction(readonly=readonly) as db:
                return work(self.deps.record.repository(db=db, ctx=ctx))

        return await self.in_thread(in_transaction)

    async def in_thread(self, work: Callable[[], T]) -> T:
        return await anyio.to_thread.run_sync(work, limiter=self._threads())
