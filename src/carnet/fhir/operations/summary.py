"""``Patient/[id]/$summary``: the patient's International Patient Summary, a FHIR document
Bundle (http://hl7.org/fhir/uv/ips/OperationDefinition/summary).

``GET``, or ``POST`` with no body (or an empty ``Parameters``); the ``identifier`` and
``profile`` parameters are not supported and refused. The Bundle holds only what the record
returns to the caller: a Patient the caller may not read is a 404, exactly as if it did not
exist.
"""

from __future__ import annotations

import orjson
from starlette.requests import Request
from starlette.responses import Response

from carnet.access.schemas import Action
from carnet.core.errors import InvalidInput, Issue
from carnet.fhir import params
from carnet.fhir.auth import require_scope
from carnet.fhir.http import check_accept, check_id, json_response
from carnet.fhir.runner import Runner
from carnet.summary import service as summary_service

DEFINITION = summary_service.IPS_DEFINITION
_BODY_LIMIT = 4096


class Summary:
    def __init__(self, runner: Runner) -> None:
        self.runner = runner
        self.deps = runner.deps

    async def get(self, request: Request) -> Response:
        """``GET Patient/{id}/$summary``."""
        return await self._summary(request)

    async def post(self, request: Request) -> Response:
        """``POST Patient/{id}/$summary``, with no parameters in the body."""
        await _no_parameters(request)
        return await self._summary(request)

    async def _summary(self, request: Request) -> Response:
        check_accept(request)
        params.unsupported(request, ())
        patient_id = check_id(request.path_params["id"])
        ctx = await self.runner.context(request)
        require_scope(ctx, "Patient", Action.READ)
        now = self.deps.record.clock.now()
        bundle = await self.runner.run(
            ctx,
            lambda repo: summary_service.international_summary(
                repo, patient_id=patient_id, base_url=self.deps.base_url, now=now
            ),
        )
        return json_response(bundle)


async def _no_parameters(request: Request) -> None:
    """Accept an empty body or a ``Parameters`` without parameters; refuse anything else."""
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > _BODY_LIMIT:
            break
    if not body.strip():
        return
    try:
        parsed = orjson.loads(body) if len(body) <= _BODY_LIMIT else None
    except orjson.JSONDecodeError:
        parsed = None
    empty = isinstance(parsed, dict) and not parsed.get("parameter")
    if empty and isinstance(parsed, dict) and parsed.get("resourceType") == "Parameters":
        return
    issue = Issue("not-supported", "$summary takes no parameters: send no body.")
    raise InvalidInput("parameters", issues=[issue])
