"""CSRF: a signed double-submit token, bound to the session, checked before any handler runs."""

from __future__ import annotations

import re

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from starlette.testclient import TestClient
from starlette.types import ASGIApp, Receive, Scope, Send

from carnet.web.csrf import CsrfMiddleware, CsrfState, CsrfTokens

KEY = bytes(range(32))
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def test_a_token_is_the_mac_of_the_nonce_under_the_session() -> None:
    tokens = CsrfTokens(KEY)
    token = tokens.token("nonce", "")
    assert tokens.is_valid(nonce="nonce", submitted=token, session_id="")
    assert not tokens.is_valid(nonce="other", submitted=token, session_id="")
    assert not tokens.is_valid(nonce="nonce", submitted=token, session_id="session-b")
    assert not tokens.is_valid(nonce="nonce", submitted=token[:-1] + "A", session_id="")
    assert not tokens.is_valid(nonce=None, submitted=token, session_id="")
    assert not tokens.is_valid(nonce="nonce", submitted=None, session_id="")
    assert not CsrfTokens(bytes(32)).is_valid(nonce="nonce", submitted=token, session_id="")
    with pytest.raises(ValueError, match="256 bits"):
        CsrfTokens(b"short")


# --- the middleware on a tiny app, with a stand-in for the accounts' session middleware ------

done: list[str] = []


async def page(request: Request) -> Response:
    state = request.scope["state"]["csrf"]
    assert isinstance(state, CsrfState)
    return PlainTextResponse(f'name="csrf_token" value="{state.token()}"')


async def act(request: Request) -> Response:
    async with request.form() as form:
        done.append(str(form.get("what")))
    return PlainTextResponse("done")


async def refuse(_scope: Scope, status: int) -> Response:
    return PlainTextResponse("refused", status_code=status)


class FakeSessions:
    """Puts the ``x-session`` header in the request state, as the accounts' middleware will."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        session = dict(scope["headers"]).get(b"x-session")
        if session:
            scope.setdefault("state", {})["session_id"] = session.decode()
        await self.app(scope, receive, send)


@pytest.fixture
def client() -> TestClient:
    done.clear()
    app = Starlette(routes=[Route("/page", page), Route("/act", act, methods=["POST"])])
    app.add_middleware(
        CsrfMiddleware,
        tokens=CsrfTokens(KEY),
        refuse=refuse,
        secure_cookie=False,
        exempt_prefixes=("/oauth2/",),
        max_body_bytes=2048,
    )
    return TestClient(FakeSessions(app))


def _token(client: TestClient, **headers: str) -> str:
    response = client.get("/page", headers=headers)
    match = TOKEN.search(response.text)
    assert match is not None
    return match.group(1)


def test_a_page_with_a_form_sets_the_cookie_once(client: TestClient) -> None:
    first = client.get("/page")
    cookie = first.headers["set-cookie"]
    assert cookie.startswith("carnet_csrf=")
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "set-cookie" not in client.get("/page").headers


def test_a_valid_token_passes_and_the_handler_reads_the_body(client: TestClient) -> None:
    token = _token(client)
    response = client.post("/act", data={"csrf_token": token, "what": "x"})
    assert response.text == "done"
    assert done == ["x"]


def test_missing_or_wrong_tokens_are_refused_before_the_handler(client: TestClient) -> None:
    token = _token(client)
    for data in ({"what": "x"}, {"csrf_token": "forged", "what": "x"}):
        assert client.post("/act", data=data).status_code == 403
    client.cookies.clear()  # the token without its cookie
    assert client.post("/act", data={"csrf_token": token, "what": "x"}).status_code == 403
    assert (
        client.post("/act", content=b"{}", headers={"content-type": "application/json"}).status_code
        == 403
    )
    assert done == []


def test_a_token_is_bound_to_the_session(client: TestClient) -> None:
    token = _token(client, **{"x-session": "session-a"})
    other = client.post("/act", data={"csrf_token": token}, headers={"x-session": "session-b"})
    assert other.status_code == 403
    anonymous = client.post("/act", data={"csrf_token": token})
    assert anonymous.status_code == 403
    same = client.post("/act", data={"csrf_token": token}, headers={"x-session": "session-a"})
    assert same.status_code == 200


def test_scripts_may_send_the_token_in_a_header(client: TestClient) -> None:
    token = _token(client)
    response = client.post("/act", data={"what": "y"}, headers={"x-csrf-token": token})
    assert response.status_code == 200
    assert (
        client.post("/act", data={"what": "z"}, headers={"x-csrf-token": "no"}).status_code == 403
    )
    assert done == ["y"]


def test_multipart_forms_carry_the_token_too(client: TestClient) -> None:
    token = _token(client)
    response = client.post(
        "/act", data={"csrf_token": token, "what": "m"}, files={"f": ("a.txt", b"abc")}
    )
    assert response.status_code == 200


def test_oversized_bodies_are_refused_unread(client: TestClient) -> None:
    token = _token(client)
    response = client.post("/act", data={"csrf_token": token, "what": "x" * 4096})
    assert response.status_code == 413
    assert done == []


def test_exempt_paths_and_safe_methods_pass(client: TestClient) -> None:
    assert client.post("/oauth2/token").status_code == 404  # reached the router, not refused
    assert client.get("/page").status_code == 200
