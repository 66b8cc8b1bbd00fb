"""One line of plain French text per FHIR resource, for the PDF and the IPS narratives.

Only the elements a reader needs are used (what, when, status, value); anything missing is left
out rather than guessed. The text is plain: the PDF and the narratives escape it themselves.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

Resource = dict[str, Any]

_ENDED = {"resolved": "résolu", "inactive": "inactif", "remission": "en rémission"}
_GENDERS = {"female": "femme", "male": "homme", "other": "autre", "unknown": "inconnu"}


def concept(value: Any) -> str:
    """A CodeableConcept's text, else a coding's display, else a code."""
    if not isinstance(value, dict):
        return ""
    if isinstance(value.get("text"), str) and value["text"].strip():
        return str(value["text"]).strip()
    codings = [c for c in value.get("coding") or [] if isinstance(c, dict)]
    # A display anywhere beats a bare code (Carnet's own codings often come first, bare).
    for key in ("display", "code"):
        for coding in codings:
            label = coding.get(key)
            if isinstance(label, str) and label.strip():
                return label.strip()
    return ""


def concepts(values: Any) -> str:
    return ", ".join(c for c in (concept(v) for v in values or []) if c)


def day(value: Any) -> str:
    """A FHIR date or dateTime, partial or not, written the French way (``2020``,
    ``05/2020``, ``03/05/2020``)."""
    if not isinstance(value, str) or len(value) < 4:
        return ""
    parts = value[:10].split("-")
    return "/".join(reversed(parts))


def period(value: Any) -> str:
    if not isinstance(value, dict):
        return ""
    start, end = day(value.get("start")), day(value.get("end"))
    if start and end:
        return f"du {start} au {end}"
    if start:
        return f"depuis le {start}"
    return f"jusqu’au {end}" if end else ""


def quantity(value: Any) -> str:
    if not isinstance(value, dict) or "value" not in value:
        return ""
    number = value["value"]
    text = f"{number:g}" if isinstance(number, float) else str(number)
    unit = value.get("unit") or value.get("code") or ""
    return f"{text} {unit}".strip()


def value_of(resource: Resource, stem: str = "value") -> str:
    """The value[x] (or onset[x], occurrence[x]…) of a resource as text."""
    for suffix, render in _VALUE_RENDERERS:
        if f"{stem}{suffix}" in resource:
            return render(resource[f"{stem}{suffix}"])
    return ""


def _str(value: Any) -> str:
    return str(value).strip() if isinstance(value, str | int | float | bool) else ""


_VALUE_RENDERERS: tuple[tuple[str, Callable[[Any], str]], ...] = (
    ("Quantity", quantity),
    ("CodeableConcept", concept),
    ("String", _str),
    ("Boolean", lambda v: "oui" if v else "non"),
    ("Integer", _str),
    ("DateTime", day),
    ("Date", day),
    ("Period", period),
    ("Age", quantity),
)


def join(*parts: str) -> str:
    return " — ".join(p for p in parts if p)


def _status(resource: Resource) -> str:
    clinical = resource.get("clinicalStatus")
    code = ""
    if isinstance(clinical, dict):
        code = next((c.get("code", "") for c in clinical.get("coding") or []), "")
    return f"({_ENDED[code]})" if code in _ENDED else ""


def immunization(r: Resource) -> str:
    lot = f"lot {r['lotNumber']}" if r.get("lotNumber") else ""
    not_done = "(non faite)" if r.get("status") == "not-done" else ""
    return join(concept(r.get("vaccineCode")), value_of(r, "occurrence"), lot, not_done)


def allergy(r: Resource) -> str:
    reactions = [concepts(x.get("manifestation")) for x in r.get("reaction") or []]
    when = value_of(r, "onset") or day(r.get("recordedDate"))
    return join(concept(r.get("code")), ", ".join(x for x in reactions if x), when, _status(r))


def condition(r: Resource) -> str:
    when = value_of(r, "onset") or day(r.get("recordedDate"))
    return join(concept(r.get("code")), when, _status(r))


def medication(r: Resource) -> str:
    what = concept(r.get("medicationCodeableConcept"))
    if not what:
        what = _str((r.get("medicationReference") or {}).get("display"))
    dosage = ", ".join(_str(d.get("text")) for d in r.get("dosage") or [] if d.get("text"))
    stopped = "(arrêté)" if r.get("status") in {"stopped", "completed"} else ""
    return join(what, dosage, value_of(r, "effective"), stopped)


def observation(r: Resource) -> str:
    value = value_of(r)
    if not value and r.get("component"):
        parts = [value_of(c) for c in r["component"]]
        value = "/".join(p.split(" ")[0] for p in parts if p)
        unit = next((p.split(" ", 1)[1] for p in parts if " " in p), "")
        value = f"{value} {unit}".strip()
    return join(concept(r.get("code")), value, value_of(r, "effective"))


def encounter(r: Resource) -> str:
    what = concepts(r.get("type")) or concepts(r.get("reasonCode")) or "Hospitalisation"
    where = _str((r.get("serviceProvider") or {}).get("display"))
    return join(what, period(r.get("period")), where)


def procedure(r: Resource) -> str:
    return join(concept(r.get("code")), value_of(r, "performed"))


def family_history(r: Resource) -> str:
    conditions = concepts(c.get("code") for c in r.get("condition") or [])
    return join(concept(r.get("relationship")), conditions)


def related_person(r: Resource) -> str:
    phones = [t.get("value", "") for t in r.get("telecom") or [] if t.get("system") == "phone"]
    return join(human_name(r.get("name")), concepts(r.get("relationship")), ", ".join(phones))


def consent(r: Resource) -> str:
    what = concepts(r.get("category")) or concept(r.get("scope"))
    decision = {"permit": "accord", "deny": "refus"}.get(
        str((r.get("provision") or {}).get("type", "")), ""
    )
    return join(what, decision, day(r.get("dateTime")))


def document(r: Resource) -> str:
    """Title and the document's own date (its attachment's ``creation``, not its upload)."""
    attachment = next((c.get("attachment") or {} for c in r.get("content") or []), {})
    title = _str(r.get("description")) or _str(attachment.get("title"))
    when = day(attachment.get("creation")) or day(r.get("date"))
    return join(title or concept(r.get("type")) or "Document", when)


def care_team(r: Resource) -> list[str]:
    """One line per member of a care team the person keeps (name, role)."""
    return [
        join(_str((p.get("member") or {}).get("display")), concepts(p.get("role")))
        for p in r.get("participant") or []
        if (p.get("member") or {}).get("display")
    ]


def human_name(names: Any) -> str:
    """The official (else the first) name: given names then family name."""
    if not isinstance(names, list) or not names:
        return ""
    chosen = next((n for n in names if n.get("use") == "official"), names[0])
    if chosen.get("text"):
        return _str(chosen["text"])
    given = " ".join(_str(g) for g in chosen.get("given") or [])
    return f"{given} {_str(chosen.get('family')).upper()}".strip()


def gender(value: Any) -> str:
    return _GENDERS.get(str(value), "")


def codes(value: Any) -> Iterable[str]:
    """Every code of a CodeableConcept."""
    if isinstance(value, dict):
        for coding in value.get("coding") or []:
            if isinstance(coding, dict) and isinstance(coding.get("code"), str):
                yield coding["code"]
