"""The session middleware: reads the session cookie, and tells the rest of the portal who is
signed in.

It sets ``scope["state"]["session_id"]`` (the CSRF tokens bind to it), ``account_session`` (a
``CurrentSession``, or absent) and ``profiles`` (the shell's profile switcher). A cookie whose
session is over (expired, revoked) sets ``session_expired``, so the sign-in page can say why.
The lookup is a read; the session's last use is written at most once a minute.
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import cookie_parser
from starlette.types import ASGIApp, Receive, Scope, Send

from carnet.identity.accounts.context import Transaction
from carnet.identity.accounts.service import Accounts, CurrentSession
from carnet.notify import service as notify_service
from carnet.web.accounts.cookies import SESSION, CookieSettings, cookie_name, is_secure
from carnet.web.i18n import N_
from carnet.web.shell import ProfileChoice

STATE_SESSION = "account_session"
STATE_EXPIRED = "session_expired"
STATE_UNREAD = "unread_notifications"


class SessionMiddleware:
    """Loads the request's session (placed outside the CSRF middleware)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        accounts: Accounts,
        transaction: Transaction,
        cookies: CookieSettings,
        skip_prefixes: tuple[str, ...] = (),
    ) -> None:
        self.app = app
        self.accounts = accounts
        self.transaction = transaction
        self.cookie = cookie_name(SESSION, secure=is_secure(cookies))
        self.skip_prefixes = skip_prefixes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not scope["path"].startswith(self.skip_prefixes):
            token = self._token(scope)
            if token:
                current, unread = await run_in_threadpool(self._load, token)
                state = scope.setdefault("state", {})
                if current is None:
                    state[STATE_EXPIRED] = True
                else:
                    state["session_id"] = current.session_id
                    state[STATE_SESSION] = current
                    state["profiles"] = profile_choices(current)
                    state[STATE_UNREAD] = unread
        await self.app(scope, receive, send)

    def _token(self, scope: Scope) -> str:
        for name, value in scope["headers"]:
            if name == b"cookie":
                token = cookie_parser(value.decode("latin-1")).get(self.cookie)
                if token:
                    return token
        return ""

    def _load(self, token: str) -> tuple[CurrentSession | None, int]:
        """The session, and the unread notifications of the space it acts in (the header's
        badge), read in one transaction."""
        unread = 0
        with self.transaction(readonly=True) as db:
            current = self.accounts.current(db, token=token)
            space = current.patient_id or current.person_id if current is not None else None
            if current is not None and current.active and current.kind == "patient" and space:
                unread = notify_service.unread_count(db, patient_id=space)
        if current is not None and current.needs_touch:
            with self.transaction() as db:
                self.accounts.touch(db, session_id=current.session_id)
        return current, unread


def profile_choices(current: CurrentSession) -> list[ProfileChoice]:
    """The switcher's entries: « Moi », then each child (keys are positions, never ids)."""
    if not current.active or len(current.profiles) < 2:
        return []
    return [
        ProfileChoice(
            key=str(index),
            label=profile.label or N_("Moi"),
            current=profile.patient_id == current.patient_id,
        )
        for index, profile in enumerate(current.profiles)
    ]
