"""Conditional create, update, patch and delete over plain HTTP (FHIR R4 http.html).

``POST /{type}`` with ``If-None-Exist``, ``PUT /{type}?criteria``, ``PATCH /{type}?criteria``
and ``DELETE /{type}?criteria`` each run as a transaction of one entry, so the rules (what
0, 1 or several matches do) live once, in the record's bundle processing.
"""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import urlencode

import orjson
from starlette.requests import Request
from starlette.responses import Response

from carnet.core.errors import InvalidInput, Issue
from carnet.fhir.bundles import Bundles
from carnet.fhir.http import (
    JSON_PATCH,
    check_accept,
    prefer_return,
    read_json_body,
    read_json_patch,
    resource_response,
)
from carnet.fhir.interactions import Interactions

_NOT_CRITERIA = frozenset({"_format", "_pretty"})
"""Query parameters that shape the response and are not search criteria."""


class Conditional:
    def __init__(self, api: Interactions, bundles: Bundles) -> None:
        self.api = api
        self.bundles = bundles
        self.deps = api.deps

    async def create(self, request: Request) -> Response:
        """A create; conditional when ``If-None-Exist`` is given (200 with the match, if any)."""
        criteria = request.headers.get("if-none-exist")
        if criteria is None:
            return await self.api.create(request)
        check_accept(request)
        resource_type = request.path_params["type"]
        body = await read_json_body(request, self.deps.settings.max_body_bytes)
        entry = {
            "resource": body,
            "request": {"method": "POST", "url": resource_type, "ifNoneExist": criteria},
        }
        outcome = await self.bundles.single(request, entry)
        assert outcome.resource is not None
        created = outcome.action == "created"
        return resource_response(
            outcome.resource,
            self.deps.base_url,
            status=201 if created else 200,
            location=True,
            prefer=prefer_return(request),
            message="Created." if created else "Already there: nothing created.",
        )

    async def update(self, request: Request) -> Response:
        """``PUT /{type}?criteria``: create on no match, update the one match, 412 on more."""
        check_accept(request)
        body = await read_json_body(request, self.deps.settings.max_body_bytes)
        entry = {"resource": body, "request": self._request(request, "PUT")}
        outcome = await self.bundles.single(request, entry)
        assert outcome.resource is not None
        created = outcome.action == "created"
        return resource_response(
            outcome.resource,
            self.deps.base_url,
            status=201 if created else 200,
            location=created,
            prefer=prefer_return(request),
            message="Created." if created else "Updated.",
        )

    async def patch(self, request: Request) -> Response:
        """``PATCH /{type}?criteria``: the one match patched (404 on none, 412 on more)."""
        check_accept(request)
        operations = await read_json_patch(request, self.deps.settings.max_body_bytes)
        binary = {
            "resourceType": "Binary",
            "contentType": JSON_PATCH,
            "data": base64.b64encode(orjson.dumps(operations)).decode(),
        }
        entry = {"resource": binary, "request": self._request(request, "PATCH")}
        outcome = await self.bundles.single(request, entry)
        assert outcome.resource is not None
        return resource_response(
            outcome.resource,
            self.deps.base_url,
            prefer=prefer_return(request),
            message="Patched.",
        )

    async def delete(self, request: Request) -> Response:
        """``DELETE /{type}?criteria``: the one match deleted, nothing on none, 412 on more."""
        outcome = await self.bundles.single(request, {"request": self._request(request, "DELETE")})
        headers = {} if outcome.version is None else {"ETag": f'W/"{outcome.version}"'}
        return Response(status_code=204, headers=headers)

    def _request(self, request: Request, method: str) -> dict[str, Any]:
        resource_type = request.path_params["type"]
        pairs = [(k, v) for k, v in request.query_params.multi_items() if k not in _NOT_CRITERIA]
        if not pairs:
            message = f"A {method} on a resource type needs search criteria (Type?name=value)."
            issue = Issue("required", message)
            raise InvalidInput("no criteria", issues=[issue])
        entry_request: dict[str, Any] = {
            "method": method,
            "url": f"{resource_type}?{urlencode(pairs)}",
        }
        if_match = request.headers.get("if-match")
        if if_match is not None:
            entry_request["ifMatch"] = if_match
        return entry_request
