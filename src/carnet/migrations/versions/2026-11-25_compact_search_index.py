"""Compact search index: parameter ids, patient keys, hashed values, composite rows.

The index tables are rebuilt empty (their values are hashed in Python, which SQL cannot do):
resources written before this revision are found again by search once rewritten. No
deployment holds data yet; the lead squashes the migrations before the first release.
``record_resource.ref_hash`` is filled for the rows already there.

Revision ID: 7a36b4c73612
Revises: faae57024ce6
Created: 2026-11-25 21:39:10.784558
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "7a36b4c73612"
down_revision: str | None = "faae57024ce6"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OLD_LOOKUPS = {
    "record_index_token": (
        "ix_record_index_token_lookup",
        ["resource_type", "param", "code", "system"],
    ),
    "record_index_string": ("ix_record_index_string_lookup", ["resource_type", "param", "value"]),
    "record_index_date": ("ix_record_index_date_lookup", ["resource_type", "param", "low", "high"]),
    "record_index_reference": (
        "ix_record_index_reference_target",
        ["target_type", "target_id", "param"],
    ),
    "record_index_quantity": (
        "ix_record_index_quantity_lookup",
        ["resource_type", "param", "code", "value"],
    ),
    "record_index_number": ("ix_record_index_number_lookup", ["resource_type", "param", "value"]),
    "record_index_uri": ("ix_record_index_uri_lookup", ["resource_type", "param", "value"]),
    "record_index_blind": ("ix_record_index_blind_lookup", ["resource_type", "param", "hash"]),
}


def _context() -> list[sa.Column[Any]]:
    return [
        sa.Column("ctx_code", sa.BigInteger(), nullable=True),
        sa.Column("ctx_system", sa.BigInteger(), nullable=True),
    ]


def _new_tables() -> dict[str, tuple[list[sa.Column[Any]], list[str] | None]]:
    text = sa.String(length=255).with_variant(sa.String(length=255, collation="C"), "postgresql")
    return {
        "record_index_token": (
            [
                sa.Column("code_hash", sa.BigInteger(), nullable=False),
                sa.Column("system_hash", sa.BigInteger(), nullable=True),
                *_context(),
            ],
            ["param_id", "code_hash", "patient_key"],
        ),
        "record_index_string": (
            [
                sa.Column("value", text, nullable=False),
                sa.Column("exact_hash", sa.BigInteger(), nullable=True),
                *_context(),
            ],
            ["param_id", "value"],
        ),
        "record_index_date": (
            [
                sa.Column("low", sa.BigInteger(), nullable=False),
                sa.Column("high", sa.BigInteger(), nullable=False),
                *_context(),
            ],
            None,
        ),
        "record_index_reference": (
            [sa.Column("ref_hash", sa.BigInteger(), nullable=False)],
            ["param_id", "ref_hash", "patient_key"],
        ),
        "record_index_quantity": (
            [
                sa.Column("value", sa.Float(), nullable=False),
                sa.Column("code_hash", sa.BigInteger(), nullable=True),
                sa.Column("system_hash", sa.BigInteger(), nullable=True),
                sa.Column("unit_hash", sa.BigInteger(), nullable=True),
                *_context(),
            ],
            ["param_id", "ctx_code", "patient_key"],
        ),
        "record_index_number": ([sa.Column("value", sa.Float(), nullable=False)], None),
        "record_index_uri": (
            [sa.Column("value", sa.String(), nullable=False)],
            ["param_id", "value"],
        ),
        "record_index_blind": (
            [sa.Column("hash", sa.LargeBinary(length=16), nullable=False)],
            ["param_id", "hash", "patient_key"],
        ),
    }


def _old_tables() -> dict[str, list[sa.Column[Any]]]:
    return {
        "record_index_token": [
            sa.Column("system", sa.String(), nullable=True),
            sa.Column("code", sa.String(), nullable=False),
        ],
        "record_index_string": [
            sa.Column("value", sa.String(length=255), nullable=False),
            sa.Column("exact", sa.String(length=255), nullable=False),
        ],
        "record_index_date": [
            sa.Column("low", sa.DateTime(timezone=True), nullable=False),
            sa.Column("high", sa.DateTime(timezone=True), nullable=False),
        ],
        "record_index_reference": [
            sa.Column("target_type", sa.String(length=64), nullable=True),
            sa.Column("target_id", sa.String(length=64), nullable=True),
            sa.Column("url", sa.String(), nullable=True),
        ],
        "record_index_quantity": [
            sa.Column("value", sa.Float(), nullable=False),
            sa.Column("system", sa.String(), nullable=True),
            sa.Column("code", sa.String(), nullable=True),
            sa.Column("unit", sa.String(), nullable=True),
        ],
        "record_index_number": [sa.Column("value", sa.Float(), nullable=False)],
        "record_index_uri": [sa.Column("value", sa.String(), nullable=False)],
        "record_index_blind": [sa.Column("hash", sa.String(length=32), nullable=False)],
    }


def _drop_index_tables(lookups: dict[str, str | None]) -> None:
    for name, lookup in lookups.items():
        with op.batch_alter_table(name, schema=None) as batch_op:
            batch_op.drop_index(f"ix_{name}_resource_key")
            if lookup is not None:
                batch_op.drop_index(lookup)
        op.drop_table(name)


def _reference_hash(resource_type: str, resource_id: str) -> int:
    # hashes.reference_hash as of this revision, repeated here: a migration must not change
    # when the code it once ran with does.
    digest = hashlib.blake2b(f"{resource_type}/{resource_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def upgrade() -> None:
    op.create_table(
        "record_patient",
        sa.Column("key", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("patient_id", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_record_patient")),
        sa.UniqueConstraint("patient_id", name=op.f("uq_record_patient_patient_id")),
    )
    _drop_index_tables({name: lookup for name, (lookup, _) in _OLD_LOOKUPS.items()})
    for name, (columns, lookup) in _new_tables().items():
        op.create_table(
            name,
            sa.Column("resource_key", sa.BigInteger(), nullable=False),
            sa.Column("param_id", sa.Integer(), nullable=False),
            sa.Column("patient_key", sa.Integer(), nullable=True),
            *columns,
        )
        with op.batch_alter_table(name, schema=None) as batch_op:
            batch_op.create_index(f"ix_{name}_resource_key", ["resource_key"], unique=False)
            if lookup is not None:
                batch_op.create_index(f"ix_{name}_lookup", lookup, unique=False)
    with op.batch_alter_table("record_resource", schema=None) as batch_op:
        batch_op.add_column(sa.Column("ref_hash", sa.BigInteger(), nullable=True))
    resource = sa.table(
        "record_resource",
        sa.column("key", sa.BigInteger()),
        sa.column("resource_type", sa.String()),
        sa.column("id", sa.String()),
        sa.column("ref_hash", sa.BigInteger()),
        sa.column("indexed", sa.Integer()),
    )
    bind = op.get_bind()
    rows = bind.execute(sa.select(resource.c.key, resource.c.resource_type, resource.c.id)).all()
    if rows:
        bind.execute(
            resource.update()
            .where(resource.c.key == sa.bindparam("row_key"))
            .values(ref_hash=sa.bindparam("hash"), indexed=0),
            [
                {"row_key": row.key, "hash": _reference_hash(row.resource_type, row.id)}
                for row in rows
            ],
        )
    with op.batch_alter_table("record_resource", schema=None) as batch_op:
        batch_op.alter_column("ref_hash", existing_type=sa.BigInteger(), nullable=False)
        batch_op.create_index("ix_record_resource_ref_hash", ["ref_hash"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("record_resource", schema=None) as batch_op:
        batch_op.drop_index("ix_record_resource_ref_hash")
        batch_op.drop_column("ref_hash")
    op.execute(sa.text("UPDATE record_resource SET indexed = 0"))
    _drop_index_tables(
        {
            name: (f"ix_{name}_lookup" if lookup else None)
            for name, (_, lookup) in _new_tables().items()
        }
    )
    for name, columns in _old_tables().items():
        lookup, lookup_columns = _OLD_LOOKUPS[name]
        op.create_table(
            name,
            sa.Column("resource_key", sa.BigInteger(), nullable=False),
            sa.Column("resource_type", sa.String(length=64), nullable=False),
            sa.Column("patient_id", sa.String(length=64), nullable=True),
            sa.Column("param", sa.String(length=64), nullable=False),
            *columns,
        )
        with op.batch_alter_table(name, schema=None) as batch_op:
            batch_op.create_index(f"ix_{name}_resource_key", ["resource_key"], unique=False)
            batch_op.create_index(lookup, lookup_columns, unique=False)
    op.drop_table("record_patient")
