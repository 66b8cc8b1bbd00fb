"""Writing advance directives in Chromium, as a person would: sign in, open « Entourage et
volontés », add the trusted person, fill the guided form (a missing answer first), find the PDF
saved and listed (here and among the documents), then meet the warning before replacing it. Every page passes axe and the CSP
check (``Visitor.check``), at desktop and at phone width."""

from __future__ import annotations

from typing import Any

from tests.e2e.conftest import LiveServer
from tests.space import make_holder
from tests.web.test_sign_in_http import last_code
from tests.wishes.pdf_text import pdf_text


def sign_in(person: Any, server: LiveServer) -> None:
    holder = make_holder(server.runtime)
    page = person.page
    person.goto("/connexion")
    page.get_by_label("Identifiant").fill(holder.account.login)
    page.get_by_label("Mot de passe", exact=True).fill(holder.account.password)
    person.navigate(page.get_by_role("button", name="Se connecter").last.click)
    page.get_by_label("Code de vérification").fill(last_code(server.runtime))
    person.navigate(page.get_by_role("button", name="Valider").click)


def test_write_advance_directives(visit: Any, neutral_server: LiveServer) -> None:
    person = visit(neutral_server)
    page = person.page
    sign_in(person, neutral_server)
    person.goto("/volontes")
    assert page.locator("h1").inner_text() == "Entourage et volontés"

    person.navigate(page.get_by_role("link", name="Ajouter un contact").click)
    page.get_by_label("Prénom").fill("Sophie")
    page.get_by_label("Nom", exact=True).fill("Nessi")
    page.get_by_label("Lien avec vous").select_option("OTHER")
    page.get_by_label("Téléphone portable").fill("06 47 15 01 00")
    page.get_by_label("Code postal").fill("75005")
    page.get_by_label("Ville").fill("Paris")
    page.locator("label[for='roles-TRUSTED_CONTACT']").click()
    person.navigate(page.get_by_role("button", name="Enregistrer").click)
    assert "Sophie Nessi (Autre lien)" in page.locator("main").inner_text()

    person.navigate(page.get_by_role("link", name="Rédiger mes directives anticipées").click)
    person.navigate(page.get_by_role("link", name="Rédiger avec le formulaire guidé").click)
    page.get_by_label("Ce que vous souhaitez ajouter (facultatif)").fill(
        "Je souhaite entendre les chansons de Barbara."
    )
    person.navigate(page.get_by_role("button", name="Enregistrer mes directives").click)
    assert "Indiquez votre situation." in page.locator("#resume-erreurs").inner_text()
    page.locator("label[for='situation-bonne-sante']").click()
    page.locator("label[for='life_support-refuse']").click()
    page.locator("label[for='acte-dialyse-refuse']").click()
    person.navigate(page.get_by_role("button", name="Enregistrer mes directives").click)
    assert "Vos directives anticipées sont enregistrées" in page.locator("main").inner_text()

    with page.expect_download() as download:
        page.get_by_role("link", name="Télécharger mes directives anticipées").click()
    pdf = pdf_text(download.value.path().read_bytes())
    assert "Je souhaite entendre les chansons de Barbara." in pdf
    assert "Dialyse (rein artificiel) Je le refuse" in pdf

    # Listed among the person's documents too, in its category.
    person.goto("/documents")
    assert "Directives anticipées" in page.locator("main").inner_text()
    person.goto("/volontes/directives")

    person.navigate(page.get_by_role("link", name="Remplacer mes directives anticipées").click)
    assert "Vos directives actuelles seront remplacées" in page.locator("main").inner_text()
    person.goto("/volontes")
    assert "Vos directives anticipées sont enregistrées" in page.locator("main").inner_text()


def test_the_pages_at_phone_width(visit: Any, neutral_server: LiveServer) -> None:
    person = visit(neutral_server, viewport={"width": 375, "height": 740})
    sign_in(person, neutral_server)
    for path in (
        "/volontes",
        "/volontes/contacts/ajouter",
        "/volontes/don-organes",
        "/volontes/directives",
        "/volontes/directives/formulaire",
        "/volontes/directives/deposer",
    ):
        person.goto(path)
        width = person.page.evaluate("document.documentElement.scrollWidth")
        assert width <= 375, f"{path} scrolls sideways ({width}px)"
