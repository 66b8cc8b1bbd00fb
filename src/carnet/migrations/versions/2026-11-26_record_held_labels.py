"""record_resource.held: the current version's visibility labels as a bit set (record.labels).

Revision ID: c6a0e1d20001
Revises: b7c1e2a30008
Create Date: 2026-11-26

Existing rows get 0 (no label): no resource stored before this revision carries one, since no
writer set visibility labels before the documents area.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "c6a0e1d20001"
down_revision: str | None = "b7c1e2a30008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("record_resource") as batch:
        batch.add_column(sa.Column("held", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("record_resource") as batch:
        batch.drop_column("held")
