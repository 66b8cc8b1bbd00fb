"""Message templates: one folder per kind under ``templates/`` holding ``subject.txt``,
``body.txt``, ``body.html`` (an e-mail) and/or ``sms.txt``, written in French with
``{% trans %}`` blocks; English comes from ``translations/en/LC_MESSAGES/messages.po``,
compiled in memory at start-up.

Each kind declares the variables it takes (``KINDS``). Values must be short text or numbers, and
those that look like an identifier (a NIR, an RPPS or other long number, an e-mail address, a
phone number) are refused: messages leave Carnet, and must carry nothing that identifies a
person or their health. A moment (when something happened) travels as an ISO 8601 UTC text and
is written out by the template's ``moment`` filter, in the message's language and Paris time;
a calendar day travels as an ISO 8601 date and is written out by the ``day`` filter.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from io import BytesIO
from pathlib import Path
from typing import Any, Final
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from carnet.core.logging import redact
from carnet.notify.errors import InvalidContext, UnknownTemplate

TEMPLATES: Final = Path(__file__).parent / "templates"
CATALOGUES: Final = Path(__file__).parent / "translations"
LANGUAGES: Final = ("fr", "en")


@dataclass(frozen=True, slots=True)
class Kind:
    variables: frozenset[str]
    links: frozenset[str] = frozenset()
    """Variables holding a URL (checked to be http(s), not scanned for identifier shapes)."""
    moments: frozenset[str] = frozenset()
    """Variables holding an ISO 8601 UTC moment (checked to parse; the ``moment`` filter
    writes it out)."""
    days: frozenset[str] = frozenset()
    """Variables holding an ISO 8601 calendar day (checked to parse; the ``day`` filter writes
    it out)."""
    email: bool = True
    sms: bool = False


KINDS: Final[dict[str, Kind]] = {
    # "Something new is waiting": a link to the portal, nothing else (notify.inbox).
    "inbox_news": Kind(frozenset({"link"}), links=frozenset({"link"})),
    "email_verification": Kind(
        frozenset({"code", "link", "expires_minutes"}), links=frozenset({"link"})
    ),
    "sign_in_code": Kind(frozenset({"code", "expires_minutes"}), sms=True),
    "password_reset": Kind(frozenset({"link", "expires_minutes"}), links=frozenset({"link"})),
    "password_changed": Kind(frozenset()),
    "new_sign_in": Kind(
        frozenset({"signed_in_at", "device", "link"}),
        links=frozenset({"link"}),
        moments=frozenset({"signed_in_at"}),
    ),
    "phone_verification": Kind(frozenset({"code", "expires_minutes"}), email=False, sms=True),
    "space_opening": Kind(
        frozenset({"code", "link", "opposition_ends"}),
        links=frozenset({"link"}),
        days=frozenset({"opposition_ends"}),
    ),
    "dependant_notice": Kind(
        frozenset({"link", "opposition_ends"}),
        links=frozenset({"link"}),
        days=frozenset({"opposition_ends"}),
    ),
    "activation_code": Kind(
        frozenset({"code", "expires_on"}), days=frozenset({"expires_on"}), sms=True
    ),
    # Families and caregivers (enrollment): a link to sign in, never who or about what.
    "family_invitation": Kind(
        frozenset({"link", "expires_on"}), links=frozenset({"link"}), days=frozenset({"expires_on"})
    ),
    "caregiver_invitation": Kind(
        frozenset({"link", "expires_on"}), links=frozenset({"link"}), days=frozenset({"expires_on"})
    ),
    "family_news": Kind(frozenset({"link"}), links=frozenset({"link"})),
    "caregiver_news": Kind(frozenset({"link"}), links=frozenset({"link"})),
    "representation_ended": Kind(frozenset({"link"}), links=frozenset({"link"})),
    "coming_of_age": Kind(
        frozenset({"code", "link", "expires_on"}),
        links=frozenset({"link"}),
        days=frozenset({"expires_on"}),
    ),
    "space_opposition": Kind(
        frozenset({"reference", "opposed_on", "link"}),
        links=frozenset({"link"}),
        days=frozenset({"opposed_on"}),
    ),
    "activation_contact": Kind(frozenset({"code", "expires_minutes"}), sms=True),
    "space_activated": Kind(frozenset({"link"}), links=frozenset({"link"})),
    "space_opened": Kind(frozenset({"link"}), links=frozenset({"link"})),
    # closure: closing, reopening, suspension and its lifting, erasure (enrollment.closure)
    "space_closed": Kind(
        frozenset({"erase_on", "link"}), links=frozenset({"link"}), days=frozenset({"erase_on"})
    ),
    "space_closed_fraud": Kind(
        frozenset({"erase_on", "link"}), links=frozenset({"link"}), days=frozenset({"erase_on"})
    ),
    "space_reopened": Kind(frozenset({"link"}), links=frozenset({"link"})),
    "space_suspended": Kind(
        frozenset({"closes_on", "link"}), links=frozenset({"link"}), days=frozenset({"closes_on"})
    ),
    "space_restored": Kind(frozenset({"link"}), links=frozenset({"link"})),
    "space_erased": Kind(frozenset()),
}
# The service is French: moments are shown in Paris time, whatever the server's zone.
_ZONE: Final = ZoneInfo("Europe/Paris")
_MOMENT_FORMATS: Final = {"fr": "EEEE d MMMM y 'à' HH:mm", "en": "EEEE d MMMM y 'at' HH:mm"}
_DAY_FORMAT: Final = "EEEE d MMMM y"
_MAX_VALUE = 500
_LINK = re.compile(r"https?://[^\s<>\"']{1,450}")
# Values that HTML escaping and whitespace folding leave as they are: a batch's templates can be
# rendered once and these pasted in (``Renderer.stencil``).
_PLAIN_VALUE = re.compile(r"[A-Za-z0-9._+@-]{0,200}")

Stencil = Callable[[Mapping[str, Any]], str]
"""Writes one message's part from its own values (see ``Renderer.stencil``)."""


def check_context(kind_name: str, context: Mapping[str, Any], *, channel: str) -> Kind:
    """The kind, once ``context`` is checked against it; raises ``UnknownTemplate`` or
    ``InvalidContext`` (naming the variable, never its value)."""
    kind = KINDS.get(kind_name)
    if kind is None or not getattr(kind, channel):
        raise UnknownTemplate(f"no {channel} template {kind_name!r}")
    missing = kind.variables - set(context)
    extra = set(context) - kind.variables
    if missing or extra:
        raise InvalidContext(
            f"template {kind_name!r}: missing {sorted(missing)}, unexpected {sorted(extra)}"
        )
    for name, value in context.items():
        check_value(kind, name, value)
    return kind


def check_value(kind: Kind, name: str, value: object) -> None:
    """Check one variable's value against ``kind`` (as ``check_context`` does for each);
    raises ``InvalidContext`` naming the variable, never its value."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise InvalidContext(f"template variable {name!r} must be text or a whole number")
    text = str(value)
    if len(text) > _MAX_VALUE:
        raise InvalidContext(f"template variable {name!r} is too long")
    if name in kind.links:
        if _LINK.fullmatch(text) is None:
            raise InvalidContext(f"template variable {name!r} must be an http(s) URL")
    elif name in kind.moments:
        _parse_moment(name, text)
    elif name in kind.days:
        _parse_day(name, text)
    elif redact(text) != text:
        raise InvalidContext(f"template variable {name!r} looks like an identifier")


def _parse_moment(name: str, text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidContext(f"template variable {name!r} must be an ISO 8601 moment") from None
    if moment.utcoffset() is None:
        raise InvalidContext(f"template variable {name!r} must say its time zone")
    return moment


def _parse_day(name: str, text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidContext(f"template variable {name!r} must be an ISO 8601 day") from None


def _catalogue(language: str) -> NullTranslations:
    if language == LANGUAGES[0]:
        return NullTranslations()  # the templates are written in French
    with (CATALOGUES / language / "LC_MESSAGES" / "messages.po").open("rb") as po:
        catalog = read_po(po, locale=language)
    compiled = BytesIO()
    write_mo(compiled, catalog, use_fuzzy=False)
    compiled.seek(0)
    return Translations(fp=compiled, domain="messages")


def _environment(language: str) -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"], default_for_string=False),
        undefined=StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        keep_trailing_newline=True,
    )
    env.policies["ext.i18n.trimmed"] = True
    env.install_gettext_translations(_catalogue(language), newstyle=True)  # type: ignore[attr-defined]

    def moment(text: str) -> str:
        when = _parse_moment("moment", text).astimezone(_ZONE)
        return format_datetime(when, _MOMENT_FORMATS[language], locale=language)

    def day(text: str) -> str:
        return format_date(_parse_day("day", text), _DAY_FORMAT, locale=language)

    env.filters["moment"] = moment
    env.filters["day"] = day
    return env


class Renderer:
    """Renders message kinds in French or English. Thread-safe; build one per process."""

    def __init__(self, *, service_name: str = "Carnet") -> None:
        self.service_name = service_name
        self._environments = {language: _environment(language) for language in LANGUAGES}

    def environment(self, language: str) -> Environment:
        if language not in self._environments:
            raise InvalidContext(f"language must be one of {', '.join(LANGUAGES)}")
        return self._environments[language]

    def render(self, kind: str, part: str, context: Mapping[str, Any], language: str) -> str:
        """One part (``subject.txt``, ``body.txt``, ``body.html``, ``sms.txt``) of a kind."""
        template = self.environment(language).get_template(f"{kind}/{part}")
        values = {**context, "service_name": self.service_name, "language": language}
        text = template.render(values)
        return " ".join(text.split()) if part in {"subject.txt", "sms.txt"} else text

    def stencil(
        self,
        kind: str,
        part: str,
        shared: Mapping[str, Any],
        own: frozenset[str],
        language: str,
    ) -> Stencil | None:
        """``part`` rendered once for a batch whose messages differ only in the variables
        ``own``: the result pastes each message's values in, which is what rendering would
        write as long as each value is plain (``is_plain``). None when the template does more
        with those variables than print them (a filter, a test): then render each message.

        Checked by rendering twice with two sets of random marks and comparing: the parts
        between the marks must be the same text."""
        first = {name: f"zq{secrets.token_hex(6)}zq" for name in own}
        second = {name: f"zq{secrets.token_hex(6)}zq" for name in own}
        written = self.render(kind, part, {**shared, **first}, language)
        if not own:
            return lambda _values: written
        names = {mark: name for name, mark in first.items()}
        pieces = re.split(f"({'|'.join(map(re.escape, names))})", written)
        # Odd positions are marks: keep the variable's name there, the text elsewhere.
        plan = [(names[piece] if i % 2 else None, piece) for i, piece in enumerate(pieces)]
        again = self.render(kind, part, {**shared, **second}, language)
        if again != "".join(second[name] if name else text for name, text in plan):
            return None

        def paste(values: Mapping[str, Any]) -> str:
            return "".join(str(values[name]) if name else text for name, text in plan)

        return paste


def is_plain(value: object) -> bool:
    """Whether ``value`` is written out unchanged by every part (see ``Renderer.stencil``)."""
    return isinstance(value, str | int) and _PLAIN_VALUE.fullmatch(str(value)) is not None
