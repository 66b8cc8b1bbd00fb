"""Tables of the record (private: only the record repository reads or writes them).

``record_resource`` holds the current version of every resource, ``record_resource_version``
every earlier one (so each version's bytes are stored exactly once). Bodies are sealed with the
compartment owner's data key. Search values live in one index table per parameter type, each row
naming its parameter by a 31-bit id and its compartment owner by ``patient_key`` (the
distribution key of DESIGN.md §9, mapped to patient ids by ``record_patient``); values are
stored as 64-bit hashes wherever search needs only equality (``hashes``), and identifying values
only ever reach ``record_index_blind``, as 128-bit keyed hashes.
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
    Text,
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
    # bit set of the current version's visibility labels (record.labels): decided on unread
    Column("held", Integer, nullable=False, server_default="0"),
    # hashes.reference_hash(type, id): what reference index rows point at, so that chains,
    # _has, _include and _list join references to resources without the text of either.
    Column("ref_hash", BigInteger, nullable=False),
    UniqueConstraint("resource_type", "id"),
)
# With the key last, a compartment is read in (type, key) order straight from the index: the
# keyset pages of $everything stop after a page instead of sorting the whole compartment.
Index(
    "ix_record_resource_patient",
    resource.c.patient_id,
    resource.c.resource_type,
    resource.c.key,
)
Index("ix_record_resource_type_updated", resource.c.resource_type, resource.c.last_updated)
Index("ix_record_resource_ref_hash", resource.c.ref_hash)

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


record_patient = Table(
    "record_patient",
    metadata,
    # The compact stand-in for a patient id in the index rows (4 bytes instead of 36): a country
    # of 70 million spaces stays far below 2^31. Rows are never changed nor deleted, so every
    # process may cache them once committed.
    Column("key", Integer, primary_key=True, autoincrement=True),
    Column("patient_id", String(64), nullable=False, unique=True),
)

# Normalised strings compare byte by byte on both databases (SQLite's default BINARY collation;
# "C" on PostgreSQL), so that a prefix search is an index range [q, q + U+10FFFF).
_TEXT = String(255).with_variant(String(255, collation="C"), "postgresql")
_HASH = BigInteger


def _index_table(name: str, *columns: Column[object]) -> Table:
    return Table(
        name,
        metadata,
        Column("resource_key", BigInteger, nullable=False),
        Column("param_id", Integer, nullable=False),  # hashes.param_id(type, code)
        Column("patient_key", Integer, nullable=True),  # record_patient.key of the owner
        *columns,
    )


def _context_columns() -> tuple[Column[object], ...]:
    """The first component of a composite parameter's row (NULL on plain rows): a token's code
    and system hashes, or a reference's target hash in ``ctx_code``."""
    return (Column("ctx_code", _HASH, nullable=True), Column("ctx_system", _HASH, nullable=True))


index_token = _index_table(
    "record_index_token",
    Column("code_hash", _HASH, nullable=False),
    Column("system_hash", _HASH, nullable=True),  # NULL: the value has no system
    *_context_columns(),
)
index_string = _index_table(
    "record_index_string",
    Column("value", _TEXT, nullable=False),  # normalised: lower case, no accents
    Column("exact_hash", _HASH, nullable=True),  # NULL on the rows of :text
    *_context_columns(),
)
index_date = _index_table(
    "record_index_date",
    # The covered range [low, high) in microseconds since 1970-01-01T00:00:00Z.
    Column("low", BigInteger, nullable=False),
    Column("high", BigInteger, nullable=False),
    *_context_columns(),
)
index_reference = _index_table(
    "record_index_reference",
    Column("ref_hash", _HASH, nullable=False),  # value_hash("Type/id"), or of an absolute URL
)
index_quantity = _index_table(
    "record_index_quantity",
    Column("value", Float, nullable=False),
    Column("code_hash", _HASH, nullable=True),
    Column("system_hash", _HASH, nullable=True),
    Column("unit_hash", _HASH, nullable=True),  # only when the unit differs from the code
    *_context_columns(),
)
index_number = _index_table("record_index_number", Column("value", Float, nullable=False))
index_uri = _index_table("record_index_uri", Column("value", String, nullable=False))
index_blind = _index_table(
    "record_index_blind",
    Column("hash", LargeBinary(16), nullable=False),  # a 128-bit keyed HMAC
)

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
``record_resource.indexed``. Composite rows live in the table of their second component."""

# Two B-trees a table, no more: one to replace a resource's rows (and to test one resource's
# values during a search), one to find rows by value. Date, number and quantity values are
# tested per candidate resource: searches on them come with a patient or a code.
for _table in INDEX_TABLES.values():
    Index(f"ix_{_table.name}_resource_key", _table.c.resource_key)

Index(
    "ix_record_index_token_lookup",
    index_token.c.param_id,
    index_token.c.code_hash,
    index_token.c.patient_key,
)
Index("ix_record_index_string_lookup", index_string.c.param_id, index_string.c.value)
Index(
    "ix_record_index_reference_lookup",
    index_reference.c.param_id,
    index_reference.c.ref_hash,
    index_reference.c.patient_key,
)
Index(
    "ix_record_index_quantity_lookup",
    index_quantity.c.param_id,
    index_quantity.c.ctx_code,
    index_quantity.c.patient_key,
)
Index("ix_record_index_uri_lookup", index_uri.c.param_id, index_uri.c.value)
Index(
    "ix_record_index_blind_lookup",
    index_blind.c.param_id,
    index_blind.c.hash,
    index_blind.c.patient_key,
)

# --- Scans and bulk export (history, $everything, $export) ---------------------------------------

# History pages run newest first over both tables (type history uses
# ix_record_resource_type_updated).
Index("ix_record_resource_last_updated", resource.c.last_updated)
Index("ix_record_resource_version_last_updated", resource_version.c.last_updated)

export = Table(
    "record_export",
    metadata,
    # A random id: it is the only thing the status and file URLs carry.
    Column("id", String(36), primary_key=True),
    # Who asked: only this actor may poll, download or delete (the job acts in its name).
    Column("requester_kind", String(16), nullable=False),
    Column("requester_id", String(128), nullable=False),
    Column("requester", String, nullable=False),  # JSON: label, mode, scopes, compartment
    Column("patient_id", String(64), nullable=True),  # the one patient of a patient-scoped export
    Column("level", String(16), nullable=False),  # system | patient | group
    Column("request", String, nullable=False),  # the kick-off URL, echoed in the manifest
    Column("plan", String, nullable=False),  # JSON: types, _since, the group's members
    Column("status", String(16), nullable=False),  # accepted | in-progress | completed | failed
    Column("progress", String, nullable=False),  # JSON: cursor, counts, files and their parts
    Column("key_owner", String(64), nullable=False),  # whose data key seals the parts
    Column("error", String(200), nullable=True),  # a message safe to show the requester
    Column("transaction_time", UTCDateTime, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("completed_at", UTCDateTime, nullable=True),
    Column("expires_at", UTCDateTime, nullable=False),
)
Index("ix_record_export_expires_at", export.c.expires_at)

# --- Full-text index (record.fulltext) -----------------------------------------------------------

text_key = Table(
    "record_text_key",
    metadata,
    # The patient's full-text key (32 random bytes), sealed with their data key: crypto-shredding
    # the data key makes it unreadable, and with it every token of the patient's index.
    Column("patient_id", String(64), primary_key=True),
    Column("sealed_key", LargeBinary, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

text_token = Table(
    "record_text_token",
    metadata,
    Column("resource_key", BigInteger, nullable=False),  # record_resource.key
    Column("patient_id", String(64), nullable=False),
    # 0: the resource's own display texts (at write time); 1: text extracted from its content
    # (a document's file, by a job). Each part is replaced on its own.
    Column("part", Integer, nullable=False),
    # HMAC-SHA256 (first 128 bits) of a normalised word or prefix under the patient's text key.
    Column("hash", LargeBinary(16), nullable=False),
)
Index("ix_record_text_token_resource_key", text_token.c.resource_key)
Index("ix_record_text_token_lookup", text_token.c.patient_id, text_token.c.hash)

# One row per archive a person asked for (download my data, ``record.archives``): who asked,
# the export it is built from, where it stands, and the sealed blobs holding the ZIP in order.
archive = Table(
    "record_archive",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("patient_id", String(64), nullable=False),
    Column("requester_kind", String(16), nullable=False),
    Column("requester_id", String(128), nullable=False),
    Column("export_id", String(36), nullable=True),
    Column("status", String(16), nullable=False),
    Column("parts", Text, nullable=True),  # JSON list of blob ids, in order
    Column("size", BigInteger, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("ready_at", UTCDateTime, nullable=True),
    Column("expires_at", UTCDateTime, nullable=True),
)
Index("ix_record_archive_patient", archive.c.patient_id, archive.c.created_at)
Index("ix_record_archive_expires_at", archive.c.expires_at)
