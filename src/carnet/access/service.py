"""Public face of the access area: the decision functions.

Each function is written in the "one conditional per line" style of Zulip's ``access_*``
functions so that coverage shows every rule exercised.
"""

from __future__ import annotations

from carnet.access.schemas import (
    AccessContext,
    Action,
    Decision,
    Mode,
    ResourceFacts,
    SearchScope,
)
from carnet.access.scopes import ResourceScope, ScopeSet, is_valid_scope, parse_scope
from carnet.core.actor import ActorKind

__all__ = [
    "AccessContext",
    "Action",
    "Decision",
    "Mode",
    "ResourceFacts",
    "ResourceScope",
    "ScopeSet",
    "SearchScope",
    "decide",
    "is_valid_scope",
    "parse_scope",
    "search_scope",
]

INVISIBLE_PATIENT = "INVISIBLE_PATIENT"
"""A professional's document held back from the patient until its author releases it."""
INVISIBLE_REPRESENTANTS_LEGAUX = "INVISIBLE_REPRESENTANTS_LEGAUX"
"""A minor's document hidden from their legal representatives (confidential care)."""

_HIDDEN_FROM_HOLDER = frozenset({INVISIBLE_PATIENT})
_HIDDEN_FROM_OTHERS = frozenset({INVISIBLE_PATIENT, INVISIBLE_REPRESENTANTS_LEGAUX})
_OWN_SPACE_KINDS = frozenset({ActorKind.PATIENT, ActorKind.REPRESENTATIVE, ActorKind.CAREGIVER})


def decide(ctx: AccessContext, action: Action, facts: ResourceFacts) -> Decision:
    """May ``ctx`` perform ``action`` on the resource described by ``facts``?

    For now: a patient (or their representative or caregiver) reads and writes in the space
    they act in, except what its visibility labels hold back from them; a system client acts
        within its scopes; everything else is refused. The professionals' rules arrive with the
    access-rules issue and slot in here.
    """
    kind = ctx.actor.kind
    if kind in _OWN_SPACE_KINDS:
        return _decide_own_space(ctx, facts)
    if kind is ActorKind.SYSTEM:
        if ctx.scopes.permits("system", facts.resource_type, action.value):
            return Decision(allowed=True, rule="system-scope")
        return Decision(allowed=False, rule="system-scope-missing")
    return Decision(allowed=False, rule="no-rule-for-actor")


def _decide_own_space(ctx: AccessContext, facts: ResourceFacts) -> Decision:
    """The holder, or someone acting for them, in the space they act in: every action.

    The space is theirs: they read and write in it (what may be changed or deleted in a
    professional's document is the documents area's rule, above this one). What they may not
    see is what its author or the law holds back (``_held_back``).
    """
    if ctx.patient_id is None:
        return Decision(allowed=False, rule="patient-without-compartment")
    if facts.patient_id != ctx.patient_id:
        return Decision(allowed=False, rule="patient-other-compartment")
    held_back = _held_back(ctx, facts)
    if held_back is not None:
        return Decision(allowed=False, rule=held_back)
    if ctx.actor.kind is ActorKind.CAREGIVER:
        return Decision(allowed=True, rule="caregiver-of-space")
    if ctx.actor.kind is ActorKind.REPRESENTATIVE:
        return Decision(allowed=True, rule="representative-of-space")
    return Decision(allowed=True, rule="patient-own-compartment")


def _held_back(ctx: AccessContext, facts: ResourceFacts) -> str | None:
    """The label that hides the resource from this actor, if any: ``INVISIBLE_PATIENT`` from
    everyone on the patient's side, ``INVISIBLE_REPRESENTANTS_LEGAUX`` from those acting for
    the holder."""
    if INVISIBLE_PATIENT in facts.security:
        return "invisible-to-patient"
    if ctx.actor.kind is not ActorKind.PATIENT and INVISIBLE_REPRESENTANTS_LEGAUX in facts.security:
        return "invisible-to-representatives"
    return None


def search_scope(ctx: AccessContext, resource_type: str) -> SearchScope:
    """Which compartments a search of ``resource_type`` by ``ctx`` may return."""
    kind = ctx.actor.kind
    if kind is ActorKind.SYSTEM:
        if ctx.scopes.permits("system", resource_type, Action.SEARCH.value):
            return SearchScope(everything=True, rule="system-scope")
        return SearchScope(rule="system-scope-missing")
    if kind in _OWN_SPACE_KINDS and ctx.patient_id is not None:
        return SearchScope(
            patient_ids=frozenset({ctx.patient_id}),
            rule="patient-own-compartment",
            hidden=_HIDDEN_FROM_HOLDER if kind is ActorKind.PATIENT else _HIDDEN_FROM_OTHERS,
        )
    return SearchScope(rule="no-rule-for-actor")


def system_context_scopes(text: str) -> ScopeSet:
    """Parse the scopes granted to a system client."""
    return ScopeSet.parse(text)
