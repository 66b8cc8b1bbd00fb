"""The access decisions, as a table."""

from __future__ import annotations

import pytest

from carnet.access import service as access_service
from carnet.access.schemas import AccessContext, Action, ResourceFacts
from carnet.access.scopes import ScopeSet, parse_scope
from carnet.core.actor import Actor, ActorKind

PATIENT = AccessContext(actor=Actor(ActorKind.PATIENT, "p1"), patient_id="p1")
SYSTEM_RS = AccessContext(actor=Actor(ActorKind.SYSTEM, "c1"), scopes=ScopeSet.parse("system/*.rs"))
SYSTEM_OBS = AccessContext(
    actor=Actor(ActorKind.SYSTEM, "c2"), scopes=ScopeSet.parse("system/Observation.cruds")
)
PRO = AccessContext(actor=Actor(ActorKind.PROFESSIONAL, "rpps"))
PARENT = AccessContext(actor=Actor(ActorKind.REPRESENTATIVE, "parent"), patient_id="p1")
HIDDEN_FROM_PATIENT = ResourceFacts("DocumentReference", "p1", frozenset({"INVISIBLE_PATIENT"}))
HIDDEN_FROM_PARENTS = ResourceFacts(
    "DocumentReference", "p1", frozenset({"INVISIBLE_REPRESENTANTS_LEGAUX"})
)
MASKED = ResourceFacts("DocumentReference", "p1", frozenset({"MASQUE_PS"}))
OWN = ResourceFacts("Observation", "p1")
OTHER = ResourceFacts("Observation", "p2")
DIRECTORY = ResourceFacts("Practitioner", None)


@pytest.mark.parametrize(
    ("ctx", "action", "facts", "allowed"),
    [
        (PATIENT, Action.READ, OWN, True),
        (PATIENT, Action.SEARCH, OWN, True),
        (PATIENT, Action.READ, OTHER, False),
        (PATIENT, Action.UPDATE, OWN, True),
        (PATIENT, Action.CREATE, OTHER, False),
        (PATIENT, Action.DELETE, OWN, True),
        (PATIENT, Action.READ, HIDDEN_FROM_PATIENT, False),
        (PATIENT, Action.READ, HIDDEN_FROM_PARENTS, True),
        (PATIENT, Action.READ, MASKED, True),
        (PARENT, Action.READ, OWN, True),
        (PARENT, Action.CREATE, OWN, True),
        (PARENT, Action.READ, OTHER, False),
        (PARENT, Action.READ, HIDDEN_FROM_PATIENT, False),
        (PARENT, Action.READ, HIDDEN_FROM_PARENTS, False),
        (PATIENT, Action.READ, DIRECTORY, False),
        (SYSTEM_RS, Action.READ, OTHER, True),
        (SYSTEM_RS, Action.READ, DIRECTORY, True),
        (SYSTEM_RS, Action.CREATE, OWN, False),
        (SYSTEM_OBS, Action.CREATE, OWN, True),
        (SYSTEM_OBS, Action.DELETE, OWN, True),
        (SYSTEM_OBS, Action.READ, ResourceFacts("Patient", "p1"), False),
        (PRO, Action.READ, OWN, False),
        (AccessContext(actor=Actor(ActorKind.PATIENT, "x")), Action.READ, OWN, False),
    ],
)
def test_decision_table(
    ctx: AccessContext, action: Action, facts: ResourceFacts, allowed: bool
) -> None:
    assert access_service.decide(ctx, action, facts).allowed is allowed


@pytest.mark.parametrize(
    ("scope", "expected"),
    [
        ("system/Patient.cruds", "system/Patient.cruds"),
        ("system/*.rs", "system/*.rs"),
        ("system/*.read", "system/*.rs"),
        ("system/*.write", "system/*.cud"),
        ("patient/Observation.r", "patient/Observation.r"),
        ("user/*.*", "user/*.cruds"),
        ("system/Patient.sr", None),  # letters out of order
        ("system/Patient.rr", None),
        ("system/patient.r", None),
        ("openid", None),
        ("patient/Observation.rs?category=laboratory", None),  # restrictions not granted yet
    ],
)
def test_scope_parsing(scope: str, expected: str | None) -> None:
    parsed = parse_scope(scope)
    assert (str(parsed) if parsed else None) == expected


def test_search_scope() -> None:
    assert access_service.search_scope(SYSTEM_RS, "Observation").everything
    assert access_service.search_scope(PATIENT, "Observation").patient_ids == {"p1"}
    assert access_service.search_scope(PRO, "Observation").nothing
    assert access_service.search_scope(SYSTEM_OBS, "Patient").nothing
