"""Exchanges with the outside world's formats: the professional directory extract of the
Annuaire Santé today (``directory``, ``directory_import``), CDA documents later (``cda``).

Invariants:
- Every FHIR resource is written through the record repository (``Record.repository``), acting
  as Carnet: validated, versioned, audited like any other write.
- Parsers are pure and streaming: they read one line at a time and hold no file in memory.
- Reports and logs name lines and columns, never the values (identifiers, names).
May import: record, access, identity, notify, audit, storage, jobs, core.
"""
