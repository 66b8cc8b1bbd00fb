"""The medical profile the person keeps: diseases, treatments, hospitalisations, disabilities,
allergies, family history, lifestyle, blood group, "not concerned" declarations.

Invariants: every item is a FHIR resource in the person's compartment, written through the
record's Repository. May import: record (service, schemas, errors), core.
"""
