"""Vaccinations in a real browser: a person records a vaccination (a refusal first, named on its
field), sees it in the carnet and counted in the schedule, then deletes it; the pages fit a
phone screen. Every page passes axe and the CSP check (``Visitor.check``)."""

from __future__ import annotations

from typing import Any

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


def test_a_person_records_a_vaccination(visit: Any, neutral_server: LiveServer) -> None:
    holder = make_holder(neutral_server.runtime, birth_date="2012-06-01", sex="female")
    person = visit(neutral_server)
    page = person.page
    sign_in(person, neutral_server, holder)
    person.goto("/vaccinations")
    assert page.locator("h1").inner_text() == "Vaccinations"
    assert "Papillomavirus humains (HPV)" in page.locator("#statut-due + .fr-table").inner_text()
    person.navigate(page.get_by_role("link", name="Ajouter une vaccination").click)
    page.get_by_role("combobox", name="Vaccin").select_option("hpv")
    page.get_by_label("Date de la vaccination").fill("2011-01-01")
    page.get_by_text("Primo-vaccination (première série de doses)").click()
    page.get_by_label("Numéro de lot (facultatif)").fill("X4521")
    person.navigate(page.get_by_role("button", name="Enregistrer la vaccination").click)
    summary = page.locator("#resume-erreurs").inner_text()
    assert "antérieure à la date de naissance" in summary
    page.get_by_label("Date de la vaccination").fill("2026-09-01")
    person.navigate(page.get_by_role("button", name="Enregistrer la vaccination").click)
    assert "enregistrée dans votre carnet" in page.get_by_role("status").inner_text()
    assert "X4521" in page.locator("main").inner_text()
    person.navigate(page.get_by_role("link", name="Retour aux vaccinations").click)
    carnet = page.get_by_role(
        "table", name="Vaccinations enregistrées, de la plus récente à la plus ancienne"
    )
    assert "1 septembre 2026" in carnet.inner_text() or "1er septembre 2026" in carnet.inner_text()
    done = page.get_by_role("table", name="Faites").inner_text()
    assert "Papillomavirus humains (HPV)" in done
    person.navigate(carnet.get_by_role("link").first.click)
    person.navigate(page.get_by_role("button", name="Supprimer cette vaccination").click)
    assert "supprimée de votre carnet" in page.get_by_role("status").inner_text()
    assert "Aucune vaccination n’est encore enregistrée." in page.locator("main").inner_text()


def test_the_pages_fit_a_phone_screen(visit: Any, neutral_server: LiveServer) -> None:
    holder = make_holder(neutral_server.runtime, birth_date="1960-02-10", sex="male")
    person = visit(neutral_server, viewport={"width": 375, "height": 740})
    page = person.page
    sign_in(person, neutral_server, holder)
    person.goto("/vaccinations")
    assert "Zona (65 ans et plus)" in page.locator("main").inner_text()
    assert "À discuter avec votre médecin" in page.locator("main").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    person.goto("/vaccinations/ajouter")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
