"""Download my data: record_archive, one row per archive a person asked for.

Revision ID: n6b0a4c10001
Revises: n6a0c1e20001
Create Date: 2026-11-26

The archive's bytes are blobs sealed under the person's key (``parts``: their ids in order).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import carnet.core.db

revision: str = "n6b0a4c10001"
down_revision: str | None = "n6a0c1e20001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    instant = carnet.core.db.UTCDateTime(timezone=True)
    op.create_table(
        "record_archive",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("patient_id", sa.String(length=64), nullable=False),
        sa.Column("requester_kind", sa.String(length=16), nullable=False),
        sa.Column("requester_id", sa.String(length=128), nullable=False),
        sa.Column("export_id", sa.String(length=36), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("parts", sa.Text(), nullable=True),
        sa.Column("size", sa.BigInteger(), nullable=True),
        sa.Column("created_at", instant, nullable=False),
        sa.Column("ready_at", instant, nullable=True),
        sa.Column("expires_at", instant, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_record_archive")),
    )
    with op.batch_alter_table("record_archive") as batch:
        batch.create_index("ix_record_archive_patient", ["patient_id", "created_at"])
        batch.create_index("ix_record_archive_expires_at", ["expires_at"])


def downgrade() -> None:
    with op.batch_alter_table("record_archive") as batch:
        batch.drop_index("ix_record_archive_expires_at")
        batch.drop_index("ix_record_archive_patient")
    op.drop_table("record_archive")
