"""Fixtures of the authorization server's tests: client keys and a registered client."""

from __future__ import annotations

import pytest
from joserfc.jwk import ECKey, RSAKey
from sqlalchemy import Connection
from tests.authz.builders import Key

from carnet.authz.schemas import RegisteredClient
from carnet.core.actor import CARNET
from carnet.runtime import Runtime


@pytest.fixture(scope="module")
def keys() -> dict[str, Key]:
    """One key per algorithm, and an impostor that reuses a registered kid."""
    return {
        "RS384": RSAKey.generate_key(2048, parameters={"kid": "rsa"}, private=True),
        "ES384": ECKey.generate_key("P-384", parameters={"kid": "ec384"}, private=True),
        "ES256": ECKey.generate_key("P-256", parameters={"kid": "ec256"}, private=True),
        "impostor": ECKey.generate_key("P-384", parameters={"kid": "ec384"}, private=True),
    }


@pytest.fixture
def registered(rt: Runtime, db: Connection, keys: dict[str, Key]) -> RegisteredClient:
    jwks = {"keys": [keys[alg].as_dict(private=False) for alg in ("RS384", "ES384", "ES256")]}
    return rt.authz.register_system_client(
        db, name="Logiciel Test", scopes="system/*.rs system/Patient.cruds", jwks=jwks, actor=CARNET
    )
