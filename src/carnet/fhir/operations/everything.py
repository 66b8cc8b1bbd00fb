"""``Patient/[id]/$everything``: a patient's record in one searchset Bundle, paged.

http://hl7.org/fhir/OperationDefinition/Patient-everything, with ``_since``, ``_type`` and
``_count`` (``start`` and ``end``, the care dates, are not supported and refused). Entries of
the compartment have ``search.mode`` match; the resources they reference outside every
compartment (practitioners, organizations…) come after them as include. Pages follow the
``next`` link; a page's cursor is the record's keyset position, so pages neither skip nor repeat
while the record changes. ``GET Patient/$everything`` is for a token bound to one patient (a
patient's own app); a system client names the patient.
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from carnet.access.schemas import Action
from carnet.core.errors import InvalidInput, Issue
from carnet.fhir import params
from carnet.fhir.auth import require_scope
from carnet.fhir.http import check_accept, check_id, json_response
from carnet.fhir.runner import Runner
from carnet.record.service import ScanPage

DEFINITION = "http://hl7.org/fhir/OperationDefinition/Patient-everything"
_PARAMETERS = ("_since", "_type", "_count", "_cursor", "_format")
_KEPT = ("_since", "_type", "_count", "_format")


class Everything:
    def __init__(self, runner: Runner) -> None:
        self.runner = runner
        self.deps = runner.deps

    async def by_id(self, request: Request) -> Response:
        """``GET Patient/{id}/$everything``."""
        return await self._everything(request, check_id(request.path_params["id"]))

    async def own(self, request: Request) -> Response:
        """``GET Patient/$everything``, for a token bound to one patient."""
        return await self._everything(request, None)

    async def _everything(self, request: Request, patient_id: str | None) -> Response:
        check_accept(request)
        params.unsupported(request, _PARAMETERS)
        settings = self.deps.settings
        count = params.count(
            request, default=settings.everything_max_count, maximum=settings.everything_max_count
        )
        since = params.since(request)
        types = params.types(request, self.deps.record.resource_types)
        cursor = params.cursor(request)
        ctx = await self.runner.context(request)
        require_scope(ctx, "Patient", Action.READ)
        target = patient_id or ctx.patient_id
        if target is None:
            issue = Issue(
                "required",
                "Name the patient: GET Patient/{id}/$everything (this token has no patient).",
            )
            raise InvalidInput("no patient", issues=[issue])
        page = await self.runner.run(
            ctx,
            lambda repo: repo.everything(
                target, count=count, since=since, types=types, cursor=cursor
            ),
        )
        url = f"{self.deps.base_url}/Patient/{target}/$everything"
        return json_response(_bundle(page, request, url, self.deps.base_url))


def _bundle(page: ScanPage, request: Request, url: str, base_url: str) -> dict[str, Any]:
    links = [{"relation": "self", "url": params.self_url(url, request)}]
    if page.next_cursor is not None:
        next_url = params.next_url(url, request, page.next_cursor, _KEPT)
        links.append({"relation": "next", "url": next_url})
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "link": links,
        "entry": [
            {
                "fullUrl": f"{base_url}/{entry.resource.reference}",
                # The stored bytes go out as they are: no parse and re-serialise per resource.
                "resource": orjson.Fragment(entry.resource.body),
                "search": {"mode": "include" if entry.included else "match"},
            }
            for entry in page.entries
        ],
    }
