"""The external systems messages go through (DESIGN.md §8.5): one Protocol per channel.

An SMS provider adapter (an HTTP API of an operator or aggregator) is out of scope for now: it
would implement ``SmsSender.send`` by posting the text to the provider, raising
``DeliveryRefused`` for a number the provider rejects for good and any other exception for a
failure worth retrying; the job retries with back-off.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Protocol, runtime_checkable

from carnet.notify.schemas import OutgoingEmail, OutgoingSms


class EmailSender(Protocol):
    def send(self, message: OutgoingEmail) -> None:
        """Hand the message over for delivery. Raise ``DeliveryRefused`` when it can never be
        delivered (refused recipient), anything else when a retry may succeed."""


@runtime_checkable
class EmailSessions(Protocol):
    """A sender that can hold one connection open for many messages (SMTP): the batch job
    sends a whole batch through one ``session()``. Senders without it get one ``send`` each."""

    def session(self) -> AbstractContextManager[EmailSender]:
        """A sender over one connection, closed on exit."""


class SmsSender(Protocol):
    def send(self, message: OutgoingSms) -> None:
        """As ``EmailSender.send``, for one SMS."""
