"""What happens to a notice after it left: a bounced e-mail turns the person to a letter.

The relay's delivery report (a DSN, a provider's webhook) names the notice; whatever carries it
calls ``record_bounce``, which is idempotent: a second report for the same notice changes
nothing.
"""

from __future__ import annotations

from sqlalchemy import Connection, select, update

from carnet.audit.service import AuditRecord, AuditTrail, EventTag, Outcome
from carnet.core.actor import CARNET
from carnet.core.clock import Clock
from carnet.core.errors import NotFound
from carnet.enrollment import models
from carnet.enrollment.schemas import BeneficiaryStatus, NoticeChannel, NoticeStatus

_notice = models.notice
_beneficiary = models.beneficiary


def record_bounce(db: Connection, *, audit: AuditTrail, clock: Clock, notice_id: str) -> bool:
    """Mark the e-mail notice ``notice_id`` bounced and its person ``letter-due``; True when
    this changed something. Raises ``NotFound`` for an unknown notice."""
    row = db.execute(
        select(_notice.c.beneficiary_id, _notice.c.channel, _notice.c.status)
        .where(_notice.c.id == notice_id)
        .with_for_update()
    ).first()
    if row is None:
        raise NotFound("no such notice")
    if row.channel != NoticeChannel.EMAIL or row.status != NoticeStatus.QUEUED:
        return False
    now = clock.now()
    db.execute(
        update(_notice)
        .where(_notice.c.id == notice_id)
        .values(status=NoticeStatus.BOUNCED.value, updated_at=now)
    )
    # Only someone still waiting for their notice: a person who opened, opposed or died since
    # keeps that status.
    db.execute(
        update(_beneficiary)
        .where(
            _beneficiary.c.id == row.beneficiary_id,
            _beneficiary.c.status == BeneficiaryStatus.NOTIFIED.value,
        )
        .values(status=BeneficiaryStatus.LETTER_DUE.value, status_at=now)
    )
    audit.record(
        db,
        AuditRecord(
            tag=EventTag.ENROLLMENT_NOTICE_BOUNCE,
            outcome=Outcome.SUCCESS,
            actor=CARNET,
            patient_id=row.beneficiary_id,
            entity=f"enrollment-notice/{notice_id}",
        ),
    )
    return True


def notices_of(db: Connection, *, beneficiary_id: str) -> list[tuple[str, str, str]]:
    """A person's notices as (id, channel, status), oldest first (support, letters, tests)."""
    rows = db.execute(
        select(_notice.c.id, _notice.c.channel, _notice.c.status)
        .where(_notice.c.beneficiary_id == beneficiary_id)
        .order_by(_notice.c.created_at, _notice.c.id)
    )
    return [(row.id, row.channel, row.status) for row in rows]
