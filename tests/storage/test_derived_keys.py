"""Keys derived from the keyring for one purpose each (the portal's CSRF key, …)."""

from __future__ import annotations

from pathlib import Path

import pytest

from carnet.core.clock import SystemClock
from carnet.storage.config import StorageSettings
from carnet.storage.service import Storage


def _storage(data_dir: Path) -> Storage:
    return Storage.from_settings(
        StorageSettings(blob_backend="memory"),
        data_dir=data_dir,
        clock=SystemClock(),
        create_keys=True,
    )


def test_a_derived_key_is_stable_per_purpose_and_keyring(tmp_path: Path) -> None:
    storage = _storage(tmp_path / "a")
    csrf = storage.derive_key("portal-csrf")
    assert len(csrf) == 32
    assert storage.derive_key("portal-csrf") == csrf  # every process derives the same key
    assert _storage(tmp_path / "a").derive_key("portal-csrf") == csrf
    assert storage.derive_key("other") != csrf
    assert storage.keyring.index_key not in {csrf, storage.derive_key("other")}
    assert _storage(tmp_path / "b").derive_key("portal-csrf") != csrf  # another keyring
    assert len(storage.derive_key("portal-csrf", length=64)) == 64
    with pytest.raises(ValueError, match="purpose"):
        storage.derive_key("")
