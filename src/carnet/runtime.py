"""The process's services, built once from the settings by the entry points (app and CLI).

Start-up order is explicit, as in Medplum's ``initAppServices``: settings checked → logging →
database → keys (generated in dev) → audit → record → jobs → authorization server.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import Connection

from carnet.access import service as access_service
from carnet.audit.service import AuditTrail
from carnet.authz.service import Authz
from carnet.core.actor import CARNET
from carnet.core.clock import Clock, SystemClock
from carnet.core.db import Database
from carnet.core.errors import ConfigurationError
from carnet.core.logging import configure_logging
from carnet.enrollment import service as enrollment_service
from carnet.identity.accounts.service import Accounts
from carnet.interop.document_text import INDEX_DOCUMENT_JOB, index_document_job
from carnet.jobs.service import JobQueue, Worker
from carnet.notify import service as notify_service
from carnet.record.service import (
    ARCHIVE_BUILD_JOB,
    ARCHIVE_EXPIRE_JOB,
    EXPORT_EXPIRE_JOB,
    EXPORT_STEP_JOB,
    Archives,
    ExportPolicy,
    Record,
    Repository,
)
from carnet.settings import Settings
from carnet.storage.service import Storage

SYSTEM_SCOPES = "system/*.cruds"


@dataclass
class Runtime:
    settings: Settings
    clock: Clock
    database: Database
    storage: Storage
    audit: AuditTrail
    record: Record
    jobs: JobQueue
    authz: Authz
    notify: notify_service.Notifier
    accounts: Accounts
    enrollment: enrollment_service.Enrollment
    workers: list[Worker] = field(default_factory=list)

    def transaction(self, *, readonly: bool = False) -> AbstractContextManager[Connection]:
        return self.database.transaction(readonly=readonly)

    def carnet_context(self) -> access_service.AccessContext:
        """The access context of Carnet itself (CLI, seeding, imports): system scopes."""
        return access_service.AccessContext(
            actor=CARNET, scopes=access_service.ScopeSet.parse(SYSTEM_SCOPES)
        )

    @contextmanager
    def carnet_repository(self) -> Iterator[Repository]:
        """A repository acting as Carnet itself (CLI, seeding), in its own transaction."""
        with self.transaction() as db:
            yield self.record.repository(db=db, ctx=self.carnet_context())

    def worker(self, *, name: str | None = None) -> Worker:
        """A job worker for this process; plants the periodic jobs' next runs first."""
        with self.transaction() as db:
            self.jobs.schedule_periodic(db)
        return Worker(queue=self.jobs, transaction=self.transaction, name=name)

    def close(self) -> None:
        for worker in self.workers:
            worker.stop()
        self.database.dispose()


def build_runtime(
    settings: Settings, *, clock: Clock | None = None, configure_logs: bool = True
) -> Runtime:
    """Check the settings and build every process-wide service."""
    settings.check_safe_to_start()
    if configure_logs:
        configure_logging(level=settings.logging.level, json=settings.json_logs)
    clock = clock or SystemClock()
    database = Database(settings.database_url, pool_size=settings.database.pool_size)
    storage = Storage.from_settings(
        settings.storage,
        data_dir=settings.data_dir,
        clock=clock,
        create_keys=settings.generates_dev_keys,
    )
    if settings.is_production and storage.keyring.generated:
        raise ConfigurationError(
            "refusing to start in prod: the keyring was generated for development; "
            "provision a production keyring (see docs/security.md)"
        )
    audit = AuditTrail(key=storage.keyring.audit_key, clock=clock)
    jobs = JobQueue(settings=settings.jobs, clock=clock)
    record = Record(
        storage=storage,
        audit=audit,
        clock=clock,
        jobs=jobs,
        export_policy=ExportPolicy(
            expires_after_seconds=settings.fhir.export_expiry_seconds,
            file_resources=settings.fhir.export_file_resources,
        ),
    )
    authz = Authz.from_settings(
        settings.authz,
        issuer=settings.public_base_url.rstrip("/"),
        fhir_base_url=settings.fhir_base_url,
        signing_key_file=settings.signing_key_file,
        create_keys=settings.generates_dev_keys,
        client_secrets_allowed=settings.client_secrets_allowed,
        production=settings.is_production,
        clock=clock,
        audit=audit,
    )
    notifier = notify_service.Notifier.from_settings(
        settings.notify, environment=settings.environment
    )
    accounts = Accounts(
        settings=settings.accounts,
        environment=settings.environment,
        storage=storage,
        audit=audit,
        jobs=jobs,
        clock=clock,
        sms_available=notifier.sms_available,
        public_base_url=settings.public_base_url,
        service_name=settings.portal.service_name,
    )
    runtime = Runtime(
        settings=settings,
        clock=clock,
        database=database,
        storage=storage,
        audit=audit,
        record=record,
        jobs=jobs,
        authz=authz,
        notify=notifier,
        accounts=accounts,
        enrollment=enrollment_service.Enrollment(
            settings=settings.enrollment,
            storage=storage,
            audit=audit,
            jobs=jobs,
            record=record,
            accounts=accounts,
            public_base_url=settings.public_base_url,
            sms_available=notifier.sms_available,
        ),
    )
    register_jobs(runtime)
    return runtime


def register_jobs(runtime: Runtime) -> None:
    """Every job kind the process can run (the handlers live in their areas)."""
    runtime.notify.register_jobs(runtime.jobs)
    runtime.enrollment.register_jobs(runtime.jobs)
    storage = runtime.storage
    runtime.jobs.register_periodic(
        "storage:sweep-blobs", lambda db, _payload: _sweep(storage, db), every=timedelta(hours=1)
    )
    runtime.jobs.register(EXPORT_STEP_JOB, runtime.record.run_export_step)
    runtime.jobs.register_periodic(
        EXPORT_EXPIRE_JOB, runtime.record.expire_exports, every=timedelta(minutes=15)
    )
    runtime.jobs.register(
        INDEX_DOCUMENT_JOB, index_document_job(runtime.record, runtime.carnet_context())
    )
    archives = Archives(runtime.record)
    runtime.jobs.register(ARCHIVE_BUILD_JOB, archives.build)
    runtime.jobs.register_periodic(ARCHIVE_EXPIRE_JOB, archives.expire, every=timedelta(hours=1))
    notify_service.register_inbox_jobs(
        runtime.jobs,
        contacts=_patient_contact(runtime.accounts),
        portal_url=runtime.settings.public_base_url,
    )


def _patient_contact(accounts: Accounts) -> notify_service.ContactBook:
    """The notification centre's e-mail address for a space: its holder's account's (a
    child's space, without an account of its own, gets no e-mail)."""

    def contact(db: Connection, patient_id: str) -> tuple[str, str] | None:
        account_id = accounts.account_for_person(
            db, person_kind="patient", person_id=patient_id, create=False
        )
        return None if account_id is None else accounts.account_contact(db, account_id=account_id)

    return contact


def _sweep(storage: Storage, db: Connection) -> None:
    storage.sweep_blobs(db)
