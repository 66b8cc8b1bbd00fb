"""The token signing key file, production start-up checks, and the discovery document."""

from __future__ import annotations

import stat
from pathlib import Path

import orjson
import pytest
from joserfc.jwk import RSAKey
from tests.authz.builders import production_authz

from carnet.authz.config import AuthzSettings
from carnet.authz.service import Authz
from carnet.authz.signing import new_signing_key
from carnet.core.clock import SystemClock
from carnet.core.errors import ConfigurationError
from carnet.runtime import Runtime

SCOPES = "system/*.rs"


def _dev_authz(rt: Runtime, key_file: Path, *, create: bool = True) -> Authz:
    return Authz.from_settings(
        AuthzSettings(),
        issuer="http://127.0.0.1:8000",
        fhir_base_url="http://127.0.0.1:8000/fhir",
        signing_key_file=key_file,
        create_keys=create,
        client_secrets_allowed=True,
        production=False,
        clock=SystemClock(),
        audit=rt.audit,
    )


def test_dev_signing_key_is_generated_private_and_reused(rt: Runtime, tmp_path: Path) -> None:
    key_file = tmp_path / "keys" / "token-signing.json"
    first = _dev_authz(rt, key_file)
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    doc = orjson.loads(key_file.read_bytes())
    assert doc["generated"] is True
    assert doc["keys"][0]["kty"] == "EC"
    assert doc["keys"][0]["crv"] == "P-256"
    assert "d" in doc["keys"][0]
    assert [p.name for p in key_file.parent.iterdir()] == ["token-signing.json"]
    again = _dev_authz(rt, key_file)
    assert first.public_jwks() == again.public_jwks()
    [public] = first.public_jwks()["keys"]
    assert public["kid"] == doc["keys"][0]["kid"]
    assert public["alg"] == "ES256"
    assert "d" not in public


def test_missing_key_file_without_create_is_refused(rt: Runtime, tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="no token signing key"):
        _dev_authz(rt, tmp_path / "absent.json", create=False)


def test_readable_key_file_is_refused(rt: Runtime, tmp_path: Path) -> None:
    key_file = tmp_path / "token-signing.json"
    _dev_authz(rt, key_file)
    key_file.chmod(0o644)
    with pytest.raises(ConfigurationError, match="chmod 600"):
        _dev_authz(rt, key_file)


@pytest.mark.parametrize(
    "content",
    [
        b"not json",
        b"{}",
        b'{"keys": []}',
        orjson.dumps({"keys": [{k: v for k, v in new_signing_key().items() if k != "d"}]}),
        orjson.dumps({"keys": [{k: v for k, v in new_signing_key().items() if k != "kid"}]}),
        orjson.dumps({"keys": [RSAKey.generate_key(2048, private=True).as_dict(private=True)]}),
    ],
)
def test_invalid_key_file_is_refused(rt: Runtime, tmp_path: Path, content: bytes) -> None:
    key_file = tmp_path / "token-signing.json"
    key_file.write_bytes(content)
    key_file.chmod(0o600)
    with pytest.raises(ConfigurationError, match=r"token-signing\.json"):
        _dev_authz(rt, key_file)


def test_production_refuses_a_missing_key_file(rt: Runtime, tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="refusing to start in prod"):
        Authz.from_settings(
            AuthzSettings(),
            issuer="https://carnet.example.fr",
            fhir_base_url="https://carnet.example.fr/fhir",
            signing_key_file=tmp_path / "absent.json",
            create_keys=True,  # even if asked: production never generates keys
            client_secrets_allowed=False,
            production=True,
            clock=SystemClock(),
            audit=rt.audit,
        )
    assert not (tmp_path / "absent.json").exists()


def test_production_refuses_a_generated_key_file(rt: Runtime, tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="generated for development"):
        production_authz(tmp_path, rt, generated=True)


def test_production_accepts_a_provisioned_key_file(rt: Runtime, tmp_path: Path) -> None:
    authz = production_authz(tmp_path, rt)
    assert authz.token_endpoint == "https://carnet.example.fr/oauth2/token"


def test_key_rotation_keeps_old_tokens_verifiable(rt: Runtime, tmp_path: Path) -> None:
    key_file = tmp_path / "token-signing.json"
    old = _dev_authz(rt, key_file)
    client_token = old._tokens.issue(client_id="c" * 32, client_name="n", scopes=SCOPES)
    doc = orjson.loads(key_file.read_bytes())
    doc["keys"].insert(0, new_signing_key())
    key_file.write_bytes(orjson.dumps(doc))
    key_file.chmod(0o600)
    rotated = _dev_authz(rt, key_file)
    assert len(rotated.public_jwks()["keys"]) == 2
    assert rotated.verify_access_token(client_token.access_token).client_id == "c" * 32


# --- discovery ------------------------------------------------------------------------------------


def test_smart_configuration_in_dev(rt: Runtime) -> None:
    doc = rt.authz.smart_configuration()
    assert doc["issuer"] == "http://testserver"
    assert doc["token_endpoint"] == "http://testserver/oauth2/token"
    assert doc["token_endpoint"] == rt.authz.token_endpoint
    assert doc["jwks_uri"] == "http://testserver/oauth2/jwks"
    assert doc["grant_types_supported"] == ["client_credentials"]
    assert doc["token_endpoint_auth_methods_supported"] == [
        "private_key_jwt",
        "client_secret_basic",
    ]
    assert doc["token_endpoint_auth_signing_alg_values_supported"] == [
        "RS384",
        "ES384",
        "RS256",
        "ES256",
    ]
    assert "system/*.rs" in doc["scopes_supported"]
    assert "system/*.cruds" in doc["scopes_supported"]
    assert doc["capabilities"] == [
        "client-confidential-asymmetric",
        "client-confidential-symmetric",
    ]
    assert doc["response_types_supported"] == []


def test_smart_configuration_in_production(rt: Runtime, tmp_path: Path) -> None:
    doc = production_authz(tmp_path, rt).smart_configuration()
    assert doc["token_endpoint_auth_methods_supported"] == ["private_key_jwt"]
    assert doc["capabilities"] == ["client-confidential-asymmetric"]
    assert doc["issuer"] == "https://carnet.example.fr"


@pytest.mark.parametrize(
    ("issuer", "secrets_allowed", "message"),
    [
        ("http://carnet.example.fr", False, "https"),
        ("https://carnet.example.fr", True, "client secrets"),
    ],
)
def test_production_refuses_unsafe_settings(
    rt: Runtime, tmp_path: Path, issuer: str, secrets_allowed: bool, message: str
) -> None:
    key_file = tmp_path / "token-signing.json"
    key_file.write_bytes(orjson.dumps({"generated": False, "keys": [new_signing_key()]}))
    key_file.chmod(0o600)
    with pytest.raises(ConfigurationError, match=message):
        Authz.from_settings(
            AuthzSettings(),
            issuer=issuer,
            fhir_base_url=f"{issuer}/fhir",
            signing_key_file=key_file,
            create_keys=False,
            client_secrets_allowed=secrets_allowed,
            production=True,
            clock=SystemClock(),
            audit=rt.audit,
        )
