"""Portal views return plain context dicts: checked here without rendering."""

from __future__ import annotations

from carnet.web import pages, shell
from carnet.web.admin import views as admin_views
from carnet.web.forms import Form
from carnet.web.patient import views as patient_views
from carnet.web.pro import views as pro_views


def test_home_points_software_at_the_fhir_api() -> None:
    context = patient_views.home_context(fhir_base_url="https://carnet.example/fhir")
    assert context["fhir_metadata"] == "https://carnet.example/fhir/metadata"
    assert context["smart_configuration"].endswith("/fhir/.well-known/smart-configuration")


def test_the_language_form_requires_a_language_the_portal_speaks() -> None:
    for submitted in ({}, {"lang": ""}, {"lang": "de"}, {"lang": "<script>"}):
        form = patient_views.validate_preferences(submitted)
        assert not form.valid
        error = form.error_for("lang")
        assert error is not None
        assert error.anchor == "lang-fr"  # the summary's link lands on the first choice
    assert patient_views.validate_preferences({"lang": "en"}).valid
    assert patient_views.validate_preferences({"lang": " fr "}).values["lang"] == "fr"


def test_the_language_form_checks_nothing_until_the_visitor_has_chosen() -> None:
    context = patient_views.preferences_context(form=Form(), current="")
    assert context["current"] == ""
    assert [o["value"] for o in context["options"]] == ["fr", "en"]
    assert [o["lang"] for o in context["options"]] == ["fr", "en"]  # each name in its language


def test_the_way_back_after_a_switch_stays_on_this_site() -> None:
    assert patient_views.safe_next("/mentions-legales") == "/mentions-legales"
    for value in ("", "https://evil.example/", "//evil.example", "/\\evil", "/a b", "x"):
        assert patient_views.safe_next(value) is None


def test_the_accessibility_statement_is_honest() -> None:
    context = pages.accessibility_context()
    assert context["status"] == "non conforme"
    assert context["audited"] is False


def test_the_site_map_lists_every_page_of_every_area() -> None:
    links = {link.href for s in pages.sitemap_context()["sections"] for link in s["links"]}
    assert {"/", "/preferences", "/pro", "/admin"} <= links
    assert {item.href for item in shell.FOOTER_LINKS} <= links


def test_professional_and_operator_areas_need_sign_in() -> None:
    assert pro_views.landing_context(fhir_base_url="https://x/fhir")["signed_in"] is False
    assert admin_views.landing_context()["signed_in"] is False


def test_navigation_marks_the_current_page() -> None:
    def current(path: str) -> list[str]:
        return [str(i["href"]) for i in shell.navigation("patient", path) if i["current"]]

    assert current("/preferences") == ["/preferences"]
    assert current("/") == ["/"]
    assert current("/documents/dossiers") == ["/documents"]
    assert shell.navigation("pro", "/pro")[0]["current"] is True
