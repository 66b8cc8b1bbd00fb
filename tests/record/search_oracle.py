"""An independent FHIR R4 search engine for the oracle test, in plain Python.

It reads the official SearchParameter bundle itself, evaluates the expressions with fhirpathpy
(R4 model) over resources held in memory, and applies the matching rules of the R4 search page
as written there. It shares no code with the server's search (no carnet import): the point is
to check the server against a second reading of the specification.

Scope (what the oracle test generates): token (system|code, |code, system|, :not, :text,
:missing), string (default, :exact, :contains), date (prefixes eq ne gt lt ge le sa eb, partial
dates, periods), reference (Type/id, id, :Type), quantity (prefixes, units), composite (pairs in
one element), chains (one level), _has, _id, _include / _revinclude (with :iterate), _sort.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import fhirpathpy
import orjson
from fhirpathpy.models import models

R4 = models["r4"]
INFINITY = datetime.max.replace(tzinfo=UTC)
NEG_INFINITY = datetime.min.replace(tzinfo=UTC)
_RESOLVE = re.compile(r"\.where\(resolve\(\) is ([A-Za-z]+)\)")
_AS_OPERATOR = re.compile(r"\(([A-Za-z][\w.]*) as ([A-Za-z]+)\)")
_AS_CALL = re.compile(r"\.as\(([A-Za-z]+)\)")
_DATE = re.compile(
    r"(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?)?)?"
)


# --- definitions --------------------------------------------------------------------------------
class Params:
    """The official SearchParameters, by (type, code)."""

    def __init__(self, bundle_path: Path) -> None:
        bundle = orjson.loads(bundle_path.read_bytes())
        self.by_code: dict[tuple[str, str], dict[str, Any]] = {}
        self.by_url: dict[str, dict[str, Any]] = {}
        for entry in bundle["entry"]:
            resource = entry["resource"]
            self.by_url[resource["url"]] = resource
            for base in resource["base"]:
                self.by_code[(base, resource["code"])] = resource

    def get(self, resource_type: str, code: str) -> dict[str, Any]:
        return self.by_code.get((resource_type, code)) or self.by_code[("Resource", code)]

    def branches(self, resource_type: str, code: str) -> list[tuple[str, str | None]]:
        """(fhirpathpy expression, resolve() type) for each branch of the type."""
        expression = self.get(resource_type, code).get("expression", "")
        found = []
        for raw in _split(expression):
            branch = raw.strip()
            if branch.startswith("Resource."):
                branch = resource_type + branch[len("Resource") :]
            head = branch.lstrip("(").split(".", 1)[0].split(" ", 1)[0]
            if head != resource_type:
                continue
            resolve = _RESOLVE.search(branch)
            branch = _RESOLVE.sub("", branch)
            branch = _AS_OPERATOR.sub(lambda m: f"{m.group(1)}.ofType({m.group(2)})", branch)
            branch = _AS_CALL.sub(lambda m: f".ofType({m.group(1)})", branch)
            found.append((branch, resolve.group(1) if resolve else None))
        return found


def _split(expression: str) -> list[str]:
    parts, depth, start = [], 0, 0
    for index, char in enumerate(expression):
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "|" and depth == 0:
            parts.append(expression[start:index])
            start = index + 1
    parts.append(expression[start:])
    return [part for part in parts if part.strip()]


@cache
def _compiled(expression: str) -> Any:
    return fhirpathpy.compile(expression, R4)


def evaluate(resource: dict[str, Any], expression: str) -> list[Any]:
    return list(_compiled(expression)(resource))


# --- value extraction (the shapes of R4 datatypes) ----------------------------------------------
def fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).lower().split())


def tokens(value: Any) -> list[tuple[str | None, str]]:  # noqa: PLR0911 - one per shape
    """(system, code) pairs of a token value."""
    if isinstance(value, bool):
        return [(None, "true" if value else "false")]
    if isinstance(value, str):
        return [(None, value)]
    if not isinstance(value, dict):
        return []
    if "coding" in value:
        return [p for coding in value["coding"] for p in tokens(coding)]
    if "code" in value and isinstance(value["code"], str):
        return [(value.get("system"), value["code"])]
    if "value" in value and isinstance(value["value"], str):
        return [(value.get("system"), value["value"])]
    return []


def texts(value: Any) -> list[str]:
    """What :text searches: CodeableConcept.text, Coding.display, Identifier.type.text."""
    if not isinstance(value, dict):
        return []
    found = [value["text"]] if isinstance(value.get("text"), str) else []
    found += [c["display"] for c in value.get("coding", []) if isinstance(c.get("display"), str)]
    if isinstance(value.get("display"), str) and "code" in value:
        found.append(value["display"])
    return found


def strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if not isinstance(value, dict):
        return []
    found = []
    for name in ("family", "given", "prefix", "suffix", "text", "line", "city", "district",
                 "state", "postalCode", "country"):  # fmt: skip
        part = value.get(name)
        found.extend(i for i in (part if isinstance(part, list) else [part]) if isinstance(i, str))
    return found


def date_span(text: str) -> tuple[datetime, datetime] | None:
    match = _DATE.fullmatch(text)
    if match is None:
        return None
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    if month is None:
        return datetime(int(year), 1, 1, tzinfo=UTC), datetime(int(year) + 1, 1, 1, tzinfo=UTC)
    if day is None:
        start = datetime(int(year), int(month), 1, tzinfo=UTC)
        end = datetime(int(year) + (month == "12"), int(month) % 12 + 1, 1, tzinfo=UTC)
        return start, end
    if hour is None:
        start = datetime(int(year), int(month), int(day), tzinfo=UTC)
        return start, start + timedelta(days=1)
    offset = timedelta(0)
    if zone and zone != "Z":
        sign = -1 if zone[0] == "-" else 1
        offset = sign * timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6]))
    start = datetime(int(year), int(month), int(day), int(hour), int(minute), int(second or 0),
                     tzinfo=UTC) - offset  # fmt: skip
    if fraction:
        digits = fraction[1:7]
        start += timedelta(microseconds=int(digits.ljust(6, "0")))
        return start, start + timedelta(microseconds=10 ** (6 - len(digits)))
    return start, start + (timedelta(seconds=1) if second else timedelta(minutes=1))


def spans(value: Any) -> list[tuple[datetime, datetime]]:
    if isinstance(value, str):
        found = date_span(value)
        return [found] if found else []
    if isinstance(value, dict) and ("start" in value or "end" in value):
        start = date_span(value["start"]) if "start" in value else None
        end = date_span(value["end"]) if "end" in value else None
        return [(start[0] if start else NEG_INFINITY, end[1] if end else INFINITY)]
    return []


def references(value: Any) -> list[str]:
    if isinstance(value, dict) and isinstance(value.get("reference"), str):
        return [value["reference"].split("/_history/")[0]]
    return []


def quantities(value: Any) -> list[tuple[float, str | None, str | None, str | None]]:
    if isinstance(value, dict) and isinstance(value.get("value"), (int, float, Decimal)):
        return [(float(value["value"]), value.get("system"), value.get("code"), value.get("unit"))]
    return []


# --- matching (the rules of the R4 search page) -------------------------------------------------
def token_matches(pairs: list[tuple[str | None, str]], query: str) -> bool:
    if "|" not in query:
        return any(code == query for _, code in pairs)
    system, code = query.split("|", 1)
    if not system:
        return any(s is None and c == code for s, c in pairs)
    if not code:
        return any(s == system for s, _ in pairs)
    return any(s == system and c == code for s, c in pairs)


def of_type_matches(value: Any, query: str) -> bool:
    """``identifier:of-type=system|code|value``: an Identifier with that value whose type has a
    coding of that code, and of that system unless the query leaves it empty."""
    system, code, wanted = query.split("|", 2)
    if not isinstance(value, dict) or value.get("value") != wanted:
        return False
    codings = (value.get("type") or {}).get("coding", [])
    return any(
        c.get("code") == code and c.get("system") == (system or c.get("system")) for c in codings
    )


def string_matches(values: list[str], query: str, modifier: str | None) -> bool:
    if modifier == "exact":
        return query in values
    folded = fold(query)
    if modifier == "contains":
        return any(folded in fold(value) for value in values)
    return any(fold(value).startswith(folded) for value in values)


def prefixed(query: str) -> tuple[str, str]:
    if query[:2].isalpha():
        return query[:2], query[2:]
    return "eq", query


def date_matches(ranges: list[tuple[datetime, datetime]], query: str) -> bool:
    prefix, text = prefixed(query)
    span = date_span(text)
    assert span is not None, query
    low, high = span
    for start, end in ranges:
        inside = start >= low and end <= high
        rule = {
            "eq": inside,
            "ne": not inside,
            "gt": end > high,
            "lt": start < low,
            "ge": end > high or inside,
            "le": start < low or inside,
            "sa": start >= high,
            "eb": end <= low,
        }[prefix]
        if rule:
            return True
    return False


def quantity_matches(
    values: list[tuple[float, str | None, str | None, str | None]], query: str
) -> bool:
    prefix, text = prefixed(query)
    number, _, unit = text.partition("|")
    system, _, code = unit.partition("|")
    exact = Decimal(number)
    exponent = exact.as_tuple().exponent
    assert isinstance(exponent, int)
    half = Decimal(5) * Decimal(10) ** (exponent - 1)
    low, high = float(exact - half), float(exact + half)
    q = float(exact)
    for value, v_system, v_code, v_unit in values:
        if system and (v_system != system or (code and v_code != code)):
            continue
        if not system and code and code not in (v_code, v_unit):
            continue
        rule = {
            "eq": low <= value < high,
            "ne": not (low <= value < high),
            "gt": value > q,
            "sa": value > q,
            "lt": value < q,
            "eb": value < q,
            "ge": value >= q,
            "le": value <= q,
        }[prefix]
        if rule:
            return True
    return False


# --- the engine -----------------------------------------------------------------------------------
class Oracle:
    """Searches over ``resources`` (each a FHIR resource as stored), by the rules above."""

    def __init__(self, params: Params, resources: list[dict[str, Any]]) -> None:
        self.params = params
        self.by_type: dict[str, dict[str, dict[str, Any]]] = {}
        for resource in resources:
            self.by_type.setdefault(resource["resourceType"], {})[resource["id"]] = resource
        self._values: dict[tuple[str, str, str], list[Any]] = {}

    def values(self, resource: dict[str, Any], code: str) -> list[Any]:
        """What the parameter's expression finds in the resource (resolve() filters applied)."""
        key = (resource["resourceType"], resource["id"], code)
        if key not in self._values:
            found = []
            for branch, resolve in self.params.branches(resource["resourceType"], code):
                found.extend(
                    value
                    for value in evaluate(resource, branch)
                    if resolve is None
                    or any(r.startswith(f"{resolve}/") for r in references(value))
                )
            self._values[key] = found
        return self._values[key]

    def search(self, resource_type: str, query: list[tuple[str, str]]) -> set[str]:
        """Ids of the matches (every condition ANDed, comma-separated values ORed)."""
        ids = set(self.by_type.get(resource_type, {}))
        for name, value in query:
            if (
                name.startswith("_")
                and name not in ("_id", "_tag")
                and not name.startswith("_has:")
            ):
                continue
            ids = {i for i in ids if self.matches(self.by_type[resource_type][i], name, value)}
        return ids

    def matches(self, resource: dict[str, Any], name: str, value: str) -> bool:
        if name.startswith("_has:"):
            _, source, reference, inner = name.split(":", 3)
            target = f"{resource['resourceType']}/{resource['id']}"
            return any(
                target in [r for v in self.values(other, reference) for r in references(v)]
                for other in self.by_type.get(source, {}).values()
                if self.matches(other, inner, value)
            )
        if "." in name:
            return self._chain(resource, name, value)
        return any(self._one(resource, name, v) for v in value.split(","))

    def _chain(self, resource: dict[str, Any], name: str, value: str) -> bool:
        head, inner = name.split(".", 1)
        code, _, only = head.partition(":")
        for reference in (r for v in self.values(resource, code) for r in references(v)):
            kind, _, target_id = reference.partition("/")
            if only and kind != only:
                continue
            target = self.by_type.get(kind, {}).get(target_id)
            if target is not None and self.matches(target, inner, value):
                return True
        return False

    def _one(self, resource: dict[str, Any], name: str, query: str) -> bool:  # noqa: PLR0911
        code, _, modifier = name.partition(":")
        if code == "_id":
            return resource["id"] == query
        definition = self.params.get(resource["resourceType"], code)
        values = self.values(resource, code)
        if modifier == "missing":
            return (not values) == (query == "true")
        kind = definition["type"]
        if kind == "token":
            if modifier == "text":
                return string_matches([t for v in values for t in texts(v)], query, None)
            if modifier == "of-type":
                return any(of_type_matches(v, query) for v in values)
            found = token_matches([p for v in values for p in tokens(v)], query)
            return not found if modifier == "not" else found
        if kind == "string":
            return string_matches([s for v in values for s in strings(v)], query, modifier or None)
        if kind == "date":
            return date_matches([s for v in values for s in spans(v)], query)
        if kind == "quantity":
            return quantity_matches([q for v in values for q in quantities(v)], query)
        if kind == "reference":
            return self._reference(definition, values, query, modifier)
        if kind == "composite":
            return self._composite(resource, definition, query)
        raise AssertionError(f"the oracle does not search {kind}")

    def _reference(
        self, definition: dict[str, Any], values: list[Any], query: str, modifier: str
    ) -> bool:
        found = [r for v in values for r in references(v)]
        if "/" in query:
            return query in found
        kinds = [modifier] if modifier else definition.get("target", [])
        return any(f"{kind}/{query}" in found for kind in kinds)

    def _composite(self, resource: dict[str, Any], definition: dict[str, Any], query: str) -> bool:
        first_query, second_query = query.split("$", 1)
        components = definition["component"]
        first = self.params.by_url[components[0]["definition"]]
        second = self.params.by_url[components[1]["definition"]]
        assert first["type"] == "token", "the oracle pairs a token with a second value"
        for branch, _ in self.params.branches(resource["resourceType"], definition["code"]):
            base = _base_path(branch)
            for element in evaluate(resource, branch):
                if not isinstance(element, dict):
                    continue
                firsts = _relative(element, base, components[0]["expression"])
                seconds = _relative(element, base, components[1]["expression"])
                if not token_matches([p for v in firsts for p in tokens(v)], first_query):
                    continue
                if self._second(second["type"], seconds, second_query):
                    return True
        return False

    def _second(self, kind: str, values: list[Any], query: str) -> bool:
        if kind == "quantity":
            return quantity_matches([q for v in values for q in quantities(v)], query)
        if kind == "token":
            return token_matches([p for v in values for p in tokens(v)], query)
        if kind == "date":
            return date_matches([s for v in values for s in spans(v)], query)
        return string_matches([s for v in values for s in strings(v)], query, None)

    # --- includes and sorting -----------------------------------------------------------------

    def include(self, ids: set[str], resource_type: str, spec: str) -> set[str]:
        """``Type/id`` of what ``_include=spec`` adds to matches of ``resource_type``."""
        source, code = spec.split(":")[:2]
        found = set()
        for resource_id in ids:
            resource = self.by_type[resource_type][resource_id]
            if resource_type != source:
                continue
            for reference in (r for v in self.values(resource, code) for r in references(v)):
                kind, _, target = reference.partition("/")
                if target in self.by_type.get(kind, {}):
                    found.add(reference)
        return found

    def revinclude(self, targets: set[str], spec: str) -> set[str]:
        source, code = spec.split(":")[:2]
        return {
            f"{source}/{resource['id']}"
            for resource in self.by_type.get(source, {}).values()
            if targets & {r for v in self.values(resource, code) for r in references(v)}
        }

    def sort_key(self, resource_type: str, resource_id: str, code: str, descending: bool) -> Any:
        """The R4 order: lowest value ascending, highest descending; none sorts last."""
        resource = self.by_type[resource_type][resource_id]
        kind = self.params.get(resource_type, code)["type"]
        if kind == "date":
            found = [s for v in self.values(resource, code) for s in spans(v)]
            points = [end if descending else start for start, end in found]
        elif kind == "quantity":
            points = [q[0] for v in self.values(resource, code) for q in quantities(v)]
        else:
            points = [fold(s) for v in self.values(resource, code) for s in strings(v)]
        if not points:
            return None
        return max(points) if descending else min(points)


def _base_path(branch: str) -> str:
    steps = branch.split(".")
    if len(steps) == 1:
        return steps[0]
    declared = R4["path2Type"].get(branch)
    return branch if declared in (None, "BackboneElement", "Element") else declared


def _relative(element: dict[str, Any], base: str, expression: str) -> list[Any]:
    expression = _AS_CALL.sub(lambda m: f".ofType({m.group(1)})", expression)
    expression = expression.replace("ofType(DateTime)", "ofType(dateTime)")
    return list(fhirpathpy.evaluate(element, {"base": base, "expression": expression}, {}, R4))
