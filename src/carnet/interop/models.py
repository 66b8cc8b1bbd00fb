"""Tables of the interop area (private): what directory imports did and saw.

Directory data is public (the Annuaire Santé publishes it); these tables hold resource ids,
hashes of what was written and run bookkeeping, no health data.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, Index, String, Table, Text

from carnet.core.db import BigIntegerKey, UTCDateTime, metadata

directory_run = Table(
    "interop_directory_run",
    metadata,
    Column("run", BigIntegerKey, primary_key=True, autoincrement=True),
    Column("source_digest", String(64), nullable=False),  # SHA-256 of the extract
    Column("source_name", String(255), nullable=False),  # the file's name, for operators
    Column("mode", String(16), nullable=False),  # full | partial
    Column("status", String(16), nullable=False),  # schemas.RunStatus
    Column("lines_done", BigInteger, nullable=False),  # last line of the last committed batch
    Column("report", Text, nullable=False),  # the running ImportReport's counters, as JSON
    Column("started_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),  # heartbeat: each committed batch
    Column("finished_at", UTCDateTime, nullable=True),
)
Index("ix_interop_directory_run_status", directory_run.c.status, directory_run.c.source_digest)

directory_entry = Table(
    "interop_directory_entry",
    metadata,
    # One row per resource the importer wrote: its content hash (to skip unchanged ones
    # without reading them) and the last run whose extract listed it (to find removals without
    # holding a million ids in memory).
    Column("resource_type", String(32), primary_key=True),
    Column("resource_id", String(64), primary_key=True),
    Column("content_hash", String(64), nullable=False),
    Column("last_seen_run", BigInteger, nullable=False),
    Column("active", Boolean, nullable=False),
)
