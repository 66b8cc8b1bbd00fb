"""Public face of the enrollment area.

``import_registry`` loads the insurer's beneficiary file (``enrollment.registry_import`` states
its guarantees); ``write_registry`` writes files in that format (``COLUMNS``, documented in
docs/registry-file.md); ``find_beneficiary`` and ``count_beneficiaries`` read the registry.
``Enrollment`` (one per process, ``Runtime.enrollment``) runs notification waves
(``campaigns``), bounces (``notices``), print batches of letters (``letter_batches``) and
activation codes (``enrollment_codes``,
``code_requests``).
Other areas import ``from carnet.enrollment import service as enrollment_service``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, func, select

from carnet.audit.service import AuditTrail
from carnet.core.actor import Actor
from carnet.enrollment import (
    activation,
    campaigns,
    caregivers,
    closure,
    code_requests,
    console,
    enrollment_codes,
    families,
    letter_batches,
    models,
    notices,
    opening,
    opposition,
    tally,
    waves,
)
from carnet.enrollment.campaigns import CAMPAIGN_STEP_JOB, Wiring, parse_departements
from carnet.enrollment.config import EnrollmentSettings
from carnet.enrollment.letter_batches import TransactionFactory
from carnet.enrollment.registry_apply import NIR_DOMAIN, entry_from, sealing_context
from carnet.enrollment.registry_file import COLUMNS, write_registry
from carnet.enrollment.registry_import import REPORT_HEADER, STALE_AFTER, import_registry
from carnet.enrollment.schemas import (
    Beneficiary,
    BeneficiaryStatus,
    Campaign,
    CampaignKind,
    CampaignStatus,
    CodeChannel,
    CodeRequestAnswer,
    LettersPrinted,
    LineError,
    NoticeChannel,
    NoticeStatus,
    OpeningReport,
    RegistryEntry,
    RegistryReport,
    RunStatus,
    Space,
)
from carnet.enrollment.validation import DEPARTEMENTS
from carnet.identity.accounts.service import Accounts
from carnet.jobs.service import JobQueue
from carnet.record.service import Record
from carnet.storage.service import Storage, join_data_key

__all__ = [
    "CAMPAIGN_STEP_JOB",
    "COLUMNS",
    "DEPARTEMENTS",
    "PILOT_DEPARTEMENTS",
    "REPORT_HEADER",
    "STALE_AFTER",
    "Beneficiary",
    "BeneficiaryStatus",
    "Campaign",
    "CampaignKind",
    "CampaignStatus",
    "CodeChannel",
    "CodeRequestAnswer",
    "Enrollment",
    "EnrollmentSettings",
    "LettersPrinted",
    "LineError",
    "NoticeChannel",
    "NoticeStatus",
    "OpeningReport",
    "RegistryEntry",
    "RegistryReport",
    "RunStatus",
    "Space",
    "count_beneficiaries",
    "find_beneficiary",
    "import_registry",
    "parse_departements",
    "write_registry",
]

_table = models.beneficiary

PILOT_DEPARTEMENTS = ("31", "44", "80")
"""Haute-Garonne, Loire-Atlantique and Somme: informed first (2021), the rest in waves."""


def find_beneficiary(db: Connection, *, storage: Storage, nir: str) -> Beneficiary | None:
    """The registered beneficiary whose NIR (or NIA) is ``nir``, opened with their data key;
    None when the registry does not list them. Raises ``DataKeyDestroyed`` (a ``Gone``) once
    their data was erased."""
    joined, key_columns = join_data_key(_table, _table.c.id)
    row = db.execute(
        select(_table, *key_columns)
        .select_from(joined)
        .where(_table.c.nir_index == storage.blind_index(NIR_DOMAIN, nir))
    ).first()
    if row is None:
        return None
    key = storage.key_from(
        row.id, kek_id=row.key_kek_id, wrapped=row.key_wrapped, destroyed_at=row.key_destroyed_at
    )
    return Beneficiary(
        id=row.id,
        status=BeneficiaryStatus(row.status),
        departement=row.departement,
        holder_id=row.holder_id,
        entry=entry_from(key.open(row.sealed, sealing_context(row.id))),
    )


def count_beneficiaries(
    db: Connection, *, departement: str | None = None, status: BeneficiaryStatus | None = None
) -> int:
    """How many beneficiaries the registry lists, optionally in one département or status."""
    query = select(func.count()).select_from(_table)
    if departement is not None:
        query = query.where(_table.c.departement == departement)
    if status is not None:
        query = query.where(_table.c.status == status.value)
    return int(db.execute(query).scalar_one())


class Enrollment:
    """Notification waves and activation codes. One per process; its methods take the caller's
    transaction and never commit."""

    def __init__(
        self,
        *,
        settings: EnrollmentSettings,
        storage: Storage,
        audit: AuditTrail,
        jobs: JobQueue,
        record: Record,
        accounts: Accounts,
        public_base_url: str,
        sms_available: bool,
    ) -> None:
        self.settings = settings
        self.sms_available = sms_available
        self._wiring = Wiring(
            storage=storage,
            audit=audit,
            jobs=jobs,
            settings=settings,
            activation_url=f"{public_base_url.rstrip('/')}/activation",
            record=record,
            accounts=accounts,
            public_base_url=public_base_url.rstrip("/"),
        )
        # The life-cycle steps, each its own object over the same wiring (one module each).
        self.opposition = opposition.Oppositions(self._wiring)
        self.activation = activation.Activations(self._wiring, sms_available=sms_available)
        self.opening = opening.Openings(self._wiring)
        self.waves = waves.Waves(self._wiring)
        self.console = console.Console(self._wiring)
        self.families = families.Families(self._wiring)
        self.caregivers = caregivers.Caregivers(self._wiring)
        self.closure = closure.Closures(self._wiring)

    def register_jobs(self, jobs: JobQueue) -> None:
        """Register the campaign step's handler, the tally's compaction and the jobs of each
        part (``runtime.register_jobs`` calls this)."""
        jobs.register(CAMPAIGN_STEP_JOB, self._run_step)
        jobs.register_periodic(
            tally.TALLY_COMPACT_JOB, tally.compact_job, every=tally.TALLY_COMPACT_EVERY
        )
        self.opening.register_jobs(jobs)
        self.waves.register_jobs(jobs)
        self.families.register_jobs(jobs)
        self.closure.register_jobs(jobs)

    def _run_step(self, db: Connection, payload: Mapping[str, Any]) -> None:
        campaigns.run_step(db, self._wiring, campaign_id=str(payload["campaign"]))

    def start_campaign(
        self,
        db: Connection,
        *,
        actor: Actor,
        departements: str | tuple[str, ...],
        send_date: date,
        kind: CampaignKind = CampaignKind.INITIAL,
    ) -> Campaign:
        """Start a notification wave over ``departements`` on ``send_date`` (audited with
        ``actor``); its steps run as jobs after commit. Raises ``InvalidInput`` for unknown
        départements."""
        return campaigns.start_campaign(
            db,
            self._wiring,
            actor=actor,
            kind=kind,
            departements=parse_departements(departements),
            send_date=send_date,
        )

    def campaigns(self, db: Connection, *, limit: int = 50) -> list[Campaign]:
        """The latest campaigns with their counts (newest first)."""
        return campaigns.list_campaigns(db, limit=limit)

    def campaign(self, db: Connection, *, campaign_id: str) -> Campaign:
        """One campaign; raises ``NotFound``."""
        return campaigns.get_campaign(db, campaign_id=campaign_id)

    def notices(self, db: Connection, *, beneficiary_id: str) -> list[tuple[str, str, str]]:
        """A person's notices as (id, channel, status), oldest first."""
        return notices.notices_of(db, beneficiary_id=beneficiary_id)

    def record_bounce(self, db: Connection, *, notice_id: str) -> bool:
        """An e-mail notice bounced: the notice is marked so and its person is due a letter.
        Idempotent (False when nothing changed); raises ``NotFound`` for an unknown notice."""
        wiring = self._wiring
        return notices.record_bounce(
            db, audit=wiring.audit, clock=wiring.storage.clock, notice_id=notice_id
        )

    def print_letters(
        self, transaction: TransactionFactory, out_dir: Path, *, batch_size: int | None = None
    ) -> LettersPrinted:
        """Print the letters due into ``out_dir``: one merged PDF per batch of at most
        ``batch_size`` letters (default: the ``letter_batch`` setting), each letter with a fresh
        code, its people marked informed in the batch's own transaction (``transaction`` opens
        one; see ``letter_batches``). Running it again prints nothing new."""
        return letter_batches.print_letters(
            transaction,
            self._wiring,
            out_dir,
            batch_size=batch_size or self.settings.letter_batch,
        )

    def regenerate_code(
        self,
        db: Connection,
        *,
        nir: str,
        vitale_serial: str,
        birth_date: date,
        channel: CodeChannel,
        client_address: str | None = None,
    ) -> CodeRequestAnswer:
        """A new activation code for whoever proves NIR, Vitale serial and birth date, sent to
        their contact on file; the same answer whatever happened (``code_requests``)."""
        return code_requests.regenerate(
            db,
            self._wiring,
            nir=nir,
            vitale_serial=vitale_serial,
            birth_date=birth_date,
            channel=channel,
            sms_available=self.sms_available,
            client_address=client_address,
        )

    def use_activation_code(self, db: Connection, *, nir: str, code: str) -> str | None:
        """The beneficiary id when ``code`` is the live activation code of the person whose NIR
        is ``nir`` (the code is then used up); None otherwise (a wrong code counts against it).
        The activation flow that calls this audits the outcome."""
        storage = self._wiring.storage
        index = storage.blind_index(NIR_DOMAIN, "".join(nir.split()).upper())
        beneficiary_id = db.execute(
            select(_table.c.id).where(_table.c.nir_index == index)
        ).scalar_one_or_none()
        if beneficiary_id is None:
            return None
        used = enrollment_codes.consume_code(
            db,
            storage,
            beneficiary_id=beneficiary_id,
            code=code,
            now=storage.clock.now(),
            max_attempts=self.settings.code_attempts,
        )
        return beneficiary_id if used else None
