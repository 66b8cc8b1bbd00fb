"""The steps of an activation after the identity proof (``activation`` starts it and keeps the
ticket): the contact and its one-time code, the login and password, the terms of use, the first
choices; the last step does everything at once, or nothing.

- **Contact.** The e-mail (prefilled from the registry, editable) or a French mobile gets six
  random digits, stored as a keyed hash bound to the ticket; ``_OTP_MINUTES`` to type them,
  ``_OTP_ATTEMPTS`` wrong tries before they are burnt, ``_OTP_SENDS`` codes per ticket (no
  message bombing through a stolen ticket). The verified contact becomes the account's.
- **Credentials.** Checked and hashed with the identity area's rules (``Accounts.hash_password``
  against the person's names and birth date); argon2 runs between two transactions. The hash
  waits in the ticket, sealed with the person's data key: no account exists before the end.
- **The end** (``finish``), in one savepoint: the code proven at step 1 is burnt (still live, or
  the activation stops), the space is opened if the opposition window still runs (a young
  adult's space a parent activated is already ``active``: the account joins it), the account
  created (``LoginTaken`` sends the person back to the credentials, nothing kept), the first
  choices and the terms recorded, the status ``active``, the welcome e-mail queued, and a
  session opened.
"""

from __future__ import annotations

import hmac
import re
import secrets
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import Connection, func, select, update

from carnet.audit.service import EventTag, Outcome
from carnet.enrollment import models, opening, spaces
from carnet.enrollment.activation_tickets import Loaded, audit, load, person_actor, save
from carnet.enrollment.campaigns import Wiring
from carnet.enrollment.code_requests import e164
from carnet.enrollment.errors import ActivationRefused, InvalidContact, WrongContactCode
from carnet.enrollment.schemas import ActivationStep, BeneficiaryStatus, CodeChannel, FirstChoices
from carnet.identity.accounts.errors import InvalidLogin, LoginTaken
from carnet.identity.accounts.schemas import IssuedSession
from carnet.notify import service as notify_service

Transaction = Callable[[], AbstractContextManager[Connection]]
OTP_DOMAIN: Final = "enrollment-activation-otp"
CONTACT_TEMPLATE: Final = "activation_contact"
WELCOME_TEMPLATE: Final = "space_activated"
_OTP_MINUTES: Final = 10
_OTP_ATTEMPTS: Final = 5
_OTP_SENDS: Final = 5
_EMAIL: Final = re.compile(r"[^@\s]{1,64}@[A-Za-z0-9.-]{1,190}\.[A-Za-z]{2,24}")
_MOBILE: Final = re.compile(r"0[67]\d{8}")
_LOGIN: Final = re.compile(r"[a-z0-9._-]{8,64}")
_S = ActivationStep
_a = models.activation
_b = models.beneficiary
_space = models.space
_code = models.activation_code


@dataclass(frozen=True, slots=True)
class Activated:
    """A finished activation: the space's id, the new account and its first session."""

    beneficiary_id: str
    account_id: str
    session: IssuedSession


def _otp_mac(wiring: Wiring, ticket_id: str, code: str) -> str:
    return wiring.storage.blind_index(OTP_DOMAIN, f"{ticket_id}|{code}")


def normalise_contact(channel: CodeChannel, value: str) -> str:
    """The contact as stored and used: an e-mail with its domain in lower case, or a mobile in
    E.164 form; ``InvalidContact`` otherwise."""
    value = value.strip()
    if channel is CodeChannel.EMAIL:
        if len(value) > 254 or _EMAIL.fullmatch(value) is None:
            raise InvalidContact("email")
        local, _, domain = value.rpartition("@")
        return f"{local}@{domain.lower()}"
    digits = re.sub(r"[\s.-]", "", value)
    if digits.startswith("+33"):
        digits = "0" + digits[3:]
    if _MOBILE.fullmatch(digits) is None:
        raise InvalidContact("mobile")
    return e164(digits)


def _mask(channel: CodeChannel, contact: str) -> str:
    if channel is CodeChannel.EMAIL:
        local, _, domain = contact.partition("@")
        return f"{local[:1]}…@{domain}"
    return f"{contact[:3]}…{contact[-2:]}"


def send_contact_code(
    db: Connection, wiring: Wiring, *, token: str, channel: CodeChannel, contact: str
) -> str:
    """Send a one-time code to ``contact`` (already normalised); the ticket waits for it. A new
    code replaces the previous one. Returns the masked contact. ``WrongContactCode(burnt=True)``
    once the ticket sent its allowance of codes."""
    loaded = load(db, wiring, token, steps=(_S.CONTACT, _S.VERIFY))
    row = loaded.row
    if row.otp_sent >= _OTP_SENDS:
        raise WrongContactCode(burnt=True)
    now = wiring.storage.clock.now()
    code = f"{secrets.randbelow(10**6):06d}"
    context = {"code": code, "expires_minutes": _OTP_MINUTES}
    if channel is CodeChannel.EMAIL:
        notify_service.queue_email(
            db, wiring.jobs, to=contact, template=CONTACT_TEMPLATE, context=context
        )
    else:
        notify_service.queue_sms(
            db, wiring.jobs, to=contact, template=CONTACT_TEMPLATE, context=context
        )
    masked = _mask(channel, contact)
    save(
        db, wiring, loaded,
        carried={**loaded.carried, "contact": contact, "masked": masked},
        step=_S.VERIFY.value, channel=channel.value, otp_mac=_otp_mac(wiring, row.id, code),
        otp_attempts=0, otp_sent=row.otp_sent + 1,
        otp_expires_at=now + timedelta(minutes=_OTP_MINUTES),
    )  # fmt: skip
    return masked


def verify_contact(db: Connection, wiring: Wiring, *, token: str, code: str) -> None:
    """Check the contact's one-time code; the ticket moves to the credentials. Raises
    ``WrongContactCode`` (``burnt``: after ``_OTP_ATTEMPTS`` wrong tries or its expiry, a new
    code is needed); each outcome is audited."""
    loaded = load(db, wiring, token, steps=(_S.VERIFY,))
    row = loaded.row
    now = wiring.storage.clock.now()
    entered = "".join(code.split())
    live = row.otp_mac is not None and row.otp_expires_at > now
    if live and hmac.compare_digest(_otp_mac(wiring, row.id, entered), row.otp_mac):
        save(db, wiring, loaded, step=_S.ACCOUNT.value, otp_mac=None, otp_expires_at=None)
        audit(
            db, wiring, EventTag.ENROLLMENT_ACTIVATION_CONTACT, Outcome.SUCCESS,
            row.beneficiary_id, channel=str(row.channel),
        )  # fmt: skip
        return
    attempts = row.otp_attempts + 1
    burnt = not live or attempts >= _OTP_ATTEMPTS
    save(db, wiring, loaded, otp_attempts=attempts, otp_mac=None if burnt else row.otp_mac)
    audit(
        db, wiring, EventTag.ENROLLMENT_ACTIVATION_CONTACT, Outcome.REFUSED, row.beneficiary_id,
        reason="burnt" if burnt else "wrong",
    )  # fmt: skip
    raise WrongContactCode(burnt=burnt)


def choose_credentials(
    transaction: Transaction, wiring: Wiring, *, token: str, login: str, password: str
) -> None:
    """Check the login (rules, free) and the password (``WeakPassword`` with its rule), hash it
    outside any transaction, and keep both in the ticket. Raises ``InvalidLogin``,
    ``LoginTaken``, ``WeakPassword``."""
    wanted = login.strip().lower()
    if len(wanted) < 8:
        raise InvalidLogin("length")
    if _LOGIN.fullmatch(wanted) is None:
        raise InvalidLogin("characters")
    with transaction() as db:
        entry = load(db, wiring, token, steps=(_S.ACCOUNT,)).entry
        if wiring.accounts.find_account(db, login=wanted) is not None:
            raise LoginTaken
    names = (entry.birth_family_name, entry.used_family_name, entry.given_names)
    hashed, words = wiring.accounts.hash_password(
        password[:200], names=tuple(n for n in names if n), birth_date=entry.birth_date
    )
    with transaction() as db:
        loaded = load(db, wiring, token, steps=(_S.ACCOUNT,))
        carried = {**loaded.carried, "login": wanted, "hash": hashed, "words": words}
        save(db, wiring, loaded, carried=carried, step=_S.TERMS.value)


def accept_terms(db: Connection, wiring: Wiring, *, token: str) -> None:
    """Record that the person accepted the current terms of use (version and moment)."""
    loaded = load(db, wiring, token, steps=(_S.TERMS,))
    save(
        db, wiring, loaded, step=_S.CHOICES.value,
        terms_version=wiring.settings.terms_version,
        terms_accepted_at=wiring.storage.clock.now(),
    )  # fmt: skip


def finish(
    db: Connection,
    wiring: Wiring,
    *,
    token: str,
    choices: FirstChoices,
    client_address: str | None,
    user_agent: str | None,
    device_token: str | None = None,
) -> Activated:
    """Make the space the person's (see the module docstring), all or nothing. Raises
    ``LoginTaken`` (the ticket goes back to the credentials), ``ActivationRefused``
    (``code-used``: the code was replaced or used meanwhile; the status changed)."""
    loaded = load(db, wiring, token, steps=(_S.CHOICES,))
    try:
        with db.begin_nested():
            return _finish(
                db, wiring, loaded, choices,
                client_address=client_address, user_agent=user_agent, device_token=device_token,
            )  # fmt: skip
    except LoginTaken:
        carried = {k: v for k, v in loaded.carried.items() if k not in {"login", "hash"}}
        save(db, wiring, loaded, carried=carried, step=_S.ACCOUNT.value)
        raise
    except ActivationRefused as refused:
        save(db, wiring, loaded, finished_at=wiring.storage.clock.now(), sealed=None)
        audit(
            db, wiring, EventTag.ENROLLMENT_ACTIVATION_COMPLETE, Outcome.REFUSED,
            loaded.row.beneficiary_id, reason=refused.reason,
        )  # fmt: skip
        raise


def _finish(
    db: Connection,
    wiring: Wiring,
    loaded: Loaded,
    choices: FirstChoices,
    *,
    client_address: str | None,
    user_agent: str | None,
    device_token: str | None,
) -> Activated:
    row = loaded.row
    bid = row.beneficiary_id
    now = wiring.storage.clock.now()
    actor = person_actor(bid)
    _burn_code(db, row.code_id, now)
    status = db.execute(select(_b.c.status).where(_b.c.id == bid).with_for_update()).scalar_one()
    if status == BeneficiaryStatus.ACTIVE.value:
        _require_accountless(db, bid)
    elif status not in {s.value for s in _OPENABLE} | {BeneficiaryStatus.OPEN.value}:
        raise ActivationRefused("ended")
    elif status != BeneficiaryStatus.OPEN.value:
        opening.open_space(
            db, wiring, actor=actor, beneficiary_id=bid, opened_by="activation", now=now
        )
    account_id = _account(db, wiring, loaded)
    spaces.choose(
        db, wiring.audit, actor=actor, patient_id=bid,
        default_confidentiality=choices.default_confidentiality,
        samu_access=choices.samu_access, break_glass_access=choices.break_glass_access,
        emergency_masked_access=choices.emergency_masked_access, now=now,
    )  # fmt: skip
    _make_active(db, wiring, loaded, account_id=account_id, now=now)
    session = wiring.accounts.open_session(
        db, account_id=account_id, method=_METHODS[row.method], acr=None,
        client_address=client_address, user_agent=user_agent, now=now,
        device_token=device_token,
    )  # fmt: skip
    return Activated(beneficiary_id=bid, account_id=account_id, session=session)


def _require_accountless(db: Connection, bid: str) -> None:
    """An ``active`` space reaches the end only as a young adult's, activated by a parent
    (step 1 checked it): it must still have no account of its own, or someone was first."""
    account_id = db.execute(
        select(_space.c.account_id).where(_space.c.patient_id == bid).with_for_update()
    ).scalar_one_or_none()
    if account_id is not None:
        raise ActivationRefused("active")


def _make_active(
    db: Connection, wiring: Wiring, loaded: Loaded, *, account_id: str, now: datetime
) -> None:
    """Record the activation on the space and the status, end the person's tickets, welcome
    them by e-mail and audit it."""
    row = loaded.row
    bid = row.beneficiary_id
    db.execute(
        update(_space)
        .where(_space.c.patient_id == bid)
        .values(
            # A space a parent activated keeps its first activation day.
            activated_at=func.coalesce(_space.c.activated_at, now),
            account_id=account_id,
            terms_version=row.terms_version,
            terms_accepted_at=row.terms_accepted_at,
            updated_at=now,
        )
    )
    active = BeneficiaryStatus.ACTIVE.value
    db.execute(update(_b).where(_b.c.id == bid).values(status=active, status_at=now))
    save(db, wiring, loaded, step=_S.DONE.value)
    # This activation and any other of the same person (another browser, an abandoned tab).
    db.execute(
        update(_a)
        .where(_a.c.beneficiary_id == bid, _a.c.finished_at.is_(None))
        .values(finished_at=now, sealed=None, otp_mac=None)
    )
    email = loaded.carried.get("contact") if row.channel == CodeChannel.EMAIL.value else None
    email = email or loaded.entry.email
    if email:
        link = wiring.public_base_url + "/connexion"
        notify_service.queue_email(
            db, wiring.jobs, to=email, template=WELCOME_TEMPLATE, context={"link": link}
        )
    audit(
        db, wiring, EventTag.ENROLLMENT_ACTIVATION_COMPLETE, Outcome.SUCCESS, bid,
        method=str(row.method), terms=str(row.terms_version),
    )  # fmt: skip


_METHODS: Final = {"code": "password", "franceconnect": "franceconnect"}
_OPENABLE: Final = (
    BeneficiaryStatus.REGISTERED,
    BeneficiaryStatus.NOTIFIED,
    BeneficiaryStatus.LETTER_DUE,
)


def _burn_code(db: Connection, code_id: str | None, now: datetime) -> None:
    """Use up the code proven at step 1 (code activations only): it must still be live."""
    if code_id is None:
        return
    code = db.execute(select(_code).where(_code.c.id == code_id).with_for_update()).one()
    if code.used_at is not None or code.expires_at <= now:
        raise ActivationRefused("code-used")
    db.execute(update(_code).where(_code.c.id == code_id).values(used_at=now))


def _account(db: Connection, wiring: Wiring, loaded: Loaded) -> str:
    """The person's new account: with the chosen login and password and the verified contact,
    or bound to FranceConnect (passwordless)."""
    row, carried = loaded.row, loaded.carried
    accounts = wiring.accounts
    existing = accounts.account_for_person(
        db, person_kind="patient", person_id=row.beneficiary_id, create=False
    )
    if row.method == "franceconnect":
        if existing is not None:
            return existing
        created = accounts.account_for_person(
            db, person_kind="patient", person_id=row.beneficiary_id, create=True
        )
        assert created is not None
        return created
    if existing is not None:
        raise ActivationRefused("active")
    sms = row.channel == CodeChannel.SMS.value
    return accounts.create_account(
        db,
        actor=person_actor(row.beneficiary_id),
        kind="patient",
        person_id=row.beneficiary_id,
        login=carried["login"],
        password=(carried["hash"], list(carried["words"])),
        email=None if sms else carried["contact"],
        phone=carried["contact"] if sms else None,
        second_factor="sms" if sms else "email",
    )
