"""The portal's renderer: one Jinja environment per language, and the shell of every page.

Handlers call ``Portal.render(request, template, context)``: the view's context (a plain dict that
tests check without rendering) plus ``shell``, what the layout needs (language, brand, menus,
the CSRF token, the profiles, asset URLs).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from babel.dates import format_date
from babel.support import Translations
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup, escape
from sqlalchemy import Connection
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse

from carnet.enrollment.service import Enrollment
from carnet.identity.accounts.context import Transaction
from carnet.identity.accounts.service import Accounts, CurrentSession
from carnet.jobs.service import JobQueue
from carnet.record.service import Record
from carnet.web import shell as shell_
from carnet.web.assets import Assets, find_assets
from carnet.web.config import PortalSettings
from carnet.web.csrf import CSRF_FIELD, STATE_KEY, CsrfState
from carnet.web.federation_deps import FederationDeps, shell_links
from carnet.web.i18n import (
    LANGUAGE_COOKIE,
    LANGUAGE_NAMES,
    LANGUAGES,
    load_catalogues,
    negotiate,
)

TEMPLATES = Path(__file__).parent / "templates"


@dataclass(frozen=True)
class PortalDeps:
    """What the app factory hands the web area (it never reads settings itself)."""

    settings: PortalSettings
    csrf_key: bytes
    production: bool
    fhir_base_url: str
    csrf_exempt: tuple[str, ...] = ()
    federation: FederationDeps | None = None
    """Federated sign-in (FranceConnect, Pro Santé Connect); None: no routes, no buttons."""
    public_base_url: str = "http://127.0.0.1:8000"
    """Decides the cookies' Secure flag and ``__Host-`` prefix (https: both)."""
    accounts: Accounts | None = None
    """Accounts and sign-in (None: a portal without sign-in, as some tests build it)."""
    transaction: Transaction | None = None
    enrollment: Enrollment | None = None
    """Opening and closing spaces: activation, opposition, families, the operators' console."""
    record: Record | None = None
    """The health record (the patient's pages reach it through ``web.patient.space``)."""
    jobs: JobQueue | None = None
    """The outbox, for the patient's pages whose work runs after commit (archives, notices)."""
    documents_max_upload_bytes: int = 5 * 1024 * 1024
    """The largest file a person may add (``settings.documents``); the forms' body limit
    leaves room above it for the other fields."""


_T = TypeVar("_T")


class Portal:
    """Renders pages and error pages in the visitor's language under the configured brand."""

    async def in_transaction(self, work: Callable[[Connection], _T]) -> _T:
        """``work(db)`` in one database transaction, in the threadpool (never on the loop)."""
        transaction = self.deps.transaction
        assert transaction is not None, "a portal with accounts has a transaction factory"

        def run() -> _T:
            with transaction() as db:
                return work(db)

        return await run_in_threadpool(run)

    def __init__(self, deps: PortalDeps) -> None:
        self.deps = deps
        self.settings = deps.settings
        self.assets: Assets = find_assets(
            brand=deps.settings.brand, node_modules=deps.settings.assets_dir
        )
        catalogues = load_catalogues()
        self._environments = {}
        for language, translations in catalogues.items():
            env = Environment(
                loader=FileSystemLoader(TEMPLATES),
                autoescape=select_autoescape(default=True, default_for_string=True),
                undefined=StrictUndefined,
                extensions=["jinja2.ext.i18n"],
                trim_blocks=True,
                lstrip_blocks=True,
                auto_reload=False,
            )
            env.install_gettext_translations(translations, newstyle=True)  # type: ignore[attr-defined]
            env.globals.update(_fast_gettext(translations))
            env.filters["long_date"] = partial(_long_date, locale=language)
            self._environments[language] = env

    def language(self, request: Request) -> str:
        return negotiate(
            cookie=request.cookies.get(LANGUAGE_COOKIE),
            accept_language=request.headers.get("accept-language"),
        )

    def shell(
        self, request: Request, *, area: shell_.Area, language: str, known_path: bool = True
    ) -> dict[str, Any]:
        """What every layout needs, computed per request.

        ``known_path=False`` (error pages): the requested path is never written into the page,
        not even in the language switch's way back, since it may carry identifiers.
        """
        path = request.url.path if known_path else ""
        state = request.scope.get("state") or {}
        csrf = state.get(STATE_KEY)
        settings = self.settings
        return {
            "lang": language,
            "languages": [
                {"code": code, "name": LANGUAGE_NAMES[code], "current": code == language}
                for code in LANGUAGES
            ],
            "brand": settings.brand,
            "service_name": settings.service_name,
            "publisher": settings.publisher,
            "contact_email": settings.contact_email,
            "area": area,
            "area_home": shell_.AREA_HOMES[area],
            "nav": shell_.navigation(area, path),
            "footer_links": shell_.FOOTER_LINKS,
            "path": path,
            "csrf_field": CSRF_FIELD,
            "csrf_token": csrf.token() if isinstance(csrf, CsrfState) else "",
            "profiles": shell_.profiles_of(request),
            "signed_in": isinstance(state.get("account_session"), CurrentSession)
            and state["account_session"].active,
            "profile_switch_action": shell_.PROFILE_SWITCH_ACTION,
            "unread": int(state.get("unread_notifications") or 0),
            "assets": self.assets,
            "federation": shell_links(self.deps.federation, request),
        }

    def render(
        self,
        request: Request,
        template: str,
        context: dict[str, Any],
        *,
        area: shell_.Area = "patient",
        status_code: int = 200,
        headers: dict[str, str] | None = None,
        language: str | None = None,
        known_path: bool = True,
    ) -> HTMLResponse:
        """Render a page of an area in the visitor's language (or the one just chosen)."""
        language = language or self.language(request)
        shell = self.shell(request, area=area, language=language, known_path=known_path)
        html = self.render_text(language, template, {**context, "shell": shell})
        return HTMLResponse(
            html,
            status_code=status_code,
            headers={
                "content-language": language,
                "vary": "Accept-Language, Cookie",
                **(headers or {}),
            },
        )

    def render_text(self, language: str, template: str, context: dict[str, Any]) -> str:
        return self._environments[language].get_template(template).render(context)


def _long_date(value: date, *, locale: str) -> str:
    """« 25 novembre 2026 », « November 25, 2026 »."""
    return format_date(value, format="long", locale=locale)


def _fast_gettext(translations: Translations) -> dict[str, Any]:
    """``_``, ``gettext`` and ``ngettext`` with Jinja's "newstyle" meaning, called directly.

    Jinja's own ``_`` looks ``gettext`` up in the context and calls it through
    ``Context.call`` on every use: about 30 µs each, a millisecond a page. Stricter than
    Jinja's, too: the message itself is escaped as well as its ``%(name)s`` values, so neither a
    catalogue entry nor a message id that came from elsewhere can inject markup.
    """

    def gettext(message: str, **variables: Any) -> Markup:
        return escape(translations.gettext(message)) % variables

    def ngettext(singular: str, plural: str, num: int, **variables: Any) -> Markup:
        variables.setdefault("num", num)
        return escape(translations.ngettext(singular, plural, num)) % variables

    return {"_": gettext, "gettext": gettext, "ngettext": ngettext}
