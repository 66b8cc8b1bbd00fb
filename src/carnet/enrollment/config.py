"""Settings section of enrollment (``CARNET_ENROLLMENT__*``): notification waves and codes."""

from __future__ import annotations

from datetime import timedelta

from pydantic import BaseModel, Field


class EnrollmentSettings(BaseModel):
    opposition_days: int = Field(default=42, ge=1, le=366)
    """The opposition window: a space opens this many days after the notice is sent (R1111-28:
    six weeks)."""
    code_days: int | None = Field(default=None, ge=1, le=730)
    """Lifetime of an activation code; default: the opposition window plus ``code_margin_days``
    (a letter takes days to arrive, and a person may activate right after the space opens)."""
    code_margin_days: int = Field(default=14, ge=0, le=366)
    code_attempts: int = Field(default=5, ge=1, le=20)
    """Wrong entries an activation code survives; it is burnt after that."""
    campaign_batch: int = Field(default=1000, ge=1, le=100_000)
    """Persons per step of a campaign (one transaction, one audit event)."""
    letter_batch: int = Field(default=5000, ge=1, le=100_000)
    """Letters per print batch: one merged PDF, one transaction, one audit event."""
    regeneration_failures: int = Field(default=5, ge=1, le=100)
    """Mismatched requests for a new code on one NIR before it is locked."""
    regeneration_lockout_minutes: int = Field(default=60, ge=1, le=7 * 24 * 60)
    """How long that lock lasts; failures are counted over the same window."""

    @property
    def opposition_window(self) -> timedelta:
        return timedelta(days=self.opposition_days)

    @property
    def code_lifetime(self) -> timedelta:
        days = self.code_days
        if days is None:
            days = self.opposition_days + self.code_margin_days
        return timedelta(days=days)
