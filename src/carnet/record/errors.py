"""Errors of the record area.

core.errors.ClientError
 ├── InvalidInput
 │    ├── InvalidResource        the resource breaks the R4 structure (issues name elements)
 │    ├── MismatchedResource     the body's resourceType or id differs from the URL
 │    ├── UnknownResourceType    not an R4 resource type
 │    ├── InvalidBundle          a Bundle or one of its entries cannot be processed as sent
 │    ├── PatchMalformed         a JSON Patch document that is not one
 │    ├── SearchUnavailable      a conditional operation while no search engine is there
 │    ├── InvalidCursor          a paging cursor this server did not make
 │    ├── InvalidSearch          a search parameter is malformed (the issue names it)
 │    └── UnsupportedSearch      a search parameter or modifier this server does not offer
 ├── NotFound
 │    ├── ResourceNotFound       absent, or refused: deliberately the same
 │    └── ExportNotFound         no such export for this requester (or not ready, or expired)
 ├── Gone
 │    └── ResourceDeleted        deleted (its history stays readable)
 ├── Conflict
 │    ├── VersionConflict        written concurrently: retry
 │    ├── PatchConflict          a JSON Patch test failed, or its path is not in the resource
 │    └── PreconditionFailed
 │         ├── VersionMismatch   If-Match named another version
 │         └── MultipleMatches   conditional criteria matched more than one resource
 ├── PayloadTooLarge
 │    └── BundleTooLarge         more entries than the configured limit
 ├── EntryFailed                 one entry failed a transaction: ``cause`` says why
 └── Forbidden
      ├── WriteRefused           the caller may not write this
      └── ExportRefused          the caller may not export these types
(storage.errors.DataKeyDestroyed, a Gone, also escapes reads of shredded data.)
"""

from __future__ import annotations

from carnet.core.errors import (
    ClientError,
    Conflict,
    Forbidden,
    Gone,
    InvalidInput,
    Issue,
    NotFound,
    PayloadTooLarge,
    PreconditionFailed,
)


class InvalidResource(InvalidInput):
    def __init__(self, issues: list[Issue]) -> None:
        first = issues[0].diagnostics if issues else "invalid resource"
        super().__init__(f"The resource is not valid FHIR R4: {first}", issues=issues)


class MismatchedResource(InvalidInput):
    """The body does not match the URL it was sent to (type or id)."""

    def __init__(self, issue: Issue) -> None:
        super().__init__(issue.diagnostics, issues=[issue])


class UnknownResourceType(InvalidInput):
    issue_code = "not-supported"

    def __init__(self) -> None:
        super().__init__("This is not a FHIR R4 resource type.")


class ResourceNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("No such resource.")


class ResourceDeleted(Gone):
    def __init__(self) -> None:
        super().__init__("This resource has been deleted.")


class VersionConflict(Conflict):
    def __init__(self) -> None:
        super().__init__("The resource changed while it was being written; read it and retry.")


class VersionMismatch(PreconditionFailed):
    def __init__(self) -> None:
        super().__init__("The resource is not at the version given in If-Match.")


class WriteRefused(Forbidden):
    def __init__(self) -> None:
        super().__init__("You may not write this resource.")


class AlreadyShownToPatient(Conflict):
    """``INVISIBLE_PATIENT`` added to a resource the patient could already see: what the
    patient has been shown cannot be taken back from them."""

    issue_code = "business-rule"

    def __init__(self) -> None:
        super().__init__(
            "This resource is already visible to the patient: it cannot be hidden from them again."
        )


class InvalidBundle(InvalidInput):
    """The Bundle, or one of its entries, cannot be processed as sent."""

    def __init__(
        self, diagnostics: str, expression: str | None = None, code: str = "invalid"
    ) -> None:
        super().__init__(diagnostics, issues=[Issue(code, diagnostics, expression)])


class BundleTooLarge(PayloadTooLarge):
    def __init__(self, limit: int) -> None:
        super().__init__(f"The Bundle has more than {limit} entries, the limit of this server.")


class SearchUnavailable(InvalidInput):
    issue_code = "not-supported"

    def __init__(self) -> None:
        super().__init__("Conditional operations and searches are not available on this server.")


class MultipleMatches(PreconditionFailed):
    def __init__(self) -> None:
        super().__init__("The criteria match more than one resource: make them more selective.")


class PatchMalformed(InvalidInput):
    """The JSON Patch document is not one (RFC 6902)."""


class PatchConflict(Conflict):
    """The resource is not in the state the patch assumes (a failed ``test``, a missing path)."""


class EntryFailed(ClientError):
    """An entry of a transaction failed, so the whole transaction was undone.

    The issues are the cause's, each prefixed with the entry's position and fullUrl (a client's
    own label for the entry, never server data); the FHIR surface answers the cause's status.
    """

    def __init__(self, index: int, full_url: str | None, cause: ClientError) -> None:
        where = f"Bundle.entry[{index}]"
        label = f"Entry {index}" + (f" ({full_url})" if full_url else "")
        issues = [
            Issue(
                issue.code,
                f"{label}: {issue.diagnostics}",
                entry_expression(where, issue.expression),
                issue.severity,
            )
            for issue in cause.issues
        ]
        super().__init__(f"{label}: {cause.message}", issues=issues)
        self.index = index
        self.cause = cause


def entry_expression(where: str, expression: str | None) -> str:
    """An issue's element path inside a bundle entry: ``Observation.status`` becomes
    ``Bundle.entry[3].resource.status``."""
    if expression is None:
        return where
    if expression.startswith("Bundle.entry["):
        return expression
    _, dot, rest = expression.partition(".")
    return f"{where}.resource" + (f".{rest}" if dot else "")


class InvalidCursor(InvalidInput):
    def __init__(self) -> None:
        super().__init__("The paging cursor is not valid; start again from the first page.")


class ExportNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("No such export.")


class ExportRefused(Forbidden):
    def __init__(self) -> None:
        super().__init__("You may not export these resource types.")


class InvalidSearch(InvalidInput):
    """A search parameter that cannot be read as sent; the issue names the parameter.

    Diagnostics never repeat a searched value (it may be an identifier or health data).
    """

    def __init__(self, parameter: str, problem: str) -> None:
        diagnostics = f"Search parameter '{parameter}': {problem}"
        super().__init__(diagnostics, issues=[Issue("invalid", diagnostics, parameter)])
        self.parameter = parameter
        self.problem = problem


class UnsupportedSearch(InvalidInput):
    """A search parameter, modifier or feature this server does not offer.

    ``ignorable``: whether ``Prefer: handling=lenient`` may drop the parameter (an unknown one);
    a refusal on an identifying parameter never is (dropping it would widen the search).
    """

    issue_code = "not-supported"

    def __init__(self, parameter: str, problem: str, *, ignorable: bool = True) -> None:
        diagnostics = f"Search parameter '{parameter}': {problem}"
        super().__init__(diagnostics, issues=[Issue("not-supported", diagnostics, parameter)])
        self.parameter = parameter
        self.problem = problem
        self.ignorable = ignorable
