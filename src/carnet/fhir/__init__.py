"""The FHIR R4 REST surface (``/fhir``): interactions, capability statement, OperationOutcome.

Lean Starlette handlers (DESIGN.md §1b) that parse the request, call one repository method in
the threadpool, and return the stored JSON bytes. Errors become OperationOutcome here and only
here. Invariants: every call reaches health data through the record repository; nothing from a
request body or query string is logged.
May import: authz and every area below it (never settings, runtime or the portal).
"""
