"""Settings section of the FHIR surface."""

from __future__ import annotations

from pydantic import BaseModel, Field


class FhirSettings(BaseModel):
    max_body_bytes: int = Field(default=16 * 1024 * 1024, ge=1024)
    """Larger request bodies are refused with 413 before they are read whole."""
    history_max_count: int = Field(default=1000, ge=1)
    search_default_count: int = Field(default=50, ge=1)
    """Page size of a search that does not give ``_count``."""
    search_max_count: int = Field(default=1000, ge=1)
    """Largest ``_count`` a search accepts (more is a 400 naming ``_count``)."""
    bundle_max_entries: int = Field(default=1000, ge=1)
    """Transaction and batch Bundles with more entries are refused (413) before any work."""
    everything_max_count: int = Field(default=5000, ge=1)
    """Largest page of Patient/$everything, and its page size when ``_count`` is not given."""
    export_expiry_seconds: int = Field(default=86_400, ge=60)
    """How long a bulk export's files stay downloadable after it completes (then deleted)."""
    export_file_resources: int = Field(default=100_000, ge=1)
    """Resources per NDJSON file of a bulk export."""
