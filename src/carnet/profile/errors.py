"""Why a profile entry is refused.

Each error carries a ``reason`` (a stable key the portal turns into a French sentence) and the
``field`` it concerns. Messages never quote what the person typed. Nothing is stored when one is
raised: the service checks everything before its first write.
"""

from __future__ import annotations

from typing import Literal

from carnet.core.errors import Conflict, InvalidInput, NotFound

Reason = Literal[
    "required",
    "too-long",
    "bad-date",
    "future",
    "day-without-month",
    "end-before-start",
    "unknown-choice",
    "unknown-link",
    "not-a-number",
]


class InvalidProfileEntry(InvalidInput):
    """A value that cannot be recorded as given."""

    def __init__(self, reason: Reason, *, field: str) -> None:
        super().__init__(f"profile entry refused: {reason} ({field})")
        self.reason: Reason = reason
        self.field = field


class ItemsPresent(Conflict):
    """ "Not concerned" declared for a section that holds items."""

    def __init__(self) -> None:
        super().__init__("the section holds items: remove them before declaring it not concerned")


class NotConcernable(InvalidInput):
    """ "Not concerned" asked for a section where MES does not offer it."""

    def __init__(self) -> None:
        super().__init__("this section has no 'not concerned' declaration")


class ProfileItemNotFound(NotFound):
    """No such item in this section of this space."""

    def __init__(self) -> None:
        super().__init__("profile item not found")
