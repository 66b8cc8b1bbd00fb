"""Bearer tokens for the FHIR tests: a registered system client per scope set."""

from __future__ import annotations

import base64

from starlette.testclient import TestClient

from carnet.core.actor import CARNET
from carnet.runtime import Runtime

FHIR_JSON = "application/fhir+json"
JSON_PATCH = "application/json-patch+json"


def bearer(rt: Runtime, client: TestClient, scopes: str) -> dict[str, str]:
    """An ``Authorization`` header for a new system client granted ``scopes``."""
    with rt.transaction() as db:
        registered = rt.authz.register_system_client(
            db, name=f"Test {scopes}", scopes=scopes, jwks=None, actor=CARNET
        )
    basic = base64.b64encode(f"{registered.client_id}:{registered.client_secret}".encode()).decode()
    response = client.post(
        "/oauth2/token",
        data={"grant_type": "client_credentials", "scope": scopes},
        headers={"Authorization": f"Basic {basic}"},
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}
