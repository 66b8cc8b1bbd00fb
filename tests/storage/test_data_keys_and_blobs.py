"""Data keys per owner, crypto-shredding, key rotation, and the encrypted blob store."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from sqlalchemy import Connection, text

from carnet.core.clock import SystemClock
from carnet.core.ids import new_id
from carnet.runtime import Runtime
from carnet.storage.adapters.local import LocalBlobStore
from carnet.storage.errors import DataKeyDestroyed, KeyringError
from carnet.storage.service import Storage


def test_data_key_is_created_once_and_reused(rt: Runtime, db: Connection) -> None:
    owner = new_id()
    created = rt.storage.create_data_key(db, owner_id=owner)
    sealed = created.seal(b"secret", b"ctx")
    again = rt.storage.data_key(db, owner_id=owner)
    assert again.open(sealed, b"ctx") == b"secret"
    # Creating again returns the stored key rather than replacing it.
    assert rt.storage.create_data_key(db, owner_id=owner).open(sealed, b"ctx") == b"secret"


def test_missing_key_is_an_error_unless_created(rt: Runtime, db: Connection) -> None:
    with pytest.raises(KeyringError):
        rt.storage.data_key(db, owner_id=new_id())
    assert rt.storage.data_key(db, owner_id=new_id(), create=True) is not None


def test_destroyed_key_makes_data_gone(rt: Runtime, db: Connection) -> None:
    owner = new_id()
    key = rt.storage.create_data_key(db, owner_id=owner)
    blob_id = rt.storage.put_blob(db, owner_id=owner, data=b"%PDF-1.4 letter")
    assert rt.storage.get_blob(db, owner_id=owner, blob_id=blob_id) == b"%PDF-1.4 letter"
    key.seal(b"x", b"y")
    assert rt.storage.destroy_data_key(db, owner_id=owner)
    assert not rt.storage.destroy_data_key(db, owner_id=owner)  # only once
    with pytest.raises(DataKeyDestroyed):
        rt.storage.data_key(db, owner_id=owner)
    with pytest.raises(DataKeyDestroyed):
        rt.storage.get_blob(db, owner_id=owner, blob_id=blob_id)
    wrapped = db.execute(
        text("SELECT wrapped_key FROM storage_data_key WHERE owner_id = :o"), {"o": owner}
    ).scalar_one()
    assert wrapped is None
    assert rt.storage.is_destroyed(db, owner_id=owner)


def test_blob_of_another_owner_is_not_found(rt: Runtime, db: Connection) -> None:
    owner = new_id()
    blob_id = rt.storage.put_blob(db, owner_id=owner, data=b"abc")
    assert rt.storage.get_blob(db, owner_id=new_id(), blob_id=blob_id) is None


def test_blob_bytes_at_rest_are_encrypted(rt: Runtime, db: Connection) -> None:
    owner = new_id()
    payload = b"Compte rendu de consultation " * 20
    blob_id = rt.storage.put_blob(db, owner_id=owner, data=payload)
    stored = rt.storage.blobs.get(blob_id)
    assert stored is not None
    assert b"Compte rendu" not in stored


def test_local_store_writes_atomically_and_sweeps(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path / "blobs")
    store.put("abcdefgh12", b"data")
    assert store.get("abcdefgh12") == b"data"
    assert [key for key, _ in store.scan()] == ["abcdefgh12"]
    # A crash between write and rename leaves a hidden temporary file, never a partial blob.
    leftover = tmp_path / "blobs" / "12" / "gh" / ".abcdefgh12.dead.tmp"
    leftover.write_bytes(b"partial")
    os.utime(leftover, (time.time() - 7200, time.time() - 7200))
    assert [key for key, _ in store.scan()] == ["abcdefgh12"]
    assert store.discard_incomplete(time.time() - 3600) == 1
    assert not leftover.exists()
    with pytest.raises(ValueError, match="invalid blob key"):
        store.put("../escape", b"x")


def test_sweep_removes_orphans_only(rt: Runtime, db: Connection, tmp_path: Path) -> None:
    storage = Storage(
        keyring=rt.storage.keyring, blobs=LocalBlobStore(tmp_path / "b"), clock=SystemClock()
    )
    owner = new_id()
    kept = storage.put_blob(db, owner_id=owner, data=b"kept")
    storage.blobs.put("orphan-blob-0001", b"left by a rolled-back transaction")
    for path in (tmp_path / "b").rglob("*"):
        if path.is_file():
            os.utime(path, (time.time() - 7200, time.time() - 7200))
    assert storage.sweep_blobs(db, older_than_seconds=3600) == 1
    assert storage.blobs.get("orphan-blob-0001") is None
    assert storage.get_blob(db, owner_id=owner, blob_id=kept) == b"kept"


def test_rotation_rewraps_without_reencrypting_and_resumes(rt: Runtime) -> None:
    owners = [new_id() for _ in range(5)]
    sealed = {}
    with rt.transaction() as db:
        for owner in owners:
            sealed[owner] = rt.storage.create_data_key(db, owner_id=owner).seal(b"v", b"c")
        before = {
            row.owner_id: row.wrapped_key
            for row in db.execute(text("SELECT owner_id, wrapped_key FROM storage_data_key"))
        }
    old_kek = rt.storage.keyring.active_kek_id

    # First attempt dies after one batch: two KEKs stay in the keyring, some keys re-wrapped.
    batches = []

    def crash_after_first_batch(done: int) -> None:
        batches.append(done)
        raise RuntimeError("power cut")

    with pytest.raises(RuntimeError):
        rt.storage.rotate_keks(rt.transaction, batch_size=2, progress=crash_after_first_batch)
    assert len(rt.storage.keyring.data.keks) == 2
    new_kek = rt.storage.keyring.active_kek_id
    assert new_kek != old_kek

    report = rt.storage.rotate_keks(rt.transaction, batch_size=2)
    assert report.new_kek_id is None  # finished the interrupted rotation, no third key
    assert report.retired == [old_kek]
    assert list(rt.storage.keyring.data.keks) == [new_kek]
    with rt.transaction(readonly=True) as db:
        assert set(rt.storage.count_data_keys(db)) == {new_kek}
        after = {
            row.owner_id: row.wrapped_key
            for row in db.execute(text("SELECT owner_id, wrapped_key FROM storage_data_key"))
        }
        for owner in owners:
            assert after[owner] != before[owner]
            assert rt.storage.data_key(db, owner_id=owner).open(sealed[owner], b"c") == b"v"
