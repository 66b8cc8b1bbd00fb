"""The keyed hash chain: how one event's MAC is computed from its fields and its predecessor."""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime

import orjson

GENESIS = "0" * 64


def canonical_time(value: datetime) -> str:
    """One textual form for an instant on every database (microseconds, UTC, ``Z``)."""
    return value.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def event_mac(
    key: bytes,
    *,
    chain_id: str,
    seq: int,
    prev_mac: str,
    recorded_at: datetime,
    tag: str,
    outcome: str,
    actor_kind: str,
    actor_id: str,
    actor_label: str,
    mode: str,
    entity: str,
    detail: str,
    request_id: str,
) -> str:
    """HMAC-SHA256 over every stored field of the event, in a fixed order."""
    message = orjson.dumps(
        [
            chain_id,
            seq,
            prev_mac,
            canonical_time(recorded_at),
            tag,
            outcome,
            actor_kind,
            actor_id,
            actor_label,
            mode,
            entity,
            detail,
            request_id,
        ]
    )
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def head_seal(key: bytes, *, chain_id: str, seq: int, mac: str) -> str:
    """The chain head's own MAC, binding its position to the last event's MAC."""
    message = orjson.dumps(["head", chain_id, seq, mac])
    return hmac.new(key, message, hashlib.sha256).hexdigest()
