"""``_summary`` and ``_elements``: the subset of a resource a search returns (pure).

- ``_summary=true``: the top-level elements the base definition flags ``isSummary``, with the
  mandatory ones; ``text``: ``text``, ``id``, ``meta`` and the mandatory elements; ``data``:
  everything but ``text``.
- ``_elements=a,b``: those top-level elements, with the mandatory ones.

``resourceType``, ``id`` and ``meta`` always stay; a subset is marked with the ``SUBSETTED`` tag
in ``meta.tag``. A primitive's extension sibling (``_birthDate``) follows its element, and a
choice (``value[x]``) covers every ``valueQuantity``, ``valueString``...
"""

from __future__ import annotations

import orjson

from carnet.record.definitions import Definitions

SUBSETTED = {
    "system": "http://terminology.hl7.org/CodeSystem/v3-ObservationValue",
    "code": "SUBSETTED",
    "display": "Resource encoded in summary mode",
}
_ALWAYS = frozenset({"resourceType", "id", "meta"})


def subset(
    definitions: Definitions,
    resource_type: str,
    body: bytes,
    *,
    summary: str | None,
    elements: tuple[str, ...],
) -> bytes:
    """The body reduced as ``summary``/``elements`` ask; unchanged when they ask nothing."""
    keep = _wanted(definitions, resource_type, summary, elements)
    if keep is None:
        return body
    resource = orjson.loads(body)
    if summary == "data":
        resource.pop("text", None)
        resource.pop("_text", None)
    else:
        keep = _with_choices(definitions, resource_type, keep)
        resource = {key: value for key, value in resource.items() if key.lstrip("_") in keep}
    meta = dict(resource.get("meta") or {})
    meta["tag"] = [*meta.get("tag", []), SUBSETTED]
    resource["meta"] = meta
    return orjson.dumps(resource)


def _wanted(
    definitions: Definitions, resource_type: str, summary: str | None, elements: tuple[str, ...]
) -> frozenset[str] | None:
    mandatory = definitions.mandatory_elements(resource_type)
    if summary == "true":
        return definitions.summary_elements(resource_type) | mandatory | _ALWAYS
    if summary == "text":
        return mandatory | _ALWAYS | {"text"}
    if summary == "data":
        return frozenset()
    if elements:
        return frozenset(elements) | mandatory | _ALWAYS
    return None


def _with_choices(
    definitions: Definitions, resource_type: str, keep: frozenset[str]
) -> frozenset[str]:
    """``value[x]`` (or ``value``) kept as every JSON name of the choice."""
    rules = definitions.structure.get(resource_type)
    choices = rules.choices if rules is not None else {}
    names = {name.removesuffix("[x]") for name in keep}
    for group, suffixes in choices.items():
        if group in names:
            names.update(group + suffix for suffix in suffixes)
    return frozenset(names)
