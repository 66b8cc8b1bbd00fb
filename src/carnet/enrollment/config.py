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
    opening_batch: int = Field(default=1000, ge=1, le=100_000)
    """Spaces opened per batch of the opening job (one transaction, one audit event in the
    system chain besides each person's own)."""
    regeneration_failures: int = Field(default=5, ge=1, le=100)
    """Refused tries of one kind on one NIR (a new code, an activation, an opposition, a
    request for a space, a reopening) before it is locked."""
    regeneration_lockout_minutes: int = Field(default=60, ge=1, le=7 * 24 * 60)
    """How long that lock lasts; failures are counted over the same window."""
    address_failures: int = Field(default=20, ge=1, le=1000)
    """Refused tries of one kind (a new code, an activation, an opposition, a request for a
    space, a reopening) from one client address, within the same window, before that address is
    locked too: higher than per NIR, since a shared desk (a France Services counter, a family's
    connection) serves several people."""
    invitation_days: int = Field(default=30, ge=1, le=366)
    """How long an invitation (second legal representative, caregiver) waits for an answer."""
    activation_minutes: int = Field(default=60, ge=5, le=24 * 60)
    """How long an activation in progress lives (its ticket); then it starts again."""
    terms_version: str = Field(default="2026-11", min_length=1, max_length=16)
    """The version of the terms of use a person accepts when activating."""

    # --- closure and retention (``closure``, ``retention``) ---
    retention_years: int = Field(default=10, ge=1, le=30)
    """How long a closed space's archive is kept before it is destroyed (R1111-36: 10 years)."""
    deletion_days: int = Field(default=30, ge=1, le=92)
    """A deletion request is honoured this many days after it is made: within the three
    months the rules allow, with time left for a change of mind."""
    suspension_days: int = Field(default=42, ge=1, le=366)
    """A space suspended for fraud closes this long after suspension unless lifted (6 weeks)."""
    closure_batch: int = Field(default=200, ge=1, le=10_000)
    """Spaces per step of the closure jobs (erasures, deaths, ended suspensions)."""
    closure_sweep_minutes: int = Field(default=60, ge=1, le=24 * 60)
    """How often the closure jobs look for due work."""
    reauth_minutes: int = Field(default=10, ge=1, le=120)
    """An account without a password (FranceConnect) may close its space only within this
    many minutes of signing in."""

    @property
    def suspension_delay(self) -> timedelta:
        """How long a suspended space waits for an objection before it closes."""
        return timedelta(days=self.suspension_days)

    @property
    def opposition_window(self) -> timedelta:
        return timedelta(days=self.opposition_days)

    @property
    def code_lifetime(self) -> timedelta:
        days = self.code_days
        if days is None:
            days = self.opposition_days + self.code_margin_days
        return timedelta(days=days)
