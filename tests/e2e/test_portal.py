"""The portal as a person uses it, in a real browser (axe-core checks every page visited)."""

from __future__ import annotations

PAGES = ["/accessibilite", "/mentions-legales", "/donnees-personnelles", "/plan-du-site"]


def test_home_in_french_and_the_skip_link(visit, neutral_server) -> None:
    person = visit(neutral_server, locale="fr-FR")
    response = person.goto("/")
    page = person.page
    assert response.status == 200
    assert page.locator("html").get_attribute("lang") == "fr"
    assert page.locator("h1").inner_text() == "Bienvenue sur Carnet"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent.trim()") == "Contenu"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "contenu"
    page.keyboard.press("Tab")  # the next stop is inside the content, past header and menu
    assert page.evaluate("document.getElementById('contenu').contains(document.activeElement)")


def test_every_footer_page_by_following_its_link(visit, neutral_server) -> None:
    person = visit(neutral_server, locale="fr-FR")
    person.goto("/")
    page = person.page
    for path in PAGES:
        link = page.locator(f"footer a[href='{path}']")
        response = person.navigate(link.click)
        assert response.status == 200
        assert page.locator("h1").count() == 1
    assert "non conforme" in page.goto(neutral_server.base + "/accessibilite").text()
    person.check()


def test_english_from_the_browser_language(visit, neutral_server) -> None:
    person = visit(neutral_server, locale="en-GB")
    person.goto("/")
    page = person.page
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("h1").inner_text() == "Welcome to Carnet"
    person.goto("/accessibilite")
    assert page.locator("h1").inner_text() == "Accessibility statement"
    assert "not compliant" in page.locator("main").inner_text()


def test_the_language_switch_in_the_header(visit, neutral_server) -> None:
    person = visit(neutral_server, locale="fr-FR")
    person.goto("/mentions-legales")
    page = person.page
    page.get_by_role("button", name="FR").click()
    person.navigate(page.get_by_role("button", name="EN - English").click)
    assert page.url == neutral_server.base + "/mentions-legales"  # back where the person was
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("h1").inner_text() == "Legal notice"
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    assert cookies["carnet_lang"] == "en"
    person.goto("/")  # the choice outlives the page, and beats the browser's French
    assert page.locator("h1").inner_text() == "Welcome to Carnet"


def test_the_error_summary_takes_the_focus_and_leads_to_the_field(visit, neutral_server) -> None:
    person = visit(neutral_server, locale="fr-FR")
    person.goto("/preferences")
    page = person.page
    response = person.navigate(page.get_by_role("button", name="Enregistrer").click)
    assert response.status == 400
    assert page.title().startswith("Erreur : ")
    assert page.evaluate("document.activeElement.id") == "resume-erreurs"
    summary = page.locator("#resume-erreurs")
    assert "Le formulaire contient 1 erreur" in summary.inner_text()
    assert page.locator("#lang-messages").inner_text().startswith("Choisissez la langue")
    summary.get_by_role("link").click()
    assert page.evaluate("document.activeElement.id") == "lang-fr"
    page.keyboard.press("ArrowDown")  # a keyboard user moves to English within the group
    assert page.locator("#lang-en").is_checked()
    person.navigate(page.get_by_role("button", name="Enregistrer").click)
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.get_by_role("status").inner_text() == "Your choice of language is saved."
    assert page.locator("#lang-en").is_checked()


def test_a_form_without_its_token_is_refused_and_nothing_is_done(visit, neutral_server) -> None:
    person = visit(neutral_server, locale="fr-FR")
    person.goto("/preferences")
    page = person.page
    page.evaluate("document.querySelector('main input[name=csrf_token]').remove()")
    page.locator("label[for=lang-en]").click()
    response = person.navigate(page.get_by_role("button", name="Enregistrer").click)
    assert response.status == 403
    assert page.locator("h1").inner_text() == "Action refusée"
    assert "carnet_lang" not in {c["name"] for c in page.context.cookies()}
    # A forged request from elsewhere, with the browser's cookies but no token: refused too.
    forged = page.request.post(neutral_server.base + "/preferences", form={"lang": "en"})
    assert forged.status == 403


def test_error_pages_say_what_happened_and_echo_nothing(visit, neutral_server) -> None:
    person = visit(neutral_server, locale="fr-FR")
    response = person.goto("/dossier-1234567890123?nir=2840775123456")
    page = person.page
    assert response.status == 404
    assert page.locator("h1").inner_text() == "Page introuvable"
    html = page.content()
    assert "1234567890123" not in html
    assert "2840775123456" not in html
    assert page.locator("#navigation [aria-current]").count() == 0  # no page of the menu
    assert person.goto("/oauth2/token").status == 405  # a page that only takes POST
    assert page.locator("h1").inner_text() == "Action impossible sur cette page"
    english = visit(neutral_server, locale="en-US")
    assert english.goto("/nowhere").status == 404
    assert english.page.locator("h1").inner_text() == "Page not found"


def test_the_neutral_brand_shows_no_state_identity(visit, neutral_server) -> None:
    person = visit(neutral_server, locale="fr-FR")
    fonts = []
    person.page.on("request", lambda r: fonts.append(r.url) if "/fonts/" in r.url else None)
    person.goto("/")
    page = person.page
    assert page.locator(".fr-logo").count() == 0
    assert "République" not in page.content()
    family = page.evaluate("getComputedStyle(document.body).fontFamily")
    assert "Marianne" not in family
    assert fonts == []
    assert page.locator(".fr-header__service-title").inner_text() == "Carnet"


def test_the_state_brand(visit, etat_server) -> None:
    person = visit(etat_server, locale="fr-FR")
    person.goto("/")
    page = person.page
    assert page.locator(".fr-header__logo .fr-logo").inner_text().upper() == "RÉPUBLIQUE\nFRANÇAISE"
    assert page.locator(".fr-header__service-title").inner_text() == "Mon carnet de santé"
    assert page.evaluate("getComputedStyle(document.body).fontFamily").startswith("Marianne")
    loaded = page.evaluate(
        "document.fonts.ready.then(() => [...document.fonts].some("
        "(f) => f.family.includes('Marianne') && f.status === 'loaded'))"
    )
    assert loaded


def test_a_phone_sized_screen_opens_the_menu(visit, neutral_server) -> None:
    person = visit(neutral_server, locale="fr-FR", viewport={"width": 375, "height": 740})
    person.goto("/")
    page = person.page
    menu_button = page.locator("#carnet-menu-bouton")
    assert menu_button.is_visible()
    assert not page.locator("#navigation").is_visible()
    menu_button.click()
    page.locator("#carnet-menu").get_by_role("link", name="Langue").wait_for(state="visible")
    person.check()  # the opened menu, checked and photographed too
    person.navigate(page.locator("#carnet-menu").get_by_role("link", name="Langue").click)
    assert page.locator("h1").inner_text() == "Langue d’affichage"


def test_professional_and_operator_areas_say_sign_in_is_needed(visit, neutral_server) -> None:
    person = visit(neutral_server, locale="fr-FR")
    page = person.page
    assert person.goto("/pro").status == 200
    assert page.locator("h1").inner_text() == "Espace professionnel"
    assert "Connexion requise" in page.locator("main").inner_text()
    assert page.locator("input[type=password]").count() == 0
    current = page.locator("#navigation a[aria-current=page]")
    assert current.get_attribute("href") == "/pro"
    # The operators' area is closed to anyone without an operator session: its sign-in page.
    assert person.goto("/admin").status == 200
    assert page.url.endswith("/admin/connexion?next=/admin")
    assert page.locator("h1").inner_text() == "Connexion à l’administration"
