"""The typed form of a search: conditions (ANDed), each a parameter with its values (ORed).

Parameters are already resolved to the index rows they read: ``param_ids`` are the
``hashes.param_id`` of the parameter, or of the parameters that hold its rows (``covered_by``,
``narrowed_by``). Values are already hashed where the index holds hashes, and already in the
form SQL compares (ranges, LIKE patterns). Fields marked ``VALUE``/``EACH``/``LIST`` are the
values bound into the SQL; the others make its shape (``binding``). Nothing here knows SQL.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from carnet.record.search.binding import EACH, LIST, VALUE
from carnet.record.search.values import DateValue, NumberValue

TOP = "\U0010ffff"
"""Above every character: [q, q + TOP) holds exactly the strings starting with q."""


@dataclass(frozen=True, slots=True)
class HashedToken:
    """A token value as the index holds it (None: no constraint on that part)."""

    code_hash: int | None = field(metadata=VALUE)
    system_hash: int | None = field(metadata=VALUE)
    no_system: bool = False
    """``|code``: the stored value must have no system."""


@dataclass(frozen=True, slots=True)
class TokenMatch:
    param_ids: tuple[int, ...]
    values: tuple[HashedToken, ...]


@dataclass(frozen=True, slots=True)
class TextValue:
    """A normalised string searched as a prefix: the index range [value, upper)."""

    value: str = field(metadata=VALUE)
    upper: str = field(metadata=VALUE)


@dataclass(frozen=True, slots=True)
class TextMatch:
    """String values (table ``string``): ``start`` (normalised starts-with: ``values`` are
    TextValues), ``exact`` (normalised equality and the hash of the exact text), ``contains``
    (``values`` are LIKE patterns over the normalised text)."""

    param_ids: tuple[int, ...]
    mode: str
    values: tuple[object, ...]
    """TextValues (start); for exact and contains, ``texts``."""
    texts: tuple[str, ...] = field(default=(), metadata=EACH)
    exact_hashes: tuple[int, ...] = field(default=(), metadata=EACH)


@dataclass(frozen=True, slots=True)
class DateMatch:
    param_ids: tuple[int, ...]
    values: tuple[DateValue, ...]


@dataclass(frozen=True, slots=True)
class UnitMatch:
    number: NumberValue
    system_hash: int | None = field(metadata=VALUE)
    code_hash: int | None = field(metadata=VALUE)
    """With a system: the stored code; without: the stored code or unit."""


@dataclass(frozen=True, slots=True)
class NumberMatch:
    table: str
    """``number`` or ``quantity``."""
    param_ids: tuple[int, ...]
    values: tuple[UnitMatch, ...]


@dataclass(frozen=True, slots=True)
class ReferenceMatch:
    param_ids: tuple[int, ...]
    hashes: tuple[int, ...] = field(metadata=LIST)


@dataclass(frozen=True, slots=True)
class UriMatch:
    param_ids: tuple[int, ...]
    mode: str
    """``eq``, ``below`` (the stored uri starts with the value), ``above`` (the value starts
    with the stored uri)."""
    values: tuple[str, ...] = field(metadata=EACH)


@dataclass(frozen=True, slots=True)
class BlindMatch:
    param_ids: tuple[int, ...]
    hashes: tuple[bytes, ...] = field(metadata=LIST)


@dataclass(frozen=True, slots=True)
class CompositePair:
    first: HashedToken
    """The first component: a token, or a reference target hash in ``code_hash``."""
    second: object
    """The second component's condition, restricted to the row that carries ``first``."""


@dataclass(frozen=True, slots=True)
class CompositeMatch:
    table: str
    param_ids: tuple[int, ...]
    pairs: tuple[CompositePair, ...]


@dataclass(frozen=True, slots=True)
class Missing:
    sources: tuple[tuple[str, tuple[int, ...]], ...]
    """The (table, param ids) whose rows make the parameter present."""
    missing: bool


@dataclass(frozen=True, slots=True)
class Negated:
    """``:not``: resources with no value matching ``inner`` (those with no value included)."""

    inner: object


@dataclass(frozen=True, slots=True)
class IdMatch:
    ids: tuple[str, ...] = field(metadata=LIST)
    negated: bool = False


@dataclass(frozen=True, slots=True)
class InstantRange:
    """A date search value as instants, for ``_lastUpdated`` (a column of aware datetimes)."""

    prefix: str
    low: datetime = field(metadata=VALUE)
    high: datetime = field(metadata=VALUE)


@dataclass(frozen=True, slots=True)
class LastUpdatedMatch:
    values: tuple[InstantRange, ...]


@dataclass(frozen=True, slots=True)
class Chain:
    """``subject:Patient.name=x``: the reference reaches a resource matching the inner
    condition (one per possible target type)."""

    param_ids: tuple[int, ...]
    targets: tuple[tuple[str, object], ...]


@dataclass(frozen=True, slots=True)
class Has:
    """``_has:Observation:patient:code=x``: some Observation whose ``patient`` references the
    resource matches the inner condition."""

    source_type: str
    param_ids: tuple[int, ...]
    inner: object


@dataclass(frozen=True, slots=True)
class InList:
    """``_list=id``: the resource is an item of that List."""

    list_id: str = field(metadata=VALUE)
    item_param_ids: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class SortKey:
    name: str
    descending: bool
    column: str | None = None
    """``id`` or ``last_updated`` for ``_id``/``_lastUpdated``; None for an index table."""
    table: str = ""
    param_ids: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class Include:
    source_type: str
    param_ids: tuple[int, ...]
    target_types: tuple[str, ...]
    """The types the included resources may have (the parameter's targets, or the one named)."""
    iterate: bool
    reverse: bool
    text: str
    """As written after ``_include=`` (for the self link)."""


@dataclass(frozen=True, slots=True)
class SearchLimits:
    """Page sizes: without ``_count``, and the largest ``_count`` accepted."""

    default_count: int = 50
    max_count: int = 1000


@dataclass(frozen=True, slots=True)
class Controls:
    count: int
    sort: tuple[SortKey, ...] = ()
    includes: tuple[Include, ...] = ()
    summary: str | None = None
    """``true``, ``text``, ``data``, ``count`` or None (``false``)."""
    elements: tuple[str, ...] = ()
    total: str | None = None
    """``accurate``, ``estimate``, ``none`` or None (not asked)."""


@dataclass(frozen=True, slots=True)
class ParsedSearch:
    resource_type: str
    conditions: tuple[object, ...]
    controls: Controls
    owner_hint: str | None = None
    """A patient whose compartment surely holds every match (``patient=123`` on a type whose
    owner is its subject): lets every index lookup use that patient's key."""
    names: tuple[str, ...] = ()
    """The parameter names, as written (for the audit trail: never their values)."""
    ignored: tuple[str, ...] = field(default_factory=tuple)
    """Problems with parameters ignored under ``handling=lenient`` (diagnostics)."""
    identifying: bool = False
    """Whether some value is identifying (blind): then it must not appear in a URL in clear."""
