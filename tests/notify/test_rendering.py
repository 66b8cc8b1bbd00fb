"""Every message kind renders in French and English, and carries nothing that identifies a
person or their health."""

from __future__ import annotations

import re

import pytest
from babel.messages.pofile import read_po

from carnet.core.logging import redact
from carnet.demo.names import all_patient_name_tokens
from carnet.demo.population import generate_directory, generate_patients
from carnet.notify import service as notify_service
from carnet.notify.errors import InvalidContext, UnknownTemplate
from carnet.notify.rendering import CATALOGUES, TEMPLATES, Renderer, check_context

renderer = Renderer()

# Plausible values, from the demo where a value could come from a person.
CONTEXTS = {
    "code": "483920",
    "link": "https://carnet.example/compte/verifier?jeton=3kq9Zr-ZtXw_81aQ",
    "expires_minutes": 15,
    "signed_in_at": "2026-11-26T09:05:00+00:00",
    "device": "Firefox, Windows",
    "opposition_ends": "2027-01-12",
    "expires_on": "2027-01-12",
    "erase_on": "2027-01-12",  # closure
    "closes_on": "2027-01-12",  # closure
    "reference": "OPP-7K3M-Q9TZ-HW4D",
    "opposed_on": "2027-01-12",
}
# How each language writes CONTEXTS' moment out (Paris time: UTC+1 in November).
MOMENTS = {"fr": "jeudi 26 novembre 2026 à 10:05", "en": "Thursday 26 November 2026 at 10:05"}
# And CONTEXTS' days.
DAYS = {"fr": "mardi 12 janvier 2027", "en": "Tuesday 12 January 2027"}


def context_of(kind: str) -> dict[str, object]:
    return {name: CONTEXTS[name] for name in notify_service.KINDS[kind].variables}


def parts_of(kind: str) -> list[str]:
    spec = notify_service.KINDS[kind]
    return [
        *(["subject.txt", "body.txt", "body.html"] if spec.email else []),
        *(["sms.txt"] if spec.sms else []),
    ]


CASES = [
    (kind, part, language)
    for kind in notify_service.KINDS
    for part in parts_of(kind)
    for language in notify_service.LANGUAGES
]


@pytest.mark.parametrize(("kind", "part", "language"), CASES)
def test_every_template_renders(kind: str, part: str, language: str) -> None:
    text = renderer.render(kind, part, context_of(kind), language)
    assert text.strip()
    assert "{{" not in text and "{%" not in text and "%(" not in text
    for name, value in context_of(kind).items():
        spec = notify_service.KINDS[kind]
        shown = (
            MOMENTS[language]
            if name in spec.moments
            else DAYS[language]
            if name in spec.days
            else str(value)
        )
        assert shown in text or part == "subject.txt"
    if part in {"subject.txt", "sms.txt"}:
        assert "\n" not in text
    if part == "sms.txt":
        assert len(text) <= 160  # one SMS


@pytest.mark.parametrize(("kind", "part", "language"), CASES)
def test_no_template_carries_identifiers_or_health_data(
    kind: str, part: str, language: str
) -> None:
    # Render with the context a real sign-in would give, next to a demo patient: nothing of the
    # person may appear, and nothing shaped like an identifier (NIR, RPPS, phone, address, date).
    person = next(generate_patients(1, seed=3, directory=generate_directory(seed=3))).patient
    text = renderer.render(kind, part, context_of(kind), language)
    link = str(CONTEXTS["link"])
    without_link = text.replace(link, "").replace(link.replace("&", "&amp;"), "")
    assert redact(without_link) == without_link
    words = {word.casefold() for word in re.findall(r"\w+", without_link)}
    names = {
        n.casefold()
        for name in person["name"]
        for n in [name.get("family", ""), *name.get("given", [])]
    }
    assert not words & names
    assert not words & all_patient_name_tokens() - {"de", "la", "le", "du"}
    assert person["birthDate"] not in text


def test_english_messages_are_all_translated() -> None:
    env = renderer.environment("fr")
    msgids = {
        message if isinstance(message, str) else message[0]
        for path in TEMPLATES.rglob("*")
        if path.is_file()
        for _, _, message in env.extract_translations(path.read_text())
    }
    with (CATALOGUES / "en" / "LC_MESSAGES" / "messages.po").open("rb") as po:
        catalogue = read_po(po, locale="en")
    translated = {m.id for m in catalogue if m.id and m.string}
    assert msgids - translated == set()
    assert translated - msgids == set()  # no stale translation


def test_html_escapes_its_values() -> None:
    html = renderer.render(
        "password_reset",
        "body.html",
        {"link": "https://carnet.example/r?a=1&b=<2>", "expires_minutes": 5},
        "fr",
    )
    assert "a=1&amp;b=&lt;2&gt;" in html


@pytest.mark.parametrize(
    ("kind", "context", "channel", "error"),
    [
        ("nope", {}, "email", UnknownTemplate),
        ("password_reset", {"link": "https://x.example"}, "email", InvalidContext),
        ("password_changed", {"name": "Anaïs"}, "email", InvalidContext),
        (
            "password_reset",
            {"link": "javascript:alert(1)", "expires_minutes": 5},
            "email",
            InvalidContext,
        ),
        ("sign_in_code", {"code": "284067511300167", "expires_minutes": 5}, "sms", InvalidContext),
        ("sign_in_code", {"code": "483920", "expires_minutes": True}, "sms", InvalidContext),
        (
            "sign_in_code",
            {"code": "anais@example.org", "expires_minutes": 5},
            "email",
            InvalidContext,
        ),
        (
            "password_reset",
            {"link": "https://x.example", "expires_minutes": 5},
            "sms",
            UnknownTemplate,
        ),
        (
            "new_sign_in",
            {"signed_in_at": "26/11/2026 10:05", "device": "", "link": "https://x.example"},
            "email",
            InvalidContext,
        ),
        (
            "new_sign_in",
            {"signed_in_at": "2026-11-26T09:05:00", "device": "", "link": "https://x.example"},
            "email",
            InvalidContext,
        ),
        ("phone_verification", {"code": "483920", "expires_minutes": 5}, "email", UnknownTemplate),
        ("activation_code", {"code": "483920", "expires_on": "12/01/2027"}, "sms", InvalidContext),
    ],
)
def test_contexts_are_checked(kind: str, context: dict, channel: str, error: type) -> None:
    with pytest.raises(error) as caught:
        check_context(kind, context, channel=channel)
    for value in context.values():
        if isinstance(value, str) and len(value) > 6:
            assert value not in caught.value.message  # errors name variables, not values


def test_an_unknown_language_is_refused() -> None:
    with pytest.raises(InvalidContext):
        renderer.render("password_changed", "body.txt", {}, "de")
