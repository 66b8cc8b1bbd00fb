"""The notification centre: notify_inbox_item, notify_preference, notify_inbox_digest.

Revision ID: n6a0c1e20001
Revises: c6a0e1d20001
Create Date: 2026-11-26

An item holds a kind and a portal path, never a title or any health data; every row carries
``patient_id``.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import carnet.core.db

revision: str = "n6a0c1e20001"
down_revision: str | None = "c6a0e1d20001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    instant = carnet.core.db.UTCDateTime(timezone=True)
    op.create_table(
        "notify_inbox_item",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("patient_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("link", sa.String(length=200), nullable=False),
        sa.Column("created_at", instant, nullable=False),
        sa.Column("read_at", instant, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notify_inbox_item")),
    )
    with op.batch_alter_table("notify_inbox_item") as batch:
        batch.create_index("ix_notify_inbox_item_patient", ["patient_id", "created_at"])
    op.create_table(
        "notify_preference",
        sa.Column("patient_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("by_email", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("patient_id", "kind", name=op.f("pk_notify_preference")),
    )
    op.create_table(
        "notify_inbox_digest",
        sa.Column("patient_id", sa.String(length=64), nullable=False),
        sa.Column("last_sent_at", instant, nullable=True),
        sa.Column("due_at", instant, nullable=True),
        sa.PrimaryKeyConstraint("patient_id", name=op.f("pk_notify_inbox_digest")),
    )


def downgrade() -> None:
    op.drop_table("notify_inbox_digest")
    op.drop_table("notify_preference")
    with op.batch_alter_table("notify_inbox_item") as batch:
        batch.drop_index("ix_notify_inbox_item_patient")
    op.drop_table("notify_inbox_item")
