"""Settings section of accounts and sign-in (``CARNET_ACCOUNTS__*``)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class Argon2Parameters(BaseModel):
    """argon2id cost: RFC 9106's second recommended option by default (64 MiB, 3 passes)."""

    time_cost: int = Field(default=3, ge=1, le=20)
    memory_kib: int = Field(default=65536, ge=8, le=4 * 1024 * 1024)
    parallelism: int = Field(default=4, ge=1, le=16)


# The suite hashes hundreds of passwords: a cheap cost there keeps it fast, and the cost is
# part of each hash, so a test hash is never accepted where the real cost is configured.
TEST_ARGON2 = Argon2Parameters(time_cost=1, memory_kib=64, parallelism=1)


class AccountsSettings(BaseModel):
    argon2: Argon2Parameters | None = None
    """Password hashing cost; default: RFC 9106 (64 MiB, t=3, p=4), cheap in test only."""
    session_idle_minutes: int = Field(default=30, ge=1, le=24 * 60)
    """A session unused this long is over (the next request asks to sign in again)."""
    session_absolute_hours: int = Field(default=12, ge=1, le=24 * 30)
    """A session is over this long after sign-in, however active."""
    code_minutes: int = Field(default=10, ge=1, le=60)
    """Lifetime of a one-time code sent by e-mail or SMS."""
    code_attempts: int = Field(default=5, ge=1, le=20)
    """Wrong entries a code survives; it is burnt after that."""
    password_failures: int = Field(default=5, ge=1, le=100)
    """Failed passwords on one login before it is locked for ``lockout_minutes``."""
    address_failures: int = Field(default=50, ge=1, le=10_000)
    """Failed passwords or codes from one client address before it is locked."""
    code_failures: int = Field(default=10, ge=1, le=100)
    """Failed codes on one account (all codes together) before it is locked."""
    lockout_minutes: int = Field(default=15, ge=1, le=24 * 60)
    """How long a lock lasts; failures are counted over the same window."""
    trusted_device_days: int = Field(default=90, ge=1, le=400)
    """How long a device the person chose to trust skips the second factor."""
    dev_accounts: bool | None = None
    """Allow the demo professionals' password accounts (never in prod); default: dev/test."""

    def resolved_argon2(self, environment: str) -> Argon2Parameters:
        if self.argon2 is not None:
            return self.argon2
        return TEST_ARGON2 if environment == "test" else Argon2Parameters()

    def resolved_dev_accounts(self, environment: str) -> bool:
        if environment == "prod":
            return False
        return True if self.dev_accounts is None else self.dev_accounts
