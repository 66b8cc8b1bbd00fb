"""Contacts as RelatedPerson: mandatory fields and formats, one trusted person, edit, delete."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import orjson
import pytest

from carnet.wishes import service as wishes
from carnet.wishes.errors import ContactNotFound, InvalidContact, SecondTrustedPerson
from carnet.wishes.schemas import ContactInput, ContactRole, Relation

Run = Callable[[Callable[..., Any]], Any]
SISTER = ContactInput(
    first_name="Sophie",
    last_name="Nessi",
    relation="OTHER",
    mobile="06 47 15 01 00",
    postal_code="75005",
    city="Paris",
    roles=("EMERGENCY_CONTACT", "TRUSTED_CONTACT"),
)
MOTHER = replace(
    SISTER,
    first_name="Anne",
    relation="MOTHER",
    mobile="+33 7 12 34 56 78",
    roles=("TRUSTED_CONTACT",),
)


def contacts(run: Run, holder: Any) -> tuple[Any, ...]:
    return run(lambda repo, _db: wishes.list_contacts(repo, patient_id=holder.patient_id))


def test_a_contact_is_a_related_person_with_its_roles_and_relation(run: Run, holder: Any) -> None:
    made = run(
        lambda repo, _db: wishes.add_contact(repo, patient_id=holder.patient_id, contact=SISTER)
    )
    assert made.mobile == "+33647150100" and made.mobile_display == "06 47 15 01 00"
    assert made.roles == {ContactRole.EMERGENCY_CONTACT, ContactRole.TRUSTED_CONTACT}
    assert made.relation is Relation.OTHER
    body = run(lambda repo, _db: orjson.loads(repo.read("RelatedPerson", made.id).body))
    assert body["patient"] == {"reference": f"Patient/{holder.patient_id}"}
    codes = {c["code"] for r in body["relationship"] for c in r["coding"]}
    assert {"ECON", "NOK", "EMERGENCY_CONTACT", "TRUSTED_CONTACT", "O"} <= codes
    assert body["address"] == [{"postalCode": "75005", "city": "Paris", "country": "FR"}]
    assert contacts(run, holder) == (made,)


def test_only_one_trusted_person_and_nothing_stored_for_a_second(run: Run, holder: Any) -> None:
    first = run(
        lambda repo, _db: wishes.add_contact(repo, patient_id=holder.patient_id, contact=SISTER)
    )
    with pytest.raises(SecondTrustedPerson):
        run(
            lambda repo, _db: wishes.add_contact(repo, patient_id=holder.patient_id, contact=MOTHER)
        )
    assert contacts(run, holder) == (first,)
    # As an emergency contact only, the mother is welcome.
    mother = replace(MOTHER, roles=("EMERGENCY_CONTACT",))
    run(lambda repo, _db: wishes.add_contact(repo, patient_id=holder.patient_id, contact=mother))
    assert len(contacts(run, holder)) == 2
    # Nor can an edit make a second one; editing the trusted person herself is fine.
    other = next(c for c in contacts(run, holder) if not c.trusted)
    with pytest.raises(SecondTrustedPerson):
        run(
            lambda repo, _db: wishes.update_contact(
                repo, patient_id=holder.patient_id, contact_id=other.id, contact=MOTHER
            )
        )
    changed = replace(SISTER, city="Lyon", postal_code="69003")
    run(
        lambda repo, _db: wishes.update_contact(
            repo, patient_id=holder.patient_id, contact_id=first.id, contact=changed
        )
    )
    assert contacts(run, holder)[0].city == "Lyon"


@pytest.mark.parametrize(
    ("changes", "field", "reason"),
    [
        ({"first_name": ""}, "first_name", "missing"),
        ({"last_name": "  "}, "last_name", "missing"),
        ({"last_name": "R2D2"}, "last_name", "bad-characters"),
        ({"relation": ""}, "relation", "missing"),
        ({"relation": "COUSIN"}, "relation", "bad-relation"),
        ({"mobile": ""}, "mobile", "missing"),
        ({"mobile": "01 23 45 67 89"}, "mobile", "bad-mobile"),
        ({"mobile": "+44 7700 900123"}, "mobile", "bad-mobile"),
        ({"mobile": "06 12 34 56"}, "mobile", "bad-mobile"),
        ({"postal_code": ""}, "postal_code", "missing"),
        ({"postal_code": "7500"}, "postal_code", "bad-postal-code"),
        ({"postal_code": "75 005"}, "postal_code", "bad-postal-code"),
        ({"postal_code": "00100"}, "postal_code", "bad-postal-code"),
        ({"city": ""}, "city", "missing"),
        ({"roles": ()}, "roles", "no-role"),
        ({"roles": ("BOSS",)}, "roles", "bad-role"),
    ],
)
def test_mandatory_fields_and_formats(
    run: Run, holder: Any, changes: dict[str, Any], field: str, reason: str
) -> None:
    with pytest.raises(InvalidContact) as refused:
        run(
            lambda repo, _db: wishes.add_contact(
                repo, patient_id=holder.patient_id, contact=replace(SISTER, **changes)
            )
        )
    assert (field, reason) in refused.value.problems
    assert contacts(run, holder) == ()


@pytest.mark.parametrize(
    "mobile",
    ["0612345678", "06.12.34.56.78", "06-12-34-56-78", "+33612345678", "0033 7 12 34 56 78"],
)
def test_french_mobile_numbers_in_their_usual_spellings(mobile: str) -> None:
    assert wishes.normalise_mobile(mobile) in {"+33612345678", "+33712345678"}


def test_every_problem_is_reported_at_once(run: Run, holder: Any) -> None:
    empty = ContactInput("", "", "", "", "", "", ())
    with pytest.raises(InvalidContact) as refused:
        run(lambda repo, _db: wishes.add_contact(repo, patient_id=holder.patient_id, contact=empty))
    fields = {field for field, _ in refused.value.problems}
    assert fields == {
        "first_name",
        "last_name",
        "relation",
        "mobile",
        "postal_code",
        "city",
        "roles",
    }


def test_delete_and_someone_elses_contact_is_not_found(run: Run, holder: Any, rt: Any) -> None:
    from tests.space import make_holder
    from tests.wishes.conftest import acting_as

    made = run(
        lambda repo, _db: wishes.add_contact(repo, patient_id=holder.patient_id, contact=SISTER)
    )
    stranger = make_holder(rt)
    with acting_as(rt, stranger) as (repo, _db), pytest.raises(ContactNotFound):
        wishes.get_contact(repo, patient_id=stranger.patient_id, contact_id=made.id)
    run(
        lambda repo, _db: wishes.delete_contact(
            repo, patient_id=holder.patient_id, contact_id=made.id
        )
    )
    assert contacts(run, holder) == ()
    with pytest.raises(ContactNotFound):
        run(
            lambda repo, _db: wishes.get_contact(
                repo, patient_id=holder.patient_id, contact_id=made.id
            )
        )


def test_two_simultaneous_trusted_persons_make_one(rt: Any, holder: Any) -> None:
    import contextlib
    import threading

    from tests.wishes.conftest import acting_as

    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def declare(first_name: str) -> None:
        try:
            with acting_as(rt, holder) as (repo, _db):
                # SQLite: one writer at a time, the other is waiting to begin.
                with contextlib.suppress(threading.BrokenBarrierError):
                    barrier.wait(2)
                wishes.add_contact(
                    repo,
                    patient_id=holder.patient_id,
                    contact=replace(MOTHER, first_name=first_name),
                )
            outcomes.append("added")
        except SecondTrustedPerson:
            outcomes.append("refused")

    threads = [threading.Thread(target=declare, args=(name,)) for name in ("Anne", "Marie")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    with acting_as(rt, holder) as (repo, _db):
        trusted = [c for c in wishes.list_contacts(repo, patient_id=holder.patient_id) if c.trusted]
    assert len(trusted) == 1, outcomes
    assert sorted(outcomes) == ["added", "refused"]
