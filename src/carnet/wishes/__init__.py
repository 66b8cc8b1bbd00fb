"""The person's circle and wishes: contacts (emergency, the one trusted person, caregivers
declared for information), organ donation information, advance directives.

Invariants: stored as FHIR resources in the person's compartment through the record's
Repository (contacts: RelatedPerson; the organ-donation statement: an Observation; advance
directives: DIR_ANT documents of the documents area); one trusted person at most; no advance
directives for minors, and a new set replaces the one in force only when the caller names it.
May import: record (service, schemas, errors), documents (service, schemas, errors), jobs
(service, for the documents' indexing), core.
"""
