"""Client key sets for ``private_key_jwt``: what registration accepts, and key lookup.

A client registers the *public* half of its signing keys. Registration refuses anything that
could weaken client authentication: private or symmetric key material (an operator pasting a
private JWK by mistake must not end up with it stored), key types other than RSA and EC, RSA
moduli under 2048 bits, curves other than P-256 and P-384, and keys without a ``kid`` (SMART
Backend Services selects the key by the assertion's ``kid`` header).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from typing import Any

import orjson
from joserfc import jwk
from joserfc.errors import JoseError

from carnet.authz.errors import InvalidClientRegistration

ASSERTION_ALGORITHMS = ("RS384", "ES384", "RS256", "ES256")
"""Algorithms accepted for client assertions, SMART's required pair first. Never none or HS*."""

_ALGORITHM_KEYS = {
    "RS256": ("RSA", None),
    "RS384": ("RSA", None),
    "ES256": ("EC", "P-256"),
    "ES384": ("EC", "P-384"),
}
_PUBLIC_MEMBERS = {"RSA": ("n", "e"), "EC": ("crv", "x", "y")}
# Members that only private (RSA, EC) or symmetric (oct) keys carry.
_SECRET_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})
_CURVES = frozenset({"P-256", "P-384"})
MIN_RSA_BITS = 2048
MAX_RSA_BITS = 8192  # bounds the cost of a verification an unauthenticated caller can trigger
MAX_KEYS = 10
MAX_KID_LENGTH = 200


def validate_client_jwks(jwks: object) -> dict[str, list[dict[str, str]]]:
    """The client's public key set, reduced to the members Carnet uses.

    Raises InvalidClientRegistration saying what is wrong with the set.
    """
    if not isinstance(jwks, dict) or not isinstance(jwks.get("keys"), list) or not jwks["keys"]:
        raise InvalidClientRegistration("The JWKS must be an object with a non-empty 'keys' array.")
    members: list[Any] = jwks["keys"]
    if len(members) > MAX_KEYS:
        raise InvalidClientRegistration(f"The JWKS may hold at most {MAX_KEYS} keys.")
    keys: list[dict[str, str]] = []
    for position, member in enumerate(members, start=1):
        key = _public_key(member, position)
        if any(existing["kid"] == key["kid"] for existing in keys):
            raise InvalidClientRegistration(f"Key {position}: its 'kid' is used twice in the set.")
        keys.append(key)
    return {"keys": keys}


def _public_key(member: object, position: int) -> dict[str, str]:
    def refuse(reason: str) -> InvalidClientRegistration:
        return InvalidClientRegistration(f"Key {position}: {reason}")

    if not isinstance(member, dict):
        raise refuse("not a JSON Web Key object.")
    if _SECRET_MEMBERS & member.keys():
        raise refuse(
            "it contains private or symmetric key material; register the public key only "
            "(and treat the private key as compromised if it was shared)."
        )
    kty = member.get("kty")
    if kty not in _PUBLIC_MEMBERS:
        raise refuse("only RSA and EC public keys are accepted.")
    kid = member.get("kid")
    if not isinstance(kid, str) or not kid.strip() or len(kid) > MAX_KID_LENGTH:
        raise refuse(f"a 'kid' (1 to {MAX_KID_LENGTH} characters) is required.")
    public = {name: member.get(name) for name in _PUBLIC_MEMBERS[kty]}
    problem = _key_problem(kty, public)
    if problem is not None:
        raise refuse(problem)
    return {"kty": kty, "kid": kid, **public, **_use_and_alg(member, kty, refuse)}


def _key_problem(kty: str, public: dict[str, Any]) -> str | None:
    """Why the public members do not make an acceptable key, or None."""
    if not all(isinstance(value, str) and value for value in public.values()):
        return f"an {kty} key needs {', '.join(_PUBLIC_MEMBERS[kty])}."
    if kty == "EC" and public["crv"] not in _CURVES:
        return "only the P-256 and P-384 curves are accepted."
    if kty == "RSA" and not MIN_RSA_BITS <= _modulus_bits(public["n"]) <= MAX_RSA_BITS:
        return f"RSA keys must have {MIN_RSA_BITS} to {MAX_RSA_BITS} bits."
    try:
        jwk.import_key({"kty": kty, **public})
    except (JoseError, ValueError, TypeError):
        return f"not a valid {kty} public key."
    return None


def _use_and_alg(
    member: dict[str, Any], kty: str, refuse: Callable[[str], InvalidClientRegistration]
) -> dict[str, str]:
    extra: dict[str, str] = {}
    use = member.get("use")
    if use is not None:
        if use != "sig":
            raise refuse("'use' must be 'sig' (the key signs client assertions).")
        extra["use"] = use
    alg = member.get("alg")
    if alg is not None:
        if alg not in _ALGORITHM_KEYS or _ALGORITHM_KEYS[alg][0] != kty:
            raise refuse(f"'alg' must be one of {', '.join(ASSERTION_ALGORITHMS)}, for its kty.")
        curve = _ALGORITHM_KEYS[alg][1]
        if curve is not None and member.get("crv") != curve:
            raise refuse(f"'alg' {alg} needs the {curve} curve.")
        extra["alg"] = alg
    return extra


def _modulus_bits(n: str) -> int:
    try:
        raw = base64.urlsafe_b64decode(n + "=" * (-len(n) % 4))
    except (binascii.Error, ValueError):
        return 0
    return int.from_bytes(raw, "big").bit_length()


def assertion_key(jwks_json: str, *, kid: str, alg: str) -> jwk.Key | None:
    """The registered public key named ``kid``, if it can verify an ``alg`` signature.

    The key type (and curve) must match the algorithm, and a key registered with an ``alg``
    serves that algorithm only, so a signature can never be checked with an unexpected pairing.
    """
    if alg not in _ALGORITHM_KEYS:
        return None
    kty, curve = _ALGORITHM_KEYS[alg]
    for member in orjson.loads(jwks_json)["keys"]:
        if member["kid"] != kid:
            continue
        if member["kty"] != kty or (curve is not None and member.get("crv") != curve):
            return None
        if member.get("alg", alg) != alg:
            return None
        return jwk.import_key(member)
    return None
