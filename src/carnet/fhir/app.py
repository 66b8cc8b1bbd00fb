"""The FHIR sub-application mounted at ``/fhir``."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from carnet.core.errors import CarnetError, ClientError, Issue, NotFound
from carnet.fhir.bundles import Bundles
from carnet.fhir.capability import capability_statement
from carnet.fhir.conditional import Conditional
from carnet.fhir.history import History
from carnet.fhir.http import check_accept, json_response
from carnet.fhir.interactions import Interactions
from carnet.fhir.operations.everything import Everything
from carnet.fhir.operations.export import Export
from carnet.fhir.operations.summary import Summary
from carnet.fhir.operations.validate import Validate
from carnet.fhir.outcome import MethodNotAllowed, error_response
from carnet.fhir.runner import FhirDeps, Runner
from carnet.fhir.search import Search


def build_fhir_app(deps: FhirDeps) -> Starlette:
    """Routes, and errors rendered as OperationOutcome (never HTML, never a stack trace)."""
    # One runner: one limit on the threads doing database work, whatever the handler.
    runner = Runner(deps)
    api, bundles = Interactions(runner), Bundles(runner)
    conditional, validate = Conditional(api, bundles), Validate(runner)
    history, everything, export = History(runner), Everything(runner), Export(runner)
    search, summary = Search(runner), Summary(runner)
    published = deps.record.clock.now()

    async def metadata(request: Request) -> Response:
        check_accept(request)
        return json_response(
            capability_statement(
                base_url=deps.base_url,
                resource_types=deps.record.resource_types,
                authz=deps.authz,
                published=published,
            )
        )

    async def smart_configuration(_request: Request) -> Response:
        return json_response(deps.authz.smart_configuration(), media_type="application/json")

    routes = [
        Route("/metadata", metadata, methods=["GET"]),
        Route("/.well-known/smart-configuration", smart_configuration, methods=["GET"]),
        # Literal paths before the patterns that would take them for a type or an id.
        Route("/_history", history.of_system, methods=["GET"]),
        Route("/$export", export.system, methods=["GET"]),
        Route("/_export/{export_id}", export.status, methods=["GET"]),
        Route("/_export/{export_id}", export.delete, methods=["DELETE"]),
        Route("/_export/{export_id}/{file_id}", export.download, methods=["GET"]),
        Route("/Patient/$export", export.patients, methods=["GET"]),
        Route("/Patient/$everything", everything.own, methods=["GET"]),
        Route("/Patient/{id}/$everything", everything.by_id, methods=["GET"]),
        Route("/Patient/{id}/$summary", summary.get, methods=["GET"]),
        Route("/Patient/{id}/$summary", summary.post, methods=["POST"]),
        Route("/Group/{id}/$export", export.group, methods=["GET"]),
        Route("/{type}/_history", history.of_type, methods=["GET"]),
        Route("/", bundles.post, methods=["POST"]),
        Route("/{type}/$validate", validate.type_level, methods=["POST"]),
        Route("/{type}/{id}/$validate", validate.instance, methods=["POST"]),
        Route("/{type}/_search", search.post, methods=["POST"]),
        Route("/{type}", search.get, methods=["GET"]),
        Route("/{type}", conditional.create, methods=["POST"]),
        Route("/{type}", conditional.update, methods=["PUT"]),
        Route("/{type}", conditional.patch, methods=["PATCH"]),
        Route("/{type}", conditional.delete, methods=["DELETE"]),
        Route("/{type}/{id}", api.read, methods=["GET"]),
        Route("/{type}/{id}", api.update, methods=["PUT"]),
        Route("/{type}/{id}", api.patch, methods=["PATCH"]),
        Route("/{type}/{id}", api.delete, methods=["DELETE"]),
        Route("/{type}/{id}/_history", history.of_instance, methods=["GET"]),
        Route("/{type}/{id}/_history/{version}", api.vread, methods=["GET"]),
    ]

    async def on_error(_request: Request, exc: Exception) -> Response:
        return error_response(exc)

    async def on_http_error(_request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        if exc.status_code == 405:
            error: ClientError = MethodNotAllowed(
                "method", issues=[Issue("not-supported", "This interaction is not supported here.")]
            )
        else:
            error = NotFound("no route", issues=[Issue("not-found", "No such FHIR endpoint.")])
        return error_response(error)

    return Starlette(
        routes=routes,
        exception_handlers={
            # Carnet's own errors are answered here; anything else reaches the server-error
            # handler, which answers the same OperationOutcome 500 and lets the server log it.
            CarnetError: on_error,
            HTTPException: on_http_error,
            Exception: on_error,
        },
    )
