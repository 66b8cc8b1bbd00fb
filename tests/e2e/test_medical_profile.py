"""The medical profile in Chromium: a holder adds a disease and a treatment for it, is told a
date in the future is refused, declares having no allergies, and finds it all on the overview,
at desktop and mobile widths. Every page passes axe and is photographed (``Visitor.check``)."""

from __future__ import annotations

from typing import Any

from tests.e2e.conftest import LiveServer
from tests.space import make_holder
from tests.web.test_sign_in_http import last_code


def sign_in(person: Any, server: LiveServer) -> None:
    holder = make_holder(server.runtime)
    person.goto("/connexion")
    page = person.page
    page.get_by_label("Identifiant").fill(holder.account.login)
    page.get_by_label("Mot de passe", exact=True).fill(holder.account.password)
    person.navigate(page.get_by_role("button", name="Se connecter").last.click)
    page.get_by_label("Code de vérification").fill(last_code(server.runtime))
    person.navigate(page.get_by_role("button", name="Valider").click)


def test_a_disease_a_treatment_for_it_and_no_allergies(visit, neutral_server) -> None:  # type: ignore[no-untyped-def]
    person = visit(neutral_server)
    page = person.page
    sign_in(person, neutral_server)
    person.goto("/profil-medical")
    assert page.locator("h1").inner_text() == "Profil médical"
    person.navigate(page.get_by_role("link", name="Maladies et sujets de santé").click)
    page.get_by_label("Nom de la maladie ou du sujet de santé").fill("Asthme")
    page.locator("#onset_month").fill("3")
    page.locator("#onset_year").fill("2019")
    person.navigate(page.get_by_role("button", name="Enregistrer").click)
    assert "L’élément est enregistré." in page.locator("main").inner_text()
    assert page.get_by_role("heading", name="Asthme").count() == 1

    person.goto("/profil-medical/traitements")
    page.get_by_label("Nom du médicament ou du traitement").fill("Ventoline")
    page.get_by_label("Posologie").fill("2 bouffées si besoin")
    page.locator("#start_year").fill("2099")
    person.navigate(page.get_by_role("button", name="Enregistrer").click)
    summary = page.locator("#resume-erreurs")
    assert "Cette date est dans le futur" in summary.inner_text()
    page.locator("#start_year").fill("2020")
    page.get_by_label("Traitement de la maladie (facultatif)").select_option(label="Asthme")
    person.navigate(page.get_by_role("button", name="Enregistrer").click)
    text = page.locator("main").inner_text()
    assert "Ventoline" in text and "Maladie concernée : Asthme" in text

    person.goto("/profil-medical/allergies")
    person.navigate(page.get_by_role("button", name="Je ne suis pas concerné(e)").click)
    assert "Vous avez déclaré ne pas être concerné(e)" in page.locator("main").inner_text()

    page.set_viewport_size({"width": 375, "height": 800})
    person.goto("/profil-medical")
    overview = page.locator("main").inner_text()
    assert "Non concerné(e), déclaré le" in overview
    assert "1 élément" in overview
    person.goto("/profil-medical/traitements")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, "the page scrolls sideways at mobile width"
