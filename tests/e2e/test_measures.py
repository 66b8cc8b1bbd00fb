"""Measures in a real browser: a person signs in, adds a weight and sees it on the chart; a
refusal names its field; a phone-sized screen shows the chart; a child's growth charts.
Every page passes axe and the CSP check (``Visitor.check``)."""

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


def test_a_person_adds_a_weight_and_sees_it_on_the_chart(visit, neutral_server) -> None:
    holder = make_holder(neutral_server.runtime)
    person = visit(neutral_server)
    page = person.page
    sign_in(person, neutral_server, holder)
    person.goto("/mesures")
    assert page.locator("h1").inner_text() == "Mes mesures"
    person.navigate(page.get_by_role("link", name="Poids").click)
    page.get_by_label("Date de la mesure").fill("2026-01-10")
    page.get_by_label("Valeur (kg)").fill("700")
    person.navigate(page.get_by_role("button", name="Enregistrer la mesure").click)
    assert (
        "Le poids doit être compris entre 0,3 et 500 kg."
        in page.locator("#resume-erreurs").inner_text()
    )
    page.get_by_label("Valeur (kg)").fill("71,5")
    person.navigate(page.get_by_role("button", name="Enregistrer la mesure").click)
    assert page.get_by_role("status").inner_text().strip() == "La mesure est enregistrée."
    chart = page.get_by_role("img", name="Évolution : Poids")
    assert chart.count() == 1
    assert chart.locator("circle").count() == 1
    page.get_by_label("Limite basse (kg)").fill("65")
    page.get_by_label("Limite haute (kg)").fill("70")
    person.navigate(page.get_by_role("button", name="Enregistrer l’objectif").click)
    assert "L’objectif est enregistré." in page.get_by_role("status").inner_text()
    person.goto("/mesures")
    assert "71,5 kg" in page.locator("main").inner_text()


def test_the_chart_fits_a_phone_screen(visit, neutral_server) -> None:
    holder = make_holder(neutral_server.runtime)
    person = visit(neutral_server, viewport={"width": 375, "height": 740})
    page = person.page
    sign_in(person, neutral_server, holder)
    person.goto("/mesures/tension")
    page.get_by_label("Pression systolique (mmHg)").fill("125")
    page.get_by_label("Pression diastolique (mmHg)").fill("80")
    person.navigate(page.get_by_role("button", name="Enregistrer la mesure").click)
    box = page.get_by_role("img", name="Évolution : Tension artérielle").bounding_box()
    assert box is not None and box["width"] <= 375
    assert page.evaluate("document.documentElement.scrollWidth") <= 375


def test_a_childs_growth_charts(visit, neutral_server) -> None:
    holder = make_holder(neutral_server.runtime, birth_date="2023-06-01", sex="male")
    person = visit(neutral_server)
    page = person.page
    sign_in(person, neutral_server, holder)
    person.goto("/mesures/taille")
    page.get_by_label("Date de la mesure").fill("2024-06-01")
    page.get_by_label("Valeur (cm)").fill("76")
    person.navigate(page.get_by_role("button", name="Enregistrer la mesure").click)
    person.goto("/mesures")
    person.navigate(page.get_by_role("link", name="Voir les courbes de croissance").click)
    assert page.locator("h1").inner_text() == "Courbes de croissance"
    charts = page.get_by_role("img")
    assert charts.count() >= 4
    height = page.get_by_role("img", name="Courbe de croissance : Taille selon l’âge")
    assert height.locator("circle").count() == 1
