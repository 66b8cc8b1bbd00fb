"""The jobs that send: they render the message and hand it to the sender, after the commit of
the transaction that queued them (DESIGN.md §7). Logs name the kind and the job, never the
recipient.

A batch job (``EMAIL_BATCH_JOB``, queued by ``service.queue_emails``) sends many e-mails of one
kind through one connection. Its messages differ only in a few values (a code): each part is
rendered once per batch and each message's values pasted in (``Renderer.stencil``); a template
or a value that does not allow it is rendered per message. What it guarantees:

- **Nothing lost.** Its row is deleted in the transaction that ends it; a worker that dies
  mid-batch leaves the row, whose lease expires, and the batch runs again (a message sent just
  before the crash may then be sent twice: at least once, never zero).
- **Retries without repeats.** A failure before anything was sent raises (the jobs area retries
  with back-off, then parks). A failure after some were sent ends the job with a follow-up job
  holding the rest, due after a back-off, so the ones sent are not sent again; each run sends
  at least one message, so the chain ends.
- **Refusals reported.** A message the relay refuses for good is not retried; when the batch
  names an ``on_refused`` job kind, one job of that kind is queued with the refused messages'
  references (enrollment turns those notices to letters), in the same transaction.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from datetime import timedelta
from typing import Any

from sqlalchemy import Connection

from carnet.jobs.schemas import JobHandler
from carnet.jobs.service import JobQueue
from carnet.notify.errors import DeliveryRefused, SmsUnavailable
from carnet.notify.ports import EmailSender, EmailSessions, SmsSender
from carnet.notify.rendering import Renderer, Stencil, is_plain
from carnet.notify.schemas import OutgoingEmail, OutgoingSms

log = logging.getLogger(__name__)

EMAIL_JOB = "notify:send-email"
EMAIL_BATCH_JOB = "notify:send-email-batch"
SMS_JOB = "notify:send-sms"


def email_handler(sender: EmailSender, renderer: Renderer) -> JobHandler:
    """The handler of ``EMAIL_JOB``: render the e-mail, then send it."""

    def send_email(db: Connection, payload: Mapping[str, Any]) -> None:
        del db  # sending touches no table; the job's row is removed in this transaction
        kind, context, language = payload["template"], payload["context"], payload["language"]
        message = OutgoingEmail(
            to=payload["to"],
            subject=renderer.render(kind, "subject.txt", context, language),
            text=renderer.render(kind, "body.txt", context, language),
            html=renderer.render(kind, "body.html", context, language),
            kind=kind,
        )
        try:
            sender.send(message)
        except DeliveryRefused as exc:
            # Retrying cannot help: drop the job (it is not parked) and say so, without the
            # address.
            log.warning("e-mail %s not delivered: %s", kind, exc)
            return
        log.info("e-mail %s sent", kind)

    return send_email


def email_batch_handler(sender: EmailSender, renderer: Renderer, jobs: JobQueue) -> JobHandler:
    """The handler of ``EMAIL_BATCH_JOB`` (see the module docstring)."""

    def send_batch(db: Connection, payload: Mapping[str, Any]) -> None:
        kind, messages = payload["template"], payload["messages"]
        sent, refused = 0, []
        write = _writer(renderer, payload)
        with _session(sender) as session:
            for position, item in enumerate(messages):
                subject, text, html = write(item["context"])
                message = OutgoingEmail(
                    to=item["to"],
                    subject=subject,
                    text=text,
                    html=html,
                    kind=kind,
                    reference=item.get("ref", ""),
                )
                try:
                    session.send(message)
                except DeliveryRefused:
                    refused.append(item.get("ref", ""))
                    continue
                except Exception as exc:
                    if sent == 0 and not refused:
                        raise  # nothing happened yet: the jobs area retries the whole batch
                    _follow_up(db, jobs, payload, messages[position:], exc)
                    break
                sent += 1
        _report_refusals(db, jobs, payload, refused)
        log.info("e-mail batch %s: %d sent, %d refused", kind, sent, len(refused))

    return send_batch


_PARTS = ("subject.txt", "body.txt", "body.html")


def _writer(
    renderer: Renderer, payload: Mapping[str, Any]
) -> Callable[[Mapping[str, Any]], tuple[str, str, str]]:
    """Writes a message's three parts from its own values: from stencils made once for the
    batch, or by rendering when a stencil or a value does not allow it."""
    kind, language, shared = payload["template"], payload["language"], payload["shared"]
    messages = payload["messages"]
    own = frozenset(messages[0]["context"]) if messages else frozenset()
    stencils: list[Stencil | None] = [
        renderer.stencil(kind, part, shared, own, language) for part in _PARTS
    ]

    def write(values: Mapping[str, Any]) -> tuple[str, str, str]:
        plain = set(values) == own and all(is_plain(value) for value in values.values())
        context = {**shared, **values}
        subject, text, html = (
            stencil(values)
            if plain and stencil is not None
            else renderer.render(kind, part, context, language)
            for part, stencil in zip(_PARTS, stencils, strict=True)
        )
        return subject, text, html

    return write


def _session(sender: EmailSender) -> AbstractContextManager[EmailSender]:
    if isinstance(sender, EmailSessions):
        return sender.session()
    return contextlib.nullcontext(sender)


def _follow_up(
    db: Connection,
    jobs: JobQueue,
    payload: Mapping[str, Any],
    rest: list[Any],
    exc: Exception,
) -> None:
    """Queue the unsent rest of a batch after a back-off that grows with each follow-up."""
    rounds = int(payload.get("round", 0)) + 1
    settings = jobs.settings
    delay = min(settings.backoff_max_seconds, settings.backoff_base_seconds * 2 ** min(rounds, 20))
    log.warning(
        "e-mail batch %s interrupted (%s): %d left for later",
        payload["template"],
        type(exc).__name__,
        len(rest),
    )
    jobs.enqueue(
        db,
        kind=EMAIL_BATCH_JOB,
        payload={**payload, "messages": rest, "round": rounds},
        run_after=jobs.clock.now() + timedelta(seconds=delay),
    )


def _report_refusals(
    db: Connection, jobs: JobQueue, payload: Mapping[str, Any], refused: list[str]
) -> None:
    references = [reference for reference in refused if reference]
    if refused:
        log.warning("e-mail batch %s: %d not delivered", payload["template"], len(refused))
    on_refused = payload.get("on_refused")
    if references and on_refused:
        jobs.enqueue(db, kind=on_refused, payload={"references": references})


def sms_handler(sender: SmsSender | None, renderer: Renderer) -> JobHandler:
    """The handler of ``SMS_JOB``; without an SMS backend, every SMS job fails (and is parked)."""

    def send_sms(db: Connection, payload: Mapping[str, Any]) -> None:
        del db
        if sender is None:
            raise SmsUnavailable("no SMS provider is configured")
        kind = payload["template"]
        text = renderer.render(kind, "sms.txt", payload["context"], payload["language"])
        try:
            sender.send(OutgoingSms(to=payload["to"], text=text, kind=kind))
        except DeliveryRefused as exc:
            log.warning("SMS %s not delivered: %s", kind, exc)
            return
        log.info("SMS %s sent", kind)

    return send_sms
