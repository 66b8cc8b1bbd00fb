"""Who may see a page: the signed-in session of a request, or a redirect to sign in.

``next`` parameters only ever hold a local path (``/…``, never ``//…``, a scheme or a
backslash): an open redirect through the sign-in page would lend the service's name to a
phishing site.
"""

from __future__ import annotations

from collections.abc import Collection
from urllib.parse import quote, urlsplit

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from carnet.identity.accounts.schemas import AccountKind, CurrentSession, OperatorRole
from carnet.web.accounts.middleware import STATE_EXPIRED, STATE_SESSION

HOMES: dict[str, str] = {"patient": "/", "professional": "/pro", "operator": "/admin"}
_NEXT_MAX = 200


def safe_next(value: str | None) -> str | None:
    """A local path to go to after sign-in, or None (never another site)."""
    if not value or len(value) > _NEXT_MAX or not value.startswith("/"):
        return None
    if (
        value.startswith("//")
        or "\\" in value
        or any(not c.isprintable() or c.isspace() for c in value)
    ):
        return None
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return None
    return value


def current_session(request: Request) -> CurrentSession | None:
    """The request's session once fully signed in (second factor passed), else None."""
    session = (request.scope.get("state") or {}).get(STATE_SESSION)
    if isinstance(session, CurrentSession) and session.active:
        return session
    return None


def pending_session(request: Request) -> CurrentSession | None:
    """The request's session while it waits for its second factor."""
    session = (request.scope.get("state") or {}).get(STATE_SESSION)
    if isinstance(session, CurrentSession) and not session.active:
        return session
    return None


def sign_in_redirect(request: Request, *, admin: bool = False) -> Response:
    """To the sign-in page, coming back here afterwards (and saying a session expired)."""
    target = "/admin/connexion" if admin else "/connexion"
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    query = f"?next={quote(here, safe='/')}" if safe_next(here) else ""
    if (request.scope.get("state") or {}).get(STATE_EXPIRED):
        query += ("&" if query else "?") + "expire=1"
    return RedirectResponse(target + query, status_code=303)


def require(
    request: Request,
    *,
    kinds: Collection[AccountKind] = ("patient", "professional", "operator"),
    roles: Collection[OperatorRole] = (),
) -> CurrentSession | Response:
    """The signed-in session if it may see the page; else a redirect to sign in (nobody or
    the wrong kind of account) or a 403 (an operator without the role)."""
    session = current_session(request)
    if session is None or session.kind not in kinds:
        return sign_in_redirect(request, admin=tuple(kinds) == ("operator",))
    if roles and not session.roles.intersection(roles):
        raise HTTPException(status_code=403)
    return session
