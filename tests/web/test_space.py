"""The patient area's shared door: a signed-in holder acts in their own space."""

from __future__ import annotations

from starlette.testclient import TestClient
from tests.space import signed_in_holder

from carnet.access.schemas import AccessContext
from carnet.core.actor import Actor, ActorKind
from carnet.runtime import Runtime
from carnet.web.patient.space import acting_context


def test_a_signed_in_holder_acts_as_the_patient_of_their_space(
    client: TestClient, rt: Runtime
) -> None:
    holder = signed_in_holder(client, rt)
    assert client.get("/compte/securite").status_code == 200
    ctx = AccessContext(
        actor=Actor(ActorKind.PATIENT, holder.patient_id), patient_id=holder.patient_id
    )
    with rt.transaction() as db:
        repo = rt.record.repository(db=db, ctx=ctx)
        assert repo.read("Patient", holder.patient_id).id == holder.patient_id
        note = {
            "resourceType": "Observation",
            "status": "final",
            "code": {"text": "note"},
            "subject": {"reference": f"Patient/{holder.patient_id}"},
        }
        assert repo.create(note).resource_type == "Observation"


def test_acting_for_a_child_makes_the_account_a_representative() -> None:
    from carnet.identity.accounts.schemas import CurrentSession

    fields = dict.fromkeys(CurrentSession.__dataclass_fields__)
    base = fields | {
        "session_id": "s",
        "account_id": "a",
        "kind": "patient",
        "stage": "active",
        "roles": frozenset(),
        "profiles": (),
        "second_factor": "email",
        "method": "password",
    }
    own = CurrentSession(**(base | {"person_id": "p1", "patient_id": "p1"}))
    child = CurrentSession(**(base | {"person_id": "p1", "patient_id": "c1"}))
    assert acting_context(own).actor.kind is ActorKind.PATIENT
    assert acting_context(child).actor.kind is ActorKind.REPRESENTATIVE
    assert acting_context(child).patient_id == "c1"


def test_the_home_page_opens_the_holder_s_space(client: TestClient, rt: Runtime) -> None:
    anonymous = client.get("/").text
    assert 'href="/connexion"' in anonymous
    assert 'href="/vaccinations"' not in anonymous.split("<main", 1)[1]
    signed_in_holder(client, rt)
    home = client.get("/").text.split("<main", 1)[1]
    for path in (
        "/documents",
        "/documents/recherche",
        "/profil-medical",
        "/mesures",
        "/mes-donnees",
    ):
        assert f'href="{path}"' in home
