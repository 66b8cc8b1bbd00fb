"""HTTP endpoints of the authorization server (Starlette routes, mounted by ``carnet.app``).

``POST /oauth2/token``, ``GET /oauth2/jwks``, ``GET /.well-known/smart-configuration``. The token
handler only reads the request (body bounded in size), then runs the whole exchange in the
threadpool inside one transaction; the service does the parsing, checking and auditing.
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from carnet.authz.schemas import TokenRequest, TokenResponse
from carnet.authz.service import Authz
from carnet.core.db import Database

MAX_BODY_BYTES = 64 * 1024
_PUBLIC_CACHE = {"Cache-Control": "public, max-age=300"}


def build_routes(authz: Authz, database: Database) -> list[BaseRoute]:
    """The token endpoint, the token signing keys and the SMART discovery document."""

    async def token(request: Request) -> Response:
        token_request = await _read_token_request(request)

        def exchange() -> TokenResponse:
            with database.transaction() as db:
                return authz.issue_token(db, token_request)

        answer = await run_in_threadpool(exchange)
        return JSONResponse(
            dict(answer.body), status_code=answer.status, headers=dict(answer.headers)
        )

    async def jwks(_request: Request) -> Response:
        return JSONResponse(authz.public_jwks(), headers=_PUBLIC_CACHE)

    async def smart_configuration(_request: Request) -> Response:
        return JSONResponse(authz.smart_configuration(), headers=_PUBLIC_CACHE)

    return [
        Route("/oauth2/token", token, methods=["POST"]),
        Route("/oauth2/jwks", jwks, methods=["GET"]),
        Route("/.well-known/smart-configuration", smart_configuration, methods=["GET"]),
    ]


async def _read_token_request(request: Request) -> TokenRequest:
    """The body, read no further than the limit (a client assertion is a few kilobytes)."""
    content_type = request.headers.get("content-type", "")
    authorization = request.headers.get("authorization")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        return TokenRequest(content_type, b"", authorization, body_too_large=True)
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > MAX_BODY_BYTES:
            return TokenRequest(content_type, b"", authorization, body_too_large=True)
    return TokenRequest(content_type, bytes(body), authorization)
