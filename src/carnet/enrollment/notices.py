"""What happens to a notice after it left: a bounced e-mail turns the person to a letter.

- **Naming the notice, not the person.** A notice e-mail's reference (``notice_reference``) is
  ``notice.<the notice's id>``: a random id that says nothing of the person, written by notify
  into the Message-ID and the DSN envelope id. ``notice_from_reference`` reads it back from
  either (with or without angle brackets and domain) and ignores anything else.
- **Two ways back.** A refusal by our own relay during sending reaches ``NOTICE_REFUSED_JOB``
  (notify queues it with the refused references); a later bounce from the recipient's server
  arrives as a delivery report, read by ``bounces`` (``carnet enrollment bounces FILE``).
  Both call ``record_bounce``, which is idempotent: a second report changes nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any, Final

from sqlalchemy import Connection, select, update

from carnet.audit.service import AuditRecord, AuditTrail, EventTag, Outcome
from carnet.core.actor import CARNET
from carnet.core.clock import Clock
from carnet.core.errors import NotFound
from carnet.enrollment import models
from carnet.enrollment.schemas import BeneficiaryStatus, NoticeChannel, NoticeStatus

NOTICE_REFUSED_JOB: Final = "enrollment:notice-refused"
"""Queued by notify's batch job with the references of e-mails the relay refused for good."""
_REFERENCE: Final = re.compile(
    r"<?\s*notice\.([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})(?:@[^>\s]*)?\s*>?"
)

_notice = models.notice
_beneficiary = models.beneficiary


def notice_reference(notice_id: str) -> str:
    """The token a notice's e-mail carries (Message-ID, envelope id)."""
    return f"notice.{notice_id}"


def notice_from_reference(text: str) -> str | None:
    """The notice id in a reference, a Message-ID (``<notice.…@domain>``) or an envelope id;
    None for anything else (other e-mails' Message-IDs, noise)."""
    found = _REFERENCE.fullmatch(text.strip().lower())
    return found.group(1) if found else None


def record_refusals(
    db: Connection, *, audit: AuditTrail, clock: Clock, payload: Mapping[str, Any]
) -> int:
    """The handler's work for ``NOTICE_REFUSED_JOB``: each referenced notice bounced; returns
    how many changed. References that name no notice (sent by another area) are skipped."""
    return record_bounces(db, audit=audit, clock=clock, references=payload["references"])


def record_bounces(
    db: Connection, *, audit: AuditTrail, clock: Clock, references: Iterable[str]
) -> int:
    """``record_bounce`` for each notice named by ``references`` (unknown ones skipped);
    returns how many changed something."""
    changed = 0
    for reference in references:
        notice_id = notice_from_reference(reference)
        if notice_id is None:
            continue
        try:
            changed += record_bounce(db, audit=audit, clock=clock, notice_id=notice_id)
        except NotFound:
            continue
    return changed


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
