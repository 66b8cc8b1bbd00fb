"""The medical profile's public functions: list, create, update and delete items per section,
declare or withdraw "not concerned", and the overview of every section.

Every function takes the person's Repository first and never commits. Each one checks all its
input (texts, dates, choices, link targets) before its first write, so a refusal stores nothing.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from datetime import date
from typing import Any

import orjson

from carnet.core.errors import Gone, NotFound
from carnet.profile import declarations as declared
from carnet.profile.errors import (
    InvalidProfileEntry,
    ItemsPresent,
    NotConcernable,
    ProfileItemNotFound,
)
from carnet.profile.fields import Entry
from carnet.profile.habits import lifestyle_texts
from carnet.profile.schemas import (
    NOT_CONCERNABLE,
    LifestyleSection,
    Link,
    ProfileItem,
    Section,
    SectionState,
)
from carnet.profile.sections import DOCUMENT, KINDS, Kind, criteria, strip_reference
from carnet.record.service import Repository, StoredResource

__all__ = [
    "create_item",
    "declare_not_concerned",
    "delete_item",
    "documents_to_link",
    "get_item",
    "list_section",
    "not_concerned_on",
    "overview",
    "remove_links_to",
    "save_lifestyles",
    "update_item",
    "withdraw_not_concerned",
]

_ID = re.compile(r"[A-Za-z0-9\-.]{1,64}")
_LINKING = (Section.TREATMENTS, Section.HOSPITALIZATIONS, Section.ALLERGIES)


def _stored(repo: Repository, patient_id: str, kind: Kind) -> list[StoredResource]:
    found: list[StoredResource] = []
    for resource_type in kind.types:
        result = repo.search(resource_type, [*criteria(kind, patient_id), ("_count", "1000")])
        found.extend(result.matches)
        while result.next_cursor is not None:
            result = repo.search(resource_type, [], cursor=result.next_cursor)
            found.extend(result.matches)
    return [s for s in found if s.patient_id == patient_id]


def _items(repo: Repository, patient_id: str, section: Section) -> list[ProfileItem]:
    kind = KINDS[section]
    bodies = (orjson.loads(s.body) for s in _stored(repo, patient_id, kind))
    return [kind.read(body) for body in bodies if kind.keeps(body)]


def list_section(repo: Repository, *, patient_id: str, section: Section) -> list[ProfileItem]:
    """A section's items, most recent first (undated ones last), links labelled."""
    items = _items(repo, patient_id, section)
    targets = {t for t in KINDS[section].links.values() if isinstance(t, Section)}
    labels = {item.reference: item.label for t in targets for item in _items(repo, patient_id, t)}
    labelled = [_with_labels(item, labels) if item.links else item for item in items]
    labelled.sort(key=lambda i: i.label.casefold())
    labelled.sort(key=lambda i: i.start.earliest if i.start else date.min, reverse=True)
    return labelled


def _with_labels(item: ProfileItem, labels: Mapping[str, str]) -> ProfileItem:
    links = tuple(Link(link.kind, link.target, labels.get(link.target, "")) for link in item.links)
    return dataclasses.replace(item, links=links)


def get_item(repo: Repository, *, patient_id: str, section: Section, item_id: str) -> ProfileItem:
    """One item of a section (``ProfileItemNotFound`` when it is not one of them)."""
    item = next(
        (i for i in list_section(repo, patient_id=patient_id, section=section) if i.id == item_id),
        None,
    )
    if item is None:
        raise ProfileItemNotFound
    return item


def _links(repo: Repository, patient_id: str, kind: Kind, entry: Entry) -> dict[str, str]:
    """The link fields of a submission as references, each checked to exist in this space."""
    resolved: dict[str, str] = {}
    for name, target in kind.links.items():
        wanted = entry.get(name)
        if not wanted:
            continue
        if not _ID.fullmatch(wanted):
            raise InvalidProfileEntry("unknown-link", field=name)
        if target == DOCUMENT:
            try:
                stored = repo.read("DocumentReference", wanted)
            except (NotFound, Gone):  # absent, refused or deleted
                raise InvalidProfileEntry("unknown-link", field=name) from None
            if stored.patient_id != patient_id:
                raise InvalidProfileEntry("unknown-link", field=name)
            resolved[name] = f"DocumentReference/{wanted}"
            continue
        assert isinstance(target, Section)
        known = {i.id: i.reference for i in _items(repo, patient_id, target)}
        if wanted not in known:
            raise InvalidProfileEntry("unknown-link", field=name)
        resolved[name] = known[wanted]
    return resolved


def _prepare(
    repo: Repository, patient_id: str, section: Section, values: Mapping[str, str], today: date
) -> dict[str, Any]:
    kind = KINDS[section]
    entry = Entry(values, today)
    return kind.build(entry, patient_id, _links(repo, patient_id, kind, entry))


def _same_slot(kind: Kind, item: ProfileItem, values: Mapping[str, str]) -> bool:
    if kind.single_key == "*":
        return True
    return (
        bool(kind.single_key)
        and item.values.get(kind.single_key) == (values.get(kind.single_key) or "").strip()
    )


def create_item(
    repo: Repository,
    *,
    patient_id: str,
    section: Section,
    values: Mapping[str, str],
    today: date,
) -> ProfileItem:
    """Add an item (for the blood group and each lifestyle topic, replace the one there is).
    Adding to a section withdraws its "not concerned" declaration."""
    kind = KINDS[section]
    resource = _prepare(repo, patient_id, section, values, today)
    existing = None
    if kind.single_key:  # the blood group, a lifestyle topic: one item, replaced
        existing = next(
            (i for i in _items(repo, patient_id, section) if _same_slot(kind, i, values)), None
        )
    if existing is not None and existing.resource_type == resource["resourceType"]:
        resource["id"] = existing.id
        stored = repo.update(existing.resource_type, existing.id, resource).resource
    else:
        stored = repo.create(resource)
    withdraw_not_concerned(repo, patient_id=patient_id, section=section)
    return kind.read(orjson.loads(stored.body))


def update_item(
    repo: Repository,
    *,
    patient_id: str,
    section: Section,
    item_id: str,
    values: Mapping[str, str],
    today: date,
) -> ProfileItem:
    """Replace an item with what the form now says. A hospitalisation changed from a stay to
    an operation (or back) becomes a new resource of the other type; the old one is deleted."""
    current = get_item(repo, patient_id=patient_id, section=section, item_id=item_id)
    kind = KINDS[section]
    resource = _prepare(repo, patient_id, section, values, today)
    if resource["resourceType"] != current.resource_type:
        stored = repo.create(resource)
        _delete(repo, patient_id, current)
    else:
        resource["id"] = current.id
        stored = repo.update(current.resource_type, current.id, resource).resource
    return kind.read(orjson.loads(stored.body))


def delete_item(repo: Repository, *, patient_id: str, section: Section, item_id: str) -> None:
    """Delete an item and every link other items had to it."""
    current = get_item(repo, patient_id=patient_id, section=section, item_id=item_id)
    _delete(repo, patient_id, current)


def _delete(repo: Repository, patient_id: str, item: ProfileItem) -> None:
    repo.delete(item.resource_type, item.id)
    remove_links_to(repo, patient_id=patient_id, reference=item.reference)


def remove_links_to(repo: Repository, *, patient_id: str, reference: str) -> int:
    """Drop every link the profile holds to ``reference`` (an item, or a document that was
    deleted); how many items changed."""
    changed = 0
    for section in _LINKING:
        for stored in _stored(repo, patient_id, KINDS[section]):
            body = orjson.loads(stored.body)
            if strip_reference(body, reference):
                repo.update(stored.resource_type, stored.id, body)
                changed += 1
    return changed


def save_lifestyles(
    repo: Repository, *, patient_id: str, values: Mapping[str, str], today: date
) -> list[ProfileItem]:
    """The lifestyle form: one answer per topic; an emptied answer deletes that topic's."""
    texts = lifestyle_texts(Entry(values, today))  # every answer checked before any write
    current = {
        LifestyleSection(i.values["section"]): i
        for i in _items(repo, patient_id, Section.LIFESTYLES)
    }
    for topic, text in texts.items():
        item = current.get(topic)
        if not text:
            if item is not None:
                repo.delete(item.resource_type, item.id)
        elif item is None or item.detail != text:
            create_item(
                repo,
                patient_id=patient_id,
                section=Section.LIFESTYLES,
                values={"section": topic.value, "value": text},
                today=today,
            )
    return list_section(repo, patient_id=patient_id, section=Section.LIFESTYLES)


def declare_not_concerned(
    repo: Repository, *, patient_id: str, section: Section, today: date
) -> date:
    """Declare "je ne suis pas concerné(e)" for a section that holds nothing; its date."""
    if section not in NOT_CONCERNABLE:
        raise NotConcernable
    if _items(repo, patient_id, section):
        raise ItemsPresent
    existing = declared.declarations(repo, patient_id=patient_id).get(section)
    if existing is not None:
        return existing[1]
    repo.create(declared.declaration(section, patient_id=patient_id, today=today))
    return today


def withdraw_not_concerned(repo: Repository, *, patient_id: str, section: Section) -> bool:
    """Withdraw a section's declaration (True when there was one)."""
    if section not in NOT_CONCERNABLE:
        return False
    existing = declared.declarations(repo, patient_id=patient_id).get(section)
    if existing is None:
        return False
    repo.delete("List", existing[0])
    return True


def not_concerned_on(repo: Repository, *, patient_id: str, section: Section) -> date | None:
    """The date of a section's "not concerned" declaration (None: not declared)."""
    found = declared.declarations(repo, patient_id=patient_id).get(section)
    return found[1] if found is not None else None


def overview(repo: Repository, *, patient_id: str) -> list[SectionState]:
    """Every section: how many items, and the date of its "not concerned" declaration."""
    states = declared.declarations(repo, patient_id=patient_id)
    return [
        SectionState(
            section=section,
            count=len(_items(repo, patient_id, section)),
            not_concerned_on=states[section][1] if section in states else None,
        )
        for section in Section
    ]


def documents_to_link(repo: Repository, *, patient_id: str) -> list[tuple[str, str]]:
    """The person's documents a hospitalisation may point to: (id, title), most recent first."""
    params = [("patient", f"Patient/{patient_id}"), ("_sort", "-date"), ("_count", "200")]
    found = []
    for stored in repo.search("DocumentReference", params).matches:
        body = orjson.loads(stored.body)
        contents = body.get("content") or [{}]
        title = body.get("description") or (contents[0].get("attachment") or {}).get("title")
        found.append((stored.id, str(title or stored.id)))
    return found
