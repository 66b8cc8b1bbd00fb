"""JSON Patch (RFC 6902) over JSON Pointers (RFC 6901), applied to a resource's JSON (pure).

``apply_patch`` works on a deep copy and returns it: a patch applies whole or not at all. Three
kinds of failure, mapped by the FHIR surface to three statuses:

- the document is malformed (not an array of operations, an unknown ``op``, a member missing, a
  pointer without its leading ``/``): ``PatchMalformed``, 400;
- the resource is not in the state the patch assumes (a ``test`` that fails, a path that does not
  exist): ``PatchConflict``, 409, as RFC 5789 says of a patch that conflicts with the state of the
  resource;
- the result is not valid FHIR: the caller validates it like any write (422).

Messages name the operation and its path, never a value: values may be health data.
"""

from __future__ import annotations

import copy
from typing import Any

from carnet.record.errors import PatchConflict, PatchMalformed

_OPS = frozenset({"add", "remove", "replace", "move", "copy", "test"})


def apply_patch(document: Any, operations: Any) -> Any:
    """``document`` with ``operations`` applied, as a new value (``document`` is untouched)."""
    if not isinstance(operations, list):
        raise PatchMalformed("A JSON Patch is an array of operations.")
    result = copy.deepcopy(document)
    for index, operation in enumerate(operations):
        result = _apply_one(result, operation, index)
    return result


def _apply_one(document: Any, operation: Any, index: int) -> Any:
    if not isinstance(operation, dict):
        raise PatchMalformed(f"Operation {index} is not a JSON object.")
    op = operation.get("op")
    if op not in _OPS:
        raise PatchMalformed(f"Operation {index} has no known 'op' (add, remove, replace, ...).")
    path = _pointer(operation, "path", index)
    where = f"operation {index} ({op} {_shown(path)})"
    if op in {"add", "replace", "test"} and "value" not in operation:
        raise PatchMalformed(f"The {where} has no 'value'.")
    if op == "test":
        if not _json_equal(_get(document, path, where), operation["value"]):
            raise PatchConflict(f"The test of {where} failed.")
        return document
    if op == "remove":
        return _remove(document, path, where)
    if op == "replace":
        _get(document, path, where)
        value = copy.deepcopy(operation["value"])
        return value if not path else _add(_remove(document, path, where), path, value, where)
    if op == "add":
        return _add(document, path, copy.deepcopy(operation["value"]), where)
    return _move_or_copy(document, op, _pointer(operation, "from", index), path, where)


def _move_or_copy(document: Any, op: str, source: list[str], path: list[str], where: str) -> Any:
    value = copy.deepcopy(_get(document, source, where))
    if op == "move":
        if path[: len(source)] == source and len(path) > len(source):
            raise PatchMalformed(f"The {where} moves a value into itself.")
        document = _remove(document, source, where)
    return _add(document, path, value, where)


def _pointer(operation: dict[str, Any], member: str, index: int) -> list[str]:
    text = operation.get(member)
    if not isinstance(text, str):
        raise PatchMalformed(f"Operation {index} has no '{member}' pointer.")
    if text == "":
        return []
    if not text.startswith("/"):
        raise PatchMalformed(f"The '{member}' of operation {index} must start with '/'.")
    return [token.replace("~1", "/").replace("~0", "~") for token in text[1:].split("/")]


def _shown(path: list[str]) -> str:
    return "/" + "/".join(token.replace("~", "~0").replace("/", "~1") for token in path)


def _get(document: Any, path: list[str], where: str) -> Any:
    value = document
    for token in path:
        if isinstance(value, dict) and token in value:
            value = value[token]
        elif isinstance(value, list) and (position := _index(token, len(value))) is not None:
            value = value[position]
        else:
            raise PatchConflict(f"The path of {where} does not exist in the resource.")
    return value


def _index(token: str, length: int) -> int | None:
    """An existing array position named by ``token``, or None (``-`` and leading zeros too)."""
    if not token.isdigit() or (len(token) > 1 and token[0] == "0"):
        return None
    position = int(token)
    return position if position < length else None


def _remove(document: Any, path: list[str], where: str) -> Any:
    if not path:
        raise PatchMalformed(f"The {where} cannot remove the whole resource.")
    parent = _get(document, path[:-1], where)
    last = path[-1]
    if isinstance(parent, dict) and last in parent:
        del parent[last]
    elif isinstance(parent, list) and (position := _index(last, len(parent))) is not None:
        del parent[position]
    else:
        raise PatchConflict(f"The path of {where} does not exist in the resource.")
    return document


def _add(document: Any, path: list[str], value: Any, where: str) -> Any:
    if not path:
        return value
    parent = _get(document, path[:-1], where)
    last = path[-1]
    if isinstance(parent, dict):
        parent[last] = value
    elif isinstance(parent, list):
        if last == "-":
            parent.append(value)
        elif (position := _index(last, len(parent) + 1)) is not None:
            parent.insert(position, value)
        else:
            raise PatchConflict(f"The array position of {where} is out of range.")
    else:
        raise PatchConflict(f"The parent of {where} is not an object or an array.")
    return document


def _json_equal(left: Any, right: Any) -> bool:
    """Equality of JSON values: booleans are not numbers, 1 equals 1.0, objects are unordered."""
    if isinstance(left, bool) or isinstance(right, bool):
        return isinstance(left, bool) and isinstance(right, bool) and left is right
    if isinstance(left, int | float) and isinstance(right, int | float):
        return left == right
    if isinstance(left, dict) and isinstance(right, dict):
        return left.keys() == right.keys() and all(_json_equal(left[k], right[k]) for k in left)
    if isinstance(left, list) and isinstance(right, list):
        return len(left) == len(right) and all(
            _json_equal(a, b) for a, b in zip(left, right, strict=True)
        )
    return type(left) is type(right) and bool(left == right)
