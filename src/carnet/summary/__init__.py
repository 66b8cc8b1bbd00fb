"""Summaries of the record: the PDF summary of chosen sections (saved into the documents as
DOCPAT08) and the International Patient Summary (IPS) FHIR document.

Invariants: built only from what the Repository returns to the actor (searches confined to the
patient's compartment, bounded, newest first). May import: documents, profile, measures,
vaccination, wishes (service, schemas, errors), record (service, schemas), core.

Layout: ``sources`` (what each section searches), ``reading`` (searches through the
Repository), ``describe`` (one line of text per resource), ``pdf`` (ReportLab), ``ips`` and
``narrative`` (the document Bundle), ``service`` (the public functions).
"""
