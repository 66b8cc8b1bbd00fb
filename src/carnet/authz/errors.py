"""Errors of the authorization server, extending the ``core.errors`` tree."""

from __future__ import annotations

from carnet.core.errors import ConfigurationError, InvalidInput, Unauthenticated


class InvalidClientRegistration(InvalidInput):
    """A client cannot be registered as described (scopes, name or keys)."""


class InvalidAccessToken(Unauthenticated):
    """A bearer token was refused. The message never says which check failed."""

    def __init__(self) -> None:
        super().__init__("The access token is invalid or has expired.")


class SigningKeyError(ConfigurationError):
    """The token signing key file is missing, unreadable, unsafe or not allowed here."""
