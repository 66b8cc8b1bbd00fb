"""Signing in as a person would, in Chromium: password, then the code read from a real SMTP
server on loopback (aiosmtpd); sign-out; lockout; session expiry; an operator with TOTP.
Every page passes axe and is photographed (``Visitor.check``)."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from email import message_from_bytes
from email.message import Message
from typing import Any

import pytest
from tests.accounts.factories import make_account, make_operator
from tests.e2e.conftest import LiveServer, _free_port

from carnet.identity.accounts import totp
from carnet.identity.accounts.config import AccountsSettings
from carnet.jobs.config import JobsSettings
from carnet.notify.config import NotifySettings
from carnet.runtime import build_runtime
from carnet.settings import Settings

CODE = re.compile(r"\b(\d{6})\b")


class Mailbox:
    """What the loopback SMTP server received."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.arrived = threading.Condition()

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's hook name
        with self.arrived:
            self.messages.append(message_from_bytes(envelope.content))
            self.arrived.notify_all()
        return "250 OK"

    def code_for(self, address: str, *, after: int) -> str:
        """The code of the first message to ``address`` past the ``after`` first ones."""
        deadline = time.monotonic() + 15
        with self.arrived:
            while True:
                for message in self.messages[after:]:
                    if message["To"] == address:
                        text = (
                            message.get_payload(0).get_payload(decode=True).decode()
                            if message.is_multipart()
                            else message.get_payload(decode=True).decode()
                        )
                        match = CODE.search(text)
                        assert match
                        return match.group(1)
                remaining = deadline - time.monotonic()
                assert remaining > 0, "no code arrived by e-mail"
                self.arrived.wait(remaining)


@pytest.fixture(scope="module")
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    from aiosmtpd.controller import Controller

    box = Mailbox()
    port = _free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    yield box, port
    controller.stop()


@pytest.fixture(scope="module")
def mail_server(settings: Settings, mailbox: tuple[Mailbox, int]) -> Iterator[LiveServer]:
    _box, port = mailbox
    configured = settings.model_copy(
        update={
            "notify": NotifySettings(
                email_backend="smtp", smtp_host="127.0.0.1", smtp_port=port, smtp_tls="none"
            ),
            "jobs": JobsSettings(worker_in_server=True, poll_seconds=0.1),
            "accounts": AccountsSettings(session_idle_minutes=1),
        }
    )
    runtime = build_runtime(configured, configure_logs=False)
    server = LiveServer(runtime).start()
    yield server
    server.stop()
    runtime.close()


def sign_in_form(person: Any, login: str, password: str, *, path: str = "/connexion") -> None:
    person.goto(path)
    page = person.page
    page.get_by_label("Identifiant").fill(login)
    page.get_by_label("Mot de passe", exact=True).fill(password)
    person.navigate(page.get_by_role("button", name="Se connecter").last.click)


def test_sign_in_with_password_and_emailed_code_then_sign_out(visit, mail_server, mailbox) -> None:
    box, _port = mailbox
    account = make_account(mail_server.runtime)
    person = visit(mail_server)
    page = person.page
    before = len(box.messages)
    sign_in_form(person, account.login, account.password)
    assert page.locator("h1").inner_text() == "Code de vérification"
    page.get_by_label("Code de vérification").fill(box.code_for(account.email, after=before))
    person.navigate(page.get_by_role("button", name="Valider").click)
    assert page.get_by_role("button", name="Se déconnecter").count() == 1
    person.navigate(page.get_by_role("link", name="Sécurité du compte").first.click)
    assert page.locator("h1").inner_text() == "Sécurité du compte"
    person.navigate(page.get_by_role("button", name="Se déconnecter").first.click)
    assert "Vous êtes déconnecté" in page.locator("main").inner_text()
    person.goto("/compte/securite")
    assert page.locator("h1").inner_text() == "Connexion"


def test_wrong_code_then_lockout_after_repeated_password_failures(visit, mail_server) -> None:
    account = make_account(mail_server.runtime)
    person = visit(mail_server)
    page = person.page
    sign_in_form(person, account.login, account.password)
    page.get_by_label("Code de vérification").fill("000000")
    person.navigate(page.get_by_role("button", name="Valider").click)
    assert "Code incorrect ou expiré" in page.locator("#resume-erreurs").inner_text()
    other = visit(mail_server)
    for attempt in range(5):
        sign_in_form(other, account.login, f"Wrong-{attempt}-password!")
    assert "bloquée pendant 15 minutes" in other.page.locator("main").inner_text()


def test_an_idle_session_expires(visit, mail_server, mailbox) -> None:
    box, _port = mailbox
    account = make_account(mail_server.runtime)
    person = visit(mail_server)
    page = person.page
    before = len(box.messages)
    sign_in_form(person, account.login, account.password)
    page.get_by_label("Code de vérification").fill(box.code_for(account.email, after=before))
    person.navigate(page.get_by_role("button", name="Valider").click)
    person.goto("/compte/securite")
    assert page.locator("h1").inner_text() == "Sécurité du compte"
    time.sleep(61)  # this server's idle timeout is one minute
    person.goto("/compte/securite")
    assert "Votre session a expiré" in page.locator("main").inner_text()


def test_operator_signs_in_with_totp(visit, mail_server) -> None:
    operator = make_operator(mail_server.runtime)
    assert operator.totp_secret
    person = visit(mail_server)
    page = person.page
    person.goto("/admin")
    assert page.locator("h1").inner_text() == "Connexion à l’administration"
    page.get_by_label("Identifiant").fill(operator.login)
    page.get_by_label("Mot de passe", exact=True).fill(operator.password)
    person.navigate(page.locator("main").get_by_role("button", name="Se connecter").click)
    assert "application d’authentification" in page.locator("main").inner_text()
    page.get_by_label("Code de vérification").fill(
        totp.current_code(operator.totp_secret, now=mail_server.runtime.clock.now())
    )
    person.navigate(page.get_by_role("button", name="Valider").click)
    assert page.locator("h1").inner_text() == "Administration"
    assert "Support aux usagers" in page.locator("main").inner_text()
