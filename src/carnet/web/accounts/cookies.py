"""The session and trusted-device cookies.

HttpOnly, SameSite=Lax, Path=/; Secure with the ``__Host-`` prefix whenever the public URL is
https (the browser then refuses a cookie planted by a sibling domain or sent in clear). Only a
plain-http development server (``http://127.0.0.1``) gets unprefixed, non-Secure cookies. The
session cookie has no Max-Age: it dies with the browser, and the server's idle and absolute
timeouts end it anyway.
"""

from __future__ import annotations

from typing import Protocol
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import Response

from carnet.identity.accounts.schemas import IssuedSession

SESSION = "carnet_session"
DEVICE = "carnet_device"


class CookieSettings(Protocol):
    """Anything that knows the public URL: the app's ``Settings``, the portal's deps."""

    @property
    def public_base_url(self) -> str: ...


def is_secure(settings: CookieSettings) -> bool:
    return urlsplit(settings.public_base_url).scheme == "https"


def cookie_name(base: str, *, secure: bool) -> str:
    return f"__Host-{base}" if secure else base


def set_session_cookie(response: Response, issued: IssuedSession, settings: CookieSettings) -> None:
    """Put a freshly issued session's token in the browser (after any sign-in)."""
    secure = is_secure(settings)
    response.set_cookie(
        cookie_name(SESSION, secure=secure),
        issued.token,
        path="/",
        httponly=True,
        secure=secure,
        samesite="lax",
    )


def clear_session_cookie(response: Response, settings: CookieSettings) -> None:
    secure = is_secure(settings)
    response.delete_cookie(
        cookie_name(SESSION, secure=secure), path="/", httponly=True, secure=secure, samesite="lax"
    )


def set_device_cookie(
    response: Response, token: str, settings: CookieSettings, *, max_age: int
) -> None:
    secure = is_secure(settings)
    response.set_cookie(
        cookie_name(DEVICE, secure=secure),
        token,
        max_age=max_age,
        path="/",
        httponly=True,
        secure=secure,
        samesite="lax",
    )


def session_token(request: Request, settings: CookieSettings) -> str:
    return request.cookies.get(cookie_name(SESSION, secure=is_secure(settings)), "")


def device_token(request: Request, settings: CookieSettings) -> str | None:
    return request.cookies.get(cookie_name(DEVICE, secure=is_secure(settings)))
