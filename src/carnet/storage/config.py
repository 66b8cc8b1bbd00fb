"""Settings section of the storage area."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel


class StorageSettings(BaseModel):
    key_file: Path | None = None
    """The keyring (KEKs and blind-index key). Default: <data_dir>/keys/keyring.json, generated
    on first run in dev and test; required, and never a generated one, in prod."""
    blob_backend: Literal["local", "memory"] = "local"
    blob_dir: Path | None = None
    """Where the local blob store writes. Default: <data_dir>/blobs."""
