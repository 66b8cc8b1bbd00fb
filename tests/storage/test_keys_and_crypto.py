"""The keyring file and the AES-GCM envelopes."""

from __future__ import annotations

import base64
import json
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from carnet.storage import crypto
from carnet.storage.errors import KeyringError
from carnet.storage.keys import Keyring, generate_keyring, open_keyring


def test_generated_keyring_is_private_and_marked_generated(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "keyring.json"
    keyring = open_keyring(path, create=True)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert keyring.generated
    assert len(keyring.kek(keyring.active_kek_id)) == 32
    assert keyring.index_key != keyring.audit_key


def test_generate_refuses_to_overwrite(tmp_path: Path) -> None:
    path = tmp_path / "keyring.json"
    generate_keyring(path)
    with pytest.raises(KeyringError, match="overwrite"):
        generate_keyring(path)


def test_missing_keyring_is_refused_without_create(tmp_path: Path) -> None:
    with pytest.raises(KeyringError, match="no key file"):
        open_keyring(tmp_path / "absent.json", create=False)


def test_keyring_readable_by_others_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "keyring.json"
    generate_keyring(path)
    path.chmod(0o644)
    with pytest.raises(KeyringError, match="readable by others"):
        Keyring(path)


def _rewrite(path: Path, **changes: object) -> None:
    doc = json.loads(path.read_text())
    doc.update(changes)
    path.write_text(json.dumps(doc))
    path.chmod(0o600)


def test_placeholder_keys_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "keyring.json"
    generate_keyring(path)
    _rewrite(path, index_key=base64.b64encode(b"\x00" * 32).decode())
    with pytest.raises(KeyringError, match="placeholder"):
        Keyring(path)


def test_garbage_keyring_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "keyring.json"
    path.write_text("changeme")
    path.chmod(0o600)
    with pytest.raises(KeyringError, match="not a valid"):
        Keyring(path)


def test_seal_round_trip_compresses_and_binds_context() -> None:
    aead = AESGCM(AESGCM.generate_key(bit_length=256))
    plain = json.dumps({"resourceType": "Observation", "note": ["x" * 50] * 40}).encode()
    sealed = crypto.seal(aead, plain, b"Observation/1/1")
    assert sealed[0] == crypto.FORMAT_DEFLATE
    assert len(sealed) < len(plain)
    assert crypto.open_sealed(aead, sealed, b"Observation/1/1") == plain
    with pytest.raises(crypto.SealError):
        crypto.open_sealed(aead, sealed, b"Observation/1/2")  # another version's slot
    tampered = bytearray(sealed)
    tampered[-1] ^= 1
    with pytest.raises(crypto.SealError):
        crypto.open_sealed(aead, bytes(tampered), b"Observation/1/1")


def test_small_values_are_not_compressed() -> None:
    aead = AESGCM(AESGCM.generate_key(bit_length=256))
    sealed = crypto.seal(aead, b'{"a":1}', b"ctx")
    assert sealed[0] == crypto.FORMAT_RAW
    assert crypto.open_sealed(aead, sealed, b"ctx") == b'{"a":1}'


def test_changing_the_format_byte_breaks_authentication() -> None:
    aead = AESGCM(AESGCM.generate_key(bit_length=256))
    sealed = bytearray(crypto.seal(aead, b"x" * 500, b"ctx"))
    sealed[0] = crypto.FORMAT_RAW
    with pytest.raises(crypto.SealError):
        crypto.open_sealed(aead, bytes(sealed), b"ctx")


def test_wrapped_keys_are_bound_to_owner_and_kek() -> None:
    kek = AESGCM.generate_key(bit_length=256)
    data_key = AESGCM.generate_key(bit_length=256)
    wrapped = crypto.wrap_key(kek, data_key, b"patient-a|kek-1")
    assert crypto.unwrap_key(kek, wrapped, b"patient-a|kek-1") == data_key
    with pytest.raises(KeyringError):
        crypto.unwrap_key(kek, wrapped, b"patient-b|kek-1")


def test_blind_index_is_keyed_and_domain_separated() -> None:
    key = b"k" * 16 + b"e" * 16
    a = crypto.keyed_hash(key, "Patient.family", "martin")
    assert a == crypto.keyed_hash(key, "Patient.family", "martin")
    assert a != crypto.keyed_hash(key, "Patient.given", "martin")
    assert a != crypto.keyed_hash(b"x" * 32, "Patient.family", "martin")
    assert "martin" not in a
    assert len(a) == 32
