"""Sending e-mail through an SMTP relay (stdlib ``smtplib``): STARTTLS or implicit TLS with
certificate verification, optional authentication, timeouts. One connection per message: the
volume is low (sign-in codes, notices) and a fresh connection has no state to go stale."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from pathlib import Path
from typing import Literal

from pydantic import SecretStr

from carnet.notify.errors import DeliveryRefused
from carnet.notify.schemas import OutgoingEmail


class SmtpEmailSender:
    def __init__(
        self,
        *,
        host: str,
        port: int,
        tls: Literal["starttls", "ssl", "none"],
        sender: str,
        user: str | None = None,
        password: SecretStr | None = None,
        timeout: float = 10.0,
        ca_file: Path | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.tls = tls
        self.sender = sender
        self.user = user
        self._password = password
        self.timeout = timeout
        self._context = ssl.create_default_context(cafile=ca_file) if tls != "none" else None

    def _message(self, message: OutgoingEmail) -> EmailMessage:
        email = EmailMessage()
        email["From"] = self.sender
        email["To"] = message.to
        email["Subject"] = message.subject
        email["Date"] = formatdate(localtime=False)
        domain = parseaddr(self.sender)[1].rpartition("@")[2] or None
        email["Message-ID"] = make_msgid(domain=domain)
        # Tells mail systems not to answer with vacation notices and the like (RFC 3834).
        email["Auto-Submitted"] = "auto-generated"
        email.set_content(message.text)
        if message.html is not None:
            email.add_alternative(message.html, subtype="html")
        return email

    def _connect(self) -> smtplib.SMTP:
        if self.tls == "ssl":
            return smtplib.SMTP_SSL(
                self.host, self.port, timeout=self.timeout, context=self._context
            )
        client = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        if self.tls == "starttls":
            client.starttls(context=self._context)
        return client

    def send(self, message: OutgoingEmail) -> None:
        """Deliver to the relay. A permanent refusal of this message (refused recipient, 5xx
        after DATA) raises ``DeliveryRefused``; anything else propagates, to be retried."""
        email = self._message(message)
        try:
            with self._connect() as client:
                if self.user:
                    password = self._password.get_secret_value() if self._password else ""
                    client.login(self.user, password)
                client.send_message(email)
        except smtplib.SMTPRecipientsRefused:
            raise DeliveryRefused("the relay refused the recipient") from None
        except smtplib.SMTPDataError as exc:
            # A message refused for good (5xx after DATA). Authentication and sender refusals
            # are configuration problems: they propagate, and the job is retried, then parked.
            if 500 <= exc.smtp_code < 600:
                raise DeliveryRefused(f"the relay refused the message ({exc.smtp_code})") from None
            raise
