"""Enrollment: opposition to the opening of a space, online or by phone.

Revision ID: b7c1e2a30002
Revises: b7c1e2a30001
Created: 2026-11-26 03:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import carnet.core.db

revision: str = "b7c1e2a30002"
down_revision: str | None = "b7c1e2a30001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "enrollment_opposition",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("beneficiary_id", sa.String(length=36), nullable=False),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("operator", sa.String(length=160), nullable=True),
        sa.Column("opposed_at", carnet.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("reference", sa.String(length=24), nullable=False),
        sa.Column("dmp_merge_refused", sa.Boolean(), nullable=False),
        sa.Column("withdrawn_at", carnet.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["beneficiary_id"],
            ["enrollment_beneficiary.id"],
            name=op.f("fk_enrollment_opposition_beneficiary_id_enrollment_beneficiary"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enrollment_opposition")),
        sa.UniqueConstraint("beneficiary_id", name=op.f("uq_enrollment_opposition_beneficiary_id")),
        sa.UniqueConstraint("reference", name=op.f("uq_enrollment_opposition_reference")),
    )


def downgrade() -> None:
    op.drop_table("enrollment_opposition")
