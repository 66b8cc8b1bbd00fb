"""Enrollment: the space of each person: opening, first choices, closure and retention.

Revision ID: b7c1e2a30001
Revises: 5d1e0c7b9a42
Created: 2026-11-26 03:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "b7c1e2a30001"
down_revision: str | None = "5d1e0c7b9a42"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
