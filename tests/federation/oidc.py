"""A real OpenID Provider on loopback for the federated sign-in tests, and a person using it.

``start_provider`` runs ``provider/provider.mjs`` (the npm package ``oidc-provider``, configured
by our script) as a Node process on a free port; ``ProviderBrowser`` is the person's browser at
the provider: it follows the authorization request, fills the sign-in form with a test
account, and hands back the return address meant for Carnet. Without node or the package the
tests skip, saying why, except in CI (``CI=true``) where that is a failure.
"""

from __future__ import annotations

import json
import os
import selectors
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import httpx2
import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = Path(__file__).parent / "provider" / "provider.mjs"
PACKAGE = ROOT / "node_modules" / "oidc-provider"
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
CLIENT_SECRET = "carnet-test-client-secret-0123456789abcdef"


def require_provider() -> str:
    node = shutil.which("node")
    missing = [] if node else ["node (Node.js 20 or newer)"]
    if not PACKAGE.is_dir():
        missing.append("node_modules/oidc-provider (make install)")
    if missing:
        message = f"federated sign-in tests need {', '.join(missing)}"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    assert node is not None
    return node


def client(
    name: str,
    base: str,
    *,
    callback: str,
    home: str,
    alg: str,
    public_key: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A relying-party registration for Carnet at ``base``: with a shared secret, or, given
    the public half of Carnet's key (a JWK), with ``private_key_jwt`` and no secret at all."""
    registration: dict[str, Any] = {
        "client_id": f"carnet-{name}",
        "redirect_uris": [base + callback],
        "post_logout_redirect_uris": [base + home],
        "id_token_signed_response_alg": alg,
    }
    if public_key is None:
        registration["client_secret"] = CLIENT_SECRET
        registration["token_endpoint_auth_method"] = "client_secret_post"
    else:
        registration["jwks"] = {"keys": [public_key]}
        registration["token_endpoint_auth_method"] = "private_key_jwt"
    if name == "psc":
        # Pro Santé Connect answers userinfo as a signed JWT.
        registration["userinfo_signed_response_alg"] = "RS256"
    return registration


@dataclass
class Provider:
    base: str
    process: subprocess.Popen[str]

    def issuer(self, name: str) -> str:
        return f"{self.base}/{name}"


@contextmanager
def start_provider(config: dict[str, Any], log: Path) -> Iterator[Provider]:
    """The provider process, ready, for the duration of the block."""
    node = require_provider()
    with log.open("w") as errors:
        process = subprocess.Popen(
            [node, str(SCRIPT)],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=errors,
            text=True,
        )
        try:
            assert process.stdin is not None and process.stdout is not None
            process.stdin.write(json.dumps(config))
            process.stdin.close()
            with selectors.DefaultSelector() as selector:
                selector.register(process.stdout, selectors.EVENT_READ)
                if not selector.select(timeout=20):
                    pytest.fail(f"the OpenID Provider did not start: {log.read_text()}")
            line = process.stdout.readline()
            if not line.startswith("READY "):
                pytest.fail(f"the OpenID Provider did not start: {log.read_text()}")
            yield Provider(f"http://127.0.0.1:{int(line.split()[1])}", process)
        finally:
            process.terminate()
            process.wait(10)
            if process.stdout is not None:
                process.stdout.close()


class ProviderBrowser:
    """The person's browser at the provider (its cookies), stopping at the return to Carnet."""

    def __init__(self, provider: Provider) -> None:
        self.provider = provider
        self.http = httpx2.Client(timeout=10)

    def close(self) -> None:
        self.http.close()

    def sign_in(self, authorization_url: str, account: str) -> str:
        """Follow the authorization request, sign in as ``account``; the return address.
        Each sign-in starts without the provider's session (FranceConnect+ keeps none)."""
        self.http.cookies.clear()
        response = self.http.get(authorization_url)
        login_url = self._follow(response)
        form = self.http.get(login_url)
        assert form.status_code == 200, form.text
        return self._follow(self.http.post(login_url + "/login", data={"account": account}))

    def _follow(self, response: httpx2.Response) -> str:
        """Follow redirects inside the provider; the first page it shows, or the first address
        outside it (the return to Carnet)."""
        for _ in range(10):
            if response.status_code not in (302, 303):
                return str(response.url)
            target = urljoin(str(response.url), response.headers["location"])
            if not target.startswith(self.provider.base):
                return target
            response = self.http.get(target)
        raise AssertionError("too many redirects at the provider")
