"""Errors of federated sign-in: a refusal with a reason code, never an identifier.

core.errors.ClientError
 ├── FederationRefused      the sign-in cannot complete; ``reason`` says why (a code)
 └── ProviderUnavailable    the provider could not be reached or answered nonsense
"""

from __future__ import annotations

from enum import StrEnum

from carnet.core.errors import ClientError


class Reason(StrEnum):
    """Why a federated sign-in was refused: kept in the audit trail and shown as a message."""

    DISABLED = "provider-disabled"
    STATE = "state-mismatch"
    """No sign-in started in this browser, an expired one, or a state that is not its own."""
    PROVIDER_ERROR = "provider-error"
    """The provider returned an error instead of a code (the person cancelled, for one)."""
    INVALID = "token-invalid"
    """Signature, issuer, audience, azp or a missing claim."""
    EXPIRED = "token-expired"
    NONCE = "nonce-mismatch"
    ACR = "acr-too-low"
    INS = "ins-invalid"
    RPPS = "rpps-invalid"
    UNKNOWN_PERSON = "unknown-person"
    """No known person matches (or several do): the page never says which."""
    CLIENT = "client-rejected"
    """The provider refused Carnet's own client authentication at its token endpoint (a key
    it was not given, a wrong secret): a fault of configuration, not of the person."""


class FederationRefused(ClientError):
    """The sign-in is refused; nothing was created."""

    issue_code = "security"

    def __init__(self, reason: Reason) -> None:
        self.reason = reason
        super().__init__(f"federated sign-in refused: {reason.value}")


class ProviderUnavailable(ClientError):
    """The provider did not answer as an OpenID Provider should (network, status, content)."""

    issue_code = "transient"

    def __init__(self, step: str) -> None:
        self.step = step
        super().__init__(f"identity provider unavailable at {step}")
