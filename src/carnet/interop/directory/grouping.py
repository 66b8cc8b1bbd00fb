"""Lines → professionals: the lines of one professional, read together, become their
Practitioner, one PractitionerRole per activity and the Organizations they work in.

The extract lists each professional's activities on consecutive lines (it is sorted by
professional), which lets a professional be built from all their lines while memory holds one
professional at a time. Two lines of the same activity (the same professional, structure,
profession and function, e.g. one per savoir-faire or mode) merge into one PractitionerRole.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

from carnet.identity import service as identity_service
from carnet.interop.directory.columns import Header
from carnet.interop.directory.lines import LineRecord, parse_line
from carnet.interop.directory.reader import RawLine
from carnet.interop.schemas import LineError

Resource = dict[str, Any]
T = TypeVar("T")


@dataclass
class ProfessionalGroup:
    """The consecutive lines of one professional."""

    first_line: int
    last_line: int
    professional: identity_service.Professional
    lines: int = 0
    activities: dict[str, identity_service.Activity] = field(default_factory=dict)
    organisations: dict[str, identity_service.Organisation] = field(default_factory=dict)

    @property
    def national_id(self) -> str:
        return self.professional.id.national_id

    def add(self, record: LineRecord) -> None:
        self.last_line = record.number
        self.lines += 1
        self.professional = _merge_professional(self.professional, record.professional)
        if record.activity is not None:
            key = record.activity.key
            known = self.activities.get(key)
            self.activities[key] = (
                record.activity if known is None else _merge_activity(known, record.activity)
            )
        if record.organisation is not None:
            self.organisations.setdefault(record.organisation.ids.key, record.organisation)

    def resources(self) -> list[Resource]:
        """Organizations, then the Practitioner, then the PractitionerRoles (referenced first)."""
        found = [identity_service.organization_resource(o) for o in self.organisations.values()]
        found.append(identity_service.practitioner_resource(self.professional))
        found += [identity_service.practitioner_role_resource(a) for a in self.activities.values()]
        return found


def _union(first: tuple[T, ...], second: tuple[T, ...]) -> tuple[T, ...]:
    return first + tuple(item for item in second if item not in first)


def _merge_professional(
    known: identity_service.Professional, new: identity_service.Professional
) -> identity_service.Professional:
    return replace(
        known,
        professions=_union(known.professions, new.professions),
        savoir_faire=_union(known.savoir_faire, new.savoir_faire),
    )


def _merge_activity(
    known: identity_service.Activity, new: identity_service.Activity
) -> identity_service.Activity:
    return replace(
        known,
        modes=_union(known.modes, new.modes),
        savoir_faire=_union(known.savoir_faire, new.savoir_faire),
        genre=known.genre or new.genre,
        sector=known.sector or new.sector,
    )


@dataclass
class Batch:
    """Consecutive lines of the extract, ending at a professional's last line: written in one
    transaction, after which the run records ``end_line`` as done."""

    groups: list[ProfessionalGroup] = field(default_factory=list)
    errors: list[LineError] = field(default_factory=list)
    lines: int = 0
    legacy_encoded: int = 0
    end_line: int = 0
    end_offset: int = 0


def batches(lines: Iterable[RawLine], header: Header, *, size: int) -> Iterator[Batch]:
    """Parse and group ``lines`` into batches of at least ``size`` lines (more when the last
    professional of a batch has many lines: a professional is never split)."""
    batch = Batch()
    group: ProfessionalGroup | None = None
    for raw in lines:
        parsed = parse_line(raw, header)
        if isinstance(parsed, LineRecord):
            national_id = parsed.professional.id.national_id
            if group is not None and group.national_id == national_id:
                group.add(parsed)
            else:
                if group is not None:
                    batch.groups.append(group)
                    if batch.lines >= size:
                        yield batch
                        batch = Batch()
                group = ProfessionalGroup(parsed.number, parsed.number, parsed.professional)
                group.add(parsed)
        else:
            batch.errors.append(parsed)
        batch.lines += 1
        batch.legacy_encoded += raw.legacy_encoding
        batch.end_line, batch.end_offset = raw.number, raw.end_offset
    if group is not None:
        batch.groups.append(group)
    if batch.lines:
        yield batch
