"""Sending e-mail through an SMTP relay (stdlib ``smtplib``): STARTTLS or implicit TLS with
certificate verification, optional authentication, timeouts.

``send`` opens one connection per message (sign-in codes and the like: low volume, and a fresh
connection has no state to go stale). ``session`` holds one connection for a batch (the notices
of a campaign): per message, only MAIL, RCPT and DATA cross the network, and a connection the
relay closed (many cap the messages per connection) is opened again once.

A message with a ``reference`` gets ``<reference@sender's domain>`` as its Message-ID and, when
the relay offers DSN (RFC 3461), the reference as its envelope id with the headers returned on
failure: the delivery report then names it twice, and ``enrollment.bounces`` reads either."""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from email.header import Header
from email.message import Message
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import formataddr, formatdate, make_msgid, parseaddr
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
        name, address = parseaddr(sender)
        self._from = formataddr((name, address), charset="utf-8")
        self._domain = address.rpartition("@")[2] or None

    def build(self, message: OutgoingEmail) -> Message:
        """The MIME message for ``message``, with this sender's From and Message-ID domain.

        Built with the stdlib's compat32 MIME classes, three times cheaper than
        ``EmailMessage`` (0.6 ms against 1.9 ms for a notice): campaigns send millions."""
        text = MIMEText(message.text, "plain", "utf-8")
        if message.html is None:
            email: Message = text
        else:
            email = MIMEMultipart("alternative")
            email.attach(text)
            email.attach(MIMEText(message.html, "html", "utf-8"))
        email["From"] = self._from
        email["To"] = message.to
        subject = message.subject
        email["Subject"] = subject if subject.isascii() else Header(subject, "utf-8").encode()
        email["Date"] = formatdate(localtime=False)
        if message.reference:
            email["Message-ID"] = f"<{message.reference}@{self._domain or 'carnet.invalid'}>"
        else:
            email["Message-ID"] = make_msgid(domain=self._domain)
        # Tells mail systems not to answer with vacation notices and the like (RFC 3834).
        email["Auto-Submitted"] = "auto-generated"
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

    def open_connection(self) -> smtplib.SMTP:
        """A connection to the relay, secured and logged in as configured."""
        client = self._connect()
        try:
            if self.user:
                password = self._password.get_secret_value() if self._password else ""
                client.login(self.user, password)
        except BaseException:
            client.close()
            raise
        return client

    def send(self, message: OutgoingEmail) -> None:
        """Deliver to the relay. A permanent refusal of this message (refused recipient, 5xx
        after DATA) raises ``DeliveryRefused``; anything else propagates, to be retried."""
        with self.session() as session:
            session.send(message)

    @contextmanager
    def session(self) -> Iterator[_Session]:
        """One connection for many ``send`` calls (see the module docstring)."""
        session = _Session(self)
        try:
            yield session
        finally:
            session.close()


class _Session:
    """Sends over one connection, opened on first use and once more if the relay drops it."""

    def __init__(self, owner: SmtpEmailSender) -> None:
        self._owner = owner
        self._client: smtplib.SMTP | None = None

    def send(self, message: OutgoingEmail) -> None:
        email = self._owner.build(message)
        try:
            self._deliver(email, message.reference)
        except (smtplib.SMTPServerDisconnected, smtplib.SMTPResponseException) as exc:
            # The relay closed an idle or well-used connection (421: enough for this one), the
            # message not taken: one fresh connection, one more try, then propagate.
            closed = isinstance(exc, smtplib.SMTPServerDisconnected) or exc.smtp_code == 421
            if not closed:
                raise
            self.close()
            self._deliver(email, message.reference)

    def _deliver(self, email: Message, reference: str) -> None:
        if self._client is None:
            self._client = self._owner.open_connection()
        client = self._client
        mail_options: list[str] = []
        rcpt_options: list[str] = []
        if reference and client.has_extn("dsn"):
            mail_options = ["RET=HDRS", f"ENVID={reference}"]
            rcpt_options = ["NOTIFY=FAILURE"]
        try:
            client.send_message(email, mail_options=mail_options, rcpt_options=rcpt_options)
        except smtplib.SMTPRecipientsRefused:
            raise DeliveryRefused("the relay refused the recipient") from None
        except smtplib.SMTPDataError as exc:
            # A message refused for good (5xx after DATA). Authentication and sender refusals
            # are configuration problems: they propagate, and the job is retried, then parked.
            if 500 <= exc.smtp_code < 600:
                raise DeliveryRefused(f"the relay refused the message ({exc.smtp_code})") from None
            raise

    def close(self) -> None:
        client, self._client = self._client, None
        if client is None:
            return
        try:
            client.quit()
        except (smtplib.SMTPException, OSError):
            client.close()
