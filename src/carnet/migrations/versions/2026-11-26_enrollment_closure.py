"""Enrollment: closure, retention and suspension of spaces.

Revision ID: b7c1e2a30005
Revises: b7c1e2a30004
Created: 2026-11-26 03:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import carnet.core.db

revision: str = "b7c1e2a30005"
down_revision: str | None = "b7c1e2a30004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "enrollment_space_event",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("patient_id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=16), nullable=True),
        sa.Column("actor", sa.String(length=160), nullable=False),
        sa.Column("at", carnet.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("done_at", carnet.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["enrollment_beneficiary.id"],
            name=op.f("fk_enrollment_space_event_patient_id_enrollment_beneficiary"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enrollment_space_event")),
    )
    op.create_index(
        "ix_enrollment_space_event_patient_id", "enrollment_space_event", ["patient_id", "at"]
    )
    op.create_index(
        "ix_enrollment_space_event_pending", "enrollment_space_event", ["done_at", "kind"]
    )


def downgrade() -> None:
    op.drop_index("ix_enrollment_space_event_pending", table_name="enrollment_space_event")
    op.drop_index("ix_enrollment_space_event_patient_id", table_name="enrollment_space_event")
    op.drop_table("enrollment_space_event")
