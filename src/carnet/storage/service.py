"""Public face of the storage area: data keys, sealing, blind indexes and encrypted blobs.

Built once per process by the entry point (``Storage.from_settings``) and shared by every request;
the methods that touch the database take the caller's connection.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Collection, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import (
    ColumnElement,
    Connection,
    FromClause,
    Join,
    bindparam,
    delete,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from carnet.core.clock import Clock
from carnet.core.db import among, on_commit
from carnet.core.ids import new_id
from carnet.storage import crypto, models
from carnet.storage.adapters.local import LocalBlobStore
from carnet.storage.adapters.memory import MemoryBlobStore
from carnet.storage.config import StorageSettings
from carnet.storage.errors import BlobMissing, DataKeyDestroyed, KeyringError
from carnet.storage.keys import Keyring, open_keyring
from carnet.storage.ports import BlobStore

SYSTEM_OWNER = "_system"
"""Owner of resources outside every patient compartment (the directory, terminology…). FHIR ids
cannot contain an underscore, so this never collides with a patient id."""

SealError = crypto.SealError

_SELECT_DATA_KEY = select(
    models.data_key.c.kek_id, models.data_key.c.wrapped_key, models.data_key.c.destroyed_at
).where(models.data_key.c.owner_id == bindparam("owner_id"))


def join_data_key(
    table: FromClause, owner: ColumnElement[str]
) -> tuple[Join, tuple[ColumnElement[object], ...]]:
    """Join the owners' wrapped keys to ``table`` (a LEFT JOIN on ``owner``), so that a reader
    gets a row and its key in one round trip; pass the three columns to ``Storage.key_from``.

    Other areas never name storage's table: they compose this join.
    """
    keys = models.data_key.alias("owner_key")
    columns = (
        keys.c.kek_id.label("key_kek_id"),
        keys.c.wrapped_key.label("key_wrapped"),
        keys.c.destroyed_at.label("key_destroyed_at"),
    )
    return table.outerjoin(keys, keys.c.owner_id == owner), columns


class DataKey:
    """A patient's unwrapped data key, able to seal and open values bound to a context."""

    __slots__ = ("_aead", "owner_id")

    def __init__(self, owner_id: str, key: bytes) -> None:
        self.owner_id = owner_id
        self._aead = AESGCM(key)

    def seal(self, plaintext: bytes, context: bytes, *, compress: bool = True) -> bytes:
        return crypto.seal(self._aead, plaintext, context, compress=compress)

    def open(self, sealed: bytes, context: bytes) -> bytes:
        return crypto.open_sealed(self._aead, sealed, context)


@dataclass(frozen=True, slots=True)
class RotationReport:
    new_kek_id: str | None
    rewrapped: int
    retired: list[str]


class _UnwrapCache:
    """Unwrapped keys by (owner, wrapped bytes): a changed or destroyed row never hits."""

    def __init__(self, size: int = 20_000) -> None:
        self._items: OrderedDict[tuple[str, bytes], DataKey] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def get(self, owner_id: str, wrapped: bytes) -> DataKey | None:
        with self._lock:
            item = self._items.get((owner_id, wrapped))
            if item is not None:
                self._items.move_to_end((owner_id, wrapped))
            return item

    def put(self, owner_id: str, wrapped: bytes, key: DataKey) -> None:
        with self._lock:
            self._items[(owner_id, wrapped)] = key
            if len(self._items) > self._size:
                self._items.popitem(last=False)

    def forget(self, owner_id: str) -> None:
        with self._lock:
            for cache_key in [k for k in self._items if k[0] == owner_id]:
                del self._items[cache_key]


class Storage:
    """Data keys, blind indexes and the encrypted blob store."""

    def __init__(self, *, keyring: Keyring, blobs: BlobStore, clock: Clock) -> None:
        self.keyring = keyring
        self.blobs = blobs
        self.clock = clock
        self._cache = _UnwrapCache()

    @classmethod
    def from_settings(
        cls, settings: StorageSettings, *, data_dir: Path, clock: Clock, create_keys: bool
    ) -> Storage:
        key_file = settings.key_file or data_dir / "keys" / "keyring.json"
        blobs: BlobStore
        if settings.blob_backend == "memory":
            blobs = MemoryBlobStore()
        else:
            blobs = LocalBlobStore(settings.blob_dir or data_dir / "blobs")
        return cls(keyring=open_keyring(key_file, create=create_keys), blobs=blobs, clock=clock)

    # --- data keys ----------------------------------------------------------------------------

    def _wrap_context(self, owner_id: str, kek_id: str) -> bytes:
        return f"{owner_id}|{kek_id}".encode()

    def create_data_key(self, db: Connection, *, owner_id: str) -> DataKey:
        """Create the owner's data key (with the patient); return the existing one if any."""
        key = AESGCM.generate_key(bit_length=256)
        kek_id = self.keyring.active_kek_id
        wrapped = crypto.wrap_key(
            self.keyring.kek(kek_id), key, self._wrap_context(owner_id, kek_id)
        )
        try:
            with db.begin_nested():
                db.execute(
                    insert(models.data_key).values(
                        owner_id=owner_id,
                        kek_id=kek_id,
                        wrapped_key=wrapped,
                        created_at=self.clock.now(),
                    )
                )
        except IntegrityError:
            # Created concurrently (or earlier): use the stored one.
            return self.data_key(db, owner_id=owner_id)
        data_key = DataKey(owner_id, key)
        self._cache.put(owner_id, wrapped, data_key)
        return data_key

    def create_new_data_keys(
        self, db: Connection, *, owner_ids: Collection[str]
    ) -> dict[str, DataKey]:
        """Data keys for many owners that have none yet, in one insert (bulk registration).

        For ids the caller has just made (``new_id``): an owner that already has a key makes
        the insert fail (and the caller's transaction with it) instead of being looked up one
        by one, which is what lets a million registrations cost one statement per batch.
        """
        kek_id = self.keyring.active_kek_id
        kek = self.keyring.kek(kek_id)
        now = self.clock.now()
        keys: dict[str, DataKey] = {}
        rows = []
        for owner_id in owner_ids:
            key = AESGCM.generate_key(bit_length=256)
            wrapped = crypto.wrap_key(kek, key, self._wrap_context(owner_id, kek_id))
            rows.append(
                {"owner_id": owner_id, "kek_id": kek_id, "wrapped_key": wrapped, "created_at": now}
            )
            keys[owner_id] = DataKey(owner_id, key)
        if rows:
            db.execute(insert(models.data_key), rows)
        return keys

    def data_key(self, db: Connection, *, owner_id: str, create: bool = False) -> DataKey:
        """The owner's data key. Raises DataKeyDestroyed once shredded.

        With ``create``, a missing key is created (a resource written into a compartment before
        its Patient, as in some bundles); otherwise a missing key is a KeyringError.
        """
        row = db.execute(_SELECT_DATA_KEY, {"owner_id": owner_id}).first()
        if row is None:
            if create:
                return self.create_data_key(db, owner_id=owner_id)
            raise KeyringError("no data key for this owner")
        return self.key_from(
            owner_id, kek_id=row.kek_id, wrapped=row.wrapped_key, destroyed_at=row.destroyed_at
        )

    def data_keys(self, db: Connection, *, owner_ids: Collection[str]) -> dict[str, DataKey | None]:
        """Several owners' data keys in a few round trips (None for a destroyed one; an owner
        without a key is left out): for readers of many owners' data at once (exports)."""
        table = models.data_key
        keys: dict[str, DataKey | None] = {}
        wanted = sorted(set(owner_ids))
        for condition in among(db, table.c.owner_id, wanted):
            rows = db.execute(
                select(
                    table.c.owner_id, table.c.kek_id, table.c.wrapped_key, table.c.destroyed_at
                ).where(condition)
            ).all()
            for row in rows:
                try:
                    keys[row.owner_id] = self.key_from(
                        row.owner_id,
                        kek_id=row.kek_id,
                        wrapped=row.wrapped_key,
                        destroyed_at=row.destroyed_at,
                    )
                except DataKeyDestroyed:
                    keys[row.owner_id] = None
        return keys

    def key_from(
        self,
        owner_id: str,
        *,
        kek_id: str | None,
        wrapped: bytes | None,
        destroyed_at: object,
    ) -> DataKey:
        """The data key from the columns of ``join_data_key`` (or of the key's own row)."""
        if destroyed_at is not None:
            raise DataKeyDestroyed
        if kek_id is None or wrapped is None:
            raise KeyringError("no data key for this owner")
        cached = self._cache.get(owner_id, wrapped)
        if cached is not None:
            return cached
        key = crypto.unwrap_key(
            self.keyring.kek(kek_id), wrapped, self._wrap_context(owner_id, kek_id)
        )
        data_key = DataKey(owner_id, key)
        self._cache.put(owner_id, wrapped, data_key)
        return data_key

    def is_destroyed(self, db: Connection, *, owner_id: str) -> bool:
        destroyed = db.execute(
            select(models.data_key.c.destroyed_at).where(models.data_key.c.owner_id == owner_id)
        ).scalar_one_or_none()
        return destroyed is not None

    def destroy_data_key(self, db: Connection, *, owner_id: str) -> bool:
        """Crypto-shred: erase the owner's wrapped key. Every copy of their data, in this
        database, its replicas and the blob store, becomes unreadable. Irreversible."""
        result = db.execute(
            update(models.data_key)
            .where(models.data_key.c.owner_id == owner_id)
            .where(models.data_key.c.destroyed_at.is_(None))
            .values(wrapped_key=None, destroyed_at=self.clock.now())
        )
        self._cache.forget(owner_id)
        return result.rowcount == 1

    def rotate_keks(
        self,
        transaction: Callable[[], AbstractContextManager[Connection]],
        *,
        batch_size: int = 1000,
        progress: Callable[[int], None] | None = None,
    ) -> RotationReport:
        """Re-wrap every data key under a new KEK, then retire the old ones.

        Data is never re-encrypted: only the small wrapped keys change. Resumable: when a
        previous run stopped half-way (several KEKs in the keyring), it finishes that rotation
        instead of starting another.
        """
        new_kek_id = None
        if len(self.keyring.data.keks) == 1:
            new_kek_id = self.keyring.add_active_kek()
        active = self.keyring.active_kek_id
        rewrapped = 0
        while True:
            with transaction() as db:
                done = self._rewrap_batch(db, active, batch_size)
            rewrapped += done
            if progress is not None:
                progress(done)
            if done < batch_size:
                break
        retired = self.keyring.retire_inactive_keks()
        return RotationReport(new_kek_id=new_kek_id, rewrapped=rewrapped, retired=retired)

    def _rewrap_batch(self, db: Connection, active: str, batch_size: int) -> int:
        table = models.data_key
        rows = db.execute(
            select(table.c.owner_id, table.c.kek_id, table.c.wrapped_key)
            .where(table.c.kek_id != active)
            .where(table.c.wrapped_key.is_not(None))
            .order_by(table.c.owner_id)
            .limit(batch_size)
        ).all()
        now = self.clock.now()
        active_kek = self.keyring.kek(active)
        for row in rows:
            key = crypto.unwrap_key(
                self.keyring.kek(row.kek_id),
                row.wrapped_key,
                self._wrap_context(row.owner_id, row.kek_id),
            )
            wrapped = crypto.wrap_key(active_kek, key, self._wrap_context(row.owner_id, active))
            db.execute(
                update(table)
                .where(table.c.owner_id == row.owner_id)
                .values(kek_id=active, wrapped_key=wrapped, rewrapped_at=now)
            )
        # Shredded rows keep no key to re-wrap; relabel them so they stop matching.
        db.execute(
            update(table)
            .where(table.c.kek_id != active)
            .where(table.c.wrapped_key.is_(None))
            .values(kek_id=active)
        )
        return len(rows)

    def count_data_keys(self, db: Connection) -> dict[str, int]:
        rows = db.execute(
            select(models.data_key.c.kek_id, func.count()).group_by(models.data_key.c.kek_id)
        ).all()
        return {row[0]: row[1] for row in rows}

    # --- blind indexes ------------------------------------------------------------------------

    def blind_index(self, domain: str, value: str) -> str:
        """A keyed hash of an already-normalised identifying value (exact match only)."""
        return crypto.keyed_hash(self.keyring.index_key, domain, value)

    def derive_key(self, purpose: str, *, length: int = 32) -> bytes:
        """A secret key for one purpose (``"portal-csrf"``…), derived from the keyring.

        HKDF-SHA256 over the index key, with the purpose as ``info``: keys for different purposes
        are independent, none reveals the index key, and every process of a deployment derives
        the same key without a new secret to provision. It follows the index key, which is
        never rotated (blind indexes depend on it), so use it for short-lived values only
        (tokens, signatures), never to encrypt data at rest.
        """
        if not purpose:
            raise ValueError("derive_key needs a purpose")
        return HKDF(
            algorithm=hashes.SHA256(),
            length=length,
            salt=b"carnet-derived-key-v1",
            info=purpose.encode(),
        ).derive(self.keyring.index_key)

    # --- blobs --------------------------------------------------------------------------------

    def put_blob(self, db: Connection, *, owner_id: str, data: bytes, compress: bool = True) -> str:
        """Encrypt ``data`` with the owner's key and store it; return the new blob id.

        The bytes reach the blob store before the transaction commits: if it rolls back or the
        process dies, they are an orphan that ``sweep_blobs`` removes, never a dangling row.
        ``compress=False`` for content that cannot shrink (already encrypted): deflating
        megabytes of ciphertext costs ~20 ms a megabyte for nothing.
        """
        blob_id = new_id()
        key = self.data_key(db, owner_id=owner_id, create=True)
        self.blobs.put(blob_id, key.seal(data, f"blob/{blob_id}".encode(), compress=compress))
        db.execute(
            insert(models.blob).values(
                id=blob_id, owner_id=owner_id, size=len(data), created_at=self.clock.now()
            )
        )
        return blob_id

    def get_blob(self, db: Connection, *, owner_id: str, blob_id: str) -> bytes | None:
        """The original bytes of a blob, or None when no such blob belongs to the owner."""
        found = db.execute(
            select(models.blob.c.id)
            .where(models.blob.c.id == blob_id)
            .where(models.blob.c.owner_id == owner_id)
        ).first()
        if found is None:
            return None
        key = self.data_key(db, owner_id=owner_id)
        sealed = self.blobs.get(blob_id)
        if sealed is None:
            raise BlobMissing("a blob's bytes are missing from the blob store")
        return key.open(sealed, f"blob/{blob_id}".encode())

    def delete_blob(self, db: Connection, *, owner_id: str, blob_id: str) -> bool:
        """Forget a blob of the owner's; its bytes are removed once the transaction commits
        (or by ``sweep_blobs``, should the process die first). False if there was none."""
        removed = db.execute(
            delete(models.blob)
            .where(models.blob.c.id == blob_id)
            .where(models.blob.c.owner_id == owner_id)
        ).rowcount
        if removed:
            on_commit(db, lambda: self.blobs.delete(blob_id))
        return bool(removed)

    def sweep_blobs(self, db: Connection, *, older_than_seconds: float = 3600) -> int:
        """Remove stored bytes that no committed row refers to (writes abandoned by a rollback
        or a crash), once they are older than any transaction could still be."""
        before = time.time() - older_than_seconds
        removed = self.blobs.discard_incomplete(before)
        for chunk in _chunks(((k, m) for k, m in self.blobs.scan() if m < before), 500):
            keys = [key for key, _ in chunk]
            known = set(
                db.execute(select(models.blob.c.id).where(models.blob.c.id.in_(keys))).scalars()
            )
            for key in keys:
                if key not in known:
                    self.blobs.delete(key)
                    removed += 1
        return removed


def _chunks(items: Iterator[tuple[str, float]], size: int) -> Iterator[list[tuple[str, float]]]:
    chunk: list[tuple[str, float]] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
