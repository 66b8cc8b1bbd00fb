"""The facts of a CDA header a reader needs: title, date, authors, custodian, the patient.

Identifiers (the INS, RPPS numbers, OIDs) are never read here: what comes out is shown to the
patient as text, and nothing here can leak into an attribute or a URL.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass

from carnet.interop.cda.parse import Element

_TIMESTAMP = re.compile(r"^(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?")
_GENDERS = {"F": "Féminin", "M": "Masculin", "U": "Inconnu"}
MAX_EMBEDDED_BYTES = 20 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Header:
    title: str
    date: str
    authors: tuple[str, ...]
    custodian: str
    patient_name: str
    patient_birth: str
    patient_gender: str


@dataclass(frozen=True, slots=True)
class Embedded:
    """A nonXMLBody's content: its media type and bytes (empty if not inline base64)."""

    media_type: str
    data: bytes


def read_header(doc: Element) -> Header:
    """The header facts of a ClinicalDocument (empty strings where absent)."""
    title_element = doc.child("title")
    title = _clean(title_element.text()) if title_element is not None else ""
    if not title:
        code = doc.child("code")
        title = code.attrs.get("displayName", "") if code is not None else ""
    patient = doc.path("recordTarget", "patientRole", "patient")
    gender = patient.child("administrativeGenderCode") if patient is not None else None
    return Header(
        title=title,
        date=format_timestamp(_value(doc.child("effectiveTime"))),
        authors=tuple(a for a in (_author(e) for e in doc.all("author")) if a),
        custodian=_name_of(
            doc.path("custodian", "assignedCustodian", "representedCustodianOrganization")
        ),
        patient_name=person_name(patient.child("name") if patient is not None else None),
        patient_birth=format_timestamp(_value(patient.child("birthTime")) if patient else ""),
        patient_gender=_GENDERS.get(gender.attrs.get("code", "") if gender else "", ""),
    )


def embedded(doc: Element) -> Embedded | None:
    """The content of a nonXMLBody document, or None for a structured one."""
    text = doc.path("component", "nonXMLBody", "text")
    if text is None:
        return None
    media_type = text.attrs.get("mediaType", "text/plain").strip().lower()
    raw = text.text()
    if text.attrs.get("representation", "TXT").upper() != "B64":
        return Embedded(media_type, raw.encode()[:MAX_EMBEDDED_BYTES])
    try:
        data = base64.b64decode("".join(raw.split()), validate=True)
    except (binascii.Error, ValueError):
        data = b""
    return Embedded(media_type, data[:MAX_EMBEDDED_BYTES])


def format_timestamp(value: str) -> str:
    """An HL7 TS (``20210409170000+0100``) as French text (``09/04/2021 17:00``)."""
    match = _TIMESTAMP.match(value.strip())
    if match is None:
        return ""
    year, month, day, hour, minute = match.groups()
    if not month:
        return year
    if not day:
        return f"{month}/{year}"
    date = f"{day}/{month}/{year}"
    return f"{date} {hour}:{minute}" if hour and minute else date


def person_name(name: Element | None) -> str:
    """Given names then family names (prefix and suffix kept), or the name's plain text."""
    if name is None:
        return ""
    parts: list[str] = []
    for kind in ("prefix", "given", "family", "suffix"):
        for element in name.all(kind):
            part = _clean(element.text())
            # French names repeat a part under several qualifiers (birth, used, first given).
            if part and part not in parts:
                parts.append(part)
    joined = " ".join(parts)
    return joined or _clean(name.text())


def _author(author: Element) -> str:
    assigned = author.child("assignedAuthor")
    if assigned is None:
        return ""
    person = person_name(assigned.path("assignedPerson", "name"))
    device = assigned.path("assignedAuthoringDevice", "softwareName")
    who = person or (_clean(device.text()) if device is not None else "")
    organisation = _name_of(assigned.child("representedOrganization"))
    return f"{who} ({organisation})" if who and organisation else who or organisation


def _name_of(organisation: Element | None) -> str:
    if organisation is None:
        return ""
    name = organisation.child("name")
    return _clean(name.text()) if name is not None else ""


def _value(element: Element | None) -> str:
    if element is None:
        return ""
    value = element.attrs.get("value")
    if value:
        return value
    low = element.child("low")
    return low.attrs.get("value", "") if low is not None else ""


def _clean(text: str) -> str:
    return " ".join(text.split())
