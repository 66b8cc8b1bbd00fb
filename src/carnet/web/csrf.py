"""Cross-site request forgery protection for every unsafe request to the portal.

A signed double-submit token. The browser holds a random nonce in an HttpOnly cookie; every form
carries ``HMAC(key, session id | nonce)`` in its ``csrf_token`` field (or a script sends it in the
``X-CSRF-Token`` header). A POST, PUT, PATCH or DELETE passes only when the submitted value is the
MAC of the cookie's nonce under the current session: another site can neither read the cookie nor
compute the MAC, a cookie planted from a sibling domain is useless without the key, and a token
stops working when the session changes (sign-in and sign-out rotate it).

The key comes from the app factory (``Storage.derive_key("portal-csrf")``). The session hook: the
accounts' session middleware, placed outside this one, stores the session id in the request's
state (``scope["state"]["session_id"]``); without a session the binding is empty.
A refused request gets the portal's 403 page and never reaches a handler.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Awaitable, Callable

from starlette.datastructures import FormData
from starlette.requests import Request, cookie_parser
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSRF_FIELD = "csrf_token"
CSRF_HEADER = b"x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
STATE_KEY = "csrf"
_NONCE_BYTES = 32

Refusal = Callable[[Scope, int], Awaitable[Response]]
"""Renders the portal's error page for a scope and a status (403 refused, 413 too large)."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def session_id_of(scope: Scope) -> str:
    """The session id the accounts' middleware put in the request state, or '' (none yet)."""
    state = scope.get("state") or {}
    value = state.get("session_id")
    return value if isinstance(value, str) else ""


class CsrfTokens:
    """Makes and checks the MACs of nonces under one key."""

    def __init__(self, key: bytes) -> None:
        if len(key) < 32:
            raise ValueError("the CSRF key must have at least 256 bits")
        self._key = key

    def token(self, nonce: str, session_id: str) -> str:
        """The form value for a cookie's nonce in a session."""
        message = f"carnet-csrf-v1|{session_id}|{nonce}".encode()
        return _b64(hmac.new(self._key, message, hashlib.sha256).digest())

    def is_valid(self, *, nonce: str | None, submitted: str | None, session_id: str) -> bool:
        """Whether a submitted token is the MAC of the cookie's nonce (constant-time)."""
        if not nonce or not submitted or len(submitted) > 100:
            return False
        return hmac.compare_digest(self.token(nonce, session_id), submitted)


class CsrfState:
    """Per request: the browser's nonce (or a new one) and whether a page printed a token."""

    def __init__(self, tokens: CsrfTokens, scope: Scope, nonce: str | None) -> None:
        self._tokens = tokens
        self._scope = scope
        self.fresh = nonce is None
        self.nonce = nonce or _b64(secrets.token_bytes(_NONCE_BYTES))
        self.used = False

    def token(self) -> str:
        """The token to print in this response's forms (sets the cookie if it is new)."""
        self.used = True
        return self._tokens.token(self.nonce, session_id_of(self._scope))


class CsrfMiddleware:
    """Refuses unsafe portal requests without a valid token; issues the cookie on pages."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        tokens: CsrfTokens,
        refuse: Refusal,
        secure_cookie: bool,
        exempt_prefixes: tuple[str, ...] = (),
        max_body_bytes: int = 1024 * 1024,
    ) -> None:
        self.app = app
        self.tokens = tokens
        self.refuse = refuse
        self.exempt_prefixes = exempt_prefixes
        self.max_body_bytes = max_body_bytes
        # __Host-: the browser refuses it unless Secure, Path=/ and host-only, so a sibling
        # domain cannot plant it. Plain HTTP (development) cannot use the prefix.
        self.cookie_name = "__Host-carnet_csrf" if secure_cookie else "carnet_csrf"
        self.cookie_attributes = "; Path=/; HttpOnly; SameSite=Lax" + (
            "; Secure" if secure_cookie else ""
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(self.exempt_prefixes):
            await self.app(scope, receive, send)
            return
        nonce = self._cookie(scope)
        state = CsrfState(self.tokens, scope, nonce)
        scope.setdefault("state", {})[STATE_KEY] = state
        if scope["method"] not in SAFE_METHODS:
            body = await self._check(scope, receive, nonce)
            if isinstance(body, Response):
                await body(scope, receive, send)
                return
            if body is not None:
                receive = _replay(body, receive)

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start" and state.fresh and state.used:
                cookie = f"{self.cookie_name}={state.nonce}{self.cookie_attributes}"
                message["headers"] = [*message.get("headers", []), (b"set-cookie", cookie.encode())]
            await send(message)

        await self.app(scope, receive, send_with_cookie)

    def _cookie(self, scope: Scope) -> str | None:
        # Starlette's parser reads cookies as browsers write them (the stdlib's SimpleCookie
        # drops every cookie after a malformed one).
        for name, value in scope["headers"]:
            if name == b"cookie":
                nonce = cookie_parser(value.decode("latin-1")).get(self.cookie_name)
                if nonce:
                    return nonce
        return None

    async def _check(
        self, scope: Scope, receive: Receive, nonce: str | None
    ) -> bytes | Response | None:
        """The body read to find the token (None: left unread), or the refusal page."""
        session_id = session_id_of(scope)
        header = dict(scope["headers"]).get(CSRF_HEADER)
        if header is not None:
            if self.tokens.is_valid(
                nonce=nonce, submitted=header.decode("latin-1"), session_id=session_id
            ):
                return None  # the body is left to stream: scripts' uploads need not be buffered
            return await self.refuse(scope, 403)
        body = await _read_body(receive, self.max_body_bytes)
        if body is None:
            return await self.refuse(scope, 413)
        submitted = await _form_field(scope, body, CSRF_FIELD)
        if not self.tokens.is_valid(nonce=nonce, submitted=submitted, session_id=session_id):
            return await self.refuse(scope, 403)
        return body


async def _read_body(receive: Receive, limit: int) -> bytes | None:
    """The whole body, or None past ``limit`` bytes."""
    chunks = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


async def _form_field(scope: Scope, body: bytes, name: str) -> str | None:
    """One text field of a url-encoded or multipart body (anything else has no token)."""
    sent = False

    async def once() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    request = Request({**scope, "state": {}}, once)
    content_type = request.headers.get("content-type", "")
    if not content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        return None
    try:
        form: FormData = await request.form()
    except Exception:  # an unparsable body carries no valid token
        return None
    try:
        value = form.get(name)
        return value if isinstance(value, str) else None
    finally:
        await form.close()


def _replay(body: bytes, receive: Receive) -> Receive:
    """A receive channel that hands the already-read body to the app, then the real channel."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay
