"""The instance interactions: read, vread, create, update, patch, delete (instance history is
in ``history``, with the type and system ones).

A read or vread honours ``_summary`` (true, text, data, false) and ``_elements`` as search does
(``record.service.read_subset``), the subset tagged SUBSETTED; other query parameters are not
its concern.

Each handler parses, calls one repository method inside a transaction (``Runner.call``), and
renders. The transaction commits when the repository raised a ClientError too, so the audit
event of a refusal or a failure is kept (core.errors).
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from carnet.access.schemas import Action
from carnet.core.errors import InvalidInput, Issue
from carnet.fhir.http import (
    check_accept,
    check_id,
    check_version,
    not_modified,
    parse_if_match,
    prefer_return,
    read_json_body,
    read_json_patch,
    resource_headers,
    resource_response,
)
from carnet.fhir.runner import Runner
from carnet.record.service import read_subset


class Interactions:
    def __init__(self, runner: Runner) -> None:
        self.runner = runner
        self.deps = runner.deps

    async def read(self, request: Request) -> Response:
        check_accept(request)
        resource_type, resource_id = _type_and_id(request)
        wanted = read_subset(request.query_params.multi_items())  # refused before reading
        stored = await self.runner.call(
            request,
            resource_type,
            Action.READ,
            lambda repo, _: repo.read(resource_type, resource_id),
            short=True,
        )
        if not_modified(request, stored):
            return Response(status_code=304, headers=resource_headers(stored, "", location=False))
        return resource_response(self.deps.record.subset(stored, wanted), self.deps.base_url)

    async def vread(self, request: Request) -> Response:
        check_accept(request)
        resource_type, resource_id = _type_and_id(request)
        version = check_version(request.path_params["version"])
        wanted = read_subset(request.query_params.multi_items())
        stored = await self.runner.call(
            request,
            resource_type,
            Action.READ,
            lambda repo, _: repo.vread(resource_type, resource_id, version),
            short=True,
        )
        if not_modified(request, stored):
            return Response(status_code=304, headers=resource_headers(stored, "", location=False))
        return resource_response(self.deps.record.subset(stored, wanted), self.deps.base_url)

    async def create(self, request: Request) -> Response:
        check_accept(request)
        resource_type = request.path_params["type"]
        body = await read_json_body(request, self.deps.settings.max_body_bytes)
        if body.get("resourceType") != resource_type:
            body = _mismatch(body, resource_type)
        body.pop("id", None)  # a create ignores any id the client sent (the server assigns it)
        stored = await self.runner.call(
            request,
            resource_type,
            Action.CREATE,
            lambda repo, prepared: repo.create(prepared or body),
            body=body,
            short=True,
        )
        return resource_response(
            stored,
            self.deps.base_url,
            status=201,
            location=True,
            prefer=prefer_return(request),
            message="Created.",
        )

    async def update(self, request: Request) -> Response:
        check_accept(request)
        resource_type, resource_id = _type_and_id(request)
        if_match = parse_if_match(request)
        body = await read_json_body(request, self.deps.settings.max_body_bytes)
        outcome = await self.runner.call(
            request,
            resource_type,
            Action.UPDATE,
            lambda repo, prepared: repo.update(
                resource_type, resource_id, prepared or body, if_match=if_match
            ),
            body=body,
            short=True,
        )
        return resource_response(
            outcome.resource,
            self.deps.base_url,
            status=201 if outcome.created else 200,
            location=outcome.created,
            prefer=prefer_return(request),
            message="Created." if outcome.created else "Updated.",
        )

    async def patch(self, request: Request) -> Response:
        """JSON Patch (RFC 6902) of the current version; If-Match honoured."""
        check_accept(request)
        resource_type, resource_id = _type_and_id(request)
        if_match = parse_if_match(request)
        operations = await read_json_patch(request, self.deps.settings.max_body_bytes)
        outcome = await self.runner.call(
            request,
            resource_type,
            Action.UPDATE,
            lambda repo, _: repo.patch(resource_type, resource_id, operations, if_match=if_match),
        )
        return resource_response(
            outcome.resource,
            self.deps.base_url,
            prefer=prefer_return(request),
            message="Patched.",
        )

    async def delete(self, request: Request) -> Response:
        resource_type, resource_id = _type_and_id(request)
        outcome = await self.runner.call(
            request,
            resource_type,
            Action.DELETE,
            lambda repo, _: repo.delete(resource_type, resource_id),
            short=True,
        )
        headers = {} if outcome.version is None else {"ETag": f'W/"{outcome.version}"'}
        return Response(status_code=204, headers=headers)


def _type_and_id(request: Request) -> tuple[str, str]:
    return request.path_params["type"], check_id(request.path_params["id"])


def _mismatch(body: dict[str, Any], resource_type: str) -> dict[str, Any]:
    del body
    issue = Issue(
        "invalid",
        f"The body's resourceType must be {resource_type}, as in the URL.",
        f"{resource_type}.resourceType",
    )
    raise InvalidInput("resourceType mismatch", issues=[issue])
