"""/documents/recherche: the holder searches their own space by words posted (never in the
URL); results grouped, documents first and linked; a clear message when nothing matches or the
words cannot be searched; someone else's words are never found."""

from __future__ import annotations

from typing import Any

from starlette.testclient import TestClient
from tests.factories import patient_context
from tests.space import form_token, signed_in_holder

from carnet.runtime import Runtime
from carnet.web.patient.search import PAGE, group_results

CSRF = "csrf_token"


def _seed(rt: Runtime, patient_id: str) -> dict[str, str]:
    with rt.transaction() as db:
        repo = rt.record.repository(db=db, ctx=patient_context(patient_id))
        doc = repo.create(
            {
                "resourceType": "DocumentReference",
                "status": "current",
                "subject": {"reference": f"Patient/{patient_id}"},
                "description": "Compte rendu d'échographie",
                "date": "2026-03-02T10:00:00Z",
                "content": [{"attachment": {"contentType": "application/pdf"}}],
            }
        )
        repo.index_text("DocumentReference", doc.id, "Stéatose hépatique modérée.")
        condition = repo.create(
            {
                "resourceType": "Condition",
                "subject": {"reference": f"Patient/{patient_id}"},
                "code": {"text": "Stéatose hépatique"},
                "recordedDate": "2025-11-04",
            }
        )
    return {"document": doc.id, "condition": condition.id}


def _search(client: TestClient, words: str) -> Any:
    token = form_token(client, PAGE)
    return client.post(PAGE, data={"q": words, CSRF: token})


def test_the_page_shows_a_search_box(client: TestClient, rt: Runtime) -> None:
    signed_in_holder(client, rt)
    page = client.get(PAGE)
    assert page.status_code == 200
    assert 'role="search"' in page.text
    assert '<label class="fr-label" for="q">' in page.text


def test_results_are_grouped_documents_first(client: TestClient, rt: Runtime) -> None:
    holder = signed_in_holder(client, rt)
    ids = _seed(rt, holder.patient_id)
    page = _search(client, "steatose")
    assert page.status_code == 200
    assert "2 résultats" in page.text
    documents = page.text.index("<h3>Documents</h3>")
    conditions = page.text.index("<h3>Maladies et problèmes de santé</h3>")
    assert documents < conditions
    assert f'href="/documents/{ids["document"]}"' in page.text
    assert "02/03/2026" in page.text
    assert "steatose" not in str(page.url)  # the words never reach the URL
    # A word of the document's content only.
    page = _search(client, "MODÉRÉE")
    assert "1 résultat" in page.text and "Maladies" not in page.text


def test_no_result_says_so(client: TestClient, rt: Runtime) -> None:
    signed_in_holder(client, rt)
    page = _search(client, "cardiomyopathie")
    assert page.status_code == 200
    assert "Aucun résultat" in page.text


def test_someone_elses_words_are_not_found(client: TestClient, rt: Runtime) -> None:
    other = signed_in_holder(client, rt)
    _seed(rt, other.patient_id)
    signed_in_holder(client, rt)  # another holder now signed in
    assert "Aucun résultat" in _search(client, "steatose").text


def test_unsearchable_words_get_a_message_and_a_400(client: TestClient, rt: Runtime) -> None:
    signed_in_holder(client, rt)
    page = _search(client, "le de a")
    assert page.status_code == 400
    assert "au moins un mot de deux lettres" in page.text
    assert 'aria-invalid="true"' in page.text
    page = _search(client, "x" * 201)
    assert page.status_code == 400
    assert "trop longue" in page.text


def test_a_post_without_csrf_is_refused(client: TestClient, rt: Runtime) -> None:
    signed_in_holder(client, rt)
    assert client.post(PAGE, data={"q": "steatose"}).status_code == 403


def test_signed_out_visitors_are_sent_to_sign_in(client: TestClient) -> None:
    client.cookies.clear()
    page = client.get(PAGE, follow_redirects=False)
    assert page.status_code in (302, 303)


def test_grouping_keeps_unknown_kinds_last() -> None:
    assert group_results([]) == []
