"""Tables of the audit area (private: other areas go through ``audit.service``)."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, String, Table, Text

from carnet.core.db import UTCDateTime, metadata

event = Table(
    "audit_event",
    metadata,
    # The chain is the patient's id, or "_system"; (chain_id, seq) orders the chain and is the
    # natural key (and a distribution key that keeps a patient's events on one node). An event's
    # public id (its FHIR AuditEvent id) is derived from the two: see ``schemas.AuditEntry.id``.
    Column("chain_id", String(64), primary_key=True),
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("prev_mac", String(64), nullable=False),
    Column("mac", String(64), nullable=False),
    Column("recorded_at", UTCDateTime, nullable=False),
    Column("tag", String(64), nullable=False),
    Column("outcome", String(16), nullable=False),
    Column("actor_kind", String(16), nullable=False),
    Column("actor_id", String(128), nullable=False),
    Column("actor_label", String(200), nullable=False),
    Column("mode", String(32), nullable=False),
    Column("entity", Text, nullable=False),
    Column("detail", Text, nullable=False),
    Column("request_id", String(64), nullable=False),
)
Index("ix_audit_event_actor", event.c.actor_kind, event.c.actor_id, event.c.recorded_at)

chain_head = Table(
    "audit_chain_head",
    metadata,
    Column("chain_id", String(64), primary_key=True),
    Column("seq", BigInteger, nullable=False),
    Column("mac", String(64), nullable=False),  # the last event's MAC, the next one's link
    # The head's own MAC over (chain, seq, mac): rewinding a head to hide deleted tail events
    # needs the audit key, not just write access to this table.
    Column("seal", String(64), nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)
