"""People: persons and patients (INS), professionals (RPPS/ADELI), organisations (FINESS),
and, later, their accounts.

Invariants:
- National identifiers (NIR/INS, RPPS, ADELI, FINESS, SIRET) are checked by the pure functions
  of ``formats`` before they are stored or trusted; values of ``schemas`` and ``practice`` check
  themselves when built, and errors (``errors``) name the field, never the value.
- Only a qualified identity (QUAL) carries its INS matricule in shared data (FHIR Patient).
- Directory resource ids derive from national identifiers (``fhir_directory``), so any writer
  gives the same professional the same Practitioner.
- No health data is read or written here: FHIR resources are built and read as plain values;
  whoever stores them goes through the record repository (interop, enrollment).
Other areas use ``service`` (which re-exports the values), ``schemas`` and ``errors``.
May import: notify, audit, storage, jobs, core (never record or access).
"""
