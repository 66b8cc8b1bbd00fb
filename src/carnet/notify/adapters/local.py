"""Senders that deliver nothing: the console (development) and memory (tests).

The console prints each message to stderr for a developer to read (codes and links included:
that is its point), with the recipient masked. Production refuses both (settings).
"""

from __future__ import annotations

import sys
import threading
from typing import TextIO

from carnet.notify.schemas import OutgoingEmail, OutgoingSms


def mask_address(address: str) -> str:
    """``a…@example.org`` for ``alice@example.org``; ``+33…78`` for a phone number."""
    local, at, domain = address.partition("@")
    if at:
        return f"{local[:1]}…@{domain}"
    return f"{address[:3]}…{address[-2:]}"


class ConsoleEmailSender:
    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream

    def send(self, message: OutgoingEmail) -> None:
        stream = self._stream or sys.stderr
        stream.write(
            f"\n----- e-mail ({message.kind}) to {mask_address(message.to)} -----\n"
            f"Subject: {message.subject}\n\n{message.text}\n----- end of e-mail -----\n"
        )
        stream.flush()


class ConsoleSmsSender:
    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream

    def send(self, message: OutgoingSms) -> None:
        stream = self._stream or sys.stderr
        stream.write(
            f"\n----- SMS ({message.kind}) to {mask_address(message.to)}: {message.text}\n"
        )
        stream.flush()


class MemoryEmailSender:
    """Keeps every message in ``outbox`` (thread-safe: the worker sends from its thread)."""

    def __init__(self) -> None:
        self.outbox: list[OutgoingEmail] = []
        self._lock = threading.Lock()

    def send(self, message: OutgoingEmail) -> None:
        with self._lock:
            self.outbox.append(message)


class MemorySmsSender:
    def __init__(self) -> None:
        self.outbox: list[OutgoingSms] = []
        self._lock = threading.Lock()

    def send(self, message: OutgoingSms) -> None:
        with self._lock:
            self.outbox.append(message)
