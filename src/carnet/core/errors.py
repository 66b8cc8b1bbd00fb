"""The error tree every area extends.

    CarnetError
     ├── ClientError            the caller's request cannot be honoured as sent (4xx)
     │    ├── InvalidInput      malformed or invalid content; carries Issues naming the elements
     │    ├── NotFound          absent, or present but refused: the two are indistinguishable
     │    ├── Gone              deleted, or made unreadable by crypto-shredding
     │    ├── Conflict          the state changed under the caller (concurrent write, duplicate)
     │    │    └── PreconditionFailed   a stated precondition (If-Match) does not hold
     │    ├── Forbidden         the caller is known and refused an action on something it may see
     │    ├── Unauthenticated   no valid credentials
     │    ├── PayloadTooLarge   over a configured size limit
     │    └── TooManyRequests   over a rate limit
     └── ConfigurationError     the process refuses to start, and says why

HTTP mapping happens in two places only (DESIGN.md §8.4): the FHIR surface renders these as
OperationOutcome, the portal as error pages. A ClientError's message is written for the caller
and must never carry health data or identifiers.

Transaction rule: the entry point commits when a ClientError escapes (so the audit event of a
refusal survives) and rolls back on anything else. A service raising a ClientError must therefore
have undone its own partial writes first (the record repository does it with a savepoint).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

IssueSeverity = Literal["fatal", "error", "warning", "information"]


@dataclass(frozen=True, slots=True)
class Issue:
    """One problem with the input, shaped like an OperationOutcome.issue."""

    code: str
    """A FHIR issue-type code: invalid, structure, required, value, not-found, conflict, …"""
    diagnostics: str
    expression: str | None = None
    """The element at fault, as a FHIRPath-like path (``Observation.status``)."""
    severity: IssueSeverity = "error"


class CarnetError(Exception):
    """Base of every error Carnet raises on purpose."""


class ClientError(CarnetError):
    """The request cannot be honoured as sent."""

    issue_code = "processing"

    def __init__(self, message: str, *, issues: list[Issue] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.issues = issues or [Issue(code=self.issue_code, diagnostics=message)]


class InvalidInput(ClientError):
    issue_code = "invalid"


class NotFound(ClientError):
    issue_code = "not-found"


class Gone(ClientError):
    issue_code = "deleted"


class Conflict(ClientError):
    issue_code = "conflict"


class PreconditionFailed(Conflict):
    pass


class Forbidden(ClientError):
    issue_code = "forbidden"


class Unauthenticated(ClientError):
    issue_code = "login"


class PayloadTooLarge(ClientError):
    issue_code = "too-costly"


class TooManyRequests(ClientError):
    issue_code = "throttled"


class ConfigurationError(CarnetError):
    """Raised at start-up when settings or key material are unsafe or missing."""
