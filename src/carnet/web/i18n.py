"""French first, English second: the message catalogues and the choice of language.

The language is the visitor's explicit choice (the ``carnet_lang`` cookie, set by the language
switch), else the first supported language of ``Accept-Language``, else French. A cookie rather
than a ``/en/…`` prefix: the portal's pages are personal and never indexed, so one URL per page
keeps links in letters, e-mails and bookmarks valid whatever the reader's language, and the
choice follows the visitor from page to page without threading a prefix through every link.

The catalogues (``translations/<lang>/LC_MESSAGES/messages.po``) are compiled in memory when the
process starts (a few milliseconds): no generated ``.mo`` file to forget or to go stale.
"""

from __future__ import annotations

import re
from io import BytesIO
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

LANGUAGES = ("fr", "en")
"""Supported languages, the default first."""
DEFAULT_LANGUAGE = LANGUAGES[0]
LANGUAGE_NAMES = {"fr": "Français", "en": "English"}
LANGUAGE_COOKIE = "carnet_lang"
CATALOGUES = Path(__file__).parent / "translations"

_RANGE = re.compile(r"^\s*([A-Za-z]{1,8})(?:-[A-Za-z0-9]{1,8})*\s*$")
_QUALITY = re.compile(r"^\s*q\s*=\s*([01](?:\.\d{0,3})?)\s*$")
_MAX_RANGES = 20  # a header is attacker-controlled: look at a bounded number of entries


def N_(message: str) -> str:  # noqa: N802 - the gettext convention extraction looks for
    """Mark a string for extraction; it is translated where it is shown (``_(…)`` in templates)."""
    return message


def load_catalogues(directory: Path = CATALOGUES) -> dict[str, Translations]:
    """Compile every language's ``messages.po`` in memory (fuzzy entries are left out)."""
    catalogues = {}
    for language in LANGUAGES:
        with (directory / language / "LC_MESSAGES" / "messages.po").open("rb") as po:
            catalog = read_po(po, locale=language)
        compiled = BytesIO()
        write_mo(compiled, catalog, use_fuzzy=False)
        compiled.seek(0)
        catalogues[language] = Translations(fp=compiled, domain="messages")
    return catalogues


def negotiate(*, cookie: str | None, accept_language: str | None) -> str:
    """The language of a response: the visitor's choice, else their browser's, else French."""
    if cookie in LANGUAGES:
        return cookie
    if accept_language:
        return _from_accept_language(accept_language) or DEFAULT_LANGUAGE
    return DEFAULT_LANGUAGE


def _from_accept_language(header: str) -> str | None:
    """The supported language the header prefers most (RFC 9110 §12.5.4; ties keep order)."""
    ranked: list[tuple[float, int, str]] = []
    for position, item in enumerate(header[:1000].split(",")[:_MAX_RANGES]):
        tag, _, params = item.partition(";")
        match = _RANGE.match(tag)
        if match is None:
            continue
        quality = 1.0
        if params:
            q = _QUALITY.match(params)
            if q is None:
                continue
            quality = float(q.group(1))
        language = match.group(1).lower()
        if quality > 0 and language in LANGUAGES:
            ranked.append((-quality, position, language))
    return min(ranked)[2] if ranked else None
