"""Reading a section's submitted values: texts, choices, numbers and partial dates.

Values arrive as the form's field names mapped to text (the portal passes the submission as is;
other callers build the same mapping). Each check raises ``InvalidProfileEntry`` naming the
field, so the portal can put the message next to it.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date

from carnet.profile.dates import parse_partial
from carnet.profile.errors import InvalidProfileEntry
from carnet.profile.schemas import PartialDate

NAME_MAX = 200
TEXT_MAX = 2000


@dataclass(frozen=True, slots=True)
class Entry:
    """A submission and today's date (for the "not in the future" rule)."""

    values: Mapping[str, str]
    today: date

    def get(self, name: str) -> str:
        return (self.values.get(name) or "").strip()

    def text(self, name: str, *, required: bool = False, limit: int = NAME_MAX) -> str:
        value = " ".join(self.get(name).split()) if limit == NAME_MAX else self.get(name)
        if required and not value:
            raise InvalidProfileEntry("required", field=name)
        if len(value) > limit:
            raise InvalidProfileEntry("too-long", field=name)
        return value

    def choice(self, name: str, options: Collection[str], *, required: bool = False) -> str:
        value = self.get(name)
        if not value:
            if required:
                raise InvalidProfileEntry("required", field=name)
            return ""
        if value not in options:
            raise InvalidProfileEntry("unknown-choice", field=name)
        return value

    def number(self, name: str, *, low: int, high: int) -> int | None:
        value = self.get(name)
        if not value:
            return None
        if not value.isdigit() or not low <= int(value) <= high:
            raise InvalidProfileEntry("not-a-number", field=name)
        return int(value)

    def date(self, prefix: str, *, required: bool = False) -> PartialDate | None:
        """The partial date typed in ``<prefix>_year``, ``_month`` and ``_day``."""
        return parse_partial(
            self.get(f"{prefix}_year"),
            self.get(f"{prefix}_month"),
            self.get(f"{prefix}_day"),
            field=f"{prefix}_year",
            today=self.today,
            required=required,
        )

    def period(
        self, *, start_required: bool = False
    ) -> tuple[PartialDate | None, PartialDate | None]:
        """A start and an optional end, the end not before the start."""
        start = self.date("start", required=start_required)
        end = self.date("end")
        if end is not None and start is not None and _last_day(end) < start.earliest:
            raise InvalidProfileEntry("end-before-start", field="end_year")
        return start, end


def _last_day(value: PartialDate) -> date:
    """The last day a partial date covers (an end in 2019 is not before a start in March 2019)."""
    if value.day is not None and value.month is not None:
        return date(value.year, value.month, value.day)
    if value.month is not None:
        following = date(value.year + (value.month == 12), value.month % 12 + 1, 1)
        return date.fromordinal(following.toordinal() - 1)
    return date(value.year, 12, 31)
