"""An in-memory blob store, for tests (DESIGN.md §8.5: a real adapter, not a mock)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator


class MemoryBlobStore:
    def __init__(self) -> None:
        self._items: dict[str, tuple[bytes, float]] = {}
        self._lock = threading.Lock()

    def put(self, key: str, data: bytes) -> None:
        with self._lock:
            self._items[key] = (bytes(data), time.time())

    def get(self, key: str) -> bytes | None:
        with self._lock:
            item = self._items.get(key)
        return None if item is None else item[0]

    def delete(self, key: str) -> None:
        with self._lock:
            self._items.pop(key, None)

    def scan(self) -> Iterator[tuple[str, float]]:
        with self._lock:
            items = [(key, mtime) for key, (_, mtime) in self._items.items()]
        yield from items

    def discard_incomplete(self, before: float) -> int:  # noqa: ARG002 - writes here are atomic
        return 0
