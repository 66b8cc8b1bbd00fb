"""Documents in a real browser: a person uploads a PDF and a photo, sees a refusal for a file
whose content is not what its name says, classifies a document in a folder, masks one, deletes
one after the confirmation, and sets the default confidentiality; the timeline at phone width.
Every page passes axe and the CSP check (``Visitor.check``)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from tests.documents import files
from tests.e2e.conftest import LiveServer
from tests.space import Holder, make_holder
from tests.web.test_sign_in_http import last_code


def sign_in(person: Any, server: LiveServer, holder: Holder) -> None:
    page = person.page
    person.goto("/connexion")
    page.get_by_label("Identifiant").fill(holder.account.login)
    page.get_by_label("Mot de passe", exact=True).fill(holder.account.password)
    person.navigate(page.get_by_role("button", name="Se connecter").last.click)
    page.get_by_label("Code de vérification").fill(last_code(server.runtime))
    person.navigate(page.get_by_role("button", name="Valider").click)


def add(person: Any, path: Path, title: str, category: str, *, day: str = "2026-02-03") -> None:
    page = person.page
    person.goto("/documents/ajouter")
    page.get_by_label("Fichier").set_input_files(str(path))
    page.get_by_label("Titre du document").fill(title)
    page.get_by_label("Date du document").fill(day)
    page.get_by_label("Catégorie").select_option(label=category)
    person.navigate(page.get_by_role("button", name="Ajouter le document").click)


def test_a_person_uploads_classifies_masks_and_deletes(
    visit: Any, neutral_server: LiveServer, tmp_path: Path
) -> None:
    holder = make_holder(neutral_server.runtime)
    person = visit(neutral_server)
    page = person.page
    sign_in(person, neutral_server, holder)
    (tmp_path / "ordonnance.pdf").write_bytes(files.pdf())
    (tmp_path / "genou.jpg").write_bytes(files.image("JPEG", (120, 80)))
    (tmp_path / "faux.pdf").write_bytes(files.image("JPEG"))

    person.goto("/documents")
    assert page.locator("h1").inner_text() == "Mes documents"
    add(person, tmp_path / "faux.pdf", "Faux", "Autres documents")
    assert "ne correspond pas à son extension" in page.locator("#resume-erreurs").inner_text()

    add(person, tmp_path / "ordonnance.pdf", "Ordonnance du Dr Petit", "Ordonnances et soins")
    assert "Le document est ajouté" in page.get_by_role("status").inner_text()
    assert page.get_by_role("link", name="Ouvrir le PDF dans un nouvel onglet").is_visible()
    add(person, tmp_path / "genou.jpg", "Radio du genou", "Radio, écho, scanner, IRM")
    assert page.get_by_role("img", name=re.compile("Radio du genou")).is_visible()

    person.goto("/documents/dossiers")
    page.get_by_label("Nom du nouveau dossier").fill("Orthopédie")
    person.navigate(page.get_by_role("button", name="Créer le dossier").click)
    person.goto("/documents")
    page.get_by_label("Radio du genou").check(force=True)
    page.get_by_label("Ranger dans le dossier").select_option(label="Orthopédie")
    person.navigate(page.get_by_role("button", name="Ranger", exact=True).click)
    assert "Dossier : Orthopédie" in page.locator("#liste-documents").inner_text()

    person.navigate(page.get_by_role("link", name="Ouvrir « Radio du genou »").click)
    person.navigate(page.get_by_role("button", name="Masquer aux professionnels").click)
    assert "Le document est masqué" in page.get_by_role("status").inner_text()

    person.goto("/documents")
    page.get_by_label("Ordonnance du Dr Petit").check(force=True)
    person.navigate(page.get_by_role("button", name="Supprimer (10 au plus)").click)
    person.navigate(page.get_by_role("button", name="Confirmer la suppression").click)
    assert "La suppression est faite" in page.get_by_role("status").inner_text()
    assert "Ordonnance du Dr Petit" not in page.locator("#liste-documents").inner_text()
    assert "masqué aux professionnels" in page.locator("#liste-documents").inner_text().lower()

    person.goto("/documents/parametres")
    page.get_by_label("Masqués aux professionnels de santé").check(force=True)
    person.navigate(page.get_by_role("button", name="Enregistrer").click)
    assert "Votre choix est enregistré" in page.get_by_role("status").inner_text()


def test_the_timeline_at_phone_width(
    visit: Any, neutral_server: LiveServer, tmp_path: Path
) -> None:
    holder = make_holder(neutral_server.runtime)
    person = visit(neutral_server, viewport={"width": 375, "height": 740})
    sign_in(person, neutral_server, holder)
    (tmp_path / "note.txt").write_bytes(b"Tension 12/8 <b>ok</b>")
    add(person, tmp_path / "note.txt", "Note de tension", "Autres documents")
    assert "Tension 12/8 <b>ok</b>" in person.page.locator("pre").inner_text()
    person.goto("/documents")
    width = person.page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375
