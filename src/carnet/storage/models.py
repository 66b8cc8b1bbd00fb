"""Tables of the storage area (private: other areas go through ``storage.service``)."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, LargeBinary, String, Table

from carnet.core.db import UTCDateTime, metadata

data_key = Table(
    "storage_data_key",
    metadata,
    Column("owner_id", String(64), primary_key=True),
    # A patient's FHIR id, or "_system" for resources outside every patient compartment.
    Column("kek_id", String(64), nullable=False),
    Column("wrapped_key", LargeBinary, nullable=True),  # NULL once destroyed (crypto-shredded)
    Column("created_at", UTCDateTime, nullable=False),
    Column("rewrapped_at", UTCDateTime, nullable=True),
    Column("destroyed_at", UTCDateTime, nullable=True),
)
Index("ix_storage_data_key_kek_id", data_key.c.kek_id)

blob = Table(
    "storage_blob",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("owner_id", String(64), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)
Index("ix_storage_blob_owner_id", blob.c.owner_id)
