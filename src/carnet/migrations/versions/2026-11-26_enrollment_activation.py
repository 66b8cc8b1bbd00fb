"""Enrollment: activation tickets (code, identity proof, contact verification).

Revision ID: b7c1e2a30004
Revises: b7c1e2a30003
Created: 2026-11-26 03:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "b7c1e2a30004"
down_revision: str | None = "b7c1e2a30003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
