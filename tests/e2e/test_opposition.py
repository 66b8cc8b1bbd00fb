"""Opposing one's space in Chromium, as a person would: a registry informed by a campaign, the
code read from the notice e-mail, a wrong detail first (a form message), then the opposition,
the PDF proof downloaded, and the change of mind that opens the space. Every page passes axe and
the CSP check (``Visitor.check``)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import make_settings, new_database
from tests.e2e.conftest import LiveServer
from tests.enrollment.conftest import write_file

from carnet import migrations
from carnet.core.actor import CARNET
from carnet.demo.registry_extract import synthetic_registry
from carnet.enrollment import service as enrollment_service
from carnet.notify.adapters.local import MemoryEmailSender
from carnet.runtime import Runtime, build_runtime

CODE = re.compile(r"\b[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}\b")
Row = dict[str, str]


@pytest.fixture(scope="module")
def informed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, list[Row]]]:
    """A live server on its own database, whose pilot départements were informed."""
    directory = tmp_path_factory.mktemp("opposition-e2e")
    with new_database(directory) as url:
        migrations.upgrade(url)
        runtime = build_runtime(make_settings(url, directory / "var"), configure_logs=False)
        rows = list(synthetic_registry(40, seed=31))
        enrollment_service.import_registry(
            source=write_file(directory / "registry.txt", rows),
            storage=runtime.storage,
            audit=runtime.audit,
            transaction=runtime.transaction,
        )
        with runtime.transaction() as db:
            runtime.enrollment.start_campaign(
                db, actor=CARNET, departements="31,44,80", send_date=runtime.clock.now().date()
            )
        runtime.worker(name="e2e").run_until_idle()
        people = [
            r
            for r in rows
            if r["email"] and not r["nir_ouvrant_droit"] and r["departement"] in {"31", "44", "80"}
        ]
        server = LiveServer(runtime).start()
        yield server, people
        server.stop()
        runtime.close()


def latest_code(rt: Runtime, row: Row, kind: str) -> str:
    rt.worker(name="e2e").run_until_idle()
    sender = rt.notify.email
    assert isinstance(sender, MemoryEmailSender)
    message = [m for m in sender.outbox if m.to == row["email"] and m.kind == kind][-1]
    found = CODE.search(message.text)
    assert found is not None
    return found.group()


def fill_identity(page: Any, row: Row, *, birth: str | None = None) -> None:
    # The person's own number, not the optional child's number of the "ask for a space" page.
    page.get_by_label(re.compile(r"^Numéro de sécurité sociale(?! de votre enfant)")).fill(
        row["nir"]
    )
    page.get_by_label("Numéro de série de la carte Vitale").fill(row["numero_serie_vitale"])
    day = date.fromisoformat(birth or row["date_naissance"])
    page.get_by_label("Date de naissance").fill(day.strftime("%d/%m/%Y"))


def test_a_person_opposes_downloads_the_proof_then_asks_for_the_space(
    visit: Any, informed: tuple[LiveServer, list[Row]]
) -> None:
    server, people = informed
    row = people[0]
    person = visit(server)
    page = person.page
    person.goto("/opposition")
    assert page.locator("h1").inner_text() == "Vous opposer à l’ouverture de votre espace santé"

    # A wrong birth date: the error summary names the problem and takes the focus.
    page.get_by_label("Code d’activation").fill(latest_code(server.runtime, row, "space_opening"))
    fill_identity(page, row, birth="1950-01-01")
    person.navigate(page.get_by_role("button", name="Enregistrer mon opposition").click)
    summary = page.locator("#resume-erreurs")
    assert "ne correspondent pas à nos informations" in summary.inner_text()

    page.get_by_label("Date de naissance").fill(
        date.fromisoformat(row["date_naissance"]).strftime("%d/%m/%Y")
    )
    person.navigate(page.get_by_role("button", name="Enregistrer mon opposition").click)
    assert page.locator("h1").inner_text() == "Votre opposition est enregistrée"
    reference = re.search(r"OPP-[A-Z2-9-]{14}", page.locator("main").inner_text())
    assert reference is not None

    with page.expect_download() as download_info:
        page.get_by_role("button", name="Télécharger l’attestation d’opposition (PDF)").click()
    download = download_info.value
    assert download.suggested_filename == "attestation-opposition.pdf"
    assert Path(download.path()).read_bytes().startswith(b"%PDF-")

    person.navigate(page.get_by_role("link", name="Demander l’ouverture de mon espace").click)
    assert page.locator("h1").inner_text() == "Demander l’ouverture de votre espace santé"
    fill_identity(page, row)
    person.navigate(page.get_by_role("button", name="Ouvrir l’espace santé").click)
    assert page.locator("h1").inner_text() == "Votre espace santé est ouvert"
    assert latest_code(server.runtime, row, "activation_code")
