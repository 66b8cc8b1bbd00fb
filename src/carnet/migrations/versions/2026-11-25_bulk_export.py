"""Bulk export: the record_export table; last_updated indexes for type and system history; the
row key appended to ix_record_resource_patient so that $everything pages read the index in order.

Revision ID: 5a983f55ca0a
Revises: 7a36b4c73612
Created: 2026-11-25 21:41:55.212064
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import carnet.core.db

revision: str = "5a983f55ca0a"
down_revision: str | None = "7a36b4c73612"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    instant = carnet.core.db.UTCDateTime(timezone=True)
    op.create_table(
        "record_export",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("requester_kind", sa.String(length=16), nullable=False),
        sa.Column("requester_id", sa.String(length=128), nullable=False),
        sa.Column("requester", sa.String(), nullable=False),
        sa.Column("patient_id", sa.String(length=64), nullable=True),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("request", sa.String(), nullable=False),
        sa.Column("plan", sa.String(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("progress", sa.String(), nullable=False),
        sa.Column("key_owner", sa.String(length=64), nullable=False),
        sa.Column("error", sa.String(length=200), nullable=True),
        sa.Column("transaction_time", instant, nullable=False),
        sa.Column("created_at", instant, nullable=False),
        sa.Column("completed_at", instant, nullable=True),
        sa.Column("expires_at", instant, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_record_export")),
    )
    with op.batch_alter_table("record_export", schema=None) as batch_op:
        batch_op.create_index("ix_record_export_expires_at", ["expires_at"], unique=False)
    with op.batch_alter_table("record_resource", schema=None) as batch_op:
        batch_op.create_index("ix_record_resource_last_updated", ["last_updated"], unique=False)
        batch_op.drop_index("ix_record_resource_patient")
        batch_op.create_index(
            "ix_record_resource_patient", ["patient_id", "resource_type", "key"], unique=False
        )
    with op.batch_alter_table("record_resource_version", schema=None) as batch_op:
        batch_op.create_index(
            "ix_record_resource_version_last_updated", ["last_updated"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("record_resource_version", schema=None) as batch_op:
        batch_op.drop_index("ix_record_resource_version_last_updated")
    with op.batch_alter_table("record_resource", schema=None) as batch_op:
        batch_op.drop_index("ix_record_resource_patient")
        batch_op.create_index(
            "ix_record_resource_patient", ["patient_id", "resource_type"], unique=False
        )
        batch_op.drop_index("ix_record_resource_last_updated")
    with op.batch_alter_table("record_export", schema=None) as batch_op:
        batch_op.drop_index("ix_record_export_expires_at")
    op.drop_table("record_export")
