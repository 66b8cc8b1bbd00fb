"""Templates: nothing the CSP would block, and accessible form controls and shell components."""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from carnet.web.config import PortalSettings
from carnet.web.forms import Form
from carnet.web.rendering import TEMPLATES, Portal, PortalDeps
from carnet.web.shell import ProfileChoice

INLINE = [
    (re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE), "an inline <script>"),
    (re.compile(r"<style\b", re.IGNORECASE), "a <style> element"),
    (re.compile(r"\sstyle\s*=", re.IGNORECASE), "a style= attribute"),
    (re.compile(r"\son[a-z]+\s*=", re.IGNORECASE), "an event-handler attribute"),
    (re.compile(r"javascript:", re.IGNORECASE), "a javascript: URL"),
]


@pytest.mark.parametrize("template", sorted(TEMPLATES.rglob("*.html")), ids=lambda p: p.name)
def test_no_template_needs_unsafe_inline(template: Path) -> None:
    text = template.read_text()
    found = [what for pattern, what in INLINE if pattern.search(text)]
    assert found == []


@pytest.fixture(scope="module")
def portal() -> Portal:
    return Portal(
        PortalDeps(
            settings=PortalSettings(),
            csrf_key=bytes(32),
            production=False,
            fhir_base_url="http://x/fhir",
        )
    )


def _render(portal: Portal, source: str, **context: Any) -> str:
    env = portal._environments["fr"]
    shell = {
        "csrf_field": "csrf_token",
        "csrf_token": "T",
        "lang": "fr",
        "profiles": (),
        "profile_switch_action": "/profil",
    }
    return env.from_string(source).render(shell={**shell, **context.pop("shell", {})}, **context)


def test_an_input_in_error_is_described_by_its_message(portal: Portal) -> None:
    form = Form(values={"email": "pas-un-courriel"})
    form.add_error("email", "Saisissez une adresse de courriel valide.")
    html = _render(
        portal,
        '{% import "macros/forms.html" as f with context %}'
        '{{ f.error_summary(form) }}{{ f.input(form, "email", "Courriel", hint="ex. a@b.fr", '
        'type="email", autocomplete="email", required=True) }}',
        form=form,
    )
    assert 'aria-invalid="true"' in html
    assert 'aria-describedby="email-indice email-messages"' in html
    assert 'value="pas-un-courriel"' in html
    assert 'autocomplete="email"' in html
    assert 'href="#email"' in html  # the summary links to the field
    assert "Le formulaire contient 1 erreur" in html
    assert 'tabindex="-1"' in html


def test_a_valid_input_has_no_error_markup(portal: Portal) -> None:
    html = _render(
        portal,
        '{% import "macros/forms.html" as f with context %}{{ f.error_summary(form) }}'
        '{{ f.input(form, "nom", "Nom") }}',
        form=Form(),
    )
    assert "aria-invalid" not in html
    assert "resume-erreurs" not in html
    assert 'aria-describedby="nom-messages"' in html


def test_the_profile_switcher_shows_the_profiles_it_is_given(portal: Portal) -> None:
    source = '{% import "macros/shell.html" as s with context %}{{ s.profile_switcher() }}'
    assert _render(portal, source).strip() == ""  # no profiles (no accounts yet): nothing
    profiles = (ProfileChoice("p1", "Moi", current=True), ProfileChoice("p2", "Léa (ma fille)"))
    html = _render(portal, source, shell={"profiles": profiles})
    assert '<label class="fr-label" for="carnet-profil">' in html
    assert '<option value="p1" selected>Moi</option>' in html
    assert "Léa (ma fille)" in html
    assert 'action="/profil"' in html
    assert 'name="csrf_token" value="T"' in html


def test_profiles_come_from_the_request_state() -> None:
    from carnet.web.shell import profiles_of

    request: Any = SimpleNamespace(state=SimpleNamespace(profiles=[ProfileChoice("k", "Moi"), "x"]))
    assert profiles_of(request) == (ProfileChoice("k", "Moi"),)
    assert profiles_of(SimpleNamespace(state=SimpleNamespace())) == ()  # type: ignore[arg-type]
