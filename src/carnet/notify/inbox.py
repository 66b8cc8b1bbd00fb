"""The notification centre: what is waiting for a person, and the grouped e-mail that says so.

    inbox.post(db, jobs, patient_id=p, kind="new_document", link="/documents/<id>")

``post`` is called **inside the writer's transaction** (the one that adds the document or the
message): the item and, when the person wants e-mails of that kind, the grouped e-mail's job
are written with the change, so a change that rolls back leaves no notification and a committed
one never loses its notice (DESIGN.md §7). A writer that prefers to notify after its own commit
enqueues ``INBOX_JOB`` (``{"patient", "kind", "link"}``) instead; its handler calls ``post``.

What an item holds: a kind (``schemas.INBOX_KINDS``) and a portal path, nothing else — no title,
category, author or any health data, so the centre can be shown, counted and e-mailed about
without reading the record. The e-mail (kind ``inbox_news``) says only that something new is
waiting, with a link to ``/notifications``.

Grouping: ``post`` marks the person's digest due and enqueues ``DIGEST_JOB`` once (a row per
person, locked, says whether one is pending); the job sends at most one e-mail per person per
``group_every`` (default 6 hours): when the last one went out less than that ago, it moves
itself to the end of the period. A batch of 50 documents thus sends one e-mail, and none at all
if the person has read everything meanwhile.

The e-mail address: the notify area sits below identity (DESIGN.md §3) and cannot look it up
itself. The process hands ``register_jobs`` a ``ContactBook`` (``runtime`` builds it from the
accounts: the patient's account's address and language); it is read when the e-mail is due,
never stored in a job.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any, Final, Protocol

from sqlalchemy import Connection, func, insert, select, update

from carnet.core.db import insert_or_ignore
from carnet.core.ids import new_id
from carnet.jobs.service import JobQueue
from carnet.notify import models
from carnet.notify.errors import InvalidContext
from carnet.notify.preferences import email_choices, wants_email
from carnet.notify.schemas import INBOX_KINDS, InboxItem, InboxPage

log = logging.getLogger(__name__)

INBOX_JOB: Final = "notify:inbox"
DIGEST_JOB: Final = "notify:inbox-email"
EMAIL_KIND: Final = "inbox_news"
INBOX_PATH: Final = "/notifications"
DEFAULT_GROUP_EVERY: Final = timedelta(hours=6)
PER_PAGE: Final = 20
# A portal path: letters, digits and a few safe characters; no scheme, no host, no query.
_LINK: Final = re.compile(r"/(?!/)[A-Za-z0-9._~/-]{0,199}")
_i, _d = models.inbox_item, models.inbox_digest


class ContactBook(Protocol):
    """The e-mail address and language of a person's account (None: no address)."""

    def __call__(self, db: Connection, patient_id: str) -> tuple[str, str] | None: ...


def check_item(*, patient_id: str, kind: str, link: str) -> None:
    """Raise ``InvalidContext`` for an unknown kind, a link that is not a portal path, or no
    person (naming the field, never the value)."""
    if not patient_id or len(patient_id) > 64:
        raise InvalidContext("a notification needs the person's space")
    if kind not in INBOX_KINDS:
        raise InvalidContext(f"unknown notification kind {kind!r}")
    if _LINK.fullmatch(link) is None or "/../" in f"{link}/":
        raise InvalidContext("a notification's link must be a portal path")


def post(db: Connection, jobs: JobQueue, *, patient_id: str, kind: str, link: str) -> str:
    """Add a notification for the person in the caller's transaction; return its id. When the
    person wants e-mails of that kind, the grouped e-mail is scheduled too."""
    check_item(patient_id=patient_id, kind=kind, link=link)
    item_id = new_id()
    now = jobs.clock.now()
    db.execute(
        insert(_i).values(
            id=item_id, patient_id=patient_id, kind=kind, link=link, created_at=now, read_at=None
        )
    )
    if wants_email(db, patient_id=patient_id, kind=kind):
        _schedule_digest(db, jobs, patient_id, now)
    return item_id


def _schedule_digest(db: Connection, jobs: JobQueue, patient_id: str, now: datetime) -> None:
    insert_or_ignore(
        db, _d, {"patient_id": patient_id, "last_sent_at": None, "due_at": None}, key="patient_id"
    )
    # Locked: a digest job running for this person finishes first, so it cannot miss this item.
    row = db.execute(_locked(db, patient_id)).one()
    if row.due_at is not None:
        return  # an e-mail is already due: it will cover this item too
    db.execute(update(_d).where(_d.c.patient_id == patient_id).values(due_at=now))
    jobs.enqueue(db, kind=DIGEST_JOB, payload={"patient": patient_id}, run_after=now)


def _locked(db: Connection, patient_id: str) -> Any:
    query = select(_d).where(_d.c.patient_id == patient_id)
    return query.with_for_update() if db.dialect.name == "postgresql" else query


def inbox_page(
    db: Connection, *, patient_id: str, page: int = 1, per_page: int = PER_PAGE
) -> InboxPage:
    """One page of the person's notifications, newest first, with the unread count."""
    total = db.execute(select(func.count()).where(_i.c.patient_id == patient_id)).scalar_one()
    pages = max(1, -(-int(total) // per_page))
    page = min(max(1, page), pages)
    rows = db.execute(
        select(_i)
        .where(_i.c.patient_id == patient_id)
        .order_by(_i.c.created_at.desc(), _i.c.id.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    items = tuple(
        InboxItem(id=r.id, kind=r.kind, link=r.link, created_at=r.created_at, read_at=r.read_at)
        for r in rows
    )
    return InboxPage(
        items=items,
        unread=unread_count(db, patient_id=patient_id),
        total=int(total),
        page=page,
        pages=pages,
    )


def unread_count(db: Connection, *, patient_id: str) -> int:
    """How many of the person's notifications are unread (for a badge in the header)."""
    query = select(func.count()).where(_i.c.patient_id == patient_id, _i.c.read_at.is_(None))
    return int(db.execute(query).scalar_one())


def mark_read(db: Connection, *, patient_id: str, item_id: str, at: datetime) -> InboxItem | None:
    """Mark one of the person's notifications read and return it (None: they have none with
    that id)."""
    row = db.execute(select(_i).where(_i.c.id == item_id, _i.c.patient_id == patient_id)).first()
    if row is None:
        return None
    read_at = row.read_at
    if read_at is None:
        db.execute(update(_i).where(_i.c.id == item_id).values(read_at=at))
        read_at = at
    return InboxItem(
        id=row.id, kind=row.kind, link=row.link, created_at=row.created_at, read_at=read_at
    )


def mark_all_read(db: Connection, *, patient_id: str, at: datetime) -> int:
    """Mark every unread notification of the person read; how many were."""
    result = db.execute(
        update(_i).where(_i.c.patient_id == patient_id, _i.c.read_at.is_(None)).values(read_at=at)
    )
    return int(result.rowcount or 0)


# --- jobs ----------------------------------------------------------------------------------------


def register_jobs(
    jobs: JobQueue,
    *,
    contacts: ContactBook,
    portal_url: str,
    group_every: timedelta = DEFAULT_GROUP_EVERY,
) -> None:
    """Register ``INBOX_JOB`` and ``DIGEST_JOB`` (``runtime.register_jobs`` calls this)."""
    link = portal_url.rstrip("/") + INBOX_PATH

    def post_later(db: Connection, payload: Mapping[str, Any]) -> None:
        post(
            db,
            jobs,
            patient_id=str(payload["patient"]),
            kind=str(payload["kind"]),
            link=str(payload["link"]),
        )

    def send_digest(db: Connection, payload: Mapping[str, Any]) -> None:
        _send_digest(
            db,
            jobs,
            patient_id=str(payload["patient"]),
            contacts=contacts,
            link=link,
            group_every=group_every,
        )

    jobs.register(INBOX_JOB, post_later)
    jobs.register(DIGEST_JOB, send_digest)


def _send_digest(
    db: Connection,
    jobs: JobQueue,
    *,
    patient_id: str,
    contacts: ContactBook,
    link: str,
    group_every: timedelta,
) -> None:
    """Send the person's grouped e-mail if it is due and something is still unread."""
    # Deferred: ``service`` re-exports this module, and queueing an e-mail is its job.
    from carnet.notify import service as notify_service  # noqa: PLC0415

    row = db.execute(_locked(db, patient_id)).first()
    if row is None or row.due_at is None:
        return
    now = jobs.clock.now()
    if row.last_sent_at is not None and row.last_sent_at + group_every > now:
        due = row.last_sent_at + group_every  # too soon after the last one: wait the period out
        db.execute(update(_d).where(_d.c.patient_id == patient_id).values(due_at=due))
        jobs.enqueue(db, kind=DIGEST_JOB, payload={"patient": patient_id}, run_after=due)
        return
    values: dict[str, Any] = {"due_at": None}
    if _news_since(db, patient_id, row.last_sent_at):
        contact = contacts(db, patient_id)
        if contact is not None and notify_service.is_email_address(contact[0]):
            address, language = contact
            notify_service.queue_email(
                db,
                jobs,
                to=address,
                template=EMAIL_KIND,
                context={"link": link},
                language=language if language in notify_service.LANGUAGES else "fr",
            )
            values["last_sent_at"] = now
            log.info("notification e-mail queued")
    db.execute(update(_d).where(_d.c.patient_id == patient_id).values(**values))


def _news_since(db: Connection, patient_id: str, since: datetime | None) -> bool:
    """Whether an unread item of a kind the person wants e-mails for arrived since ``since``."""
    wanted = [kind for kind, on in email_choices(db, patient_id=patient_id).items() if on]
    if not wanted:
        return False
    query = select(_i.c.id).where(
        _i.c.patient_id == patient_id, _i.c.read_at.is_(None), _i.c.kind.in_(wanted)
    )
    if since is not None:
        query = query.where(_i.c.created_at > since)
    return db.execute(query.limit(1)).first() is not None
