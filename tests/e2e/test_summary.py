"""Building the medical profile's summary in Chromium: a holder with an allergy on record
unticks every section (a form message), ticks the allergies, saves the PDF into their documents
and follows the link to it; the page also works at mobile width. Every page passes axe and is
photographed (``Visitor.check``)."""

from __future__ import annotations

from typing import Any

from tests.e2e.conftest import LiveServer
from tests.space import Holder, make_holder
from tests.summary import records
from tests.summary.records import space
from tests.web.test_sign_in_http import last_code


def _signed_in(person: Any, server: LiveServer) -> Holder:
    holder = make_holder(server.runtime)
    person.goto("/connexion")
    page = person.page
    page.get_by_label("Identifiant").fill(holder.account.login)
    page.get_by_label("Mot de passe", exact=True).fill(holder.account.password)
    person.navigate(page.get_by_role("button", name="Se connecter").last.click)
    page.get_by_label("Code de vérification").fill(last_code(server.runtime))
    person.navigate(page.get_by_role("button", name="Valider").click)
    return holder


def test_build_the_summary(visit, neutral_server) -> None:  # type: ignore[no-untyped-def]
    person = visit(neutral_server)
    page = person.page
    holder = _signed_in(person, neutral_server)
    with space(neutral_server.runtime, holder.patient_id) as repo:
        repo.create(records.allergy(holder.patient_id, "Pénicilline"))
    person.goto("/profil-medical/synthese")
    assert page.locator("h1").inner_text() == "Synthèse du profil médical"
    for box in page.get_by_role("checkbox").all():
        box.uncheck(force=True)  # the DSFR label covers the box
    person.navigate(page.get_by_role("button", name="Enregistrer la synthèse").click)
    assert "Choisissez au moins une rubrique" in page.locator("#resume-erreurs").inner_text()

    page.get_by_label("Allergies").check(force=True)
    person.navigate(page.get_by_role("button", name="Enregistrer la synthèse").click)
    assert "Votre synthèse est enregistrée" in page.locator("main").inner_text()
    person.navigate(page.get_by_role("link", name="Voir la synthèse dans mes documents").click)
    assert "/documents/" in page.url
    assert "Synthèse du profil médical" in page.locator("main").inner_text()

    page.set_viewport_size({"width": 375, "height": 800})
    person.goto("/profil-medical/synthese")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, "the page scrolls sideways at mobile width"
