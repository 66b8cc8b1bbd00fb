"""The kernel: database plumbing, the error tree, actors, clock, ids and logging.

Invariants: nothing here knows about health data, FHIR or HTTP frameworks.
May import: the standard library and third-party libraries only.
"""
