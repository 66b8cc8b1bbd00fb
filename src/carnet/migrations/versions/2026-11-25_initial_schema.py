"""Initial schema: storage, audit, jobs, authorization server and the record.

Revision ID: faae57024ce6
Revises:
Created: 2026-11-25 21:19:42.262885
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import carnet.core.db

revision: str = "faae57024ce6"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audit_chain_head",
        sa.Column("chain_id", sa.String(length=64), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("mac", sa.String(length=64), nullable=False),
        sa.Column("seal", sa.String(length=64), nullable=False),
        sa.Column("updated_at", carnet.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("chain_id", name=op.f("pk_audit_chain_head")),
    )
    op.create_table(
        "audit_event",
        sa.Column("chain_id", sa.String(length=64), nullable=False),
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("prev_mac", sa.String(length=64), nullable=False),
        sa.Column("mac", sa.String(length=64), nullable=False),
        sa.Column("recorded_at", carnet.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("tag", sa.String(length=64), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("actor_kind", sa.String(length=16), nullable=False),
        sa.Column("actor_id", sa.String(length=128), nullable=False),
        sa.Column("actor_label", sa.String(length=200), nullable=False),
        sa.Column("mode", sa.String(length=32), nullable=False),
        sa.Column("entity", sa.Text(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("request_id", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("chain_id", "seq", name=op.f("pk_audit_event")),
    )
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.create_index(
            "ix_audit_event_actor", ["actor_kind", "actor_id", "recorded_at"], unique=False
        )

    op.create_table(
        "authz_client",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("scopes", sa.Text(), nullable=False),
        sa.Column("auth_method", sa.String(length=32), nullable=False),
        sa.Column("jwks", sa.Text(), nullable=True),
        sa.Column("secret_hash", sa.String(length=128), nullable=True),
        sa.Column("created_at", carnet.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("disabled_at", carnet.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_authz_client")),
    )
    op.create_table(
        "authz_used_assertion",
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("jti", sa.String(length=255), nullable=False),
        sa.Column("expires_at", carnet.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("client_id", "jti", name=op.f("pk_authz_used_assertion")),
    )
    with op.batch_alter_table("authz_used_assertion", schema=None) as batch_op:
        batch_op.create_index("ix_authz_used_assertion_expires_at", ["expires_at"], unique=False)

    op.create_table(
        "jobs_job",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("run_after", carnet.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("locked_by", sa.String(length=64), nullable=True),
        sa.Column("locked_until", carnet.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("dedup_key", sa.String(length=128), nullable=True),
        sa.Column("created_at", carnet.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", carnet.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jobs_job")),
        sa.UniqueConstraint("dedup_key", name=op.f("uq_jobs_job_dedup_key")),
    )
    with op.batch_alter_table("jobs_job", schema=None) as batch_op:
        batch_op.create_index("ix_jobs_job_due", ["status", "run_after"], unique=False)

    op.create_table(
        "record_index_blind",
        sa.Column("resource_key", sa.BigInteger(), nullable=False),
        sa.Column("resource_type", sa.String(length=64), nullable=False),
        sa.Column("patient_id", sa.String(length=64), nullable=True),
        sa.Column("param", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=32), nullable=False),
    )
    with op.batch_alter_table("record_index_blind", schema=None) as batch_op:
        batch_op.create_index(
            "ix_record_index_blind_lookup", ["resource_type", "param", "hash"], unique=False
        )
        batch_op.create_index("ix_record_index_blind_resource_key", ["resource_key"], unique=False)

    op.create_table(
        "record_index_date",
        sa.Column("resource_key", sa.BigInteger(), nullable=False),
        sa.Column("resource_type", sa.String(length=64), nullable=False),
        sa.Column("patient_id", sa.String(length=64), nullable=True),
        sa.Column("param", sa.String(length=64), nullable=False),
        sa.Column("low", carnet.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("high", carnet.core.db.UTCDateTime(timezone=True), nullable=False),
    )
    with op.batch_alter_table("record_index_date", schema=None) as batch_op:
        batch_op.create_index(
            "ix_record_index_date_lookup", ["resource_type", "param", "low", "high"], unique=False
        )
        batch_op.create_index("ix_record_index_date_resource_key", ["resource_key"], unique=False)

    op.create_table(
        "record_index_number",
        sa.Column("resource_key", sa.BigInteger(), nullable=False),
        sa.Column("resource_type", sa.String(length=64), nullable=False),
        sa.Column("patient_id", sa.String(length=64), nullable=True),
        sa.Column("param", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
    )
    with op.batch_alter_table("record_index_number", schema=None) as batch_op:
        batch_op.create_index(
            "ix_record_index_number_lookup", ["resource_type", "param", "value"], unique=False
        )
        batch_op.create_index("ix_record_index_number_resource_key", ["resource_key"], unique=False)

    op.create_table(
        "record_index_quantity",
        sa.Column("resource_key", sa.BigInteger(), nullable=False),
        sa.Column("resource_type", sa.String(length=64), nullable=False),
        sa.Column("patient_id", sa.String(length=64), nullable=True),
        sa.Column("param", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("system", sa.String(), nullable=True),
        sa.Column("code", sa.String(), nullable=True),
        sa.Column("unit", sa.String(), nullable=True),
    )
    with op.batch_alter_table("record_index_quantity", schema=None) as batch_op:
        batch_op.create_index(
            "ix_record_index_quantity_lookup",
            ["resource_type", "param", "code", "value"],
            unique=False,
        )
        batch_op.create_index(
            "ix_record_index_quantity_resource_key", ["resource_key"], unique=False
        )

    op.create_table(
        "record_index_reference",
        sa.Column("resource_key", sa.BigInteger(), nullable=False),
        sa.Column("resource_type", sa.String(length=64), nullable=False),
        sa.Column("patient_id", sa.String(length=64), nullable=True),
        sa.Column("param", sa.String(length=64), nullable=False),
        sa.Column("target_type", sa.String(length=64), nullable=True),
        sa.Column("target_id", sa.String(length=64), nullable=True),
        sa.Column("url", sa.String(), nullable=True),
    )
    with op.batch_alter_table("record_index_reference", schema=None) as batch_op:
        batch_op.create_index(
            "ix_record_index_reference_resource_key", ["resource_key"], unique=False
        )
        batch_op.create_index(
            "ix_record_index_reference_target", ["target_type", "target_id", "param"], unique=False
        )

    op.create_table(
        "record_index_string",
        sa.Column("resource_key", sa.BigInteger(), nullable=False),
        sa.Column("resource_type", sa.String(length=64), nullable=False),
        sa.Column("patient_id", sa.String(length=64), nullable=True),
        sa.Column("param", sa.String(length=64), nullable=False),
        sa.Column("value", sa.String(length=255), nullable=False),
        sa.Column("exact", sa.String(length=255), nullable=False),
    )
    with op.batch_alter_table("record_index_string", schema=None) as batch_op:
        batch_op.create_index(
            "ix_record_index_string_lookup", ["resource_type", "param", "value"], unique=False
        )
        batch_op.create_index("ix_record_index_string_resource_key", ["resource_key"], unique=False)

    op.create_table(
        "record_index_token",
        sa.Column("resource_key", sa.BigInteger(), nullable=False),
        sa.Column("resource_type", sa.String(length=64), nullable=False),
        sa.Column("patient_id", sa.String(length=64), nullable=True),
        sa.Column("param", sa.String(length=64), nullable=False),
        sa.Column("system", sa.String(), nullable=True),
        sa.Column("code", sa.String(), nullable=False),
    )
    with op.batch_alter_table("record_index_token", schema=None) as batch_op:
        batch_op.create_index(
            "ix_record_index_token_lookup",
            ["resource_type", "param", "code", "system"],
            unique=False,
        )
        batch_op.create_index("ix_record_index_token_resource_key", ["resource_key"], unique=False)

    op.create_table(
        "record_index_uri",
        sa.Column("resource_key", sa.BigInteger(), nullable=False),
        sa.Column("resource_type", sa.String(length=64), nullable=False),
        sa.Column("patient_id", sa.String(length=64), nullable=True),
        sa.Column("param", sa.String(length=64), nullable=False),
        sa.Column("value", sa.String(), nullable=False),
    )
    with op.batch_alter_table("record_index_uri", schema=None) as batch_op:
        batch_op.create_index(
            "ix_record_index_uri_lookup", ["resource_type", "param", "value"], unique=False
        )
        batch_op.create_index("ix_record_index_uri_resource_key", ["resource_key"], unique=False)

    op.create_table(
        "record_resource",
        sa.Column(
            "key",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("resource_type", sa.String(length=64), nullable=False),
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("patient_id", sa.String(length=64), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("last_updated", carnet.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=True),
        sa.Column("blob_id", sa.String(length=36), nullable=True),
        sa.Column("indexed", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_record_resource")),
        sa.UniqueConstraint(
            "resource_type", "id", name=op.f("uq_record_resource_resource_type_id")
        ),
    )
    with op.batch_alter_table("record_resource", schema=None) as batch_op:
        batch_op.create_index(
            "ix_record_resource_patient", ["patient_id", "resource_type"], unique=False
        )
        batch_op.create_index(
            "ix_record_resource_type_updated", ["resource_type", "last_updated"], unique=False
        )

    op.create_table(
        "storage_blob",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("owner_id", sa.String(length=64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("created_at", carnet.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_storage_blob")),
    )
    with op.batch_alter_table("storage_blob", schema=None) as batch_op:
        batch_op.create_index("ix_storage_blob_owner_id", ["owner_id"], unique=False)

    op.create_table(
        "storage_data_key",
        sa.Column("owner_id", sa.String(length=64), nullable=False),
        sa.Column("kek_id", sa.String(length=64), nullable=False),
        sa.Column("wrapped_key", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", carnet.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("rewrapped_at", carnet.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("destroyed_at", carnet.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("owner_id", name=op.f("pk_storage_data_key")),
    )
    with op.batch_alter_table("storage_data_key", schema=None) as batch_op:
        batch_op.create_index("ix_storage_data_key_kek_id", ["kek_id"], unique=False)

    op.create_table(
        "record_resource_version",
        sa.Column("resource_key", sa.BigInteger(), nullable=False),
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("patient_id", sa.String(length=64), nullable=True),
        sa.Column("last_updated", carnet.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=True),
        sa.Column("blob_id", sa.String(length=36), nullable=True),
        sa.ForeignKeyConstraint(
            ["resource_key"],
            ["record_resource.key"],
            name=op.f("fk_record_resource_version_resource_key_record_resource"),
        ),
        sa.PrimaryKeyConstraint("resource_key", "version", name=op.f("pk_record_resource_version")),
    )


def downgrade() -> None:
    op.drop_table("record_resource_version")
    with op.batch_alter_table("storage_data_key", schema=None) as batch_op:
        batch_op.drop_index("ix_storage_data_key_kek_id")

    op.drop_table("storage_data_key")
    with op.batch_alter_table("storage_blob", schema=None) as batch_op:
        batch_op.drop_index("ix_storage_blob_owner_id")

    op.drop_table("storage_blob")
    with op.batch_alter_table("record_resource", schema=None) as batch_op:
        batch_op.drop_index("ix_record_resource_type_updated")
        batch_op.drop_index("ix_record_resource_patient")

    op.drop_table("record_resource")
    with op.batch_alter_table("record_index_uri", schema=None) as batch_op:
        batch_op.drop_index("ix_record_index_uri_resource_key")
        batch_op.drop_index("ix_record_index_uri_lookup")

    op.drop_table("record_index_uri")
    with op.batch_alter_table("record_index_token", schema=None) as batch_op:
        batch_op.drop_index("ix_record_index_token_resource_key")
        batch_op.drop_index("ix_record_index_token_lookup")

    op.drop_table("record_index_token")
    with op.batch_alter_table("record_index_string", schema=None) as batch_op:
        batch_op.drop_index("ix_record_index_string_resource_key")
        batch_op.drop_index("ix_record_index_string_lookup")

    op.drop_table("record_index_string")
    with op.batch_alter_table("record_index_reference", schema=None) as batch_op:
        batch_op.drop_index("ix_record_index_reference_target")
        batch_op.drop_index("ix_record_index_reference_resource_key")

    op.drop_table("record_index_reference")
    with op.batch_alter_table("record_index_quantity", schema=None) as batch_op:
        batch_op.drop_index("ix_record_index_quantity_resource_key")
        batch_op.drop_index("ix_record_index_quantity_lookup")

    op.drop_table("record_index_quantity")
    with op.batch_alter_table("record_index_number", schema=None) as batch_op:
        batch_op.drop_index("ix_record_index_number_resource_key")
        batch_op.drop_index("ix_record_index_number_lookup")

    op.drop_table("record_index_number")
    with op.batch_alter_table("record_index_date", schema=None) as batch_op:
        batch_op.drop_index("ix_record_index_date_resource_key")
        batch_op.drop_index("ix_record_index_date_lookup")

    op.drop_table("record_index_date")
    with op.batch_alter_table("record_index_blind", schema=None) as batch_op:
        batch_op.drop_index("ix_record_index_blind_resource_key")
        batch_op.drop_index("ix_record_index_blind_lookup")

    op.drop_table("record_index_blind")
    with op.batch_alter_table("jobs_job", schema=None) as batch_op:
        batch_op.drop_index("ix_jobs_job_due")

    op.drop_table("jobs_job")
    with op.batch_alter_table("authz_used_assertion", schema=None) as batch_op:
        batch_op.drop_index("ix_authz_used_assertion_expires_at")

    op.drop_table("authz_used_assertion")
    op.drop_table("authz_client")
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_event_actor")

    op.drop_table("audit_event")
    op.drop_table("audit_chain_head")
