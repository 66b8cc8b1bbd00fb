"""The vaccination record and the French vaccination schedule.

Invariants: vaccinations are FHIR Immunizations written through the record's Repository; the
schedule is data; what is due, overdue and done is computed from the person's birth date, sex
and record. May import: record (service, schemas, errors), core.
"""
