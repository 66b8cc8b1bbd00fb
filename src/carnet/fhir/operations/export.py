"""``$export`` (FHIR Bulk Data 2.0): kick-off, status, files and deletion.

Kick-off: ``GET $export``, ``GET Patient/$export`` (every patient's compartment, or the token's
own patient) and ``GET Group/{id}/$export`` (the Group's active Patient members, which the
record reads through its door), with ``Prefer: respond-async`` (required), ``_outputFormat``
(NDJSON only), ``_type`` and ``_since``.
``_typeFilter``, ``_elements``, ``patient``, ``includeAssociatedData`` and any other parameter
are refused (400) rather than ignored: an export that ignored a filter would hand over more than
was asked for. The answer is 202 with ``Content-Location``: the status URL.

The status, file and deletion URLs carry random ids only, and answer only the client whose token
started the export (anyone else gets 404). Status: 202 with ``X-Progress`` while running; 200
with the manifest once complete (``requiresAccessToken`` true: files are fetched with the same
bearer token); 500 with an OperationOutcome if the export failed. Files are streamed as
``application/fhir+ndjson``, part by part (each part opened in a short read-only transaction),
so memory stays flat whatever their size. ``DELETE`` on the status URL cancels the export and
deletes its files (202).
"""

from __future__ import annotations

from collections.abc import Iterator
from email.utils import format_datetime
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from carnet.access.schemas import AccessContext, Action
from carnet.core.errors import InvalidInput, Issue
from carnet.fhir import params
from carnet.fhir.auth import require_scope
from carnet.fhir.http import check_accept, check_id
from carnet.fhir.outcome import outcome_response
from carnet.fhir.runner import Runner
from carnet.record.service import (
    ExportDownload,
    ExportLevel,
    ExportRequest,
    ExportStatus,
)

DEFINITIONS = {
    "system": "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/export",
    "patient": "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/patient-export",
    "group": "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/group-export",
}
NDJSON = "application/fhir+ndjson"
_FORMATS = {NDJSON, "application/ndjson", "ndjson"}
_PARAMETERS = ("_outputFormat", "_type", "_since")
_CHUNK = 256 * 1024  # bytes handed to the server at once while streaming a file


class Export:
    def __init__(self, runner: Runner) -> None:
        self.runner = runner
        self.deps = runner.deps

    async def system(self, request: Request) -> Response:
        """``GET $export``."""
        return await self._kick_off(request, "system", None)

    async def patients(self, request: Request) -> Response:
        """``GET Patient/$export``."""
        return await self._kick_off(request, "patient", None)

    async def group(self, request: Request) -> Response:
        """``GET Group/{id}/$export``."""
        return await self._kick_off(request, "group", check_id(request.path_params["id"]))

    async def status(self, request: Request) -> Response:
        """``GET`` on the status URL: progress, the manifest, or the failure."""
        export_id = check_id(request.path_params["export_id"])
        ctx = await self.runner.context(request)
        status = await self.runner.run(ctx, lambda repo: repo.export_status(export_id))
        if status.state in {"accepted", "in-progress"}:
            headers = {"X-Progress": f"{status.written} resources written", "Retry-After": "2"}
            return Response(status_code=202, headers=headers)
        if status.state == "failed":
            issue = Issue("exception", status.error or "The export failed.", severity="fatal")
            return outcome_response([issue], 500)
        headers = {"Expires": format_datetime(status.expires_at, usegmt=True)}
        return Response(
            orjson.dumps(self._manifest(status)),
            headers=headers,
            media_type="application/json",
        )

    async def delete(self, request: Request) -> Response:
        """``DELETE`` on the status URL: cancel, and delete the files."""
        export_id = check_id(request.path_params["export_id"])
        ctx = await self.runner.context(request)
        await self.runner.run(ctx, lambda repo: repo.delete_export(export_id))
        return Response(status_code=202)

    async def download(self, request: Request) -> Response:
        """``GET`` on a file URL of the manifest: the NDJSON, streamed."""
        export_id = check_id(request.path_params["export_id"])
        file_id = check_id(request.path_params["file_id"])
        ctx = await self.runner.context(request)
        download = await self.runner.run(ctx, lambda repo: repo.export_download(export_id, file_id))
        return StreamingResponse(self._stream(ctx, download), media_type=NDJSON)

    async def _kick_off(
        self, request: Request, level: ExportLevel, group_id: str | None
    ) -> Response:
        check_accept(request)
        prefer = [p.strip() for p in request.headers.get("prefer", "").split(",")]
        if "respond-async" not in prefer:
            issue = Issue("required", "A bulk export needs the header Prefer: respond-async.")
            raise InvalidInput("Prefer", issues=[issue])
        params.unsupported(request, _PARAMETERS)
        output_format = request.query_params.get("_outputFormat", NDJSON)
        if output_format not in _FORMATS:
            issue = Issue("not-supported", "_outputFormat: only application/fhir+ndjson.")
            raise InvalidInput("_outputFormat", issues=[issue])
        types = params.types(request, self.deps.record.resource_types)
        since = params.since(request)
        ctx = await self.runner.context(request)
        _require_read(ctx, types, group_id)
        path = {"system": "", "patient": "/Patient", "group": f"/Group/{group_id}"}[level]
        query = f"?{request.url.query}" if request.url.query else ""
        request_url = f"{self.deps.base_url}{path}/$export{query}"
        wanted = ExportRequest(
            level=level, request_url=request_url, types=types, since=since, group_id=group_id
        )
        policy = self.deps.record.export_policy
        export_id = await self.runner.run(ctx, lambda repo: repo.start_export(wanted, policy))
        location = f"{self.deps.base_url}/_export/{export_id}"
        return outcome_response(
            [Issue("informational", "The export has started.", severity="information")],
            202,
            headers={"Content-Location": location},
        )

    def _manifest(self, status: ExportStatus) -> dict[str, Any]:
        base = f"{self.deps.base_url}/_export/{status.id}"
        files = [
            {"type": f.resource_type, "url": f"{base}/{f.id}", "count": f.count}
            for f in status.files
        ]
        return {
            "transactionTime": status.transaction_time.isoformat(timespec="milliseconds").replace(
                "+00:00", "Z"
            ),
            "request": status.request_url,
            "requiresAccessToken": True,
            "output": [f for f, s in zip(files, status.files, strict=True) if not s.error],
            "deleted": [],
            "error": [f for f, s in zip(files, status.files, strict=True) if s.error],
        }

    def _stream(self, ctx: AccessContext, download: ExportDownload) -> Iterator[bytes]:
        """The file's bytes, one part at a time; each part's keys are fetched in a short
        read-only transaction, its lines opened afterwards (no transaction held meanwhile)."""
        buffer = bytearray()
        for index in range(download.parts):
            with self.deps.database.transaction(readonly=True) as db:
                lines = self.deps.record.repository(db=db, ctx=ctx).export_part(download, index)
            for line in lines:
                buffer += line
                if len(buffer) >= _CHUNK:
                    yield bytes(buffer)
                    buffer.clear()
        if buffer:
            yield bytes(buffer)


def _require_read(ctx: AccessContext, types: tuple[str, ...] | None, group_id: str | None) -> None:
    """403 for a token without read on a type asked for (or on Group, to read the group)."""
    for resource_type in types or ():
        require_scope(ctx, resource_type, Action.READ)
    if group_id is not None:
        require_scope(ctx, "Group", Action.READ)
