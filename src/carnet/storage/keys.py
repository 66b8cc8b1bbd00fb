"""The keyring file: key-encryption keys and the blind-index key.

Format (JSON, mode 0600)::

    {"format": "carnet-keyring/1", "generated": true,
     "kek": {"active": "kek-…", "keys": {"kek-…": "<base64 32 bytes>", …}},
     "index_key": "<base64 32 bytes>", "audit_key": "<base64 32 bytes>"}

``generated`` marks material made by Carnet on a developer's machine: production refuses it.
Several KEKs coexist only during a rotation; the active one wraps new data keys. The blind-index
key never rotates with the KEK (every index row would have to be recomputed): it is a separate,
long-lived secret, as is the audit key that seals the audit hash chains (an attacker who can write
to the database but cannot read this file cannot forge a consistent chain).
"""

from __future__ import annotations

import base64
import os
import secrets
import stat
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import orjson

from carnet.storage.errors import KeyringError

FORMAT = "carnet-keyring/1"
KEY_BYTES = 32


@dataclass(frozen=True)
class KeyringData:
    active_kek_id: str
    keks: dict[str, bytes]
    index_key: bytes
    audit_key: bytes
    generated: bool


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def new_kek_id() -> str:
    return f"kek-{datetime.now(UTC):%Y%m%dT%H%M%S}-{secrets.token_hex(3)}"


def _check_key(name: str, key: bytes) -> bytes:
    if len(key) != KEY_BYTES:
        raise KeyringError(f"keyring: {name} must be {KEY_BYTES} bytes")
    if len(set(key)) < 8:
        # All zeros, a repeated byte, "changeme" padded…: a placeholder, not a key.
        raise KeyringError(f"keyring: {name} looks like a placeholder, not random key material")
    return key


def parse_keyring(raw: bytes) -> KeyringData:
    try:
        doc = orjson.loads(raw)
        if doc.get("format") != FORMAT:
            raise KeyringError(f"keyring: unknown format (expected {FORMAT})")
        keks = {
            kek_id: _check_key(kek_id, base64.b64decode(value, validate=True))
            for kek_id, value in doc["kek"]["keys"].items()
        }
        active = doc["kek"]["active"]
        index_key = _check_key("index_key", base64.b64decode(doc["index_key"], validate=True))
        audit_key = _check_key("audit_key", base64.b64decode(doc["audit_key"], validate=True))
    except (KeyError, TypeError, ValueError, orjson.JSONDecodeError) as exc:
        raise KeyringError("keyring: the file is not a valid Carnet keyring") from exc
    if active not in keks:
        raise KeyringError("keyring: the active key-encryption key is missing from the file")
    return KeyringData(
        active_kek_id=active,
        keks=keks,
        index_key=index_key,
        audit_key=audit_key,
        generated=bool(doc.get("generated")),
    )


def serialise_keyring(data: KeyringData) -> bytes:
    doc = {
        "format": FORMAT,
        "generated": data.generated,
        "kek": {"active": data.active_kek_id, "keys": {k: _b64(v) for k, v in data.keks.items()}},
        "index_key": _b64(data.index_key),
        "audit_key": _b64(data.audit_key),
    }
    return orjson.dumps(doc, option=orjson.OPT_INDENT_2)


def write_secret_file(path: Path, content: bytes) -> None:
    """Write ``content`` to ``path`` atomically, readable by the owner only (0600)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.parent.chmod(0o700)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, content)
        os.fsync(fd)
    finally:
        os.close(fd)
    tmp.replace(path)
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def generate_keyring(path: Path) -> KeyringData:
    """Create a fresh development keyring at ``path`` (refuses to overwrite one)."""
    if path.exists():
        raise KeyringError("keyring: refusing to overwrite an existing keyring file")
    kek_id = new_kek_id()
    data = KeyringData(
        active_kek_id=kek_id,
        keks={kek_id: secrets.token_bytes(KEY_BYTES)},
        index_key=secrets.token_bytes(KEY_BYTES),
        audit_key=secrets.token_bytes(KEY_BYTES),
        generated=True,
    )
    write_secret_file(path, serialise_keyring(data))
    return data


class Keyring:
    """The keyring loaded from its file, reloaded when a key it does not know is asked for.

    Reloading on a miss lets running servers follow a ``carnet keys rotate`` made by another
    process without a restart.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._data = self._load()

    def _load(self) -> KeyringData:
        try:
            mode = self.path.stat().st_mode
            raw = self.path.read_bytes()
        except FileNotFoundError as exc:
            raise KeyringError(f"keyring: no key file at {self.path}") from exc
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise KeyringError(f"keyring: {self.path} is readable by others; run chmod 600 on it")
        return parse_keyring(raw)

    @property
    def data(self) -> KeyringData:
        return self._data

    @property
    def active_kek_id(self) -> str:
        return self._data.active_kek_id

    @property
    def index_key(self) -> bytes:
        return self._data.index_key

    @property
    def audit_key(self) -> bytes:
        return self._data.audit_key

    @property
    def generated(self) -> bool:
        return self._data.generated

    def kek(self, kek_id: str) -> bytes:
        key = self._data.keks.get(kek_id)
        if key is None:
            with self._lock:
                self._data = self._load()
            key = self._data.keks.get(kek_id)
        if key is None:
            raise KeyringError("keyring: a data key is wrapped by a KEK absent from the keyring")
        return key

    def add_active_kek(self) -> str:
        """Make a new KEK the active one, keeping the others (first step of a rotation)."""
        with self._lock:
            current = self._load()
            kek_id = new_kek_id()
            data = KeyringData(
                active_kek_id=kek_id,
                keks={**current.keks, kek_id: secrets.token_bytes(KEY_BYTES)},
                index_key=current.index_key,
                audit_key=current.audit_key,
                generated=current.generated,
            )
            write_secret_file(self.path, serialise_keyring(data))
            self._data = data
            return kek_id

    def retire_inactive_keks(self) -> list[str]:
        """Remove every KEK but the active one (last step of a rotation)."""
        with self._lock:
            current = self._load()
            retired = [k for k in current.keks if k != current.active_kek_id]
            data = KeyringData(
                active_kek_id=current.active_kek_id,
                keks={current.active_kek_id: current.keks[current.active_kek_id]},
                index_key=current.index_key,
                audit_key=current.audit_key,
                generated=current.generated,
            )
            write_secret_file(self.path, serialise_keyring(data))
            self._data = data
            return retired


def open_keyring(path: Path, *, create: bool) -> Keyring:
    """Load the keyring, generating a development one first when ``create`` is set."""
    if create and not path.exists():
        generate_keyring(path)
    return Keyring(path)
