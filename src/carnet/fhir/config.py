"""Settings section of the FHIR surface."""

from __future__ import annotations

from pydantic import BaseModel, Field


class FhirSettings(BaseModel):
    max_body_bytes: int = Field(default=16 * 1024 * 1024, ge=1024)
    """Larger request bodies are refused with 413 before they are read whole."""
    history_max_count: int = Field(default=1000, ge=1)
