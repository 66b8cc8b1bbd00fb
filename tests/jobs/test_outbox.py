"""The transactional outbox: enqueue with the change, run after commit, retry, park."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, text

from carnet.core.clock import FrozenClock
from carnet.jobs.config import JobsSettings
from carnet.jobs.service import JobQueue, Worker


def _queue(clock: FrozenClock, **settings: Any) -> JobQueue:
    return JobQueue(settings=JobsSettings(**settings), clock=clock)


def _savepoints(db: Connection) -> Any:
    """Each 'transaction' of the worker is a savepoint of the test's rolled-back transaction."""

    @contextmanager
    def transaction() -> Iterator[Connection]:
        with db.begin_nested():
            yield db

    return transaction


def _clock() -> FrozenClock:
    # Long before any real job's due time, so only this test's jobs are ever claimed.
    return FrozenClock(datetime(2001, 1, 1, tzinfo=UTC))


def test_job_runs_after_enqueue_and_disappears(db: Connection) -> None:
    clock = _clock()
    queue = _queue(clock)
    seen: list[Mapping[str, Any]] = []
    queue.register("test:echo", lambda _db, payload: seen.append(payload))
    queue.enqueue(db, kind="test:echo", payload={"n": 1}, run_after=clock.now())
    worker = Worker(queue=queue, transaction=_savepoints(db), name="w1")
    assert worker.run_until_idle() == 1
    assert seen == [{"n": 1}]
    assert all(j.kind != "test:echo" for j in queue.jobs(db))


def test_rolled_back_change_sends_nothing(db: Connection) -> None:
    clock = _clock()
    queue = _queue(clock)
    try:
        with db.begin_nested():
            queue.enqueue(db, kind="test:never", run_after=clock.now())
            raise RuntimeError("the change failed")
    except RuntimeError:
        pass
    assert db.execute(text("SELECT count(*) FROM jobs_job WHERE kind = 'test:never'")).scalar() == 0


def test_failures_back_off_then_park_then_retry(db: Connection) -> None:
    clock = _clock()
    queue = _queue(clock, max_attempts=3, backoff_base_seconds=10)
    attempts: list[int] = []

    def flaky(_db: Connection, _payload: Mapping[str, Any]) -> None:
        attempts.append(1)
        raise ConnectionError("mail server unavailable")

    queue.register("test:flaky", flaky)
    job_id = queue.enqueue(db, kind="test:flaky", run_after=clock.now())
    worker = Worker(queue=queue, transaction=_savepoints(db), name="w1")
    assert worker.run_once() == 1
    info = next(j for j in queue.jobs(db) if j.id == job_id)
    assert info.status == "pending"
    assert info.run_after > clock.now()  # backed off
    assert "ConnectionError" in (info.last_error or "")
    assert worker.run_once() == 0  # not due yet
    for _ in range(2):
        clock.advance(timedelta(hours=1))
        worker.run_once()
    assert len(attempts) == 3
    parked = [j for j in queue.failed(db) if j.id == job_id]
    assert parked and parked[0].attempts == 3
    clock.advance(timedelta(days=1))
    assert worker.run_once() == 0  # parked jobs are left alone
    assert queue.retry(db, job_ids=[job_id]) == 1
    queue.register("test:flaky", lambda _db, _p: None)
    assert worker.run_once() == 1
    assert not [j for j in queue.jobs(db) if j.id == job_id]


def test_handler_work_and_completion_commit_together(db: Connection) -> None:
    clock = _clock()
    queue = _queue(clock)

    def half_done(conn: Connection, _payload: Mapping[str, Any]) -> None:
        conn.execute(text("UPDATE jobs_job SET last_error = 'touched' WHERE kind = 'test:half'"))
        raise ValueError("failed after writing")

    queue.register("test:half", half_done)
    queue.enqueue(db, kind="test:half", run_after=clock.now())
    Worker(queue=queue, transaction=_savepoints(db)).run_once()
    row = db.execute(text("SELECT status, last_error FROM jobs_job WHERE kind = 'test:half'")).one()
    assert row.status == "pending"
    assert row.last_error.startswith("ValueError")  # the handler's write was rolled back


def test_unknown_kind_is_parked_at_once(db: Connection) -> None:
    clock = _clock()
    queue = _queue(clock)
    queue.enqueue(db, kind="test:nobody", run_after=clock.now())
    Worker(queue=queue, transaction=_savepoints(db)).run_once()
    assert [j.kind for j in queue.failed(db)].count("test:nobody") == 1


def test_expired_lease_is_claimed_again(db: Connection) -> None:
    clock = _clock()
    queue = _queue(clock, lease_seconds=60)
    queue.enqueue(db, kind="test:lease", run_after=clock.now())
    first = queue.claim(db, worker="crashed", limit=10)
    assert [j.kind for j in first] == ["test:lease"]
    assert queue.claim(db, worker="other", limit=10) == []
    clock.advance(timedelta(seconds=61))
    again = queue.claim(db, worker="other", limit=10)
    assert [j.attempts for j in again] == [2]


def test_dedup_key_keeps_one_pending_job(db: Connection) -> None:
    clock = _clock()
    queue = _queue(clock)
    assert queue.enqueue(db, kind="test:once", dedup_key="sweep", run_after=clock.now())
    assert queue.enqueue(db, kind="test:once", dedup_key="sweep", run_after=clock.now()) is None


def test_periodic_job_reschedules_itself(db: Connection) -> None:
    clock = _clock()
    queue = _queue(clock)
    runs: list[datetime] = []
    queue.register_periodic(
        "test:tick", lambda _db, _p: runs.append(clock.now()), every=timedelta(hours=1)
    )
    queue.schedule_periodic(db)
    queue.schedule_periodic(db)  # idempotent: still one queued run
    pending = [j for j in queue.jobs(db) if j.kind == "test:tick"]
    assert len(pending) == 1
    worker = Worker(queue=queue, transaction=_savepoints(db), name="w1")
    assert worker.run_once() == 0  # not due yet
    clock.advance(timedelta(hours=1))
    assert worker.run_once() == 1
    nxt = [j for j in queue.jobs(db) if j.kind == "test:tick"]
    assert len(nxt) == 1
    assert nxt[0].run_after == clock.now() + timedelta(hours=1)
    clock.advance(timedelta(hours=1))
    worker.run_once()
    assert len(runs) == 2
