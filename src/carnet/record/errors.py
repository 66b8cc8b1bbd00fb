"""Errors of the record area.

core.errors.ClientError
 ├── InvalidInput
 │    ├── InvalidResource        the resource breaks the R4 structure (issues name elements)
 │    ├── MismatchedResource     the body's resourceType or id differs from the URL
 │    └── UnknownResourceType    not an R4 resource type
 ├── NotFound
 │    └── ResourceNotFound       absent, or refused: deliberately the same
 ├── Gone
 │    └── ResourceDeleted        deleted (its history stays readable)
 ├── Conflict
 │    ├── VersionConflict        written concurrently: retry
 │    └── PreconditionFailed
 │         └── VersionMismatch   If-Match named another version
 └── Forbidden
      └── WriteRefused           the caller may not write this
(storage.errors.DataKeyDestroyed, a Gone, also escapes reads of shredded data.)
"""

from __future__ import annotations

from carnet.core.errors import (
    Conflict,
    Forbidden,
    Gone,
    InvalidInput,
    Issue,
    NotFound,
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
