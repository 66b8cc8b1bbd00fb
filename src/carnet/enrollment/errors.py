"""Errors of the enrollment area.

core.errors.InvalidInput
 ├── RegistryFileError      the file is not a registry file (empty, header, encoding)
 └── FamilyRefused          a family or caregiver request refused (a reason code)
core.errors.Conflict
 └── RegistryImportRunning  another registry import is in progress
Opposition (``opposition``, ``space_requests``): InvalidNir, IdentityMismatch and
ActivationCodeRefused (InvalidInput), TooManyTries (TooManyRequests), OppositionWindowClosed and
NotOpposed (Conflict).
Activation (``activation``): ActivationRefused (InvalidInput), ActivationLocked
(TooManyRequests), ActivationExpired (Gone), ActivationOutOfStep (Conflict), WrongContactCode
(InvalidInput).
Closure (``closure``, ``reopening``, ``retention``): SpaceStateConflict (Conflict: closing twice,
lifting a suspension that is not one…), SpaceNotFound (NotFound), SpaceErased (Gone: the data
are destroyed), ReopenNotAllowed (Forbidden: closed on a death or for fraud).
"""

from __future__ import annotations

from datetime import datetime

from carnet.core.errors import (
    Conflict,
    Forbidden,
    Gone,
    InvalidInput,
    NotFound,
    TooManyRequests,
)


class RegistryFileError(InvalidInput):
    """The whole file is refused (problems of single lines are reported, not raised)."""


class RegistryImportRunning(Conflict):
    def __init__(self) -> None:
        super().__init__(
            "another registry import is running (its last batch is recent); wait for it, or "
            "retry in a few minutes if it was killed"
        )


# --- opposition and asking for a space (``opposition``) -----------------------------------------
# Raised after the refusal is counted (throttle) and audited: the entry point commits on a
# ClientError, so both survive, and nothing else was written.


class IdentityMismatch(InvalidInput):
    """The NIR, the Carte Vitale serial number and the birth date do not name one person on
    file (which of them is wrong is not said)."""

    def __init__(self) -> None:
        super().__init__("the NIR, Vitale serial number and birth date do not match our records")


class ActivationCodeRefused(InvalidInput):
    """The activation code is wrong (``reason="wrong"``), used or replaced (``"used"``) or
    expired (``"expired"``)."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"activation code refused: {reason}")
        self.reason = reason


class TooManyTries(TooManyRequests):
    """Too many refused tries for this NIR or from this address: locked until ``until``."""

    def __init__(self, until: datetime) -> None:
        super().__init__("too many tries; wait, or call the service")
        self.until = until


class OppositionWindowClosed(Conflict):
    """The opposition window has ended, or the space is already open: the person can close
    it instead (``/compte/fermeture``)."""

    def __init__(self) -> None:
        super().__init__("the opposition window is over: the space can be closed instead")


class NotOpposed(Conflict):
    """A space is asked for by someone who did not oppose (it is open, or will open)."""

    def __init__(self, status: str) -> None:
        super().__init__("no opposition on file: nothing to withdraw")
        self.status = status


class FamilyRefused(InvalidInput):
    """A family or caregiver request is refused; ``reason`` is a stable code the portal maps to
    a message (never a value the person typed)."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"refused: {reason}")
        self.reason = reason


# --- operators' console (``console``) -----------------------------------------------------------


class InvalidNir(InvalidInput):
    """What the operator typed is not a NIR (or NIA): wrong shape, or a key that does not match
    the number. Never carries the value."""

    def __init__(self, rule: str) -> None:
        super().__init__(f"not a valid NIR: {rule}")
        self.rule = rule
        """``format`` or ``key``."""


class UnknownChild(InvalidInput):
    """The child a holder named online is not one of their minor children: their NIR is not a
    NIR (``rule`` ``format`` or ``key``) or names no child attached to them (``unknown``)."""

    def __init__(self, rule: str) -> None:
        super().__init__(f"no minor child of yours has this NIR: {rule}")
        self.rule = rule


class CodeNotResent(Conflict):
    """No new activation code can be sent to this person from the console; ``reason`` is a
    stable code the console maps to a message: ``not-informed`` (no notice yet: the campaign
    will carry one), ``dependant`` (codes go to the holder), ``status`` (the space is not
    waiting for activation), ``no-contact`` (no usable e-mail and no letter can be put back in
    line)."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"no code sent: {reason}")
        self.reason = reason


# --- opening a space (``opening``) ---------------------------------------------------------------


class SpaceNotOpenable(Conflict):
    """A space cannot be opened for this person: ``reason`` is ``deceased``, ``opposed`` (the
    person refused it; only their own request opens it), ``suspended``, ``closed`` or
    ``erased`` (other steps handle those), ``unknown`` (nobody on file) or ``not-notified``
    (the automatic opening only follows a notice whose window ended)."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"the space cannot be opened: {reason}")
        self.reason = reason


class NoSpace(NotFound):
    """The person has no space (its choices cannot be set)."""

    def __init__(self) -> None:
        super().__init__("this person has no space")


# --- activation ---------------------------------------------------------------------------------


class ActivationRefused(InvalidInput):
    """Step 1 refused; ``reason``: ``mismatch`` (the four details do not designate a live
    code: said the same whatever was wrong), ``code-expired``, ``code-used``, ``opposed``,
    ``dependant``, ``active``, ``ended`` (deceased, suspended, closed, erased)."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(f"activation refused: {reason}")


class ActivationLocked(TooManyRequests):
    """Too many failed attempts on this NIR or from this address; ``minutes`` to wait."""

    def __init__(self, minutes: int) -> None:
        self.minutes = minutes
        super().__init__("too many activation attempts: try again later")


class ActivationExpired(Gone):
    """No activation in progress for this browser (unknown, expired or finished ticket)."""

    def __init__(self) -> None:
        super().__init__("this activation has expired: start again")


class ActivationOutOfStep(Conflict):
    """The request belongs to another step than the one reached (``step``)."""

    def __init__(self, step: str) -> None:
        self.step = step
        super().__init__(f"this activation is at the step {step}")


class WrongContactCode(InvalidInput):
    """The contact's one-time code is wrong or expired; ``burnt``: a new one is needed."""

    def __init__(self, *, burnt: bool) -> None:
        self.burnt = burnt
        super().__init__("wrong or expired code")


# --- closure and retention (``closure``, ``reopening``, ``retention``) --------------------------


class SpaceStateConflict(Conflict):
    """``state`` names where the space stands (``closed``, ``suspended``, ``active``…), so the
    portal can say what to do."""

    def __init__(self, state: str, message: str) -> None:
        self.state = state
        super().__init__(message)


class SpaceNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("no space matches")


class SpaceErased(Gone):
    def __init__(self) -> None:
        super().__init__(
            "the data of this space were destroyed and cannot come back; a new, empty space can "
            "be asked for"
        )


class ReopenNotAllowed(Forbidden):
    def __init__(self) -> None:
        super().__init__("this space can only be reopened by contacting support")


class InvalidContact(InvalidInput):
    """The contact to verify is not an e-mail address (``kind="email"``), not a French mobile
    number (``"mobile"``), or SMS cannot be sent here (``"sms"``)."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        super().__init__(f"not a usable contact: {kind}")
