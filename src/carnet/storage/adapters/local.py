"""A blob store in a local directory.

Writes are atomic and durable: a temporary file in the target directory, fsync, rename over the
final name, fsync of the directory. A crash leaves either the whole blob or a ``.tmp`` file that
the sweeper removes, never a truncated blob under a real name.
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Iterator
from pathlib import Path

_KEY = re.compile(r"^[A-Za-z0-9_.-]{8,128}$")


class LocalBlobStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)
        self.root.chmod(0o700)

    def _path(self, key: str) -> Path:
        if not _KEY.match(key) or key.startswith("."):
            raise ValueError("invalid blob key")
        # Two levels of fan-out keep directories small at hundreds of millions of blobs.
        return self.root / key[-2:] / key[-4:-2] / key

    def put(self, key: str, data: bytes) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{key}.{secrets.token_hex(4)}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            os.fsync(fd)
        except BaseException:
            os.close(fd)
            tmp.unlink(missing_ok=True)
            raise
        os.close(fd)
        tmp.replace(path)
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)

    def get(self, key: str) -> bytes | None:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            return None

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def scan(self) -> Iterator[tuple[str, float]]:
        for path, mtime in self._files():
            if not path.name.startswith("."):
                yield path.name, mtime

    def discard_incomplete(self, before: float) -> int:
        removed = 0
        for path, mtime in self._files():
            if path.name.startswith(".") and path.name.endswith(".tmp") and mtime < before:
                path.unlink(missing_ok=True)
                removed += 1
        return removed

    def _files(self) -> Iterator[tuple[Path, float]]:
        for dirpath, _dirs, files in os.walk(self.root):
            for name in files:
                path = Path(dirpath) / name
                try:
                    yield path, path.stat().st_mtime
                except FileNotFoundError:
                    continue
