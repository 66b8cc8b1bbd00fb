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

_PATIENT_ACTIONS = frozenset({Action.READ, Action.SEARCH})


def decide(ctx: AccessContext, action: Action, facts: ResourceFacts) -> Decision:
    """May ``ctx`` perform ``action`` on the resource described by ``facts``?

    For now: a patient reads their own compartment; a system client acts within its scopes;
    everything else is refused. The professional, representative and caregiver rules arrive
    with the access-rules issue and slot in here.
    """
    kind = ctx.actor.kind
    if kind is ActorKind.PATIENT:
        return _decide_patient(ctx, action, facts)
    if kind is ActorKind.SYSTEM:
        if ctx.scopes.permits("system", facts.resource_type, action.value):
            return Decision(allowed=True, rule="system-scope")
        return Decision(allowed=False, rule="system-scope-missing")
    return Decision(allowed=False, rule="no-rule-for-actor")


def _decide_patient(ctx: AccessContext, action: Action, facts: ResourceFacts) -> Decision:
    if ctx.patient_id is None:
        return Decision(allowed=False, rule="patient-without-compartment")
    if facts.patient_id != ctx.patient_id:
        return Decision(allowed=False, rule="patient-other-compartment")
    if action not in _PATIENT_ACTIONS:
        return Decision(allowed=False, rule="patient-read-only")
    return Decision(allowed=True, rule="patient-own-compartment")


def search_scope(ctx: AccessContext, resource_type: str) -> SearchScope:
    """Which compartments a search of ``resource_type`` by ``ctx`` may return."""
    kind = ctx.actor.kind
    if kind is ActorKind.SYSTEM:
        if ctx.scopes.permits("system", resource_type, Action.SEARCH.value):
            return SearchScope(everything=True, rule="system-scope")
        return SearchScope(rule="system-scope-missing")
    if kind is ActorKind.PATIENT and ctx.patient_id is not None:
        return SearchScope(patient_ids=frozenset({ctx.patient_id}), rule="patient-own-compartment")
    return SearchScope(rule="no-rule-for-actor")


def system_context_scopes(text: str) -> ScopeSet:
    """Parse the scopes granted to a system client."""
    return ScopeSet.parse(text)
