"""Health measures (constantes) and children's growth charts.

Invariants: measures are FHIR Observations (category vital-signs) written through the record's
Repository; values outside plausible ranges are refused; BMI is computed, never accepted.
May import: record (service, schemas, errors), core.
"""
