"""Values the demo generator hands to its callers (the seeding service, tests, benchmarks)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class DemoDirectory:
    """The professional directory shared by every demo patient (FHIR R4 resources as dicts)."""

    organizations: tuple[dict[str, Any], ...]
    practitioners: tuple[dict[str, Any], ...]
    practitioner_roles: tuple[dict[str, Any], ...]

    def resources(self) -> tuple[dict[str, Any], ...]:
        """Every directory resource, referenced ones first (organisations, practitioners, roles)."""
        return self.organizations + self.practitioners + self.practitioner_roles


@dataclass(frozen=True)
class DemoPatient:
    """One demo patient: the Patient resource and the rest of their record."""

    patient: dict[str, Any]
    # Everything else of this patient, ordered so that a referenced resource comes first.
    resources: tuple[dict[str, Any], ...]
    # For people, never stored: e.g. "Camille Martin, née en 1984".
    label: str
