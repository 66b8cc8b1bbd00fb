"""The SMTP sender against a real SMTP server (aiosmtpd) started on loopback by the test:
plain, STARTTLS with authentication and a verified certificate, implicit TLS, refusals."""

from __future__ import annotations

import datetime as dt
import email
import ipaddress
import smtplib
import socket
import ssl
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pydantic import SecretStr

from carnet.notify.adapters.smtp import SmtpEmailSender
from carnet.notify.errors import DeliveryRefused
from carnet.notify.schemas import OutgoingEmail

USER, PASSWORD = "carnet", "s3cret-relay-password"
REFUSED = "refused@example.org"


@dataclass
class Handler:
    received: list[tuple[str, list[str], Message]] = field(default_factory=list)

    async def handle_RCPT(  # noqa: N802 - aiosmtpd's hook names
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if address == REFUSED:
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        message = email.message_from_bytes(envelope.content)
        self.received.append((envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 Message accepted"


def authenticator(
    server: Any, session: Any, envelope: Any, mechanism: str, data: Any
) -> AuthResult:
    ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
        USER.encode(),
        PASSWORD.encode(),
    )
    return AuthResult(success=ok, handled=False)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1, which the client is told to trust."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "carnet-test-relay")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    directory = tmp_path_factory.mktemp("tls")
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def server_context(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*certificate)
    return context


@pytest.fixture
def relay(certificate: tuple[Path, Path]) -> Iterator[tuple[Handler, int]]:
    """A relay requiring STARTTLS and authentication."""
    handler = Handler()
    port = free_port()
    controller = Controller(
        handler,
        hostname="127.0.0.1",
        port=port,
        tls_context=server_context(certificate),
        require_starttls=True,
        auth_required=True,
        authenticator=authenticator,
    )
    controller.start()
    yield handler, port
    controller.stop()


@pytest.fixture
def plain_relay() -> Iterator[tuple[Handler, int]]:
    """A local relay without TLS or authentication (a host's own MTA)."""
    handler = Handler()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    yield handler, port
    controller.stop()


def message(to: str = "anais@example.org") -> OutgoingEmail:
    return OutgoingEmail(
        to=to,
        subject="Carnet : votre code de connexion",
        text="Votre code de connexion : 483920",
        html="<p>Votre code de connexion : <b>483920</b></p>",
        kind="sign_in_code",
    )


def sender(port: int, **options: Any) -> SmtpEmailSender:
    values: dict[str, Any] = {
        "host": "127.0.0.1",
        "port": port,
        "tls": "none",
        "sender": "Carnet <no-reply@carnet.example>",
        "timeout": 5,
    }
    values.update(options)
    return SmtpEmailSender(**values)


def test_starttls_with_authentication(relay, certificate) -> None:
    handler, port = relay
    smtp = sender(
        port, tls="starttls", user=USER, password=SecretStr(PASSWORD), ca_file=certificate[0]
    )
    smtp.send(message())
    ((mail_from, rcpt_tos, received),) = handler.received
    assert mail_from == "no-reply@carnet.example"
    assert rcpt_tos == ["anais@example.org"]
    assert received["Subject"] == "Carnet : votre code de connexion"
    assert received["Auto-Submitted"] == "auto-generated"
    assert received["Message-ID"].endswith("@carnet.example>")
    parts = {part.get_content_type(): part for part in received.walk()}
    assert "483920" in parts["text/plain"].get_payload(decode=True).decode()
    assert "<b>483920</b>" in parts["text/html"].get_payload(decode=True).decode()


def test_an_untrusted_certificate_is_refused(relay) -> None:
    _, port = relay
    smtp = sender(port, tls="starttls", user=USER, password=SecretStr(PASSWORD))
    with pytest.raises(ssl.SSLCertVerificationError):
        smtp.send(message())


def test_wrong_credentials_are_retried_not_dropped(relay, certificate) -> None:
    _, port = relay
    smtp = sender(
        port, tls="starttls", user=USER, password=SecretStr("nope"), ca_file=certificate[0]
    )
    with pytest.raises(smtplib.SMTPAuthenticationError):
        smtp.send(message())


def test_the_relay_refuses_to_work_in_clear(relay) -> None:
    handler, port = relay
    with pytest.raises(smtplib.SMTPException):
        sender(port).send(message())
    assert handler.received == []


def test_a_plain_local_relay(plain_relay) -> None:
    handler, port = plain_relay
    sender(port).send(message())
    assert len(handler.received) == 1


def test_a_refused_recipient_is_a_permanent_failure(plain_relay) -> None:
    handler, port = plain_relay
    with pytest.raises(DeliveryRefused) as caught:
        sender(port).send(message(REFUSED))
    assert REFUSED not in str(caught.value)
    assert handler.received == []


def test_an_unreachable_relay_is_retried_later() -> None:
    with pytest.raises(OSError):
        sender(free_port(), timeout=2).send(message())


def test_implicit_tls(certificate) -> None:
    handler = Handler()
    port = free_port()
    controller = Controller(
        handler, hostname="127.0.0.1", port=port, ssl_context=server_context(certificate)
    )
    controller.start()
    try:
        sender(port, tls="ssl", ca_file=certificate[0]).send(message())
    finally:
        controller.stop()
    assert len(handler.received) == 1
