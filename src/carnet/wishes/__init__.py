"""The person's circle and wishes: contacts (emergency, the one trusted person, caregivers
declared for information), organ donation information, advance directives.

Invariants: stored as FHIR resources in the person's compartment through the record's
Repository; one trusted person at most; no advance directives for minors.
May import: record (service, schemas, errors), documents (service, schemas, errors), core.
"""
