"""Public face of the notify area: queue e-mails and SMS in the caller's transaction.

    job_id = notify_service.queue_email(
        db, rt.jobs, to=address, template="sign_in_code",
        context={"code": "483920", "expires_minutes": 10}, language="fr",
    )

Nothing is sent until the caller's transaction commits; a worker then sends it (retrying with
back-off). The kinds and their variables are ``KINDS``; ``Notifier`` holds the senders the
settings chose and registers the sending jobs.

Many e-mails of one kind (a campaign's notices) go through ``queue_emails``: the template and
the shared variables are checked and rendered once per call, each message's own variables are
checked, and the messages are queued as a few batch jobs that each send over one connection
(``tasks.EMAIL_BATCH_JOB``).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import Connection

from carnet.jobs.service import JobQueue
from carnet.notify.adapters.local import (
    ConsoleEmailSender,
    ConsoleSmsSender,
    MemoryEmailSender,
    MemorySmsSender,
)
from carnet.notify.adapters.smtp import SmtpEmailSender
from carnet.notify.config import NotifySettings
from carnet.notify.errors import InvalidRecipient
from carnet.notify.inbox import DIGEST_JOB as INBOX_DIGEST_JOB
from carnet.notify.inbox import (
    INBOX_JOB,
    ContactBook,
    check_item,
    inbox_page,
    mark_all_read,
    unread_count,
)
from carnet.notify.inbox import mark_read as mark_inbox_read
from carnet.notify.inbox import post as post_to_inbox
from carnet.notify.inbox import register_jobs as register_inbox_jobs
from carnet.notify.ports import EmailSender, SmsSender
from carnet.notify.preferences import email_choices, set_email_choices
from carnet.notify.rendering import KINDS, LANGUAGES, Kind, Renderer, check_context, check_value
from carnet.notify.schemas import (
    INBOX_KINDS,
    BatchEmail,
    InboxItem,
    InboxPage,
    OutgoingEmail,
    OutgoingSms,
)
from carnet.notify.tasks import (
    EMAIL_BATCH_JOB,
    EMAIL_JOB,
    SMS_JOB,
    email_batch_handler,
    email_handler,
    sms_handler,
)

__all__ = [
    "EMAIL_BATCH_JOB",
    "EMAIL_JOB",
    "INBOX_DIGEST_JOB",
    "INBOX_JOB",
    "INBOX_KINDS",
    "KINDS",
    "LANGUAGES",
    "SMS_JOB",
    "BatchEmail",
    "ContactBook",
    "EmailSender",
    "InboxItem",
    "InboxPage",
    "Kind",
    "Notifier",
    "OutgoingEmail",
    "OutgoingSms",
    "Renderer",
    "SmsSender",
    "check_item",
    "email_choices",
    "inbox_page",
    "is_email_address",
    "mark_all_read",
    "mark_inbox_read",
    "post_to_inbox",
    "queue_email",
    "queue_emails",
    "queue_sms",
    "register_inbox_jobs",
    "set_email_choices",
    "unread_count",
]

# Deliberately plain: one @, no spaces or line breaks (header injection), a dotted domain.
_EMAIL: Final = re.compile(r"[^@\s]{1,64}@[^@\s.]+(?:\.[^@\s.]+)+")
_E164: Final = re.compile(r"\+[1-9][0-9]{6,14}")
# A reference goes into a Message-ID and a DSN envelope id: a short token of safe characters.
_REFERENCE: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
EMAILS_PER_JOB: Final = 200
"""Messages per batch job: one connection, one transaction, seconds of sending at most."""


@dataclass
class Notifier:
    """The process's senders (chosen by the settings) and renderer."""

    email: EmailSender
    sms: SmsSender | None
    renderer: Renderer

    @property
    def sms_available(self) -> bool:
        """Whether SMS can be sent at all (offer SMS features only then)."""
        return self.sms is not None

    @classmethod
    def from_settings(cls, settings: NotifySettings, *, environment: str) -> Notifier:
        email: EmailSender
        backend = settings.resolved_email_backend(environment)
        if backend == "smtp":
            email = SmtpEmailSender(
                host=settings.smtp_host,
                port=settings.smtp_port,
                tls=settings.smtp_tls,
                sender=settings.email_from,
                user=settings.smtp_user,
                password=settings.smtp_password,
                timeout=settings.smtp_timeout_seconds,
                ca_file=settings.smtp_ca_file,
            )
        elif backend == "memory":
            email = MemoryEmailSender()
        else:
            email = ConsoleEmailSender()
        sms: SmsSender | None = None
        sms_backend = settings.resolved_sms_backend(environment)
        if sms_backend == "memory":
            sms = MemorySmsSender()
        elif sms_backend == "console":
            sms = ConsoleSmsSender()
        return cls(email=email, sms=sms, renderer=Renderer())

    def register_jobs(self, jobs: JobQueue) -> None:
        """Register the sending jobs' handlers (``runtime.register_jobs`` calls this)."""
        jobs.register(EMAIL_JOB, email_handler(self.email, self.renderer))
        jobs.register(EMAIL_BATCH_JOB, email_batch_handler(self.email, self.renderer, jobs))
        jobs.register(SMS_JOB, sms_handler(self.sms, self.renderer))


@functools.cache
def _validation_renderer() -> Renderer:
    """Queuing renders once, to fail in the caller (bad context) rather than later in a job."""
    return Renderer()


def _check(
    template: str, context: Mapping[str, Any], language: str, *, channel: str
) -> dict[str, Any]:
    check_context(template, context, channel=channel)
    parts = ("subject.txt", "body.txt", "body.html") if channel == "email" else ("sms.txt",)
    for part in parts:
        _validation_renderer().render(template, part, context, language)
    return dict(context)


def queue_email(
    db: Connection,
    jobs: JobQueue,
    *,
    to: str,
    template: str,
    context: Mapping[str, Any],
    language: str = "fr",
) -> str:
    """Queue an e-mail of kind ``template`` to ``to``, sent after ``db``'s transaction commits.

    Returns the job id. Raises ``InvalidRecipient``, ``UnknownTemplate`` or ``InvalidContext``
    (a missing or unexpected variable, or a value that looks like an identifier).
    """
    if not is_email_address(to):
        raise InvalidRecipient("not an e-mail address")
    payload = {
        "to": to,
        "template": template,
        "context": _check(template, context, language, channel="email"),
        "language": language,
    }
    job_id = jobs.enqueue(db, kind=EMAIL_JOB, payload=payload)
    assert job_id is not None  # no dedup key: always queued
    return job_id


def is_email_address(to: str) -> bool:
    """Whether ``to`` is an address ``queue_email``/``queue_emails`` take (one @, a dotted
    domain, no spaces or line breaks, at most 254 characters)."""
    return len(to) <= 254 and _EMAIL.fullmatch(to) is not None


def queue_emails(
    db: Connection,
    jobs: JobQueue,
    *,
    template: str,
    shared: Mapping[str, Any],
    messages: Sequence[BatchEmail],
    language: str = "fr",
    on_refused: str | None = None,
    per_job: int = EMAILS_PER_JOB,
) -> list[str]:
    """Queue many e-mails of kind ``template``, sent after ``db``'s transaction commits, as
    batch jobs of at most ``per_job`` messages; return the jobs' ids.

    Each message's variables are ``shared`` plus its own ``context``. Checked once per call:
    the kind, the set of variables, ``shared``'s values and one trial rendering; checked per
    message: the address, the reference and its own values. When ``on_refused`` names a job
    kind, the references of messages the relay refuses for good are handed to a job of that
    kind (``{"references": [...]}``). Raises like ``queue_email``, before queuing anything.
    """
    if not messages:
        return []
    first = messages[0]
    _check(template, {**shared, **first.context}, language, channel="email")
    kind = KINDS[template]
    own = set(first.context)
    for message in messages:
        if not is_email_address(message.to):
            raise InvalidRecipient("not an e-mail address")
        if message.reference and _REFERENCE.fullmatch(message.reference) is None:
            raise InvalidRecipient("a reference must be a short token of letters and digits")
        if set(message.context) != own:
            check_context(template, {**shared, **message.context}, channel="email")
        for name, value in message.context.items():
            check_value(kind, name, value)
    ids = []
    for start in range(0, len(messages), per_job):
        payload = {
            "template": template,
            "language": language,
            "shared": dict(shared),
            "messages": [
                {"to": m.to, "context": m.context, "ref": m.reference}
                for m in messages[start : start + per_job]
            ],
            "on_refused": on_refused,
        }
        job_id = jobs.enqueue(db, kind=EMAIL_BATCH_JOB, payload=payload)
        assert job_id is not None  # no dedup key: always queued
        ids.append(job_id)
    return ids


def queue_sms(
    db: Connection,
    jobs: JobQueue,
    *,
    to: str,
    template: str,
    context: Mapping[str, Any],
    language: str = "fr",
) -> str:
    """Queue an SMS of kind ``template`` to ``to`` (E.164: ``+33612345678``), sent after
    commit. Raises like ``queue_email``; check ``Notifier.sms_available`` first."""
    if _E164.fullmatch(to) is None:
        raise InvalidRecipient("not an E.164 phone number (+33612345678)")
    payload = {
        "to": to,
        "template": template,
        "context": _check(template, context, language, channel="sms"),
        "language": language,
    }
    job_id = jobs.enqueue(db, kind=SMS_JOB, payload=payload)
    assert job_id is not None
    return job_id
