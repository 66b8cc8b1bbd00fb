"""Client registration, listing and disabling."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import orjson
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from joserfc.jwk import ECKey, OctKey, OKPKey, RSAKey
from sqlalchemy import Connection, select
from tests.authz.builders import production_authz, public_jwks

from carnet.audit.schemas import SYSTEM_CHAIN
from carnet.authz import models
from carnet.core.actor import CARNET
from carnet.core.errors import InvalidInput
from carnet.runtime import Runtime

SCOPES = "system/*.rs"


@pytest.fixture(scope="module")
def rsa_key() -> RSAKey:
    return RSAKey.generate_key(2048, parameters={"kid": "rsa-1"}, private=True)


@pytest.fixture(scope="module")
def ec_key() -> ECKey:
    return ECKey.generate_key("P-384", parameters={"kid": "ec-1"}, private=True)


def stored_row(db: Connection, client_id: str) -> object:
    return db.execute(select(models.client).where(models.client.c.id == client_id)).one()


# --- registration ---------------------------------------------------------------------------------


def test_register_with_jwks_uses_private_key_jwt(
    rt: Runtime, db: Connection, rsa_key: RSAKey, ec_key: ECKey
) -> None:
    client = rt.authz.register_system_client(
        db,
        name="  Logiciel de cabinet  ",
        scopes="system/Patient.rs system/Observation.cruds system/Patient.rs",
        jwks=public_jwks(rsa_key, ec_key),
        actor=CARNET,
    )
    assert client.auth_method == "private_key_jwt"
    assert client.client_secret is None
    assert client.name == "Logiciel de cabinet"
    assert client.scopes == "system/Patient.rs system/Observation.cruds"
    assert re.fullmatch(r"[A-Za-z0-9_-]{32}", client.client_id)
    row = stored_row(db, client.client_id)
    assert row.secret_hash is None  # type: ignore[attr-defined]
    stored = orjson.loads(row.jwks)  # type: ignore[attr-defined]
    assert [key["kid"] for key in stored["keys"]] == ["rsa-1", "ec-1"]
    assert all("d" not in key for key in stored["keys"])
    [event] = rt.audit.chain_events(db, chain_id=SYSTEM_CHAIN, limit=1)
    assert event.tag == "authz:client:register"
    assert event.entity == f"client/{client.client_id}"
    assert event.actor_id == CARNET.id
    assert event.detail["auth_method"] == "private_key_jwt"
    assert event.detail["key_ids"] == ["rsa-1", "ec-1"]


def test_register_without_jwks_in_dev_gets_a_secret_stored_hashed(
    rt: Runtime, db: Connection
) -> None:
    client = rt.authz.register_system_client(
        db, name="Dev client", scopes=SCOPES, jwks=None, actor=CARNET
    )
    assert client.auth_method == "client_secret_basic"
    assert client.client_secret is not None
    assert len(client.client_secret) >= 43  # 256 random bits
    row = stored_row(db, client.client_id)
    assert row.jwks is None  # type: ignore[attr-defined]
    assert client.client_secret not in row.secret_hash  # type: ignore[attr-defined]
    assert row.secret_hash.startswith("sha256:")  # type: ignore[attr-defined]
    [event] = rt.audit.chain_events(db, chain_id=SYSTEM_CHAIN, limit=1)
    assert client.client_secret not in orjson.dumps(event.detail).decode()


def test_client_ids_are_unique(rt: Runtime, db: Connection) -> None:
    ids = {
        rt.authz.register_system_client(
            db, name=f"c{i}", scopes=SCOPES, jwks=None, actor=CARNET
        ).client_id
        for i in range(20)
    }
    assert len(ids) == 20


@pytest.mark.parametrize(
    "scopes",
    [
        "",
        "   ",
        "patient/*.rs",
        "user/Observation.read",
        "openid",
        "launch/patient",
        "system/observation.rs",
        "system/Patient.rx",
        "system/Patient.sr",
        "system/Patient.rs?category=laboratory",
        "system/*.rs patient/*.rs",
    ],
)
def test_register_refuses_non_system_resource_scopes(
    rt: Runtime, db: Connection, scopes: str
) -> None:
    with pytest.raises(InvalidInput, match="scope"):
        rt.authz.register_system_client(db, name="x", scopes=scopes, jwks=None, actor=CARNET)


@pytest.mark.parametrize("scopes", ["system/*.read", "system/*.*", "system/Patient.c"])
def test_register_accepts_v1_and_single_letter_scopes(
    rt: Runtime, db: Connection, scopes: str
) -> None:
    client = rt.authz.register_system_client(db, name="x", scopes=scopes, jwks=None, actor=CARNET)
    assert client.scopes == scopes


@pytest.mark.parametrize("name", ["", "   ", "x" * 201, "bad\nname"])
def test_register_refuses_bad_names(rt: Runtime, db: Connection, name: str) -> None:
    with pytest.raises(InvalidInput, match="name"):
        rt.authz.register_system_client(db, name=name, scopes=SCOPES, jwks=None, actor=CARNET)


def _rsa_public_jwk(bits: int, kid: str) -> dict[str, str]:
    numbers = rsa.generate_private_key(public_exponent=65537, key_size=bits).public_key()
    public = numbers.public_numbers()

    def b64(value: int) -> str:
        raw = value.to_bytes((value.bit_length() + 7) // 8, "big")
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    return {"kty": "RSA", "kid": kid, "n": b64(public.n), "e": b64(public.e)}


def _bad_jwks() -> list[tuple[object, str]]:
    private_rsa = RSAKey.generate_key(2048, parameters={"kid": "p"}, private=True)
    ec = ECKey.generate_key("P-256", parameters={"kid": "e"}, private=True).as_dict(private=False)
    return [
        ("not a dict", "JWKS"),
        ({"keys": []}, "JWKS"),
        ({"keys": "x"}, "JWKS"),
        ({"keys": [private_rsa.as_dict(private=True)]}, "private"),
        ({"keys": [{**ec, "d": "AAAA"}]}, "private"),
        (
            {"keys": [{"kty": "oct", "k": "c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0", "kid": "s"}]},
            "private",
        ),
        ({"keys": [{**OctKey.generate_key(256).as_dict(), "kid": "s"}]}, "private"),
        ({"keys": [{**OKPKey.generate_key("Ed25519").as_dict(private=False), "kid": "o"}]}, "RSA"),
        ({"keys": [_rsa_public_jwk(1024, "small")]}, "2048"),
        ({"keys": [{**ECKey.generate_key("P-521").as_dict(private=False), "kid": "b"}]}, "curve"),
        ({"keys": [{k: v for k, v in ec.items() if k != "kid"}]}, "kid"),
        ({"keys": [ec, ec]}, "twice"),
        ({"keys": [{**ec, "use": "enc"}]}, "use"),
        ({"keys": [{**ec, "alg": "RS256"}]}, "alg"),
        ({"keys": [{**ec, "alg": "ES384"}]}, "P-384"),
        ({"keys": [{**ec, "alg": "HS256"}]}, "alg"),
        ({"keys": [{**ec, "x": ec["y"]}]}, "valid"),
        ({"keys": [{"kty": "EC", "kid": "e", "crv": "P-256"}]}, "needs"),
        ({"keys": [{**ec, "kid": f"k{i}"} for i in range(11)]}, "at most"),
    ]


@pytest.mark.parametrize(("jwks", "message"), _bad_jwks())
def test_register_refuses_unacceptable_jwks(
    rt: Runtime, db: Connection, jwks: object, message: str
) -> None:
    with pytest.raises(InvalidInput, match=message):
        rt.authz.register_system_client(
            db,
            name="x",
            scopes=SCOPES,
            jwks=jwks,  # type: ignore[arg-type]
            actor=CARNET,
        )


def test_production_refuses_clients_without_jwks(
    rt: Runtime, db: Connection, tmp_path: Path, ec_key: ECKey
) -> None:
    authz = production_authz(tmp_path, rt)
    with pytest.raises(InvalidInput, match="private_key_jwt"):
        authz.register_system_client(db, name="x", scopes=SCOPES, jwks=None, actor=CARNET)
    client = authz.register_system_client(
        db, name="x", scopes=SCOPES, jwks=public_jwks(ec_key), actor=CARNET
    )
    assert client.auth_method == "private_key_jwt"


# --- listing and disabling ------------------------------------------------------------------------


def test_list_and_disable(rt: Runtime, db: Connection, ec_key: ECKey) -> None:
    client = rt.authz.register_system_client(
        db, name="To disable", scopes=SCOPES, jwks=public_jwks(ec_key), actor=CARNET
    )
    listed = {info.client_id: info for info in rt.authz.list_clients(db)}
    assert listed[client.client_id].disabled is False
    assert listed[client.client_id].name == "To disable"
    assert listed[client.client_id].auth_method == "private_key_jwt"
    assert listed[client.client_id].created_at.tzinfo is not None

    assert rt.authz.disable_client(db, client_id=client.client_id, actor=CARNET) is True
    [event] = rt.audit.chain_events(db, chain_id=SYSTEM_CHAIN, limit=1)
    assert event.tag == "authz:client:disable"
    assert event.entity == f"client/{client.client_id}"
    assert rt.authz.disable_client(db, client_id=client.client_id, actor=CARNET) is False
    assert rt.authz.disable_client(db, client_id="no-such-client", actor=CARNET) is False
    listed = {info.client_id: info for info in rt.authz.list_clients(db)}
    assert listed[client.client_id].disabled is True
