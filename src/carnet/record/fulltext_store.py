"""The full-text index's tables: each patient's text key, and the keyed hashes of words.

A token is ``HMAC-SHA256(text key, word)`` cut to 128 bits, where the text key is 32 random
bytes per patient kept sealed with the patient's data key (``record_text_key``). So the same word
gives different tokens in two people's records, a dump of the tables reveals no word (nor which
records share one), and crypto-shredding the patient's data key leaves every token of their
index unmatchable. Nothing here decides: the repository (``fulltext``) and the write path call
these once they have.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select
from sqlalchemy.exc import IntegrityError

from carnet.record import models
from carnet.record.fulltext_words import INDEXED_TYPES, index_terms, resource_text
from carnet.storage.errors import DataKeyDestroyed
from carnet.storage.service import Storage

PART_FIELDS = 0
"""Tokens of a resource's own display texts, replaced at each write."""
PART_CONTENT = 1
"""Tokens of text extracted from a resource's content (a document's file), by ``index_text``."""
MAX_CANDIDATES = 500
_KEY_BYTES = 32


def text_key(db: Connection, storage: Storage, patient_id: str, *, create: bool) -> bytes | None:
    """The patient's text key (made on first use when ``create``); None when they have none
    yet, or when their data key was destroyed (nothing of theirs can match any more)."""
    table = models.text_key
    query = select(table.c.sealed_key).where(table.c.patient_id == patient_id)
    sealed = db.execute(query).scalar_one_or_none()
    if sealed is None and not create:
        return None
    try:
        data_key = storage.data_key(db, owner_id=patient_id, create=create)
    except DataKeyDestroyed:
        return None
    context = f"record-text-key/{patient_id}".encode()
    if sealed is None:
        fresh = os.urandom(_KEY_BYTES)
        row = {
            "patient_id": patient_id,
            "sealed_key": data_key.seal(fresh, context, compress=False),
            "created_at": storage.clock.now(),
        }
        try:
            with db.begin_nested():
                db.execute(insert(table).values(**row))
        except IntegrityError:
            # Made concurrently by another write: use the stored one.
            sealed = db.execute(query).scalar_one()
        else:
            return fresh
    return data_key.open(sealed, context)


def token(key: bytes, term: str) -> bytes:
    """The 128-bit keyed hash of one normalised term."""
    return hmac.new(key, b"fulltext\x00" + term.encode(), hashlib.sha256).digest()[:16]


def replace_tokens(
    db: Connection, *, resource_key: int, patient_id: str, part: int, key: bytes, text: str
) -> int:
    """Replace one part of a resource's tokens by those of ``text``; the number written."""
    _drop_part(db, resource_key, part)
    hashes = sorted({token(key, term) for term in index_terms(text)})
    if hashes:
        rows = [
            {"resource_key": resource_key, "patient_id": patient_id, "part": part, "hash": h}
            for h in hashes
        ]
        db.execute(insert(models.text_token), rows)
    return len(hashes)


def drop_tokens(db: Connection, *, resource_key: int) -> None:
    """Forget every token of a resource (it was deleted)."""
    db.execute(delete(models.text_token).where(models.text_token.c.resource_key == resource_key))


def matching(
    db: Connection, *, patient_id: str, key: bytes, terms: Iterable[str]
) -> list[tuple[str, str]]:
    """(type, id) of the patient's current resources holding every term, newest first (at most
    ``MAX_CANDIDATES``). Deleted resources are left out."""
    hashes = sorted({token(key, term) for term in terms})
    if not hashes:
        return []
    tokens, resources = models.text_token, models.resource
    holding = (
        select(tokens.c.resource_key)
        .where(tokens.c.patient_id == patient_id)
        .where(tokens.c.hash.in_(hashes))
        .group_by(tokens.c.resource_key)
        .having(func.count(tokens.c.hash.distinct()) == len(hashes))
    )
    rows = db.execute(
        select(resources.c.resource_type, resources.c.id)
        .where(resources.c.key.in_(holding))
        .where(resources.c.patient_id == patient_id)
        .where(resources.c.deleted.is_(False))
        .order_by(resources.c.last_updated.desc(), resources.c.key.desc())
        .limit(MAX_CANDIDATES)
    ).all()
    return [(row.resource_type, row.id) for row in rows]


def on_write(
    db: Connection,
    storage: Storage,
    *,
    resource_key: int,
    owner: str | None,
    resource: dict[str, Any] | None,
) -> None:
    """The write path's hook: index a written resource's display texts, or forget a deleted
    resource's tokens (``resource`` None). Types without display texts to index cost nothing
    but, on deletion, one DELETE by resource key."""
    if resource is None:
        drop_tokens(db, resource_key=resource_key)
        return
    if owner is None or resource.get("resourceType") not in INDEXED_TYPES:
        return
    text = resource_text(resource)
    key = text_key(db, storage, owner, create=True) if text else None
    if key is None:
        # No text (left) to index: an earlier version's tokens must not keep matching.
        _drop_part(db, resource_key, PART_FIELDS)
        return
    replace_tokens(
        db, resource_key=resource_key, patient_id=owner, part=PART_FIELDS, key=key, text=text
    )


def on_create_many(
    db: Connection, storage: Storage, written: Iterable[tuple[int, str | None, dict[str, Any]]]
) -> None:
    """The hook for a bundle's new resources, (row key, owner, resource) each: one text key
    per patient and one INSERT for all their tokens (new rows have no tokens to replace)."""
    keys: dict[str, bytes | None] = {}
    rows: list[dict[str, Any]] = []
    for resource_key, owner, resource in written:
        if owner is None or resource.get("resourceType") not in INDEXED_TYPES:
            continue
        text = resource_text(resource)
        if not text:
            continue
        if owner not in keys:
            keys[owner] = text_key(db, storage, owner, create=True)
        key = keys[owner]
        if key is None:
            continue
        rows += [
            {"resource_key": resource_key, "patient_id": owner, "part": PART_FIELDS, "hash": h}
            for h in sorted({token(key, term) for term in index_terms(text)})
        ]
    if rows:
        db.execute(insert(models.text_token), rows)


def _drop_part(db: Connection, resource_key: int, part: int) -> None:
    table = models.text_token
    db.execute(
        delete(table).where(table.c.resource_key == resource_key).where(table.c.part == part)
    )
