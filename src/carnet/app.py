"""Builds the ASGI application: the only module that knows every HTTP surface.

``/`` the portal, ``/fhir`` the FHIR R4 API, ``/oauth2`` and ``/.well-known`` the authorization
server, ``/healthz`` and ``/readyz`` for load balancers. Every response carries a request id and
strict security headers; one access-log line per request names the route shape, never the query
string (FHIR searches carry identifiers there).
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from uuid import uuid4

from fastapi import FastAPI
from sqlalchemy import text
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from carnet.authz.routes import build_routes as build_authz_routes
from carnet.core.logging import request_id_var
from carnet.fhir.app import build_fhir_app
from carnet.fhir.runner import FhirDeps
from carnet.identity.federation.service import Federation
from carnet.runtime import Runtime, build_runtime
from carnet.settings import load_settings
from carnet.web.federation_deps import FederationDeps
from carnet.web.federation_people import RecordPeople
from carnet.web.portal import install_portal
from carnet.web.rendering import PortalDeps

log = logging.getLogger("carnet.access")

_REQUEST_ID = re.compile(r"^[A-Za-z0-9\-_.]{8,64}$")
_PLAIN_SEGMENT = re.compile(r"^[A-Za-z_$.\-]{1,40}$")
_SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), payment=(), usb=()"),
    (
        b"content-security-policy",
        # No 'unsafe-inline' anywhere: the portal has no inline script, style element or style
        # attribute. The DSFR's script sets styles only through the CSSOM (style.setProperty),
        # which CSP does not govern; its icons are files, a few of its images data: URIs.
        (
            b"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            b"font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
            b"form-action 'self'; frame-ancestors 'none'"
        ),
    ),
    # Health data must not linger in shared caches or the browser's back-forward cache.
    (b"cache-control", b"no-store"),
]


def path_shape(path: str) -> str:
    """The path with ids replaced, safe to log: ``/fhir/Patient/{id}/_history/{id}``."""
    return "/".join(
        segment if not segment or _PLAIN_SEGMENT.match(segment) else "{id}"
        for segment in path.split("/")
    )


class RequestContextMiddleware:
    """Request id, security headers and the access log line."""

    def __init__(self, app: ASGIApp, *, hsts: bool) -> None:
        self.app = app
        self.headers = list(_SECURITY_HEADERS)
        if hsts:
            self.headers.append((b"strict-transport-security", b"max-age=63072000"))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        request_id = incoming if _REQUEST_ID.match(incoming) else uuid4().hex
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        status = 500

        async def send_with_headers(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                existing = {name.lower() for name, _ in message.get("headers", [])}
                extra = [(k, v) for k, v in self.headers if k not in existing]
                message["headers"] = [
                    *message.get("headers", []),
                    (b"x-request-id", request_id.encode()),
                    *extra,
                ]
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        finally:
            elapsed = (time.perf_counter() - started) * 1000
            log.info("%s %s %s %.1fms", scope["method"], path_shape(scope["path"]), status, elapsed)
            request_id_var.reset(token)


async def _healthz(_request: Request) -> Response:
    return Response(b'{"status":"ok"}', media_type="application/json")


class SurfaceDispatcher:
    """Sends ``/fhir`` straight to the lean FHIR app and everything else to FastAPI.

    The FHIR hot paths skip FastAPI's own middleware stack (DESIGN.md §1b: it cost more than the
    whole database work of a read). Lifespan events go to the FastAPI app.
    """

    def __init__(self, *, fhir: ASGIApp, portal: FastAPI) -> None:
        self.fhir = fhir
        self.portal = portal

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path = scope["path"]
            if path == "/fhir" or path.startswith("/fhir/"):
                root = scope.get("root_path", "")
                child = {
                    **scope,
                    "app_root_path": scope.get("app_root_path", root),
                    "root_path": root + "/fhir",
                }
                if path == "/fhir":
                    # The API's base is the FHIR app's root: POST /fhir is a transaction, not a
                    # redirect to /fhir/ (a client would not resend its body).
                    child["path"] = "/fhir/"
                await self.fhir(child, receive, send)
                return
        await self.portal(scope, receive, send)


def federation_deps(rt: Runtime) -> FederationDeps:
    """Federated sign-in for the portal: the relying party, and the people it may find."""
    return FederationDeps(
        federation=Federation(
            rt.settings.federation,
            key=rt.storage.derive_key("federation-sign-in"),
            audit=rt.audit,
            clock=rt.clock,
        ),
        accounts=rt.accounts,
        transaction=rt.transaction,
        people=RecordPeople(rt.record, rt.carnet_context(), registry=rt.enrollment.activation),
        clock=rt.clock,
        public_base_url=rt.settings.public_base_url,
    )


def create_app(runtime: Runtime | None = None) -> ASGIApp:
    """The application; builds its runtime from the settings unless one is given (tests)."""
    rt = runtime or build_runtime(load_settings())
    settings = rt.settings
    federation = federation_deps(rt)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        rt.record.warm_up(frozenset({"Patient", "Observation", "Condition", "Encounter"}))
        if settings.jobs.worker_in_server:
            worker = rt.worker()
            rt.workers.append(worker)
            worker.start_thread()
        yield
        for worker in rt.workers:
            worker.stop()
        federation.federation.close()
        if runtime is None:
            rt.close()

    app = FastAPI(
        title="Carnet",
        version="0.1.0",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        lifespan=lifespan,
    )
    fhir = build_fhir_app(
        FhirDeps(
            database=rt.database,
            record=rt.record,
            authz=rt.authz,
            settings=settings.fhir,
            base_url=settings.fhir_base_url,
        )
    )
    app.router.routes.extend(build_authz_routes(rt.authz, rt.database))
    install_portal(
        app,
        PortalDeps(
            settings=settings.portal,
            csrf_key=rt.storage.derive_key("portal-csrf"),
            production=settings.is_production,
            fhir_base_url=settings.fhir_base_url,
            # OAuth endpoints authenticate clients, not browsers' cookies: no CSRF token there.
            csrf_exempt=("/oauth2/", "/.well-known/"),
            public_base_url=settings.public_base_url,
            accounts=rt.accounts,
            transaction=rt.transaction,
            federation=federation,
            enrollment=rt.enrollment,
            record=rt.record,
            jobs=rt.jobs,
            documents_max_upload_bytes=settings.documents.max_upload_bytes,
        ),
    )

    # A bare Starlette route: liveness costs nothing, and it is the benchmarks' ceiling.
    app.router.routes.append(Route("/healthz", _healthz, methods=["GET"]))

    @app.get("/readyz", include_in_schema=False)
    def readyz() -> Response:
        with rt.transaction(readonly=True) as db:
            db.execute(text("SELECT 1"))
        return JSONResponse({"status": "ready"})

    app.state.runtime = rt
    return RequestContextMiddleware(
        SurfaceDispatcher(fhir=fhir, portal=app), hsts=settings.is_production
    )
