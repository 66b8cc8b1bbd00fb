"""Errors of accounts and sign-in.

core.errors.Unauthenticated
 └── SignInRefused          wrong login, password or code, or a code that is used, expired or
                            unknown: one error (and one message) for all, so nobody learns
                            which logins exist
core.errors.TooManyRequests
 └── LockedOut              too many failures: the login, account or address waits
core.errors.InvalidInput
 ├── WeakPassword           the new password breaks a rule; ``rule`` says which
 └── InvalidPhone           not a French mobile number
core.errors.Conflict
 └── LoginTaken             the chosen login belongs to someone else
core.errors.Forbidden
 ├── NotAllowed             the account may not do this (a role, a dev-only account in prod)
 └── FreshSignInRequired    an account without a password must sign in again first (closing)
"""

from __future__ import annotations

from carnet.core.errors import Conflict, Forbidden, InvalidInput, TooManyRequests, Unauthenticated


class SignInRefused(Unauthenticated):
    def __init__(self) -> None:
        super().__init__("sign-in refused")


class LockedOut(TooManyRequests):
    def __init__(self) -> None:
        super().__init__("too many attempts: try again later")


class WeakPassword(InvalidInput):
    def __init__(self, rule: str) -> None:
        self.rule = rule
        super().__init__(f"password rule not met: {rule}")


class InvalidPhone(InvalidInput):
    def __init__(self) -> None:
        super().__init__("not a French mobile number")


class InvalidLogin(InvalidInput):
    def __init__(self, rule: str) -> None:
        self.rule = rule
        super().__init__(f"login rule not met: {rule}")


class LoginTaken(Conflict):
    def __init__(self) -> None:
        super().__init__("this login is taken")


class NotAllowed(Forbidden):
    def __init__(self, what: str) -> None:
        super().__init__(f"not allowed: {what}")


class FreshSignInRequired(Forbidden):
    """An account that signs in through an identity provider confirms a grave step (closing
    its space) by signing in again: its session is older than the confirmation window."""

    def __init__(self) -> None:
        super().__init__("sign in again to confirm")
