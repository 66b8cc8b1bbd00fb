"""Opposing for one's children over HTTP: the choice on ``/opposition``, a proof per child on the
done page, a child's space asked for on ``/opposition/demander-un-profil``."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date

import pytest
from starlette.testclient import TestClient
from tests.enrollment.conftest import write_file
from tests.web.test_opposition_pages import (
    REFERENCE,
    TICKET,
    TOKEN,
    code_of,
    ort,
    post,
    web,
)

from carnet.core.actor import CARNET
from carnet.demo.registry_extract import synthetic_registry
from carnet.enrollment import service as enrollment_service
from carnet.runtime import Runtime

__all__ = ["ort", "web"]  # the fixtures, shared with test_opposition_pages
Row = dict[str, str]
Status = enrollment_service.BeneficiaryStatus


@pytest.fixture(scope="module")
def families(
    ort: Runtime, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[list[tuple[Row, list[Row]]]]:
    """Informed holders with an e-mail address and their children, one family per test."""
    generated = list(synthetic_registry(120, seed=23))
    enrollment_service.import_registry(
        source=write_file(tmp_path_factory.mktemp("registry") / "r.txt", generated),
        storage=ort.storage,
        audit=ort.audit,
        transaction=ort.transaction,
    )
    with ort.transaction() as db:
        ort.enrollment.start_campaign(
            db, actor=CARNET, departements="31,44,80", send_date=date(2026, 11, 26)
        )
    ort.worker(name="test").run_until_idle()
    found = []
    for holder in generated:
        children = [r for r in generated if r["nir_ouvrant_droit"] == holder["nir"]]
        if holder["email"] and children and holder["departement"] in {"31", "44", "80"}:
            found.append((holder, children))
    assert len(found) >= 2
    return found


def status_of(rt: Runtime, row: Row) -> Status:
    with rt.transaction(readonly=True) as db:
        person = enrollment_service.find_beneficiary(db, storage=rt.storage, nir=row["nir"])
    assert person is not None
    return person.status


def test_the_form_offers_me_only_by_default_and_me_and_my_children(web: TestClient) -> None:
    page = web.get("/opposition")
    assert page.status_code == 200
    assert 'name="scope" value="self" checked' in page.text
    assert 'name="scope" value="family"' in page.text
    assert "<legend" in page.text and "Pour qui vous opposez-vous" in page.text


def test_opposing_for_me_and_my_children_gives_a_proof_for_each(
    web: TestClient, ort: Runtime, families: list[tuple[Row, list[Row]]]
) -> None:
    holder, children = families[0]
    done = post(web, "/opposition", holder, code=code_of(ort, holder), scope="family")
    assert done.status_code == 200
    references = set(REFERENCE.findall(done.text))
    assert len(references) == 1 + len(children)
    assert {status_of(ort, c) for c in children} == {Status.OPPOSED}
    assert not any(c["prenoms"].split()[0] in done.text for c in children)
    # One download form per proof; a child's downloads in this browser and names the child.
    tickets = TICKET.findall(done.text)
    assert len(tickets) == 1 + len(children)
    child_reference = re.findall(r'name="reference" value="([^"]+)"', done.text)[1]
    token = TOKEN.search(done.text)
    assert token is not None
    pdf = web.post(
        "/opposition/attestation",
        data={"csrf_token": token.group(1), "reference": child_reference, "ticket": tickets[1]},
    )
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"

    # Later, the holder asks for one child's space.
    child = children[0]
    asked = post(web, "/opposition/demander-un-profil", holder, child_nir=child["nir"])
    assert asked.status_code == 200
    assert "/famille" in asked.text
    assert status_of(ort, child) is Status.OPEN
    assert status_of(ort, holder) is Status.OPPOSED


def test_opposing_for_me_only_leaves_the_children_informed(
    web: TestClient, ort: Runtime, families: list[tuple[Row, list[Row]]]
) -> None:
    holder, children = families[1]
    done = post(web, "/opposition", holder, code=code_of(ort, holder), scope="self")
    assert done.status_code == 200
    assert len(set(REFERENCE.findall(done.text))) == 1
    assert status_of(ort, holder) is Status.OPPOSED
    assert {status_of(ort, c) for c in children} == {Status.NOTIFIED}
