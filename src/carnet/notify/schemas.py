"""Values of the notify area: messages ready to send."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class OutgoingEmail:
    to: str
    subject: str
    text: str
    html: str | None = None
    kind: str = ""
    """The template it came from (for logs: the only thing about a message that is logged)."""
    reference: str = ""
    """An opaque token naming what the message is about (an enrollment notice), written as the
    left part of its Message-ID and as its DSN envelope id, so that a bounce can be traced back
    to it; never anything about the person. Empty: a random Message-ID."""

    def __repr__(self) -> str:
        return f"OutgoingEmail(kind={self.kind!r}, to=<hidden>)"


@dataclass(frozen=True, slots=True)
class BatchEmail:
    """One e-mail of a batch (``service.queue_emails``): its address, the variables that differ
    from the batch's shared ones (a code), and its reference (see ``OutgoingEmail``)."""

    to: str
    context: dict[str, str | int]
    reference: str = ""

    def __repr__(self) -> str:
        return f"BatchEmail(reference={self.reference!r}, to=<hidden>)"


@dataclass(frozen=True, slots=True)
class OutgoingSms:
    to: str
    text: str
    kind: str = ""

    def __repr__(self) -> str:
        return f"OutgoingSms(kind={self.kind!r}, to=<hidden>)"


# --- The notification centre (``inbox``, ``preferences``) ----------------------------------------

INBOX_KINDS: tuple[str, ...] = ("new_document", "new_message", "reminder", "connected_app")
"""What can be waiting for a person: a kind says only where to look, never what it is."""


@dataclass(frozen=True, slots=True)
class InboxItem:
    """One notification: its kind and the portal path where to look (no title, no health
    data), when it arrived and when it was read (None: unread)."""

    id: str
    kind: str
    link: str
    created_at: datetime
    read_at: datetime | None

    @property
    def unread(self) -> bool:
        return self.read_at is None


@dataclass(frozen=True, slots=True)
class InboxPage:
    """One page of a person's notifications, newest first, with their unread count."""

    items: tuple[InboxItem, ...]
    unread: int
    total: int
    page: int
    pages: int
