"""Public face of the jobs area: enqueue in a transaction, claim, run, retry, park."""

from __future__ import annotations

import itertools
import logging
import os
import random
import socket
import threading
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import Connection, and_, delete, func, or_, select, update

from carnet.core.clock import Clock
from carnet.core.db import insert_or_ignore, on_commit
from carnet.core.ids import new_id
from carnet.core.logging import redact
from carnet.jobs import models
from carnet.jobs.config import JobsSettings
from carnet.jobs.errors import UnknownJobKind
from carnet.jobs.schemas import ClaimedJob, JobHandler, JobInfo

__all__ = ["ClaimedJob", "JobHandler", "JobInfo", "JobQueue", "Worker"]

log = logging.getLogger(__name__)

PENDING, RUNNING, FAILED = "pending", "running", "failed"
_WORKER_NUMBERS = itertools.count(1)


class JobQueue:
    """The outbox. One per process; handlers are registered by the entry points at start-up."""

    def __init__(self, *, settings: JobsSettings, clock: Clock) -> None:
        self.settings = settings
        self.clock = clock
        self._handlers: dict[str, JobHandler] = {}
        self._periodic: dict[str, timedelta] = {}
        self._wake = threading.Event()

    def register(self, kind: str, handler: JobHandler) -> None:
        self._handlers[kind] = handler

    def register_periodic(self, kind: str, handler: JobHandler, *, every: timedelta) -> None:
        """A job that runs every ``every`` on one worker of the cluster: each run schedules the
        next, and ``schedule_periodic`` (at start-up) plants the first one."""

        def run_then_reschedule(db: Connection, payload: Mapping[str, Any]) -> None:
            handler(db, payload)
            self._schedule(db, kind, every)

        self._handlers[kind] = run_then_reschedule
        self._periodic[kind] = every

    def schedule_periodic(self, db: Connection) -> None:
        """Make sure each periodic job has its next run queued (idempotent)."""
        for kind, every in self._periodic.items():
            self._schedule(db, kind, every)

    def _schedule(self, db: Connection, kind: str, every: timedelta) -> None:
        self.enqueue(
            db, kind=kind, run_after=self.clock.now() + every, dedup_key=f"periodic:{kind}"
        )

    @property
    def kinds(self) -> frozenset[str]:
        return frozenset(self._handlers)

    # --- producing ------------------------------------------------------------------------------

    def enqueue(
        self,
        db: Connection,
        *,
        kind: str,
        payload: Mapping[str, Any] | None = None,
        run_after: datetime | None = None,
        dedup_key: str | None = None,
    ) -> str | None:
        """Add a job in the caller's transaction; return its id (None if deduplicated).

        With ``dedup_key``, nothing is added while a job with the same key is pending.
        """
        now = self.clock.now()
        job_id = new_id()
        values = {
            "id": job_id,
            "kind": kind,
            "payload": orjson.dumps(dict(payload or {})).decode(),
            "status": PENDING,
            "attempts": 0,
            "run_after": run_after or now,
            "dedup_key": dedup_key,
            "created_at": now,
            "updated_at": now,
        }
        if dedup_key is None:
            db.execute(models.job.insert().values(**values))
        elif not insert_or_ignore(db, models.job, values, key="dedup_key"):
            return None
        on_commit(db, self.wake)
        return job_id

    # --- consuming ------------------------------------------------------------------------------

    def claim(self, db: Connection, *, worker: str, limit: int = 10) -> list[ClaimedJob]:
        """Lease up to ``limit`` due jobs to ``worker`` (including leases that expired)."""
        now = self.clock.now()
        table = models.job
        due = or_(
            and_(table.c.status == PENDING, table.c.run_after <= now),
            and_(table.c.status == RUNNING, table.c.locked_until < now),
        )
        candidates = select(table.c.id).where(due).order_by(table.c.run_after).limit(limit)
        if db.dialect.name == "postgresql":
            # Concurrent workers skip each other's rows instead of queueing behind them.
            candidates = candidates.with_for_update(skip_locked=True)
        ids = list(db.execute(candidates).scalars())
        if not ids:
            return []
        lease = now + timedelta(seconds=self.settings.lease_seconds)
        rows = db.execute(
            update(table)
            .where(table.c.id.in_(ids))
            .values(
                status=RUNNING,
                locked_by=worker,
                locked_until=lease,
                attempts=table.c.attempts + 1,
                updated_at=now,
            )
            .returning(table.c.id, table.c.kind, table.c.payload, table.c.attempts)
        ).all()
        return [
            ClaimedJob(id=r.id, kind=r.kind, payload=orjson.loads(r.payload), attempts=r.attempts)
            for r in rows
        ]

    def run_claimed(
        self,
        job: ClaimedJob,
        transaction: Callable[[], AbstractContextManager[Connection]],
    ) -> bool:
        """Run one claimed job in its own transaction; True on success.

        The job's row is deleted in the handler's transaction, before the handler runs (so that
        a periodic job can schedule its next run under the same dedup key): the handler's
        database work and the job's completion commit together, or neither does. Failure is
        recorded in a fresh transaction.
        """
        try:
            handler = self._handler(job.kind)
            with transaction() as db:
                db.execute(delete(models.job).where(models.job.c.id == job.id))
                handler(db, job.payload)
        except Exception as exc:
            log.warning("job %s (%s) failed: %s", job.id, job.kind, type(exc).__name__)
            with transaction() as db:
                self._record_failure(db, job, exc)
            return False
        return True

    def _handler(self, kind: str) -> JobHandler:
        handler = self._handlers.get(kind)
        if handler is None:
            raise UnknownJobKind(f"no handler for job kind {kind!r}")
        return handler

    def _record_failure(self, db: Connection, job: ClaimedJob, exc: Exception) -> None:
        now = self.clock.now()
        parked = job.attempts >= self.settings.max_attempts or isinstance(exc, UnknownJobKind)
        delay = min(
            self.settings.backoff_max_seconds,
            self.settings.backoff_base_seconds * 2 ** (job.attempts - 1),
        )
        # Jitter spreads retries of a batch that failed together (a mail server outage).
        delay *= random.uniform(0.5, 1.0)  # noqa: S311 - not a secret
        db.execute(
            update(models.job)
            .where(models.job.c.id == job.id)
            .values(
                status=FAILED if parked else PENDING,
                run_after=now + timedelta(seconds=delay),
                locked_by=None,
                locked_until=None,
                last_error=redact(f"{type(exc).__name__}: {exc}")[:2000],
                updated_at=now,
            )
        )

    def wake(self) -> None:
        """Wake a worker of this process waiting in ``wait_for_work``."""
        self._wake.set()

    def wait_for_work(self, timeout: float) -> None:
        """Sleep until a job is enqueued in this process, or ``timeout`` passes."""
        self._wake.wait(timeout)
        self._wake.clear()

    # --- operating ------------------------------------------------------------------------------

    def jobs(self, db: Connection, *, status: str | None = None, limit: int = 100) -> list[JobInfo]:
        stmt = select(models.job)
        if status is not None:
            stmt = stmt.where(models.job.c.status == status)
        rows = db.execute(stmt.order_by(models.job.c.created_at).limit(limit)).all()
        return [
            JobInfo(
                id=r.id,
                kind=r.kind,
                status=r.status,
                attempts=r.attempts,
                run_after=r.run_after,
                last_error=r.last_error,
                created_at=r.created_at,
            )
            for r in rows
        ]

    def failed(self, db: Connection, *, limit: int = 100) -> list[JobInfo]:
        return self.jobs(db, status=FAILED, limit=limit)

    def retry(self, db: Connection, *, job_ids: Sequence[str] | None = None) -> int:
        """Revive parked jobs (all of them, or those named) for one more round of attempts."""
        stmt = update(models.job).where(models.job.c.status == FAILED)
        if job_ids is not None:
            stmt = stmt.where(models.job.c.id.in_(job_ids))
        now = self.clock.now()
        return db.execute(
            stmt.values(status=PENDING, attempts=0, run_after=now, updated_at=now)
        ).rowcount

    def counts(self, db: Connection) -> dict[str, int]:
        rows = db.execute(
            select(models.job.c.status, func.count()).group_by(models.job.c.status)
        ).all()
        return {row[0]: row[1] for row in rows}


class Worker:
    """Claims due jobs and runs them until stopped."""

    def __init__(
        self,
        *,
        queue: JobQueue,
        transaction: Callable[[], AbstractContextManager[Connection]],
        name: str | None = None,
        batch: int = 10,
    ) -> None:
        self.queue = queue
        self.transaction = transaction
        self.name = name or f"{socket.gethostname()}/{os.getpid()}/{next(_WORKER_NUMBERS)}"
        self.batch = batch
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_once(self) -> int:
        """Claim and run one batch; return how many jobs ran (successfully or not)."""
        with self.transaction() as db:
            claimed = self.queue.claim(db, worker=self.name, limit=self.batch)
        for job in claimed:
            if self._stop.is_set():
                break  # the lease expires and another worker takes the rest
            self.queue.run_claimed(job, self.transaction)
        return len(claimed)

    def run_until_idle(self, *, max_rounds: int = 1000) -> int:
        """Run batches until no job is due (tests, one-shot commands)."""
        total = 0
        for _ in range(max_rounds):
            ran = self.run_once()
            total += ran
            if ran == 0:
                break
        return total

    def run_forever(self) -> None:
        log.info("job worker %s started", self.name)
        while not self._stop.is_set():
            try:
                ran = self.run_once()
            except Exception:
                # A database outage must not kill the worker: log, wait, try again.
                log.exception("job worker round failed")
                ran = 0
            if ran == 0:
                self.queue.wait_for_work(self.queue.settings.poll_seconds)
        log.info("job worker %s stopped", self.name)

    def start_thread(self) -> None:
        self._thread = threading.Thread(target=self.run_forever, name="carnet-jobs", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self.queue.wake()
        if self._thread is not None:
            self._thread.join(timeout)
