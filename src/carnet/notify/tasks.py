"""The jobs that send: they render the message and hand it to the sender, after the commit of
the transaction that queued them (DESIGN.md §7). Logs name the kind and the job, never the
recipient."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection

from carnet.jobs.schemas import JobHandler
from carnet.notify.errors import DeliveryRefused, SmsUnavailable
from carnet.notify.ports import EmailSender, SmsSender
from carnet.notify.rendering import Renderer
from carnet.notify.schemas import OutgoingEmail, OutgoingSms

log = logging.getLogger(__name__)

EMAIL_JOB = "notify:send-email"
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
