"""Tables of the record (private: only the record repository reads or writes them).

``record_resource`` holds the current version of every resource, ``record_resource_version``
every earlier one (so each version's bytes are stored exactly once). Bodies are sealed with the
compartment owner's data key. Search values live in one index table per parameter type, each row
carrying ``patient_id`` (the distribution key of DESIGN.md §9); identifying values only ever
reach ``record_index_blind``, as keyed hashes.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    UniqueConstraint,
)

from carnet.core.db import BigIntegerKey, UTCDateTime, metadata

resource = Table(
    "record_resource",
    metadata,
    Column("key", BigIntegerKey, primary_key=True, autoincrement=True),
    Column("resource_type", String(64), nullable=False),
    Column("id", String(64), nullable=False),
    Column("patient_id", String(64), nullable=True),
    Column("version", Integer, nullable=False),
    Column("last_updated", UTCDateTime, nullable=False),
    Column("deleted", Boolean, nullable=False),
    Column("body", LargeBinary, nullable=True),  # NULL for a deletion
    Column("blob_id", String(36), nullable=True),  # a Binary's content, in the blob store
    Column("indexed", Integer, nullable=False),  # bit set of the index tables holding rows
    UniqueConstraint("resource_type", "id"),
)
Index("ix_record_resource_patient", resource.c.patient_id, resource.c.resource_type)
Index("ix_record_resource_type_updated", resource.c.resource_type, resource.c.last_updated)

resource_version = Table(
    "record_resource_version",
    metadata,
    Column("resource_key", BigInteger, ForeignKey("record_resource.key"), primary_key=True),
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("patient_id", String(64), nullable=True),
    Column("last_updated", UTCDateTime, nullable=False),
    Column("deleted", Boolean, nullable=False),
    Column("body", LargeBinary, nullable=True),
    Column("blob_id", String(36), nullable=True),
)


def _index_table(name: str, *columns: Column[object]) -> Table:
    return Table(
        name,
        metadata,
        Column("resource_key", BigInteger, nullable=False),
        Column("resource_type", String(64), nullable=False),
        Column("patient_id", String(64), nullable=True),
        Column("param", String(64), nullable=False),
        *columns,
    )


index_token = _index_table(
    "record_index_token",
    Column("system", String, nullable=True),
    Column("code", String, nullable=False),
)
index_string = _index_table(
    "record_index_string",
    Column("value", String(255), nullable=False),  # normalised: lower case, no accents
    Column("exact", String(255), nullable=False),
)
index_date = _index_table(
    "record_index_date",
    Column("low", UTCDateTime, nullable=False),
    Column("high", UTCDateTime, nullable=False),
)
index_reference = _index_table(
    "record_index_reference",
    Column("target_type", String(64), nullable=True),
    Column("target_id", String(64), nullable=True),
    Column("url", String, nullable=True),
)
index_quantity = _index_table(
    "record_index_quantity",
    Column("value", Float, nullable=False),
    Column("system", String, nullable=True),
    Column("code", String, nullable=True),
    Column("unit", String, nullable=True),
)
index_number = _index_table("record_index_number", Column("value", Float, nullable=False))
index_uri = _index_table("record_index_uri", Column("value", String, nullable=False))
index_blind = _index_table("record_index_blind", Column("hash", String(32), nullable=False))

INDEX_TABLES: dict[str, Table] = {
    "token": index_token,
    "string": index_string,
    "date": index_date,
    "reference": index_reference,
    "quantity": index_quantity,
    "number": index_number,
    "uri": index_uri,
    "blind": index_blind,
}
"""Index tables by the name of the matching ``IndexEntries`` field; the order gives the bits of
``record_resource.indexed``."""

for _table in INDEX_TABLES.values():
    Index(f"ix_{_table.name}_resource_key", _table.c.resource_key)

Index(
    "ix_record_index_token_lookup",
    index_token.c.resource_type,
    index_token.c.param,
    index_token.c.code,
    index_token.c.system,
)
Index(
    "ix_record_index_string_lookup",
    index_string.c.resource_type,
    index_string.c.param,
    index_string.c.value,
)
Index(
    "ix_record_index_date_lookup",
    index_date.c.resource_type,
    index_date.c.param,
    index_date.c.low,
    index_date.c.high,
)
Index(
    "ix_record_index_reference_target",
    index_reference.c.target_type,
    index_reference.c.target_id,
    index_reference.c.param,
)
Index(
    "ix_record_index_quantity_lookup",
    index_quantity.c.resource_type,
    index_quantity.c.param,
    index_quantity.c.code,
    index_quantity.c.value,
)
Index(
    "ix_record_index_number_lookup",
    index_number.c.resource_type,
    index_number.c.param,
    index_number.c.value,
)
Index("ix_record_index_uri_lookup", index_uri.c.resource_type, index_uri.c.param, index_uri.c.value)
Index(
    "ix_record_index_blind_lookup",
    index_blind.c.resource_type,
    index_blind.c.param,
    index_blind.c.hash,
)
