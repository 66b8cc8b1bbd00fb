"""Why a contact, an organ-donation statement or advance directives are refused.

Each error carries a ``reason`` (a stable key the portal turns into a French sentence) and, for
a form field, the ``field`` it concerns. Nothing is stored when one is raised: every check runs
before the first write.

core.errors.ClientError
 ├── InvalidInput
 │    ├── InvalidContact            a field of a contact is missing or malformed
 │    └── InvalidDirectives         a field of the guided form is missing or malformed
 ├── NotFound
 │    ├── ContactNotFound           no such contact in this space (or not visible)
 │    └── DirectivesNotFound        no such advance directives in this space
 ├── Conflict
 │    ├── SecondTrustedPerson       a trusted person is already declared
 │    └── ReplacementNotConfirmed   directives exist: replacing them needs the warning first
 └── Forbidden
      └── DirectivesRefused         a minor (or a birth date unknown) cannot write directives
"""

from __future__ import annotations

from typing import Literal

from carnet.core.errors import Conflict, Forbidden, InvalidInput, NotFound

ContactReason = Literal[
    "missing",
    "too-long",
    "bad-characters",
    "bad-mobile",
    "bad-postal-code",
    "bad-relation",
    "bad-role",
    "no-role",
]
DirectivesReason = Literal["missing", "too-long", "bad-choice", "empty"]
Refusal = Literal["minor", "birth-date-unknown"]


class InvalidContact(InvalidInput):
    """Contact fields that cannot be recorded as given: every problem, field by field."""

    def __init__(self, problems: tuple[tuple[str, ContactReason], ...]) -> None:
        super().__init__("contact refused: " + ", ".join(f"{r} ({f})" for f, r in problems))
        self.problems = problems
        self.field, self.reason = problems[0]


class InvalidDirectives(InvalidInput):
    """Answers of the guided advance-directives form that cannot be used as given."""

    def __init__(self, problems: tuple[tuple[str, DirectivesReason], ...]) -> None:
        super().__init__("directives refused: " + ", ".join(f"{r} ({f})" for f, r in problems))
        self.problems = problems
        self.field, self.reason = problems[0]


class ContactNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("No such contact.")


class DirectivesNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("No such advance directives.")


class SecondTrustedPerson(Conflict):
    """Only one trusted person (personne de confiance) may be declared."""

    def __init__(self) -> None:
        super().__init__("A trusted person is already declared.")


class ReplacementNotConfirmed(Conflict):
    """Advance directives exist: a new one replaces them only when the caller names them
    (``replaces``), which the portal does once the person has seen the warning."""

    def __init__(self, current_id: str) -> None:
        super().__init__("Advance directives already exist: confirm their replacement.")
        self.current_id = current_id


class DirectivesRefused(Forbidden):
    """Advance directives are for adults only."""

    def __init__(self, reason: Refusal) -> None:
        super().__init__(f"advance directives refused: {reason}")
        self.reason: Refusal = reason
