"""Notifications and "download my data" in a real browser: a person sees what is waiting,
chooses which news come by e-mail, asks for the archive of their record, waits for it and
downloads it; the document inside is the one they deposited, byte for byte. Every page passes
axe and the CSP check (``Visitor.check``)."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

from tests.e2e.conftest import LiveServer
from tests.record.test_archives import add_document, run_jobs
from tests.space import Holder, make_holder
from tests.web.test_sign_in_http import last_code

from carnet.notify import service as notify_service

PDF = b"%PDF-1.4\n" + b"download my data " * 64 + b"\n%%EOF\n"


def sign_in(person: Any, server: LiveServer, holder: Holder) -> None:
    page = person.page
    person.goto("/connexion")
    page.get_by_label("Identifiant").fill(holder.account.login)
    page.get_by_label("Mot de passe", exact=True).fill(holder.account.password)
    person.navigate(page.get_by_role("button", name="Se connecter").last.click)
    page.get_by_label("Code de vérification").fill(last_code(server.runtime))
    person.navigate(page.get_by_role("button", name="Valider").click)


def test_a_person_reads_notifications_then_downloads_their_data(
    visit, neutral_server, tmp_path: Path
) -> None:
    runtime = neutral_server.runtime
    holder = make_holder(runtime)
    document_id = add_document(runtime, holder.patient_id, PDF, "application/pdf", "Ordonnance")
    with runtime.transaction() as db:
        notify_service.post_to_inbox(
            db, runtime.jobs, patient_id=holder.patient_id, kind="new_document", link="/mes-donnees"
        )
    person = visit(neutral_server)
    page = person.page
    sign_in(person, neutral_server, holder)

    person.goto("/notifications")
    assert page.locator("h1").inner_text() == "Mes notifications"
    assert "Vous avez 1 notification non lue." in page.locator("main").inner_text()
    person.navigate(
        page.get_by_role("link", name="Choisir les notifications reçues par e-mail").click
    )
    # The DSFR draws the box on the label, which takes the click.
    page.get_by_text("Je reçois un message d’un professionnel de santé").click()
    assert not page.get_by_label("Je reçois un message d’un professionnel de santé").is_checked()
    person.navigate(page.get_by_role("button", name="Enregistrer").click)
    assert "enregistrées" in page.get_by_role("status").inner_text()
    person.goto("/notifications")
    person.navigate(page.get_by_role("button", name="Voir").first.click)
    assert page.url.endswith("/mes-donnees")
    assert page.locator("h1").inner_text() == "Télécharger mes données"

    person.navigate(page.get_by_role("button", name="Préparer mon archive").click)
    assert "En préparation" in (page.locator("main").text_content() or "")
    run_jobs(runtime)
    person.navigate(page.get_by_role("link", name="Actualiser la page").click)
    assert "Prête" in (page.locator("main").text_content() or "")
    with page.expect_download() as arrived:
        page.get_by_role("link", name="Télécharger mon archive").click()
    saved = tmp_path / "archive.zip"
    arrived.value.save_as(saved)
    with zipfile.ZipFile(io.BytesIO(saved.read_bytes())) as zf:
        assert zf.read(f"documents/{document_id}.pdf") == PDF
        assert "README.txt" in zf.namelist()


def test_the_pages_fit_a_phone_screen(visit, neutral_server) -> None:
    holder = make_holder(neutral_server.runtime)
    person = visit(neutral_server, viewport={"width": 375, "height": 740})
    sign_in(person, neutral_server, holder)
    for path in ("/notifications", "/notifications/preferences", "/mes-donnees"):
        person.goto(path)
        width = person.page.evaluate("document.documentElement.scrollWidth")
        assert width <= 375, path
