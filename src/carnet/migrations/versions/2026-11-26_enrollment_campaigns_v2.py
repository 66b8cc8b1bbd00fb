"""Enrollment: faster notification waves and bounce handling.

Revision ID: b7c1e2a30006
Revises: b7c1e2a30005
Created: 2026-11-26 03:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import carnet.core.db

revision: str = "b7c1e2a30006"
down_revision: str | None = "b7c1e2a30005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "enrollment_newcomers_wave",
        sa.Column("week", sa.String(length=8), nullable=False),
        sa.Column("campaign_id", sa.String(length=36), nullable=False),
        sa.Column("created_at", carnet.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["enrollment_campaign.id"],
            name=op.f("fk_enrollment_newcomers_wave_campaign_id_enrollment_campaign"),
        ),
        sa.PrimaryKeyConstraint("week", name=op.f("pk_enrollment_newcomers_wave")),
    )


def downgrade() -> None:
    op.drop_table("enrollment_newcomers_wave")
