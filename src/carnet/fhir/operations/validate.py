"""``$validate``: would this resource be accepted? (http://hl7.org/fhir/OperationDefinition/Resource-validate)

``POST /{type}/$validate`` and ``POST /{type}/{id}/$validate``, the body a resource or a
Parameters with ``resource``, ``mode`` (create, update, delete) and ``profile``. The answer is an
OperationOutcome, 200 either way: the issues found, or one "All OK". Validation is the one the
record applies to every write (the official R4 JSON schema and the rules it cannot express);
profiles are not checked, and the outcome says so when one is named.

Without an id this reaches no data. With one, the resource is read through the repository first
(access decided and audited, absent and refused both answering 404), and ``update`` checks that
the body is that resource.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from carnet.access.schemas import AccessContext, Action
from carnet.core.errors import InvalidInput, Issue
from carnet.fhir.auth import require_scope
from carnet.fhir.http import check_accept, check_id, json_response, read_json_body
from carnet.fhir.outcome import operation_outcome
from carnet.fhir.runner import Runner
from carnet.record.errors import UnknownResourceType

DEFINITION = "http://hl7.org/fhir/OperationDefinition/Resource-validate"
_MODES = frozenset({"create", "update", "delete"})


class Validate:
    def __init__(self, runner: Runner) -> None:
        self.runner = runner
        self.deps = runner.deps

    async def type_level(self, request: Request) -> Response:
        """``POST /{type}/$validate``."""
        return await self._validate(request, None)

    async def instance(self, request: Request) -> Response:
        """``POST /{type}/{id}/$validate``."""
        return await self._validate(request, check_id(request.path_params["id"]))

    async def _validate(self, request: Request, resource_id: str | None) -> Response:
        check_accept(request)
        resource_type = request.path_params["type"]
        if resource_type not in self.deps.record.resource_types:
            raise UnknownResourceType
        body = await read_json_body(request, self.deps.settings.max_body_bytes)
        resource, mode, profile = _arguments(body, resource_type)
        if mode in ("update", "delete") and resource_id is None:
            raise _bad(f"Mode {mode} validates an existing resource: POST to /{{type}}/{{id}}.")
        if mode != "delete" and resource is None:
            raise _bad("The resource to validate is missing.")
        issues = await self.runner.authenticated(
            request, lambda ctx: self._issues(ctx, resource_type, resource_id, resource, mode)
        )
        if profile:
            note = "Profiles are not checked: validated against the base R4 definition only."
            issues.append(Issue("informational", note, severity="information"))
        if not any(issue.severity in ("error", "fatal") for issue in issues):
            issues.insert(0, Issue("informational", "All OK", severity="information"))
        return json_response(operation_outcome(issues))

    def _issues(
        self,
        ctx: AccessContext,
        resource_type: str,
        resource_id: str | None,
        resource: dict[str, Any] | None,
        mode: str | None,
    ) -> list[Issue]:
        found: list[Issue] = []
        if resource_id is not None:
            # Reaching data: through the door, so the read is decided and audited.
            require_scope(ctx, resource_type, Action.READ)
            with self.deps.database.transaction() as db:
                self.deps.record.repository(db=db, ctx=ctx).read(resource_type, resource_id)
        if resource is None:
            return found
        if resource.get("resourceType") != resource_type:
            message = f"The resource is not a {resource_type}."
            found.append(Issue("invalid", message, f"{resource_type}.resourceType"))
            return found
        if mode == "update" and resource.get("id") != resource_id:
            message = "The resource's id must be the id in the URL."
            found.append(Issue("invalid", message, f"{resource_type}.id"))
        found.extend(self.deps.record.prepare(resource).issues)
        return found


def _arguments(
    body: dict[str, Any], resource_type: str
) -> tuple[dict[str, Any] | None, str | None, str | None]:
    """(resource, mode, profile) from a Parameters body, or the body itself as the resource."""
    if body.get("resourceType") != "Parameters" or resource_type == "Parameters":
        return body, None, None
    parameters = body.get("parameter", [])
    if not isinstance(parameters, list):
        raise _bad("Parameters.parameter must be an array.")
    named = {p.get("name"): p for p in parameters if isinstance(p, dict)}
    resource = named.get("resource", {}).get("resource")
    mode = named.get("mode", {}).get("valueCode")
    profile = named.get("profile", {})
    profile_url = profile.get("valueUri") or profile.get("valueCanonical")
    if resource is not None and not isinstance(resource, dict):
        raise _bad("The resource parameter must hold a resource.")
    if mode is not None and mode not in _MODES:
        raise _bad("mode must be create, update or delete.")
    return resource, mode, profile_url


def _bad(message: str) -> InvalidInput:
    return InvalidInput(message, issues=[Issue("invalid", message)])
