"""Activating a space as a person would, in Chromium: the notice's code read from a real SMTP
server on loopback, a wrong detail first, then the five steps with the one-time code from the
mailbox, ending signed in on the patient home. Every page passes axe and the CSP check
(``Visitor.check``)."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime
from email.message import Message
from pathlib import Path

import pytest
from tests.conftest import make_settings
from tests.e2e.conftest import LiveServer, _free_port
from tests.e2e.test_sign_in import Mailbox
from tests.enrollment.conftest import write_file

from carnet.core.actor import CARNET
from carnet.demo.registry_extract import synthetic_registry
from carnet.enrollment import service as enrollment_service
from carnet.runtime import build_runtime

NOTICE_CODE = re.compile(r"\b[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}\b")
SIX = re.compile(r"\b(\d{6})\b")


def text_of(message: Message) -> str:
    part = message.get_payload(0) if message.is_multipart() else message
    assert isinstance(part, Message)
    payload = part.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode()


def wait_for(box: Mailbox, address: str, pattern: re.Pattern[str], *, after: int) -> str:
    """The first match of ``pattern`` in a message to ``address`` past the ``after`` first."""
    deadline = time.monotonic() + 20
    with box.arrived:
        while True:
            for message in box.messages[after:]:
                if message["To"] == address:
                    found = pattern.search(text_of(message))
                    if found:
                        return found.group()
            remaining = deadline - time.monotonic()
            assert remaining > 0, "the message did not arrive"
            box.arrived.wait(remaining)


@pytest.fixture(scope="module")
def mails() -> Iterator[tuple[Mailbox, int]]:
    """A real SMTP server on loopback (aiosmtpd) and what it receives."""
    from aiosmtpd.controller import Controller

    box = Mailbox()
    port = _free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    yield box, port
    controller.stop()


@pytest.fixture
def activation_server(
    fresh_database_url: str, tmp_path: Path, mails: tuple[Mailbox, int]
) -> Iterator[tuple[LiveServer, list[dict[str, str]]]]:
    """A live server on a database of its own whose pilot holders were just informed."""
    _box, port = mails
    settings = make_settings(
        fresh_database_url,
        tmp_path / "var",
        notify={
            "email_backend": "smtp",
            "smtp_host": "127.0.0.1",
            "smtp_port": port,
            "smtp_tls": "none",
        },
        jobs={"worker_in_server": True, "poll_seconds": 0.1},
    )
    runtime = build_runtime(settings, configure_logs=False)
    rows = list(synthetic_registry(12, seed=21))
    enrollment_service.import_registry(
        source=write_file(tmp_path / "registry.txt", rows),
        storage=runtime.storage,
        audit=runtime.audit,
        transaction=runtime.transaction,
    )
    server = LiveServer(runtime).start()
    with runtime.transaction() as db:
        runtime.enrollment.start_campaign(
            db, actor=CARNET, departements="31,44,80", send_date=datetime.now(UTC).date()
        )
    holders = [
        row
        for row in rows
        if not row["nir_ouvrant_droit"]
        and row["email"]
        and row["departement"] in {"31", "44", "80"}
    ]
    assert holders
    yield server, holders
    server.stop()
    runtime.close()


def test_a_person_activates_their_space_from_the_notice(visit, activation_server, mails) -> None:
    server, holders = activation_server
    box, _port = mails
    person = holders[0]
    code = wait_for(box, person["email"], NOTICE_CODE, after=0)
    birth = date.fromisoformat(person["date_naissance"]).strftime("%d/%m/%Y")
    visitor = visit(server)
    page = visitor.page

    def identity(serial: str) -> None:
        visitor.goto("/activation")
        assert page.locator("h1").inner_text() == "Activer mon espace santé"
        page.locator("#code").fill(code)
        page.locator("#nir").fill(person["nir"])
        page.locator("#vitale_serial").fill(serial)
        page.locator("#birth_date").fill(birth)
        visitor.navigate(page.get_by_role("button", name="Continuer").click)

    identity("11111111" if person["numero_serie_vitale"] != "11111111" else "22222222")
    assert "ne correspondent pas" in page.locator("#resume-erreurs").inner_text()
    identity(person["numero_serie_vitale"])
    assert page.locator("h1").inner_text() == "Vos coordonnées"
    assert page.locator("#email").input_value() == person["email"]
    before = len(box.messages)
    visitor.navigate(page.get_by_role("button", name="Recevoir le code").click)
    assert page.locator("h1").inner_text() == "Code de vérification"
    page.locator("#code").fill(wait_for(box, person["email"], SIX, after=before))
    visitor.navigate(page.get_by_role("button", name="Valider").click)
    assert page.locator("h1").inner_text() == "Vos identifiants"
    page.locator("#login").fill("activation.browser")
    page.locator("#password").fill("Tournesol-42!")
    page.locator("#confirmation").fill("Tournesol-42!")
    visitor.navigate(page.get_by_role("button", name="Continuer").click)
    assert page.locator("h1").inner_text() == "Conditions générales d’utilisation"
    page.locator("label[for=accept]").click()
    visitor.navigate(page.get_by_role("button", name="Continuer").click)
    assert page.locator("h1").inner_text() == "Vos premiers choix"
    assert page.locator("#samu-oui").is_checked()
    assert page.locator("#masked_emergency-non").is_checked()
    visitor.navigate(page.get_by_role("button", name="Activer mon espace").click)
    assert page.url.startswith(server.base + "/")
    assert "/activation" not in page.url
    assert page.get_by_role("button", name="Se déconnecter").count() >= 1
    with server.runtime.transaction(readonly=True) as db:
        found = enrollment_service.find_beneficiary(
            db, storage=server.runtime.storage, nir=person["nir"]
        )
    assert found is not None and found.status is enrollment_service.BeneficiaryStatus.ACTIVE
    # The activation is over: its pages say so, and point to the way back.
    assert visitor.goto("/activation/choix").status == 410
    assert page.locator("h1").inner_text() == "Activation interrompue"
    visitor.goto("/activation/nouveau-code")
    assert page.locator("h1").inner_text() == "Recevoir un nouveau code d’activation"
