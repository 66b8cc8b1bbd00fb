"""A parent acting in their child's profile records the child's measures and sees the child's
growth charts (over HTTP, on a fresh database with a registry: the family's own setup)."""

from __future__ import annotations

from collections.abc import Iterator

import orjson
import pytest
from starlette.testclient import TestClient
from tests.enrollment.family_setup import People, beneficiary_id, make_active
from tests.enrollment.family_setup import people as people  # noqa: PLC0414 - a fixture
from tests.enrollment.family_setup import rt as rt  # noqa: PLC0414 - a fixture
from tests.web.test_family_pages import OPTION, post, signed_in
from tests.web.test_sign_in_http import csrf

from carnet.app import create_app
from carnet.runtime import Runtime


@pytest.fixture
def browser(rt: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(rt), base_url="http://testserver") as client:
        yield client


def test_a_parent_records_a_childs_height_and_sees_the_growth_charts(
    browser: TestClient, rt: Runtime, people: People
) -> None:
    make_active(rt, people.holder)
    client = signed_in(browser, rt, people.holder)
    child = beneficiary_id(rt, people.younger)
    assert post(client, "/famille/activer", "/famille", child=child).status_code == 303  # type: ignore[attr-defined]
    assert "/mesures/croissance" not in client.get("/mesures").text  # the parent: an adult
    key = next(k for k, label in OPTION.findall(client.get("/").text) if "Julia" in label)
    client.post("/profil", data={"csrf_token": csrf(client, "/"), "profile": key})
    assert "/mesures/croissance" in client.get("/mesures").text  # the child's profile
    token = csrf(client, "/mesures/taille")
    done = client.post(
        "/mesures/taille",
        data={"csrf_token": token, "date": "2026-01-15", "valeur": "150"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    page = client.get("/mesures/croissance")
    assert page.status_code == 200
    assert 'data-value="150"' in page.text
    with rt.carnet_repository() as repo:
        found = repo.search("Observation", [("patient", f"Patient/{child}")])
    (measure,) = [orjson.loads(m.body) for m in found.matches]
    assert measure["subject"] == {"reference": f"Patient/{child}"}
