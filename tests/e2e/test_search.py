"""Finding a document by a word of its PDF's text, in Chromium: the holder signs in, opens
« Rechercher dans mon espace », searches a word found only inside the PDF (accents and case
aside), sees the document listed and linked; a word found nowhere says so; at mobile width too.
Every page passes axe and is photographed (``Visitor.check``)."""

from __future__ import annotations

import base64
import io
from typing import Any

from reportlab.pdfgen import canvas
from tests.e2e.conftest import LiveServer
from tests.space import make_holder
from tests.web.test_sign_in_http import last_code

from carnet.access.schemas import AccessContext
from carnet.core.actor import Actor, ActorKind
from carnet.interop.document_text import index_document
from carnet.runtime import Runtime


def make_pdf(*lines: str) -> bytes:
    out = io.BytesIO()
    page = canvas.Canvas(out)
    for number, line in enumerate(lines):
        page.drawString(72, 720 - 20 * number, line)
    page.save()
    return out.getvalue()


def store_pdf(rt: Runtime, patient_id: str, title: str, pdf: bytes) -> str:
    """A document as the documents area stores it (Binary + DocumentReference), then indexed
    as the ``record:index-document`` job does after commit."""
    ctx = AccessContext(actor=Actor(ActorKind.PATIENT, patient_id), patient_id=patient_id)
    with rt.transaction() as db:
        repo = rt.record.repository(db=db, ctx=ctx)
        binary = repo.create(
            {
                "resourceType": "Binary",
                "contentType": "application/pdf",
                "securityContext": {"reference": f"Patient/{patient_id}"},
                "data": base64.b64encode(pdf).decode(),
            }
        )
        document = repo.create(
            {
                "resourceType": "DocumentReference",
                "status": "current",
                "subject": {"reference": f"Patient/{patient_id}"},
                "description": title,
                "date": "2026-10-14T09:00:00Z",
                "content": [
                    {"attachment": {"contentType": "application/pdf", "url": f"Binary/{binary.id}"}}
                ],
            }
        )
    with rt.carnet_repository() as repo:
        index_document(repo, document_id=document.id)
    return document.id


def sign_in(person: Any, server: LiveServer, login: str, password: str) -> None:
    page = person.page
    person.goto("/connexion")
    page.get_by_label("Identifiant").fill(login)
    page.get_by_label("Mot de passe", exact=True).fill(password)
    person.navigate(page.get_by_role("button", name="Se connecter").last.click)
    page.get_by_label("Code de vérification").fill(last_code(server.runtime))
    person.navigate(page.get_by_role("button", name="Valider").click)


def search(person: Any, words: str) -> Any:
    page = person.page
    page.get_by_label("Mots recherchés").fill(words)
    person.navigate(page.get_by_role("button", name="Rechercher").click)
    return page.locator("main")


def test_a_document_is_found_by_a_word_of_its_pdf(visit: Any, neutral_server: LiveServer) -> None:
    rt = neutral_server.runtime
    holder = make_holder(rt)
    pdf = make_pdf("Compte rendu d'IRM lombaire", "Discopathie L4-L5 sans conflit radiculaire")
    document_id = store_pdf(rt, holder.patient_id, "IRM du rachis", pdf)
    person = visit(neutral_server)
    sign_in(person, neutral_server, holder.account.login, holder.account.password)
    person.goto("/documents/recherche")
    page = person.page
    assert page.locator("h1").inner_text() == "Rechercher dans mon espace"
    main = search(person, "DISCOPATHIE radicul")
    assert "1 résultat" in main.inner_text()
    link = main.get_by_role("link", name="IRM du rachis")
    assert link.get_attribute("href") == f"/documents/{document_id}"
    assert "discopathie" not in page.url.lower()  # the words stay out of the URL
    main = search(person, "scintigraphie")
    assert "Aucun résultat" in main.inner_text()
    main = search(person, "le de")
    assert "au moins un mot de deux lettres" in page.locator("#resume-erreurs").inner_text()


def test_the_search_page_at_mobile_width(visit: Any, neutral_server: LiveServer) -> None:
    rt = neutral_server.runtime
    holder = make_holder(rt)
    store_pdf(rt, holder.patient_id, "Bilan sanguin", make_pdf("Ferritine basse"))
    person = visit(neutral_server, viewport={"width": 375, "height": 800})
    sign_in(person, neutral_server, holder.account.login, holder.account.password)
    person.goto("/documents/recherche")
    main = search(person, "ferritine")
    assert "Bilan sanguin" in main.inner_text()
