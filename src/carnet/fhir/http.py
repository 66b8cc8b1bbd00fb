"""Request parsing and response building shared by the FHIR handlers."""

from __future__ import annotations

import re
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from carnet.core.errors import InvalidInput, Issue, PayloadTooLarge
from carnet.fhir.outcome import (
    FHIR_JSON,
    NotAcceptable,
    UnsupportedMediaType,
    operation_outcome,
)
from carnet.record.schemas import StoredResource

_ID = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")
_ETAG = re.compile(r'^(?:W/)?"(\d{1,9})"$')
_JSON_TYPES = ("application/fhir+json", "application/json", "application/json+fhir")
JSON_PATCH = "application/json-patch+json"
_FORMATS = {"json", "application/fhir+json", "application/json", "application/json+fhir"}


def check_id(resource_id: str) -> str:
    if not _ID.match(resource_id):
        issue = Issue("value", "A resource id is 1 to 64 letters, digits, '-' or '.'.")
        raise InvalidInput("invalid id", issues=[issue])
    return resource_id


def check_version(text: str) -> int:
    if not text.isdigit() or len(text) > 9 or int(text) < 1:
        raise InvalidInput("invalid version", issues=[Issue("value", "A version is a number.")])
    return int(text)


def check_accept(request: Request) -> None:
    """Only JSON is served; ``_format`` overrides the Accept header, as FHIR says."""
    fmt = request.query_params.get("_format")
    if fmt is not None:
        # An unencoded "+" arrives as a space (application/fhir+json): put it back.
        if fmt.split(";")[0].strip().lower().replace(" ", "+") not in _FORMATS:
            raise NotAcceptable("format", issues=[Issue("not-supported", "Only JSON is served.")])
        return
    accept = request.headers.get("accept", "")
    if not accept:
        return
    types = [part.split(";")[0].strip().lower() for part in accept.split(",")]
    if any(t in _JSON_TYPES or t in {"*/*", "application/*"} for t in types):
        return
    raise NotAcceptable("format", issues=[Issue("not-supported", "Only JSON is served.")])


def parse_if_match(request: Request) -> int | None:
    value = request.headers.get("if-match")
    if value is None:
        return None
    match = _ETAG.match(value.strip())
    if match is None:
        issue = Issue("value", 'If-Match must be an ETag such as W/"3".')
        raise InvalidInput("If-Match", issues=[issue])
    return int(match.group(1))


async def read_json_body(request: Request, limit: int) -> dict[str, Any]:
    """The request body as a JSON object, refused with 413 as soon as it passes ``limit``."""
    body = await _read_json(
        request, limit, _JSON_TYPES, "Send the resource as application/fhir+json."
    )
    if not isinstance(body, dict):
        raise InvalidInput(
            "not an object", issues=[Issue("structure", "A resource is a JSON object.")]
        )
    return body


async def read_json_patch(request: Request, limit: int) -> Any:
    """A PATCH body: a JSON Patch document (``application/json-patch+json``, RFC 6902)."""
    return await _read_json(
        request, limit, (JSON_PATCH,), f"Send the patch as {JSON_PATCH} (RFC 6902)."
    )


async def _read_json(request: Request, limit: int, media_types: tuple[str, ...], hint: str) -> Any:
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type not in media_types:
        raise UnsupportedMediaType("media type", issues=[Issue("not-supported", hint)])
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
    try:
        return orjson.loads(b"".join(chunks))
    except orjson.JSONDecodeError as exc:
        issue = Issue("structure", f"The body is not valid JSON ({exc.msg}).")
        raise InvalidInput("malformed JSON", issues=[issue]) from None


def _too_large(limit: int) -> PayloadTooLarge:
    issue = Issue("too-costly", f"The body is larger than the limit of {limit} bytes.")
    return PayloadTooLarge("too large", issues=[issue])


def prefer_return(request: Request) -> str:
    """The ``return`` preference: representation (default), minimal or OperationOutcome."""
    for part in request.headers.get("prefer", "").split(";"):
        name, _, value = part.strip().partition("=")
        if name == "return" and value.strip('"') in {"minimal", "OperationOutcome"}:
            return value.strip('"')
    return "representation"


def not_modified(request: Request, stored: StoredResource) -> bool:
    """Whether a conditional read may answer 304: ``If-None-Match`` names the current version
    (weak or strong form, or ``*``), else ``If-Modified-Since`` is not before the last update.
    HTTP dates have whole seconds, so the comparison drops the milliseconds."""
    tags = request.headers.get("if-none-match")
    if tags is not None:
        wanted = {tag.strip() for tag in tags.split(",")}
        return "*" in wanted or bool(wanted & {stored.etag, stored.etag.removeprefix("W/")})
    since = request.headers.get("if-modified-since")
    if since is None:
        return False
    try:
        moment = parsedate_to_datetime(since)
    except (TypeError, ValueError, IndexError):
        return False  # an unreadable date is ignored, as HTTP says
    if moment.tzinfo is None:
        return False
    return stored.last_updated.replace(microsecond=0) <= moment


def resource_headers(stored: StoredResource, base_url: str, *, location: bool) -> dict[str, str]:
    headers = {
        "ETag": stored.etag,
        "Last-Modified": format_datetime(stored.last_updated, usegmt=True),
    }
    if location:
        headers["Location"] = (
            f"{base_url}/{stored.resource_type}/{stored.id}/_history/{stored.version}"
        )
    return headers


def resource_response(
    stored: StoredResource,
    base_url: str,
    *,
    status: int = 200,
    location: bool = False,
    prefer: str = "representation",
    message: str = "",
) -> Response:
    headers = resource_headers(stored, base_url, location=location)
    if prefer == "minimal":
        return Response(None, status_code=status, headers=headers)
    if prefer == "OperationOutcome":
        outcome = operation_outcome([Issue("informational", message, severity="information")])
        return Response(orjson.dumps(outcome), status, headers=headers, media_type=FHIR_JSON)
    return Response(stored.body, status_code=status, headers=headers, media_type=FHIR_JSON)


def json_response(content: Any, status: int = 200, media_type: str = FHIR_JSON) -> Response:
    return Response(orjson.dumps(content), status_code=status, media_type=media_type)
