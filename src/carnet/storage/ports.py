"""The blob store port: where encrypted document bytes live.

Adapters: ``adapters.local`` (a directory; the embedded default), ``adapters.memory`` (tests).
An S3-compatible adapter fits the same protocol for production (DESIGN.md §9).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol


class BlobStore(Protocol):
    def put(self, key: str, data: bytes) -> None:
        """Store ``data`` under ``key``, atomically: readers see all of it or nothing."""
        ...

    def get(self, key: str) -> bytes | None:
        """The bytes under ``key``, or None."""
        ...

    def delete(self, key: str) -> None:
        """Remove ``key`` if present."""
        ...

    def scan(self) -> Iterator[tuple[str, float]]:
        """Every key with its modification time (seconds since the epoch), for sweeping."""
        ...

    def discard_incomplete(self, before: float) -> int:
        """Remove writes abandoned by a crash before ``before``; return how many."""
        ...
