"""Notification waves: an operator starts a campaign over départements and a send date; a
resumable job then informs, step by step, every registered holder of those départements who was
never informed.

- **What a person gets.** The end of their opposition window (send date + ``opposition_days``)
  and a notice: with a usable address, an e-mail ``space_opening`` through notify's outbox
  carrying a one-time activation code (``enrollment_codes``: only its keyed hash is stored) and
  a Message-ID naming the notice, not the person (``notices``: a bounce turns it to a letter);
  status ``notified``. Otherwise the status ``letter-due``: ``letter_batches`` prints those,
  each letter with a code of its own.
  Dependants (children) are not walked: the holder's notice covers the minors attached to
  them (``_inform_dependants``: one bulk UPDATE per 500 holders, no code, notice or message of
  their own), who follow the holder to ``notified`` or ``letter-due``; their window is the
  holder's (``opening_job`` reads it from the holder's notices).
  A minor attached later to a holder already informed (a birth, an adoption, a new attachment
  in a later registry file) is picked by the next ``newcomers`` campaign: a notice of their own,
  with a window of their own, sent to the holder's address (``dependant_notice``: no code, the
  holder opposes for them by phone or asks for their space; or a letter when the holder has no
  usable address).
- **Cheap per person.** A step opens each sealed entry once, then writes in bulk: two status
  updates, the codes and the notices (COPY on PostgreSQL, ``bulk``), and its e-mails as a few
  batch jobs (``notify.queue_emails``: the template checked once per step, each batch's parts
  rendered once by the job that sends it over one connection, each message's code pasted in).
- **Resumable, bounded.** Each step is one job and one transaction: at most ``campaign_batch``
  people of one département, in id order from a cursor kept on the campaign row, then the next
  step is queued. A step that fails rolls back whole and is retried by the jobs area.
- **Safe to run twice.** Only people still ``registered`` are picked, and a step informs only
  those whose status it moved from ``registered`` itself (``_claim``: the UPDATE is the lock,
  so two campaigns over the same people wait for each other and the second skips them); a
  notice is also unique per person and campaign: nobody gets a second notice, whatever
  crashes, retries or second campaigns do.
- **Private.** The e-mail carries the code, the day and a link, nothing about health and no
  identifier; audit events carry counts and the campaign's id.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy import Connection, and_, insert, select, update

from carnet.audit.service import AuditRecord, AuditTrail, EventTag, Outcome
from carnet.core.actor import CARNET, Actor
from carnet.core.db import among
from carnet.core.errors import InvalidInput, NotFound
from carnet.core.ids import new_id
from carnet.enrollment import enrollment_codes, models
from carnet.enrollment.bulk import insert_rows
from carnet.enrollment.config import EnrollmentSettings
from carnet.enrollment.notices import NOTICE_REFUSED_JOB, notice_reference
from carnet.enrollment.registry_apply import open_entry
from carnet.enrollment.schemas import (
    BeneficiaryStatus,
    Campaign,
    CampaignKind,
    CampaignStatus,
    NoticeChannel,
    NoticeStatus,
)
from carnet.enrollment.validation import DEPARTEMENTS
from carnet.identity.accounts.service import Accounts
from carnet.jobs.service import JobQueue
from carnet.notify import service as notify_service
from carnet.record.service import Record
from carnet.storage.service import Storage, join_data_key

CAMPAIGN_STEP_JOB = "enrollment:campaign-step"
OPENING_TEMPLATE = "space_opening"
DEPENDANT_TEMPLATE = "dependant_notice"
"""To a holder: a minor attached to them since their own notice will get a space."""

_CHUNK = 500  # ids per IN list
_campaign = models.campaign
_notice = models.notice
_beneficiary = models.beneficiary


@dataclass(frozen=True, slots=True)
class Wiring:
    """What campaigns need of the process (built once by ``service.Enrollment``)."""

    storage: Storage
    audit: AuditTrail
    jobs: JobQueue
    settings: EnrollmentSettings
    activation_url: str
    """Where a notice sends people to activate or oppose (no code or identifier in it)."""
    record: Record
    """The health record: spaces are opened (their Patient written) through its Repository."""
    accounts: Accounts
    """Accounts of the people whose spaces open (activation, families, closure)."""
    public_base_url: str


def parse_departements(codes: str | list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """Département codes as given (``"31,44,80"`` or a list), checked, without repeats, in the
    given order (the walking order). Raises ``InvalidInput`` naming the unknown codes."""
    items = codes.split(",") if isinstance(codes, str) else list(codes)
    wanted = tuple(dict.fromkeys(code.strip().upper() for code in items if code.strip()))
    unknown = [code for code in wanted if code not in DEPARTEMENTS]
    if not wanted or unknown:
        raise InvalidInput(f"unknown or missing départements: {', '.join(unknown) or 'none'}")
    return wanted


def _as_campaign(row: Any) -> Campaign:
    return Campaign(
        id=row.id,
        kind=CampaignKind(row.kind),
        departements=tuple(row.departements.split(",")),
        send_date=row.send_date,
        opposition_ends=row.opposition_ends,
        status=CampaignStatus(row.status),
        emailed=row.emailed,
        letters_due=row.letters_due,
        skipped=row.skipped,
    )


def start_campaign(
    db: Connection,
    wiring: Wiring,
    *,
    actor: Actor,
    kind: CampaignKind,
    departements: tuple[str, ...],
    send_date: date,
) -> Campaign:
    """Record a campaign and queue its first step for ``send_date`` (now if that day has come).
    Audited with ``actor`` (the operator, or Carnet itself for the command line)."""
    now = wiring.storage.clock.now()
    campaign_id = new_id()
    values = {
        "id": campaign_id,
        "kind": kind.value,
        "departements": ",".join(departements),
        "send_date": send_date,
        "opposition_ends": send_date + wiring.settings.opposition_window,
        "status": CampaignStatus.SCHEDULED.value,
        "cursor_departement": departements[0],
        "cursor_id": "",
        "emailed": 0,
        "letters_due": 0,
        "skipped": 0,
        "created_by": f"{actor.kind.value}:{actor.id}"[:160],
        "created_at": now,
        "updated_at": now,
    }
    db.execute(insert(_campaign).values(**values))
    wiring.audit.record(
        db,
        AuditRecord(
            tag=EventTag.ENROLLMENT_CAMPAIGN_START,
            outcome=Outcome.SUCCESS,
            actor=actor,
            patient_id=None,
            entity=f"enrollment-campaign/{campaign_id}",
            detail={
                "kind": kind.value,
                "departements": list(departements),
                "send_date": send_date.isoformat(),
            },
        ),
    )
    run_after = max(now, datetime.combine(send_date, time.min, tzinfo=UTC))
    _queue_step(db, wiring.jobs, campaign_id, run_after=run_after)
    return _as_campaign(db.execute(select(_campaign).where(_campaign.c.id == campaign_id)).one())


def _queue_step(
    db: Connection, jobs: JobQueue, campaign_id: str, *, run_after: datetime | None = None
) -> None:
    # The dedup key keeps one pending step per campaign, so the walk never runs twice at once.
    jobs.enqueue(
        db,
        kind=CAMPAIGN_STEP_JOB,
        payload={"campaign": campaign_id},
        run_after=run_after,
        dedup_key=f"enrollment-campaign:{campaign_id}",
    )


def list_campaigns(db: Connection, *, limit: int = 50) -> list[Campaign]:
    """The latest campaigns first, with their counts so far."""
    rows = db.execute(select(_campaign).order_by(_campaign.c.created_at.desc()).limit(limit))
    return [_as_campaign(row) for row in rows]


def get_campaign(db: Connection, *, campaign_id: str) -> Campaign:
    row = db.execute(select(_campaign).where(_campaign.c.id == campaign_id)).first()
    if row is None:
        raise NotFound("no such campaign")
    return _as_campaign(row)


@dataclass(slots=True)
class _StepCounts:
    emailed: int = 0
    letters_due: int = 0
    skipped: int = 0


def run_step(db: Connection, wiring: Wiring, *, campaign_id: str) -> None:
    """One step of a campaign (the handler of ``CAMPAIGN_STEP_JOB``): inform up to a batch of
    people of the département at the cursor, move the cursor, queue the next step or finish."""
    row = db.execute(
        select(_campaign).where(_campaign.c.id == campaign_id).with_for_update()
    ).first()
    if row is None or row.status == CampaignStatus.FINISHED:
        return  # a stale job: nothing to do
    departements = row.departements.split(",")
    departement, cursor = row.cursor_departement, row.cursor_id
    limit = wiring.settings.campaign_batch
    late = row.kind == CampaignKind.NEWCOMERS.value
    people = _next_people(db, departement, cursor, limit, late_dependants=late)
    counts = _inform(db, wiring, row, people)
    now = wiring.storage.clock.now()
    if len(people) == limit:
        cursor = people[-1].id
    else:
        # This département is done: the next one, from its start (or the end of the walk).
        position = departements.index(departement) + 1
        departement = departements[position] if position < len(departements) else None
        cursor = ""
    finished = departement is None
    db.execute(
        update(_campaign)
        .where(_campaign.c.id == campaign_id)
        .values(
            status=(CampaignStatus.FINISHED if finished else CampaignStatus.RUNNING).value,
            cursor_departement=departement,
            cursor_id=cursor,
            emailed=_campaign.c.emailed + counts.emailed,
            letters_due=_campaign.c.letters_due + counts.letters_due,
            skipped=_campaign.c.skipped + counts.skipped,
            updated_at=now,
            finished_at=now if finished else None,
        )
    )
    _audit_step(db, wiring, campaign_id, row.cursor_departement, counts, finished=finished)
    if not finished:
        _queue_step(db, wiring.jobs, campaign_id)


def _next_people(
    db: Connection, departement: str, cursor: str, limit: int, *, late_dependants: bool = False
) -> list[Any]:
    """Registered holders of ``departement`` after ``cursor``, in id order, with their keys;
    with ``late_dependants`` (newcomers' campaigns), also the registered minors whose holder
    was informed before they were attached. Not locked: ``_claim`` takes the ones still
    registered when the step writes."""
    joined, key_columns = join_data_key(_beneficiary, _beneficiary.c.id)
    query = (
        select(_beneficiary.c.id, _beneficiary.c.holder_id, _beneficiary.c.sealed, *key_columns)
        .select_from(joined)
        .where(
            _beneficiary.c.departement == departement,
            _beneficiary.c.status == BeneficiaryStatus.REGISTERED.value,
            _beneficiary.c.id > cursor,
            informed_by_campaigns(late_dependants=late_dependants),
        )
        .order_by(_beneficiary.c.id)
        .limit(limit)
    )
    return list(db.execute(query))


def informed_by_campaigns(*, late_dependants: bool) -> Any:
    """The condition "a registered person a campaign informs itself": a holder; with
    ``late_dependants``, also a minor attached to a holder who was informed before them."""
    walked: Any = _beneficiary.c.holder_id.is_(None)
    if not late_dependants:
        return walked
    holder = _beneficiary.alias("holder")
    informed_holder = (
        select(holder.c.id)
        .where(
            holder.c.id == _beneficiary.c.holder_id,
            holder.c.status != BeneficiaryStatus.REGISTERED.value,
        )
        .exists()
    )
    return walked | and_(informed_holder, ~_adult())


def _holder_addresses(db: Connection, storage: Storage, holder_ids: list[str]) -> dict[str, str]:
    """The usable e-mail address of each of ``holder_ids`` (``""``: none, or erased)."""
    joined, key_columns = join_data_key(_beneficiary, _beneficiary.c.id)
    found: dict[str, str] = {}
    for condition in among(db, _beneficiary.c.id, holder_ids):
        rows = db.execute(
            select(_beneficiary.c.id, _beneficiary.c.sealed, *key_columns)
            .select_from(joined)
            .where(condition)
        )
        for row in rows:
            entry = open_entry(storage, row)
            email = entry.email if entry is not None else ""
            found[row.id] = email if notify_service.is_email_address(email) else ""
    return found


def _inform(db: Connection, wiring: Wiring, campaign: Any, people: list[Any]) -> _StepCounts:
    counts = _StepCounts()
    storage, now = wiring.storage, wiring.storage.clock.now()
    addresses: dict[str, str] = {}
    # A late dependant's notice goes to their holder: the holder acts for them.
    holders = {person.id: person.holder_id for person in people if person.holder_id is not None}
    holder_addresses = _holder_addresses(db, storage, sorted(set(holders.values())))
    for person in people:
        entry = open_entry(storage, person)
        if entry is None:
            counts.skipped += 1  # erased: nobody left to inform
            continue
        email = (
            holder_addresses.get(holders[person.id], "") if person.id in holders else entry.email
        )
        # An address the relay cannot take is as good as none: post instead.
        addresses[person.id] = email if notify_service.is_email_address(email) else ""
    emailed = _claim(db, [i for i, e in addresses.items() if e], BeneficiaryStatus.NOTIFIED, now)
    posted = _claim(
        db, [i for i, e in addresses.items() if not e], BeneficiaryStatus.LETTER_DUE, now
    )
    _inform_dependants(db, emailed, BeneficiaryStatus.NOTIFIED, now)
    _inform_dependants(db, posted, BeneficiaryStatus.LETTER_DUE, now)
    # Letters carry codes of their own (``letter_batches``): only e-mails need one now, and
    # not those about a dependant (the holder acts for them, with no code).
    codes, code_rows = enrollment_codes.code_rows(
        storage,
        [i for i in emailed if i not in holders],
        now=now,
        lifetime=wiring.settings.code_lifetime,
    )
    notices, messages, dependant_messages = [], [], []
    emailed_ids = set(emailed)
    for beneficiary_id in [*emailed, *posted]:
        notice_id, by_email = new_id(), beneficiary_id in emailed_ids
        if by_email and beneficiary_id in holders:
            dependant_messages.append(
                notify_service.BatchEmail(
                    to=addresses[beneficiary_id],
                    context={},
                    reference=notice_reference(notice_id),
                )
            )
        elif by_email:
            messages.append(
                notify_service.BatchEmail(
                    to=addresses[beneficiary_id],
                    context={"code": codes[beneficiary_id]},
                    reference=notice_reference(notice_id),
                )
            )
        notices.append(
            {
                "id": notice_id,
                "campaign_id": campaign.id,
                "beneficiary_id": beneficiary_id,
                "channel": (NoticeChannel.EMAIL if by_email else NoticeChannel.LETTER).value,
                "status": (NoticeStatus.QUEUED if by_email else NoticeStatus.LETTER_DUE).value,
                "opposition_ends": campaign.opposition_ends,
                "letter_batch": None,
                "created_at": now,
                "updated_at": now,
            }
        )
    counts.emailed, counts.letters_due = len(emailed), len(posted)
    insert_rows(db, models.activation_code, code_rows)
    insert_rows(db, _notice, notices)
    # One trial rendering and a few batch jobs per template for the whole step
    # (``notify.queue_emails``).
    shared = {
        "link": wiring.activation_url,
        "opposition_ends": campaign.opposition_ends.isoformat(),
    }
    for template, batch in ((OPENING_TEMPLATE, messages), (DEPENDANT_TEMPLATE, dependant_messages)):
        notify_service.queue_emails(
            db,
            wiring.jobs,
            template=template,
            shared=shared,
            messages=batch,
            on_refused=NOTICE_REFUSED_JOB,
        )
    return counts


def _claim(db: Connection, ids: list[str], status: BeneficiaryStatus, now: datetime) -> list[str]:
    """Move those of ``ids`` still ``registered`` to ``status``; the ones moved, in order.

    The UPDATE is the lock: a second campaign over the same people (an initial wave and a
    newcomers' wave) waits here for the first to commit, then finds them no longer registered
    and leaves them out; so does a death recorded meanwhile by a registry file.
    """
    moved: set[str] = set()
    for start in range(0, len(ids), _CHUNK):  # IN lists of bounded length: SQLite caps them
        moved.update(
            db.execute(
                update(_beneficiary)
                .where(
                    _beneficiary.c.id.in_(ids[start : start + _CHUNK]),
                    _beneficiary.c.status == BeneficiaryStatus.REGISTERED.value,
                )
                .values(status=status.value, status_at=now)
                .returning(_beneficiary.c.id)
            ).scalars()
        )
    return [beneficiary_id for beneficiary_id in ids if beneficiary_id in moved]


def _adult() -> Any:
    """The condition "a dependant the coming-of-age job has made an adult" (marked in
    ``enrollment_dependant``)."""
    _d = models.dependant
    return (
        select(_d.c.beneficiary_id)
        .where(_d.c.beneficiary_id == _beneficiary.c.id, _d.c.adult_done_at.is_not(None))
        .exists()
    )


def minors_of(holder_ids: list[str]) -> Any:
    """The condition "a dependant of one of ``holder_ids`` and not an adult": the children a
    holder's notice covers."""
    return and_(_beneficiary.c.holder_id.in_(holder_ids), ~_adult())


def _inform_dependants(
    db: Connection, holder_ids: list[str], status: BeneficiaryStatus, now: datetime
) -> None:
    """The still ``registered`` minors of ``holder_ids`` follow their holder to ``status``:
    the holder's notice informs them too (one UPDATE per chunk of holders, by the
    ``holder_id`` index)."""
    for start in range(0, len(holder_ids), _CHUNK):
        db.execute(
            update(_beneficiary)
            .where(
                minors_of(holder_ids[start : start + _CHUNK]),
                _beneficiary.c.status == BeneficiaryStatus.REGISTERED.value,
            )
            .values(status=status.value, status_at=now)
        )


def _audit_step(
    db: Connection,
    wiring: Wiring,
    campaign_id: str,
    departement: str,
    counts: _StepCounts,
    *,
    finished: bool,
) -> None:
    wiring.audit.record(
        db,
        AuditRecord(
            tag=EventTag.ENROLLMENT_CAMPAIGN_STEP,
            outcome=Outcome.SUCCESS,
            actor=CARNET,
            patient_id=None,
            entity=f"enrollment-campaign/{campaign_id}",
            detail={
                "departement": departement,
                "emailed": counts.emailed,
                "letters_due": counts.letters_due,
                "skipped": counts.skipped,
                "finished": finished,
            },
        ),
    )
