"""Settings section of the jobs area."""

from __future__ import annotations

from pydantic import BaseModel, Field


class JobsSettings(BaseModel):
    worker_in_server: bool = True
    """Run a worker thread inside ``carnet serve`` (the embedded default)."""
    poll_seconds: float = Field(default=1.0, gt=0, le=60)
    max_attempts: int = Field(default=8, ge=1, le=100)
    """After this many failures a job is parked and listed by ``carnet jobs failed``."""
    backoff_base_seconds: float = Field(default=2.0, gt=0)
    backoff_max_seconds: float = Field(default=3600.0, gt=0)
    lease_seconds: float = Field(default=300.0, gt=0)
    """A claimed job whose worker vanished is claimed again after this long."""
