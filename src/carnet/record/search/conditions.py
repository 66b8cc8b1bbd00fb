"""One search parameter with its modifier and values, to a typed condition (``model``).

``ConditionBuilder.build(resource_type, code, modifier, text)`` handles the plain parameters
(chains, ``_has`` and controls are ``parse``'s). Errors name the parameter, never a value:
``InvalidSearch`` for what is malformed, ``UnsupportedSearch`` for what is not offered.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from carnet.record.blind import blind_query_keys, normalise_text, of_type_query_key
from carnet.record.definitions import Definitions, SearchParam
from carnet.record.errors import InvalidSearch, UnsupportedSearch
from carnet.record.hashes import param_id, value_hash
from carnet.record.index_rows import EPOCH
from carnet.record.index_values import parse_reference
from carnet.record.search import catalog
from carnet.record.search.model import (
    TOP,
    BlindMatch,
    CompositeMatch,
    CompositePair,
    DateMatch,
    HashedToken,
    IdMatch,
    InstantRange,
    LastUpdatedMatch,
    Missing,
    Negated,
    NumberMatch,
    ReferenceMatch,
    TextMatch,
    TextValue,
    TokenMatch,
    UnitMatch,
    UriMatch,
)
from carnet.record.search.values import (
    ANY,
    DateValue,
    TokenValue,
    parse_date,
    parse_number,
    parse_of_type,
    parse_quantity,
    parse_token,
    split_escaped,
    split_prefix,
    unescape,
)

_ID = re.compile(r"[A-Za-z0-9\-.]{1,64}")
_NAME = re.compile(r"[A-Za-z0-9_\-:.$]{1,200}")
_EXACT_LENGTH = 255  # exact strings are hashed as stored: cut at 255 characters
_TEXT_SUFFIX = ":text"
_OF_TYPE_SUFFIX = ":of-type"


@dataclass(frozen=True, slots=True)
class Built:
    condition: object
    owner: str | None = None
    """A patient id the condition proves to be the owner of every match (see
    ``catalog.owner_codes``)."""
    identifying: bool = False


def hashed(value: TokenValue) -> HashedToken:
    """A parsed token as the index holds it."""
    code_hash = None if value.code is None else value_hash(value.code)
    if value.system == ANY:
        return HashedToken(code_hash, None)
    if value.system is None:
        return HashedToken(code_hash, None, no_system=True)
    return HashedToken(code_hash, value_hash(value.system))


class ConditionBuilder:
    def __init__(
        self, definitions: Definitions, *, blind_hash: Callable[[str, str], str], now: int
    ) -> None:
        self._definitions = definitions
        self._blind_hash = blind_hash
        self._now = now

    def build(self, resource_type: str, code: str, modifier: str | None, text: str) -> Built:
        """The condition of ``code[:modifier]=text`` on ``resource_type``."""
        name = safe_name(code if modifier is None else f"{code}:{modifier}")
        if code == "_id":
            return self._ids(name, modifier, text)
        if code == "_lastUpdated":
            _only(name, modifier, ())
            dates = [self._date_value(name, value) for value in _values(name, text)]
            instants = tuple(
                InstantRange(d.prefix, _instant(d.low), _instant(d.high)) for d in dates
            )
            return Built(LastUpdatedMatch(instants))
        offered = catalog.offered(resource_type).get(code)
        if offered is None:
            reason = catalog.refused(resource_type).get(code)
            problem = reason or f"not a search parameter of {resource_type}"
            raise UnsupportedSearch(name, problem)
        param = offered.param
        if modifier == "missing":
            if offered.blind:
                raise UnsupportedSearch(name, offered.documentation, ignorable=False)
            return Built(self._missing(resource_type, param, name, text))
        if offered.blind:
            return self._blind(resource_type, offered, name, modifier, text)
        builder = getattr(self, f"_{param.type}")
        built: Built = builder(resource_type, param, name, modifier, text)
        return built

    # --- by parameter type ------------------------------------------------------------------

    def _token(
        self, resource_type: str, param: SearchParam, name: str, modifier: str | None, text: str
    ) -> Built:
        offered = catalog.offered(resource_type).get(param.code)
        allowed = offered.modifiers if offered is not None else ("not", "text")
        _only(name, modifier, allowed, unsupported=catalog.UNSUPPORTED_MODIFIERS)
        values = _values(name, text)
        if modifier == "text":
            ids = self._ids_of(resource_type, param, _TEXT_SUFFIX)
            prefixes = tuple(_prefix(_normalised(name, unescape(v))) for v in values)
            return Built(TextMatch(ids, "start", prefixes))
        if modifier == "of-type":
            ids = self._ids_of(resource_type, param, _OF_TYPE_SUFFIX)
            typed = [parse_of_type(name, value) for value in values]
            tokens = tuple(
                hashed(TokenValue(t.system or ANY, f"{t.code}|{t.value}")) for t in typed
            )
            return Built(TokenMatch(ids, tokens))
        ids = self._ids_of(resource_type, param)
        match = TokenMatch(ids, tuple(hashed(parse_token(name, value)) for value in values))
        return Built(Negated(match) if modifier == "not" else match)

    def _string(
        self, resource_type: str, param: SearchParam, name: str, modifier: str | None, text: str
    ) -> Built:
        _only(name, modifier, ("exact", "contains"))
        values = [unescape(value) for value in _values(name, text)]
        ids = self._ids_of(resource_type, param)
        normalised = tuple(_normalised(name, value) for value in values)
        if modifier == "exact":
            hashes = tuple(value_hash(value[:_EXACT_LENGTH]) for value in values)
            return Built(TextMatch(ids, "exact", (), normalised, hashes))
        if modifier == "contains":
            patterns = tuple(f"%{_like_escaped(value)}%" for value in normalised)
            return Built(TextMatch(ids, "contains", (), patterns))
        return Built(TextMatch(ids, "start", tuple(_prefix(value) for value in normalised)))

    def _date(
        self, resource_type: str, param: SearchParam, name: str, modifier: str | None, text: str
    ) -> Built:
        _only(name, modifier, ())
        values = tuple(self._date_value(name, value) for value in _values(name, text))
        return Built(DateMatch(self._ids_of(resource_type, param), values))

    def _date_value(self, name: str, text: str) -> DateValue:
        return parse_date(name, *split_prefix(name, text), self._now)

    def _number(
        self, resource_type: str, param: SearchParam, name: str, modifier: str | None, text: str
    ) -> Built:
        _only(name, modifier, ())
        values = tuple(
            UnitMatch(parse_number(name, *split_prefix(name, v)), None, None)
            for v in _values(name, text)
        )
        return Built(NumberMatch("number", self._ids_of(resource_type, param), values))

    def _quantity(
        self, resource_type: str, param: SearchParam, name: str, modifier: str | None, text: str
    ) -> Built:
        _only(name, modifier, ())
        values = tuple(self._unit(name, value) for value in _values(name, text))
        return Built(NumberMatch("quantity", self._ids_of(resource_type, param), values))

    def _unit(self, name: str, text: str) -> UnitMatch:
        quantity = parse_quantity(name, *split_prefix(name, text))
        system = None if quantity.system is None else value_hash(quantity.system)
        code = None if quantity.code is None else value_hash(quantity.code)
        return UnitMatch(quantity.number, system, code)

    def _reference(
        self, resource_type: str, param: SearchParam, name: str, modifier: str | None, text: str
    ) -> Built:
        allowed = param.resolve_types or param.targets
        if modifier == "identifier":
            ids = self._ids_of(resource_type, param, ":identifier")
            tokens = tuple(hashed(parse_token(name, value)) for value in _values(name, text))
            return Built(TokenMatch(ids, tokens))
        if modifier is not None:
            if modifier in catalog.UNSUPPORTED_MODIFIERS:
                raise UnsupportedSearch(name, f"the modifier :{modifier} is not offered")
            if modifier not in allowed:
                raise InvalidSearch(name, "the modifier is not a target type of this parameter")
            allowed = (modifier,)
        targets = [self._targets(name, value, allowed) for value in _values(name, text)]
        hashes = tuple(sorted({found for target in targets for found in target}))
        owner = None
        if len(targets) == 1 and param.code in catalog.owner_codes(
            self._definitions, resource_type
        ):
            owner = _local_patient(text, allowed)
        return Built(ReferenceMatch(self._ids_of(resource_type, param), hashes), owner=owner)

    def _targets(self, name: str, text: str, allowed: tuple[str, ...]) -> tuple[int, ...]:
        value = unescape(text).strip()
        if "://" in value or value.startswith("urn:"):
            return (value_hash(value.split("|", 1)[0]),)  # a canonical's |version is not kept
        if "/" not in value:
            if not _ID.fullmatch(value):
                raise InvalidSearch(name, "a reference is Type/id, id or an absolute URL")
            return tuple(value_hash(f"{kind}/{value}") for kind in allowed)
        kind, target_id, _ = parse_reference(value, self._definitions.resource_types)
        if kind is None or target_id is None:
            raise InvalidSearch(name, "a reference is Type/id, id or an absolute URL")
        if kind not in allowed:
            raise InvalidSearch(name, "the reference's type is not a target of this parameter")
        return (value_hash(f"{kind}/{target_id}"),)

    def _uri(
        self, resource_type: str, param: SearchParam, name: str, modifier: str | None, text: str
    ) -> Built:
        _only(name, modifier, ("below", "above"))
        values = tuple(unescape(value).strip() for value in _values(name, text))
        return Built(UriMatch(self._ids_of(resource_type, param), modifier or "eq", values))

    def _composite(
        self, resource_type: str, param: SearchParam, name: str, modifier: str | None, text: str
    ) -> Built:
        _only(name, modifier, ())
        first, second = (
            self._definitions.search_param(resource_type, part.param) for part in param.components
        )
        assert first is not None
        assert second is not None
        pairs: list[CompositePair] = []
        for value in _values(name, text):
            parts = split_escaped(value, "$")
            if len(parts) != 2 or not all(parts):
                raise InvalidSearch(name, "a composite value is first$second")
            tail = self._composite_second(name, second, parts[1])
            pairs.extend(
                CompositePair(head, tail) for head in self._composite_first(name, first, parts[0])
            )
        ids = self._ids_of(resource_type, param)
        return Built(CompositeMatch(second.type, ids, tuple(pairs)))

    def _composite_first(self, name: str, part: SearchParam, text: str) -> list[HashedToken]:
        if part.type == "token":
            return [hashed(parse_token(name, text))]
        allowed = part.resolve_types or part.targets
        return [HashedToken(found, None) for found in self._targets(name, text, allowed)]

    def _composite_second(self, name: str, part: SearchParam, text: str) -> object:
        if part.type == "token":
            return hashed(parse_token(name, text))
        if part.type == "quantity":
            return self._unit(name, text)
        if part.type == "date":
            return self._date_value(name, text)
        return _prefix(_normalised(name, unescape(text)))

    # --- identifying, missing, ids ------------------------------------------------------------

    def _blind(
        self,
        resource_type: str,
        offered: catalog.Offered,
        name: str,
        modifier: str | None,
        text: str,
    ) -> Built:
        param = offered.param
        if modifier == "of-type" and modifier in offered.modifiers:
            return self._blind_of_type(resource_type, param, name, text)
        if modifier is not None:
            raise UnsupportedSearch(name, offered.documentation, ignorable=False)
        keys: list[str] = []
        for raw in _values(name, text):
            value = unescape(raw)
            if param.type == "date":
                prefix, value = split_prefix(name, value)
                if prefix != "eq":
                    raise UnsupportedSearch(name, offered.documentation, ignorable=False)
            found = blind_query_keys(resource_type, param.code, value)
            if not found:
                raise InvalidSearch(name, "the value is empty or has no searchable form")
            keys.extend(found)
        return self._blind_match(resource_type, param.code, keys)

    def _blind_of_type(self, resource_type: str, param: SearchParam, name: str, text: str) -> Built:
        """``identifier:of-type`` on an identifying parameter: the (type system, type code,
        value) triple is stored only as a keyed hash too (``blind.of_type_keys``)."""
        keys: list[str] = []
        for raw in _values(name, text):
            typed = parse_of_type(name, raw)
            key = of_type_query_key(typed.system, typed.code, typed.value)
            if key is None:
                raise InvalidSearch(name, "the value is empty or has no searchable form")
            keys.append(key)
        return self._blind_match(resource_type, param.code + _OF_TYPE_SUFFIX, keys)

    def _blind_match(self, resource_type: str, stored: str, keys: list[str]) -> Built:
        """The rows of ``stored`` (a parameter or pseudo-parameter) holding one of the keys,
        hashed under the same keyed HMAC and domain as at indexing (``index_rows``)."""
        domain = f"{resource_type}.{stored}"
        digests = {bytes.fromhex(self._blind_hash(domain, key)) for key in keys}
        ids = (param_id(resource_type, stored),)
        return Built(BlindMatch(ids, tuple(sorted(digests))), identifying=True)

    def _missing(self, resource_type: str, param: SearchParam, name: str, text: str) -> Missing:
        if text not in ("true", "false"):
            raise InvalidSearch(name, ":missing takes true or false")
        sources: list[tuple[str, tuple[int, ...]]] = []
        if param.type == "composite":
            second = self._definitions.search_param(resource_type, param.components[1].param)
            assert second is not None  # the catalog offers only composites of known parts
            sources.append((second.type, self._ids_of(resource_type, param)))
        else:
            sources.append((param.type, self._ids_of(resource_type, param)))
        if param.type == "token":
            sources.append(("string", self._ids_of(resource_type, param, _TEXT_SUFFIX)))
        if param.type == "reference":
            sources.append(("token", self._ids_of(resource_type, param, ":identifier")))
        return Missing(tuple(sources), text == "true")

    def _ids(self, name: str, modifier: str | None, text: str) -> Built:
        _only(name, modifier, ("not",))
        ids = tuple(unescape(value).strip() for value in _values(name, text))
        if not all(_ID.fullmatch(value) for value in ids):
            raise InvalidSearch(name, "an id is 1 to 64 letters, digits, '-' or '.'")
        return Built(IdMatch(ids, negated=modifier == "not"))

    def _ids_of(self, resource_type: str, param: SearchParam, suffix: str = "") -> tuple[int, ...]:
        return catalog.stored_ids(self._definitions, resource_type, param.code, suffix)


def safe_name(name: str) -> str:
    """A parameter name fit to appear in an error message (a client's odd text is not)."""
    return name if _NAME.fullmatch(name) else "(unreadable parameter name)"


def _values(name: str, text: str) -> list[str]:
    values = split_escaped(text, ",")
    if not all(value.strip() for value in values):
        raise InvalidSearch(name, "an empty value")
    return values


def _prefix(value: str) -> TextValue:
    return TextValue(value, value + TOP)


def _like_escaped(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _instant(micros: int) -> datetime:
    return EPOCH + timedelta(microseconds=micros)


def _normalised(name: str, value: str) -> str:
    normalised = normalise_text(value)
    if not normalised:
        raise InvalidSearch(name, "an empty value")
    return normalised


def _only(
    name: str,
    modifier: str | None,
    allowed: tuple[str, ...],
    *,
    unsupported: frozenset[str] = frozenset(),
) -> None:
    if modifier is None or modifier in allowed:
        return
    if modifier in unsupported:
        raise UnsupportedSearch(name, f"the modifier :{modifier} is not offered")
    raise InvalidSearch(name, "this modifier does not apply to this parameter's type")


def _local_patient(text: str, allowed: tuple[str, ...]) -> str | None:
    value = unescape(text).strip()
    kind, _, target = value.rpartition("/")
    if kind == "Patient" and _ID.fullmatch(target):
        return target
    if not kind and allowed == ("Patient",) and _ID.fullmatch(value):
        return value
    return None
