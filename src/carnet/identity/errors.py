"""Errors of the identity area.

core.errors.InvalidInput
 └── InvalidIdentity          an identity value is malformed; ``field`` names it
      ├── InvalidMatricule    an INS matricule (NIR/NIA): shape or control key
      ├── InvalidOid          an INS OID that is not one of the four assigning authorities
      ├── InvalidTrait        a reference trait (name, sex, birth date, birthplace)
      ├── UnsharedMatricule   a matricule carried by an identity that is not qualified
      ├── InvalidProfessional an RPPS/ADELI number, profession or specialty
      ├── InvalidOrganisation a FINESS, SIRET/SIREN or structure id
      └── InvalidFhirIdentity a FHIR Patient/Practitioner/... that cannot be read as an identity

Messages name the field and the rule, never the value: the value is an identifier (and the
message may reach a log or a screen).
"""

from __future__ import annotations

from carnet.core.errors import InvalidInput, Issue


class InvalidIdentity(InvalidInput):
    """An identity value is malformed. ``field`` names it (a FHIRPath-like path or a trait)."""

    def __init__(self, field: str, reason: str) -> None:
        self.field = field
        self.reason = reason
        super().__init__(
            f"{field}: {reason}", issues=[Issue(self.issue_code, f"{field}: {reason}", field)]
        )


class InvalidMatricule(InvalidIdentity):
    pass


class InvalidOid(InvalidIdentity):
    pass


class InvalidTrait(InvalidIdentity):
    pass


class UnsharedMatricule(InvalidIdentity):
    """Only a qualified identity (QUAL) may carry the INS matricule in shared data."""

    issue_code = "business-rule"


class InvalidProfessional(InvalidIdentity):
    pass


class InvalidOrganisation(InvalidIdentity):
    pass


class InvalidFhirIdentity(InvalidIdentity):
    pass
