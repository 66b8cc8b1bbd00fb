"""Errors as OperationOutcome: the FHIR surface's single mapping from Carnet errors to HTTP."""

from __future__ import annotations

import logging

import orjson
from starlette.responses import Response

from carnet.core.errors import (
    CarnetError,
    ClientError,
    Conflict,
    Forbidden,
    Gone,
    InvalidInput,
    Issue,
    NotFound,
    PayloadTooLarge,
    PreconditionFailed,
    TooManyRequests,
    Unauthenticated,
)
from carnet.core.logging import request_id_var
from carnet.record.errors import EntryFailed, InvalidResource

log = logging.getLogger(__name__)

FHIR_JSON = "application/fhir+json"

# Most specific first: the first match wins.
_STATUS: tuple[tuple[type[ClientError], int], ...] = (
    (InvalidResource, 422),
    (InvalidInput, 400),
    (NotFound, 404),
    (Gone, 410),
    (PreconditionFailed, 412),
    (Conflict, 409),
    (Unauthenticated, 401),
    (Forbidden, 403),
    (PayloadTooLarge, 413),
    (TooManyRequests, 429),
)


class NotAcceptable(ClientError):
    issue_code = "not-supported"


class UnsupportedMediaType(ClientError):
    issue_code = "not-supported"


class MethodNotAllowed(ClientError):
    issue_code = "not-supported"


_EXTRA_STATUS = {NotAcceptable: 406, UnsupportedMediaType: 415, MethodNotAllowed: 405}


def status_for(error: ClientError) -> int:
    if isinstance(error, EntryFailed):
        # A failed transaction answers what its failing entry would have (404, 412, 422...).
        return status_for(error.cause)
    for error_type, status in _EXTRA_STATUS.items():
        if isinstance(error, error_type):
            return status
    for error_type, status in _STATUS:
        if isinstance(error, error_type):
            return status
    return 400


def operation_outcome(issues: list[Issue]) -> dict[str, object]:
    return {
        "resourceType": "OperationOutcome",
        "issue": [
            {
                "severity": issue.severity,
                "code": issue.code,
                "diagnostics": issue.diagnostics,
                **({"expression": [issue.expression]} if issue.expression else {}),
            }
            for issue in issues
        ],
    }


def outcome_response(
    issues: list[Issue], status: int, headers: dict[str, str] | None = None
) -> Response:
    return Response(
        orjson.dumps(operation_outcome(issues)),
        status_code=status,
        media_type=FHIR_JSON,
        headers=headers,
    )


def error_response(error: Exception) -> Response:
    """The response for any error escaping a FHIR handler; never a stack trace."""
    if isinstance(error, ClientError):
        headers = None
        if isinstance(error, Unauthenticated):
            headers = {"WWW-Authenticate": 'Bearer realm="carnet"'}
        return outcome_response(error.issues, status_for(error), headers)
    if isinstance(error, CarnetError):
        log.error("FHIR request failed: %s", type(error).__name__)
    else:
        log.error("FHIR request failed with an unexpected error", exc_info=error)
    issue = Issue(
        code="exception",
        diagnostics=f"Internal error; quote request id {request_id_var.get()} to support.",
        severity="fatal",
    )
    return outcome_response([issue], 500)
