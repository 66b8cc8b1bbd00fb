"""Tables of the jobs area (private)."""

from __future__ import annotations

from sqlalchemy import Column, Index, Integer, String, Table, Text

from carnet.core.db import UTCDateTime, metadata

job = Table(
    "jobs_job",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("kind", String(64), nullable=False),
    Column("payload", Text, nullable=False),
    Column("status", String(16), nullable=False),  # pending | running | failed
    Column("attempts", Integer, nullable=False),
    Column("run_after", UTCDateTime, nullable=False),
    Column("locked_by", String(64), nullable=True),
    Column("locked_until", UTCDateTime, nullable=True),
    Column("last_error", Text, nullable=True),
    Column("dedup_key", String(128), nullable=True, unique=True),
    # At most one pending job per dedup key (periodic jobs, "do this once" jobs).
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)
Index("ix_jobs_job_due", job.c.status, job.c.run_after)
