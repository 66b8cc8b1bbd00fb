"""Errors of the storage area.

core.errors.CarnetError
 ├── ClientError
 │    └── Gone
 │         └── DataKeyDestroyed   the owner's data key was shredded: the data is gone for good
 └── ConfigurationError
      └── KeyringError            the keyring file is missing, unreadable or unsafe
"""

from __future__ import annotations

from carnet.core.errors import CarnetError, ConfigurationError, Gone


class DataKeyDestroyed(Gone):
    def __init__(self) -> None:
        super().__init__("this data has been permanently erased")


class KeyringError(ConfigurationError):
    pass


class BlobMissing(CarnetError):
    """A blob row exists but its bytes do not: storage lost data (an operator problem)."""
