""" "Je ne suis pas concerné(e)": one FHIR List per section, empty for a stated reason.

The List is coded with the section (Carnet's ``rubrique`` system), dated with the day of the
declaration, and carries ``emptyReason`` ``nilknown`` (HL7 list-empty-reason: "there is nothing
to record"). Adding an item to the section deletes it.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import orjson

from carnet.profile import codes
from carnet.profile.clinical import base
from carnet.profile.schemas import Section
from carnet.record.service import Repository, StoredResource


def declaration(section: Section, *, patient_id: str, today: date) -> dict[str, Any]:
    resource = base("List", patient_id)
    resource |= {
        "status": "current",
        "mode": "snapshot",
        "code": {"coding": [codes.coding(codes.SECTION_SYSTEM, section.value)]},
        "date": today.isoformat(),
        "emptyReason": {"coding": [codes.coding(codes.LIST_EMPTY_REASON, "nilknown")]},
    }
    return resource


def declarations(repo: Repository, *, patient_id: str) -> dict[Section, tuple[str, date]]:
    """Every declared section: the List's id and its date."""
    found: dict[Section, tuple[str, date]] = {}
    for stored in _lists(repo, patient_id):
        body = orjson.loads(stored.body)
        code = codes.first_code(body.get("code"), codes.SECTION_SYSTEM)
        if code in Section.__members__ and body.get("emptyReason"):
            found[Section(code)] = (stored.id, date.fromisoformat(str(body["date"])[:10]))
    return found


def _lists(repo: Repository, patient_id: str) -> list[StoredResource]:
    params = [
        ("patient", f"Patient/{patient_id}"),
        ("_tag", f"{codes.TAG_SYSTEM}|{codes.TAG_CODE}"),
        ("_count", "100"),
    ]
    return list(repo.search("List", params).matches)
