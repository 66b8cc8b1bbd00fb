"""Language negotiation, and catalogues that translate every message of the portal."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from carnet.web.i18n import CATALOGUES, LANGUAGES, load_catalogues, negotiate

ROOT = Path(__file__).resolve().parents[2]
WEB = ROOT / "src" / "carnet" / "web"


@pytest.mark.parametrize(
    ("cookie", "header", "expected"),
    [
        (None, None, "fr"),
        (None, "", "fr"),
        (None, "en-GB,en;q=0.9", "en"),
        (None, "de-DE,de;q=0.9,en;q=0.8,fr;q=0.7", "en"),
        (None, "de-DE,fr;q=0.5,en;q=0.6", "en"),
        (None, "en;q=0,fr", "fr"),  # q=0 means "not this one"
        (None, "EN-us", "en"),
        (None, "*", "fr"),
        (None, "en;q=bogus, fr", "fr"),
        (None, "x" * 5000, "fr"),
        (None, ",".join(["de"] * 100) + ",en", "fr"),  # only the first entries are read
        ("en", "fr-FR", "en"),  # the visitor's choice beats the browser
        ("fr", "en", "fr"),
        ("de", "en", "en"),  # an unknown cookie value is ignored
    ],
)
def test_negotiation(cookie: str | None, header: str | None, expected: str) -> None:
    assert negotiate(cookie=cookie, accept_language=header) == expected


def _extracted() -> set[object]:
    method_map = [("**.py", "python"), ("templates/**.html", "jinja2")]
    options = {"templates/**.html": {"extensions": "jinja2.ext.i18n", "trimmed": "true"}}
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None}
    return {
        message
        for _file, _line, message, _comments, _context in extract_from_dir(
            str(WEB), method_map, options, keywords=keywords
        )
    }


def test_every_message_is_translated_in_every_language() -> None:
    extracted = _extracted()
    assert len(extracted) > 50
    for language in LANGUAGES:
        with (CATALOGUES / language / "LC_MESSAGES" / "messages.po").open("rb") as po:
            catalog = read_po(po, locale=language)
        missing = []
        for message in extracted:
            msgid = message[0] if isinstance(message, tuple) else message
            entry = catalog.get(msgid)
            strings = entry.string if entry is not None else None
            if isinstance(strings, tuple):
                strings = strings[0] if all(strings) else ""
            if entry is None or not strings or entry.fuzzy:
                missing.append(msgid)
        assert missing == [], f"{language}: run `make messages`, then translate: {missing}"


def test_catalogues_compile_at_start_up() -> None:
    catalogues = load_catalogues()
    assert catalogues["en"].gettext("Page introuvable") == "Page not found"
    assert catalogues["fr"].gettext("Page introuvable") == "Page introuvable"
    one = catalogues["en"].ngettext(
        "Le formulaire contient %(num)d erreur", "Le formulaire contient %(num)d erreurs", 2
    )
    assert one == "The form has %(num)d errors"
