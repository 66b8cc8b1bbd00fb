"""Logins and passwords: the real system's rules, and argon2id hashes.

Rules (Mon espace santé's activation): a login of at least 8 characters, without accents, whose
only special characters are ``.``, ``-`` and ``_``; a password of at least 9 characters with a
lower-case letter, an upper-case letter, a digit and a special character, and none of the
person's own names or birth date in it.

Hashing costs about 0.2 s of one core by design (DESIGN.md §1b): callers on the event loop run
``PasswordHasher.hash``/``verify`` in the threadpool, and sign-in is rate-limited (``throttle``).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from datetime import date

import argon2
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from carnet.identity.accounts.config import Argon2Parameters
from carnet.identity.accounts.errors import InvalidLogin, WeakPassword

LOGIN_MIN = 8
LOGIN_MAX = 64
PASSWORD_MIN = 9
PASSWORD_MAX = 128  # argon2 takes any length; a bound keeps a megabyte "password" out
_LOGIN = re.compile(r"[A-Za-z0-9._-]+")
_SHORTEST_PERSONAL_WORD = 3  # "Li", "Bo": shorter parts would refuse half the passwords


def normalise_login(login: str) -> str:
    """Logins are compared without case (the blind index is of this form)."""
    return login.strip().lower()


def check_login(login: str) -> str:
    """The login in its stored form, or ``InvalidLogin`` naming the broken rule."""
    value = normalise_login(login)
    if len(value) < LOGIN_MIN:
        raise InvalidLogin("length")
    if len(value) > LOGIN_MAX or _LOGIN.fullmatch(value) is None:
        raise InvalidLogin("characters")
    return value


def _fold(text: str) -> str:
    """Lower case, accents removed: « Éloïse » and « eloise » are the same word."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def personal_words(names: Iterable[str], birth_date: date | None) -> list[str]:
    """What a password may not contain: each name part, and the birth date's usual forms."""
    words: list[str] = []
    for name in names:
        words.extend(w for w in re.split(r"[\s'’-]+", _fold(name)) if len(w) >= 3)
    if birth_date is not None:
        d, m, y = f"{birth_date.day:02d}", f"{birth_date.month:02d}", f"{birth_date.year:04d}"
        words.extend([d + m + y, y + m + d, d + m + y[2:], y])
    return words


def check_password(password: str, *, personal: Iterable[str] = ()) -> None:
    """Raise ``WeakPassword`` naming the first rule ``password`` breaks."""
    if len(password) < PASSWORD_MIN:
        raise WeakPassword("length")
    if len(password) > PASSWORD_MAX:
        raise WeakPassword("too-long")
    if not any(c.islower() for c in password):
        raise WeakPassword("lower")
    if not any(c.isupper() for c in password):
        raise WeakPassword("upper")
    if not any(c.isdigit() for c in password):
        raise WeakPassword("digit")
    if all(c.isalnum() for c in password):
        raise WeakPassword("special")
    folded = re.sub(r"[^a-z0-9]", "", _fold(password))
    for word in personal:
        compact = re.sub(r"[^a-z0-9]", "", word)
        if len(compact) >= _SHORTEST_PERSONAL_WORD and compact in folded:
            raise WeakPassword("personal")


class PasswordHasher:
    """argon2id with configured costs; blocking (run it in the threadpool)."""

    def __init__(self, parameters: Argon2Parameters) -> None:
        self.parameters = parameters
        self._hasher = argon2.PasswordHasher(
            time_cost=parameters.time_cost,
            memory_cost=parameters.memory_kib,
            parallelism=parameters.parallelism,
            type=argon2.Type.ID,
        )
        # Verified when the login is unknown, so that the answer takes as long as for a known
        # login with a wrong password (no enumeration by timing).
        self._dummy = self._hasher.hash("carnet-dummy-password-1A!")

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, stored: str | None, password: str) -> bool:
        """Whether ``password`` matches ``stored``; an absent hash costs a dummy verification."""
        try:
            return self._hasher.verify(stored or self._dummy, password) and stored is not None
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, stored: str) -> bool:
        return self._hasher.check_needs_rehash(stored)
