"""Identifiers made in Python.

UUID version 7 (RFC 9562): random enough to be unguessable in URLs, yet ordered by creation time
so that B-tree indexes on PostgreSQL stay append-mostly instead of splitting pages at random.
"""

from __future__ import annotations

import os
import time
import uuid


def new_uuid7() -> uuid.UUID:
    """A fresh UUIDv7: 48 bits of Unix milliseconds, then 74 random bits."""
    millis = time.time_ns() // 1_000_000
    rand = int.from_bytes(os.urandom(10), "big")
    value = (millis & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76  # version
    value |= ((rand >> 62) & 0xFFF) << 64  # 12 random bits (rand_a)
    value |= 0b10 << 62  # variant
    value |= rand & ((1 << 62) - 1)
    return uuid.UUID(int=value)


def new_id() -> str:
    """A new identifier as text, the form stored in every table and used as FHIR logical id."""
    return str(new_uuid7())
