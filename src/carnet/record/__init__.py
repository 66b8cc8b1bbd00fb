"""The health record: a versioned, encrypted FHIR R4 store behind one audited door.

Invariants:
- ``Repository`` (made by ``service.Record.repository``) is the only way to reach health data:
  every read, write and refusal is decided by ``access`` and written to ``audit`` in the caller's
  transaction. No other module touches the record tables (an import-linter contract).
- Bodies are sealed with the compartment owner's data key, bound to type, id and version.
- Every version is kept; a deletion is a version. Search-index rows are written in the same
  transaction as the resource; identifying values only as keyed hashes.
- Resources are structurally valid R4 (official JSON schema plus the rules it cannot express).
May import: access, identity, notify, audit, storage, jobs, core.
"""
