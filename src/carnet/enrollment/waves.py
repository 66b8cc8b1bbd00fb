"""What keeps notification waves going once started: weekly newcomers' campaigns and bounces.

``Waves`` (``runtime.enrollment.waves``) registers two jobs:

- **Weekly newcomers** (``NEWCOMERS_JOB``, checked daily): once per ISO week, a ``newcomers``
  campaign over every département whose initial campaign has finished, for the holders
  registered there since (status ``registered``: everyone else of those départements was
  informed by a campaign) and the minors attached since to a holder already informed. One
  campaign a week at most, whoever runs it how often: the week is the key of
  ``enrollment_newcomers_wave``, and a second start in the same week finds it taken (or, when
  two race, the loser's transaction rolls back). A week with nobody waiting starts
  nothing, and a later check that week may still start one.
- **Refused at sending** (``notices.NOTICE_REFUSED_JOB``): notify's batch job hands over the
  references of e-mails the relay refused for good; each notice is marked bounced and its person
  due a letter (``notices.record_bounce``).

``record_bounces`` takes what ``bounces.read_bounces`` read from the relay's delivery reports.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any, Final

from sqlalchemy import Connection, exists, select

from carnet.core.actor import CARNET
from carnet.core.db import insert_or_ignore
from carnet.core.errors import Conflict
from carnet.enrollment import campaigns, models, notices
from carnet.enrollment.campaigns import Wiring
from carnet.enrollment.schemas import BeneficiaryStatus, Campaign, CampaignKind, CampaignStatus
from carnet.jobs.service import JobQueue

NEWCOMERS_JOB: Final = "enrollment:newcomers-wave"
NEWCOMERS_CHECK_EVERY: Final = timedelta(days=1)
"""How often the job looks; it starts a campaign only in a week that has none yet."""

_campaign = models.campaign
_beneficiary = models.beneficiary
_wave = models.newcomers_wave


class Waves:
    """Weekly newcomers' campaigns and bounces (see the module docstring)."""

    def __init__(self, wiring: Wiring) -> None:
        self._wiring = wiring

    def register_jobs(self, jobs: JobQueue) -> None:
        """The newcomers' check (periodic) and the handler of refusals at sending."""
        jobs.register_periodic(NEWCOMERS_JOB, self._newcomers, every=NEWCOMERS_CHECK_EVERY)
        jobs.register(notices.NOTICE_REFUSED_JOB, self._refused)

    def _newcomers(self, db: Connection, payload: Mapping[str, Any]) -> None:
        del payload
        self.start_newcomers(db)

    def _refused(self, db: Connection, payload: Mapping[str, Any]) -> None:
        wiring = self._wiring
        notices.record_refusals(db, audit=wiring.audit, clock=wiring.storage.clock, payload=payload)

    def start_newcomers(self, db: Connection) -> Campaign | None:
        """This week's newcomers' campaign, started now; None when the week already has one,
        no initial campaign has finished, or nobody is waiting. Raises ``Conflict`` when another
        transaction started this week's meanwhile (this one must roll back)."""
        now = self._wiring.storage.clock.now()
        year, week, _ = now.isocalendar()
        key = f"{year}-W{week:02d}"
        if db.execute(select(_wave.c.week).where(_wave.c.week == key)).first() is not None:
            return None
        departements = initial_departements(db)
        if not departements or not _anyone_waiting(db, departements):
            return None
        campaign = campaigns.start_campaign(
            db,
            self._wiring,
            actor=CARNET,
            kind=CampaignKind.NEWCOMERS,
            departements=departements,
            send_date=now.date(),
        )
        taken = insert_or_ignore(
            db, _wave, {"week": key, "campaign_id": campaign.id, "created_at": now}, key="week"
        )
        if not taken:
            raise Conflict("this week's newcomers' campaign was started meanwhile")
        return campaign

    def record_bounces(self, db: Connection, *, references: Sequence[str]) -> int:
        """Mark bounced the notices named by ``references`` (Message-IDs or envelope ids read by
        ``bounces.read_bounces``), their people due a letter; returns how many changed (a
        notice already bounced, or unknown, changes nothing)."""
        wiring = self._wiring
        return notices.record_bounces(
            db, audit=wiring.audit, clock=wiring.storage.clock, references=references
        )


def initial_departements(db: Connection) -> tuple[str, ...]:
    """The départements of every finished initial campaign, in code order."""
    rows = db.execute(
        select(_campaign.c.departements).where(
            _campaign.c.kind == CampaignKind.INITIAL.value,
            _campaign.c.status == CampaignStatus.FINISHED.value,
        )
    ).scalars()
    return tuple(sorted({code for codes in rows for code in codes.split(",") if code}))


def _anyone_waiting(db: Connection, departements: tuple[str, ...]) -> bool:
    waiting = exists().where(
        _beneficiary.c.departement.in_(departements),
        _beneficiary.c.status == BeneficiaryStatus.REGISTERED.value,
        campaigns.informed_by_campaigns(late_dependants=True),
    )
    return bool(db.execute(select(waiting)).scalar())
