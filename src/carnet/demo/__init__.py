"""Synthetic demonstration data: deterministic French people, professionals and records for
`make run`, tests and benchmarks (``carnet demo seed`` writes them through the record).

Invariants:
- Pure functions of (seed, index, reference date): no database, no network, no clock, no global
  random state. Patient *i* of a seed is the same whatever the number generated.
- No real person: names are common French names combined at random; identifiers are generated
  (INS under the TEST OID, RPPS in a test range, random FINESS numbers) and phone numbers and
  e-mail addresses use ranges and domains reserved for fiction.
- Privacy of the demo itself: no resource other than the Patient carries the patient's names,
  and none is dated on the patient's birth date (other resources' dates are indexed in clear).
May import: record, access, identity, storage, audit, jobs, core.
"""
