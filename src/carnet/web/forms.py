"""Values and errors of a submitted form, as the form macros and the error summary show them.

Validation lives with each form's view; this module only carries the result. Messages are
catalogue ids, translated where they are shown. Each error names the field it belongs to and the
id of the control the error summary's link moves the focus to.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class FieldError:
    field: str
    """The field's name (``lang``)."""
    anchor: str
    """The id of the control that receives the focus from the error summary."""
    message: str
    """A catalogue message id saying what is wrong and how to put it right."""


@dataclass(slots=True)
class Form:
    """A form's submitted values and its errors (none: the form is valid)."""

    values: dict[str, str] = field(default_factory=dict)
    errors: list[FieldError] = field(default_factory=list)

    @classmethod
    def from_submission(cls, data: Mapping[str, object], fields: tuple[str, ...]) -> Form:
        """The named text fields of a submission, stripped; files and unknown fields ignored."""
        values = {}
        for name in fields:
            value = data.get(name)
            values[name] = value.strip() if isinstance(value, str) else ""
        return cls(values=values)

    @property
    def valid(self) -> bool:
        return not self.errors

    def add_error(self, name: str, message: str, *, anchor: str | None = None) -> None:
        self.errors.append(FieldError(field=name, anchor=anchor or name, message=message))

    def error_for(self, name: str) -> FieldError | None:
        return next((e for e in self.errors if e.field == name), None)
