"""Summaries of the record: the PDF summary of chosen sections (saved into the documents as
DOCPAT08) and the International Patient Summary (IPS) FHIR document.

Invariants: built only from what the Repository returns to the actor. May import: documents,
profile, measures, vaccination, wishes (service, schemas, errors), record (service, schemas),
core.
"""
