"""Tables of the notify area (private): the notification centre.

``notify_inbox_item`` holds what is waiting for a person: a kind and a portal path, never a
title, a name or any health data. ``notify_preference`` says, per kind, whether a person also
wants an e-mail; ``notify_inbox_digest`` groups those e-mails (at most one per person per
period). Every row carries ``patient_id``, the person's space (DESIGN.md §9).
"""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Index, String, Table

from carnet.core.db import UTCDateTime, metadata

inbox_item = Table(
    "notify_inbox_item",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("patient_id", String(64), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("link", String(200), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("read_at", UTCDateTime, nullable=True),
)
# Newest first per person, and the unread count, straight from the index.
Index("ix_notify_inbox_item_patient", inbox_item.c.patient_id, inbox_item.c.created_at)

preference = Table(
    "notify_preference",
    metadata,
    Column("patient_id", String(64), primary_key=True),
    Column("kind", String(32), primary_key=True),
    Column("by_email", Boolean, nullable=False),
)

inbox_digest = Table(
    "notify_inbox_digest",
    metadata,
    Column("patient_id", String(64), primary_key=True),
    Column("last_sent_at", UTCDateTime, nullable=True),
    # When the pending grouped e-mail is due (None: none pending).
    Column("due_at", UTCDateTime, nullable=True),
)
