"""Values of the notify area: messages ready to send."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class OutgoingEmail:
    to: str
    subject: str
    text: str
    html: str | None = None
    kind: str = ""
    """The template it came from (for logs: the only thing about a message that is logged)."""

    def __repr__(self) -> str:
        return f"OutgoingEmail(kind={self.kind!r}, to=<hidden>)"


@dataclass(frozen=True, slots=True)
class OutgoingSms:
    to: str
    text: str
    kind: str = ""

    def __repr__(self) -> str:
        return f"OutgoingSms(kind={self.kind!r}, to=<hidden>)"
