"""The notification centre's pages: the list (unread marked, open one, mark one or all read,
pages), the e-mail preferences form (CSRF, a bad value refused with nothing stored)."""

from __future__ import annotations

from starlette.testclient import TestClient
from tests.space import form_token, signed_in_holder

from carnet.notify import service as notify_service
from carnet.runtime import Runtime


def post_item(rt: Runtime, patient_id: str, kind: str, link: str) -> str:
    with rt.transaction() as db:
        return notify_service.post_to_inbox(
            db, rt.jobs, patient_id=patient_id, kind=kind, link=link
        )


def unread(rt: Runtime, patient_id: str) -> int:
    with rt.transaction() as db:
        return notify_service.unread_count(db, patient_id=patient_id)


def test_the_list_shows_unread_items_and_marks_them_read(client: TestClient, rt: Runtime) -> None:
    holder = signed_in_holder(client, rt)
    first = post_item(rt, holder.patient_id, "new_document", "/documents")
    post_item(rt, holder.patient_id, "new_message", "/messages")
    page = client.get("/notifications")
    assert page.status_code == 200
    assert "Vous avez 2 notifications non lues." in page.text
    assert page.text.count("Non lu") == 2
    assert "Nouveau document" in page.text
    assert "Nouveau message" in page.text
    token = form_token(client, "/notifications")
    opened = client.post(
        f"/notifications/{first}",
        data={"csrf_token": token, "action": "voir"},
        follow_redirects=False,
    )
    assert opened.status_code == 303
    assert opened.headers["location"] == "/documents"
    assert unread(rt, holder.patient_id) == 1
    done = client.post("/notifications/tout-lu", data={"csrf_token": token})
    assert done.status_code == 200
    assert "Vos notifications sont à jour." in done.text
    assert unread(rt, holder.patient_id) == 0


def test_an_item_of_someone_else_is_not_found(client: TestClient, rt: Runtime) -> None:
    holder = signed_in_holder(client, rt)
    theirs = post_item(rt, "someone-else", "new_document", "/documents")
    token = form_token(client, "/notifications")
    response = client.post(f"/notifications/{theirs}", data={"csrf_token": token, "action": "lu"})
    assert response.status_code == 404
    assert unread(rt, "someone-else") == 1
    assert unread(rt, holder.patient_id) == 0


def test_posts_need_the_csrf_token(client: TestClient, rt: Runtime) -> None:
    holder = signed_in_holder(client, rt)
    post_item(rt, holder.patient_id, "reminder", "/agenda")
    assert client.post("/notifications/tout-lu").status_code == 403
    assert client.post("/notifications/preferences", data={"reminder": "oui"}).status_code == 403
    assert unread(rt, holder.patient_id) == 1


def test_pages_of_notifications(client: TestClient, rt: Runtime) -> None:
    holder = signed_in_holder(client, rt)
    for _ in range(23):
        post_item(rt, holder.patient_id, "reminder", "/agenda")
    first = client.get("/notifications")
    assert 'aria-current="page"' in first.text
    assert first.text.count("Marquer comme lu") == 20
    second = client.get("/notifications?page=2")
    assert second.text.count("Marquer comme lu") == 3
    assert client.get("/notifications?page=nope").status_code == 200


def test_preferences_are_saved_and_a_bad_value_is_refused(client: TestClient, rt: Runtime) -> None:
    holder = signed_in_holder(client, rt)
    page = client.get("/notifications/preferences")
    assert page.status_code == 200
    assert page.text.count("checked") == 4  # every kind by e-mail, by default
    token = form_token(client, "/notifications/preferences")
    saved = client.post(
        "/notifications/preferences",
        data={"csrf_token": token, "new_document": "oui", "reminder": "oui"},
    )
    assert saved.status_code == 200
    assert "Vos préférences de notification sont enregistrées." in saved.text
    with rt.transaction() as db:
        choices = notify_service.email_choices(db, patient_id=holder.patient_id)
    assert choices == {
        "new_document": True,
        "new_message": False,
        "reminder": True,
        "connected_app": False,
    }
    refused = client.post(
        "/notifications/preferences",
        data={"csrf_token": token, "new_document": "peut-être"},
    )
    assert refused.status_code == 400
    assert "Ce choix n’est pas valide" in refused.text
    with rt.transaction() as db:
        assert notify_service.email_choices(db, patient_id=holder.patient_id) == choices


def test_signed_out_visitors_are_sent_to_sign_in(client: TestClient) -> None:
    response = client.get("/notifications", follow_redirects=False)
    assert response.status_code in {302, 303}


def test_the_header_shows_how_many_notifications_are_unread(
    client: TestClient, rt: Runtime
) -> None:
    holder = signed_in_holder(client, rt)
    badge = '<span class="fr-badge fr-badge--sm fr-badge--new">'
    assert badge not in client.get("/preferences").text
    post_item(rt, holder.patient_id, "new_document", "/documents")
    post_item(rt, holder.patient_id, "reminder", "/vaccinations")
    page = client.get("/preferences").text
    assert f'{badge}2<span class="fr-sr-only"> non lues</span></span>' in page
