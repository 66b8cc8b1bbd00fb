"""People: persons, patients (INS), professionals (RPPS), organisations (FINESS), accounts.

Invariants:
- National identifiers (NIR/INS, RPPS, FINESS) are checked by the pure functions of
  ``formats`` before they are stored or trusted; other areas reach them through ``service``.
May import: notify, audit, storage, jobs, core.
"""
