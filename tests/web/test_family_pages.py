"""« Ma famille » and « Mes proches aidants » over HTTP: a holder activates a child (who then
appears in the profile switcher), invites the other parent; caregivers are invited, accepted,
revoked; every refusal is a message with a 4xx and changes nothing."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from sqlalchemy import text
from starlette.testclient import TestClient
from tests.enrollment.family_setup import (
    People,
    Row,
    beneficiary_id,
    make_active,
)
from tests.enrollment.family_setup import people as people  # noqa: PLC0414 - a fixture
from tests.enrollment.family_setup import rt as rt  # noqa: PLC0414 - a fixture
from tests.web.test_sign_in_http import csrf

from carnet.app import create_app
from carnet.runtime import Runtime

OPTION = re.compile(r'<option value="(\d+)"[^>]*>([^<]+)</option>')


@pytest.fixture
def browser(rt: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(rt), base_url="http://testserver") as client:
        yield client


def signed_in(client: TestClient, rt: Runtime, row: Row) -> TestClient:
    """Sign ``row``'s person in on ``client`` (a session opened as an external sign-in would)."""
    person = beneficiary_id(rt, row)
    with rt.transaction() as db:
        account = rt.accounts.account_for_person(
            db, person_kind="patient", person_id=person, create=True
        )
        assert account is not None
        issued = rt.accounts.open_session(
            db,
            account_id=account,
            method="test",
            acr=None,
            client_address=None,
            user_agent=None,
            now=rt.accounts.clock.now(),
        )
    client.cookies.clear()
    client.cookies.set("carnet_session", issued.token)
    return client


def typed(row: Row) -> dict[str, str]:
    day = row["date_naissance"]
    return {
        "nir": row["nir"],
        "family_name": row["nom_naissance"],
        "given_name": row["prenoms"].split(" ")[0],
        "birth_date": f"{day[8:]}/{day[5:7]}/{day[:4]}",
    }


def post(client: TestClient, path: str, page: str, **data: str) -> object:
    return client.post(
        path, data={"csrf_token": csrf(client, page), **data}, follow_redirects=False
    )


def count(rt: Runtime, table: str) -> int:
    with rt.transaction(readonly=True) as db:
        return int(db.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())


def test_the_family_page_needs_a_signed_in_patient(browser: TestClient) -> None:
    response = browser.get("/famille", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/connexion")


def test_a_holder_activates_a_child_who_appears_in_the_profile_switcher(
    browser: TestClient, rt: Runtime, people: People
) -> None:
    make_active(rt, people.holder)
    client = signed_in(browser, rt, people.holder)
    page = client.get("/famille")
    assert page.status_code == 200 and "Julia Mia" in page.text and "Clément" in page.text
    younger = beneficiary_id(rt, people.younger)
    done = post(client, "/famille/activer", "/famille", child=younger)
    assert done.status_code == 303 and done.headers["location"] == "/famille"  # type: ignore[attr-defined]
    assert "Profil ajouté à votre compte" in client.get("/famille").text
    labels = [label for _key, label in OPTION.findall(client.get("/").text)]
    assert "Julia" in labels
    again = post(client, "/famille/activer", "/famille", child=younger)
    assert again.status_code == 409  # type: ignore[attr-defined]
    assert "déjà dans votre compte" in again.text  # type: ignore[attr-defined]
    other = post(
        client, "/famille/activer", "/famille", child=beneficiary_id(rt, people.other_child)
    )
    assert other.status_code == 403  # type: ignore[attr-defined]
    with rt.transaction(readonly=True) as db:
        refusals = db.execute(
            text(
                "SELECT count(*) FROM audit_event WHERE tag = 'enrollment:child:activate' "
                "AND outcome = 'refused'"
            )
        ).scalar_one()
    assert refusals >= 2  # kept: the refusal's transaction commits


def test_inviting_the_other_parent_then_accepting(
    browser: TestClient, rt: Runtime, people: People
) -> None:
    make_active(rt, people.holder)
    second = people.adults[0]
    make_active(rt, second)
    client = signed_in(browser, rt, people.holder)
    younger = beneficiary_id(rt, people.younger)
    post(client, "/famille/activer", "/famille", child=younger)
    empty = post(client, "/famille/inviter", "/famille", child=younger)
    assert empty.status_code == 400 and "resume-erreurs" in empty.text  # type: ignore[attr-defined]
    wrong = post(
        client,
        "/famille/inviter",
        "/famille",
        child=younger,
        **{**typed(second), "birth_date": "01/01/1990"},
    )
    assert wrong.status_code == 422 and "aucune personne inscrite" in wrong.text  # type: ignore[attr-defined]
    assert count(rt, "enrollment_family_invitation") == 0
    sent = post(client, "/famille/inviter", "/famille", child=younger, **typed(second))
    assert sent.status_code == 303  # type: ignore[attr-defined]
    duplicate = post(client, "/famille/inviter", "/famille", child=younger, **typed(second))
    assert duplicate.status_code == 409  # type: ignore[attr-defined]
    invitee = signed_in(browser, rt, second)
    page = invitee.get("/famille")
    invitation = re.search(r'name="invitation" value="([^"]+)"', page.text)
    assert invitation and "Julia" in page.text
    accepted = post(
        invitee, "/famille/repondre", "/famille", invitation=invitation.group(1), answer="accept"
    )
    assert accepted.status_code == 303  # type: ignore[attr-defined]
    labels = [label for _key, label in OPTION.findall(invitee.get("/").text)]
    assert "Julia" in labels
    twice = post(
        invitee, "/famille/repondre", "/famille", invitation=invitation.group(1), answer="refuse"
    )
    assert twice.status_code == 409  # type: ignore[attr-defined]


def test_caregivers_invite_accept_revoke_and_limits(
    browser: TestClient, rt: Runtime, people: People
) -> None:
    adults = people.adults[:6]
    for row in adults:
        make_active(rt, row)
    person, helper = adults[0], adults[1]
    client = signed_in(browser, rt, person)
    assert client.get("/proches-aidants").status_code == 200
    itself = post(client, "/proches-aidants/inviter", "/proches-aidants", **typed(person))
    assert itself.status_code == 422  # type: ignore[attr-defined]
    inactive = post(
        client, "/proches-aidants/inviter", "/proches-aidants", **typed(people.adults[10])
    )
    assert inactive.status_code == 409 and "pas encore activé" in inactive.text  # type: ignore[attr-defined]
    for row in adults[1:4]:
        done = post(client, "/proches-aidants/inviter", "/proches-aidants", **typed(row))
        assert done.status_code == 303  # type: ignore[attr-defined]
    fourth = post(client, "/proches-aidants/inviter", "/proches-aidants", **typed(adults[4]))
    assert fourth.status_code == 409 and "déjà 3 proches aidants" in fourth.text  # type: ignore[attr-defined]
    assert count(rt, "enrollment_caregiver") == 3
    caregiver = signed_in(browser, rt, helper)
    page = caregiver.get("/proches-aidants")
    link = re.search(r'name="link" value="([^"]+)"', page.text)
    assert link
    accepted = post(
        caregiver,
        "/proches-aidants/repondre",
        "/proches-aidants",
        link=link.group(1),
        answer="accept",
    )
    assert accepted.status_code == 303  # type: ignore[attr-defined]
    assert "Ne plus aider cette personne" in caregiver.get("/proches-aidants").text
    assert count(rt, "enrollment_caregiver WHERE document_id IS NOT NULL") == 1
    revoked = post(caregiver, "/proches-aidants/retirer", "/proches-aidants", link=link.group(1))
    assert revoked.status_code == 303  # type: ignore[attr-defined]
    again = post(caregiver, "/proches-aidants/retirer", "/proches-aidants", link=link.group(1))
    assert again.status_code == 409  # type: ignore[attr-defined]
    stranger = signed_in(browser, rt, adults[5])
    unknown = post(stranger, "/proches-aidants/retirer", "/proches-aidants", link=link.group(1))
    assert unknown.status_code == 404  # type: ignore[attr-defined]


def test_both_people_of_an_accepted_link_download_its_proof(
    browser: TestClient, rt: Runtime, people: People
) -> None:
    person, helper, stranger = people.adults[:3]
    for row in (person, helper, stranger):
        make_active(rt, row)
    client = signed_in(browser, rt, person)
    invited = post(client, "/proches-aidants/inviter", "/proches-aidants", **typed(helper))
    assert invited.status_code == 303  # type: ignore[attr-defined]
    caregiver = signed_in(browser, rt, helper)
    link = re.search(r'name="link" value="([^"]+)"', caregiver.get("/proches-aidants").text)
    assert link
    path = f"/proches-aidants/justificatif/{link.group(1)}"
    assert path not in caregiver.get("/proches-aidants").text  # pending: no proof yet
    assert caregiver.get(path).status_code == 404
    post(
        caregiver,
        "/proches-aidants/repondre",
        "/proches-aidants",
        link=link.group(1),
        answer="accept",
    )
    for row in (helper, person):
        side = signed_in(browser, rt, row)
        assert f'href="{path}"' in side.get("/proches-aidants").text
        response = side.get(path)
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/pdf"
        assert response.headers["content-disposition"].startswith("attachment;")
        assert response.headers["cache-control"] == "no-store"
        assert response.content.startswith(b"%PDF-")
    other = signed_in(browser, rt, stranger).get(path)
    assert other.status_code == 404 and "Ce justificatif n’existe pas" in other.text
    assert (
        signed_in(browser, rt, person).get("/proches-aidants/justificatif/nope").status_code == 404
    )
    assert count(rt, "audit_event WHERE tag = 'enrollment:caregiver:proof'") == 4
    browser.cookies.clear()
    anonymous = browser.get(path, follow_redirects=False)
    assert anonymous.status_code == 303


def test_the_holder_withdraws_an_invitation_from_the_family_page(
    browser: TestClient, rt: Runtime, people: People
) -> None:
    make_active(rt, people.holder)
    invitee = people.adults[0]
    make_active(rt, invitee)
    client = signed_in(browser, rt, people.holder)
    younger = beneficiary_id(rt, people.younger)
    post(client, "/famille/activer", "/famille", child=younger)
    invited = post(client, "/famille/inviter", "/famille", child=younger, **typed(invitee))
    assert invited.status_code == 303  # type: ignore[attr-defined]
    page = client.get("/famille").text
    withdraw = r'action="/famille/retirer">.*?name="invitation" value="([^"]+)"'
    found = re.search(withdraw, page, re.DOTALL)
    assert found
    invitation = found.group(1)
    other = signed_in(browser, rt, invitee)
    assert invitation in other.get("/famille").text
    refused = post(other, "/famille/retirer", "/famille", invitation=invitation)
    assert refused.status_code == 404  # type: ignore[attr-defined]
    client = signed_in(browser, rt, people.holder)
    done = post(client, "/famille/retirer", "/famille", invitation=invitation)
    assert done.status_code == 303  # type: ignore[attr-defined]
    assert "annulée" in client.get("/famille").text
    again = post(client, "/famille/retirer", "/famille", invitation=invitation)
    assert again.status_code == 409  # type: ignore[attr-defined]
    assert invitation not in signed_in(browser, rt, invitee).get("/famille").text
    assert count(rt, "audit_event WHERE tag = 'enrollment:family:withdraw'") == 6
