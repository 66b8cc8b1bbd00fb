"""Activating a space (« activation »): the person proves who they are with the code of their
notice and three details of their own, verifies a contact, chooses a login and a password,
accepts the terms of use and makes the first choices; then the space is theirs.

- **A ticket carries the activation.** Step 1 creates a row in ``enrollment_activation`` and
  hands the browser a random token (an HttpOnly cookie); the row keeps only its keyed hash,
  the step reached, the proven code's row and, sealed with the person's own data key, what the
  later steps collected. A ticket lives ``activation_minutes``; an expired or abandoned one
  leaves nothing behind but itself (no account, no space change, the code still live).
- **The code is checked at step 1 and burnt at the end.** Burning it at once would leave a
  person who stops half-way (a phone call, a lost tab) with a letter that no longer works;
  keeping it live costs nothing, because the ticket records which code row was proven and the
  last step burns that very row under a lock: a code replaced, burnt or used by a concurrent
  activation since then makes the last step refuse, so one code never activates twice.
- **Throttled.** Every failed step 1 counts against the NIR and the client address
  (``throttle.Throttle``, purpose ``activate``). The way out is said plainly: wait, or ask for a
  new code.
- **Refusals say what to do.** Opposed persons are pointed to asking for a space; deceased,
  suspended, closed or erased ones cannot activate; minor dependants are activated from their
  holder's account; an active space says to sign in. A dependant of 18 or over activates like a
  holder; if a parent activated their space, it is already ``active`` with no account of its
  own, and the young adult's new account is attached to it (``activation_steps.finish``).
- Every step is audited (``ENROLLMENT_ACTIVATION_*``): successes in the person's chain,
  refusals that name nobody in the system chain.

The later steps (contact, credentials, terms, first choices) are in ``activation_steps``.
"""

from __future__ import annotations

import hmac
from datetime import date, datetime
from typing import Final, NoReturn

from sqlalchemy import Connection, select, update

from carnet.audit.service import EventTag, Outcome
from carnet.enrollment import (
    activation_federation,
    activation_steps,
    activation_tickets,
    enrollment_codes,
    majority,
    models,
)
from carnet.enrollment.activation_steps import Activated, Transaction
from carnet.enrollment.activation_tickets import audit, has_account, new_ticket, status_refusal
from carnet.enrollment.campaigns import Wiring
from carnet.enrollment.errors import ActivationLocked, ActivationRefused, InvalidContact
from carnet.enrollment.registry_apply import NIR_DOMAIN, open_entry
from carnet.enrollment.schemas import (
    ActivationStep,
    ActivationTicket,
    CodeChannel,
    FirstChoices,
)
from carnet.enrollment.throttle import Throttle
from carnet.identity.service import PatientIdentity
from carnet.storage.service import join_data_key

__all__ = ["Activated", "Activations"]

_PURPOSE: Final = "activate"
_b = models.beneficiary
_space = models.space
_a = models.activation
_code = models.activation_code
# --- step 1: the identity proof -------------------------------------------------------------


def start(
    db: Connection,
    wiring: Wiring,
    *,
    code: str,
    nir: str,
    vitale_serial: str,
    birth_date: date,
    client_address: str | None,
) -> str:
    """Check the activation code, NIR, Vitale serial and birth date together; on success a new
    ticket at the contact step, whose token (for the browser, once) is returned.

    Raises ``ActivationLocked`` (too many failures on this NIR or from this address),
    ``ActivationRefused`` (see its reasons). Failures are counted and audited before raising
    (the entry point commits on a client error)."""
    storage, settings = wiring.storage, wiring.settings
    now = storage.clock.now()
    nir_index = storage.blind_index(NIR_DOMAIN, "".join(nir.split()).upper())
    throttle = Throttle(wiring, _PURPOSE, index=nir_index, client_address=client_address)
    if throttle.locked_until(db, now) is not None:
        audit(
            db, wiring, EventTag.ENROLLMENT_ACTIVATION_START, Outcome.REFUSED, None, reason="locked"
        )
        raise ActivationLocked(settings.regeneration_lockout_minutes)
    found = _match(db, wiring, nir_index, vitale_serial, birth_date)
    if found is None:
        _refuse(db, wiring, throttle, now, beneficiary_id=None, reason="mismatch")
    beneficiary_id, status, holder_id, born = found
    refusal = status_refusal(
        status,
        holder_id,
        adult=majority.adult_on(born) <= now.date(),
        has_account=has_account(db, beneficiary_id),
    )
    if refusal is not None:
        # The three details were right: no failure to count, but nothing to activate.
        audit(
            db, wiring, EventTag.ENROLLMENT_ACTIVATION_START, Outcome.REFUSED, beneficiary_id,
            reason=refusal,
        )  # fmt: skip
        raise ActivationRefused(refusal)
    code_id = _check_code(db, wiring, beneficiary_id, code, now)
    if code_id is None or code_id in {"code-expired", "code-used"}:
        _refuse(
            db, wiring, throttle, now, beneficiary_id=beneficiary_id, reason=code_id or "mismatch"
        )
    throttle.forgive(db)
    return new_ticket(
        db, wiring, beneficiary_id=beneficiary_id, method="code", code_id=code_id,
        step=ActivationStep.CONTACT,
    )  # fmt: skip


def _refuse(
    db: Connection,
    wiring: Wiring,
    throttle: Throttle,
    now: datetime,
    *,
    beneficiary_id: str | None,
    reason: str,
) -> NoReturn:
    """Count a failure on the NIR and the address, audit it, and raise (locked when either
    just locked)."""
    locked = throttle.fail(db, now) is not None
    # A mismatch names nobody (the details may be anyone's); a wrong code for a proven
    # identity joins that person's chain, so their history shows the attempt.
    audit(
        db, wiring, EventTag.ENROLLMENT_ACTIVATION_START, Outcome.REFUSED, beneficiary_id,
        reason=reason, locked=locked,
    )  # fmt: skip
    if locked:
        raise ActivationLocked(wiring.settings.regeneration_lockout_minutes)
    raise ActivationRefused(reason)


def _match(
    db: Connection, wiring: Wiring, index: str, vitale_serial: str, birth_date: date
) -> tuple[str, str, str | None, date] | None:
    joined, key_columns = join_data_key(_b, _b.c.id)
    row = db.execute(
        select(_b.c.id, _b.c.sealed, _b.c.status, _b.c.holder_id, *key_columns)
        .select_from(joined)
        .where(_b.c.nir_index == index)
    ).first()
    if row is None:
        return None
    entry = open_entry(wiring.storage, row)
    if entry is None or not entry.vitale_serial:
        return None
    given = "".join(ch for ch in vitale_serial if ch.isdigit())
    # Both compared whatever the first says, in constant time: timing tells nothing either.
    serial_ok = hmac.compare_digest(given.encode(), entry.vitale_serial.encode())
    birth_ok = hmac.compare_digest(
        birth_date.isoformat().encode(), entry.birth_date.isoformat().encode()
    )
    if not (serial_ok and birth_ok):
        return None
    return (row.id, row.status, row.holder_id, entry.birth_date)


def _check_code(
    db: Connection, wiring: Wiring, beneficiary_id: str, code: str, now: datetime
) -> str | None:
    """The id of the person's live code row when ``code`` is it (not burnt: see the module
    docstring); ``"code-expired"`` or ``"code-used"`` when the code is right but no longer
    live (expired, used, replaced by a newer one); None when wrong (an attempt is counted on
    the live code, burnt at ``code_attempts``)."""
    mac = enrollment_codes.code_mac(wiring.storage, beneficiary_id, code)
    rows = db.execute(
        select(_code)
        .where(_code.c.beneficiary_id == beneficiary_id)
        .order_by(_code.c.created_at.desc())
        .with_for_update()
    ).all()
    if not rows:
        return None
    # At most one row is live (a new code retires the others); else the newest.
    latest = next((row for row in rows if row.used_at is None), rows[0])
    if latest.used_at is None and hmac.compare_digest(mac, latest.code_mac):
        return "code-expired" if latest.expires_at <= now else str(latest.id)
    if any(hmac.compare_digest(mac, row.code_mac) for row in rows):
        return "code-used"
    if latest.used_at is None and latest.expires_at > now:
        attempts = latest.attempts + 1
        burnt = now if attempts >= wiring.settings.code_attempts else None
        db.execute(
            update(_code).where(_code.c.id == latest.id).values(attempts=attempts, used_at=burnt)
        )
    return None


class Activations:
    """Activation of a space, step by step (``runtime.enrollment.activation``). Each method
    takes the caller's transaction (``choose_credentials`` a transaction factory: argon2 runs
    between two) and never commits; a refusal is counted and audited before it is raised."""

    def __init__(self, wiring: Wiring, *, sms_available: bool = False) -> None:
        self._wiring = wiring
        self.sms_available = sms_available

    @property
    def ticket_minutes(self) -> int:
        """How long an activation lives (its browser cookie too)."""
        return self._wiring.settings.activation_minutes

    def start(
        self,
        db: Connection,
        *,
        code: str,
        nir: str,
        vitale_serial: str,
        birth_date: date,
        client_address: str | None,
    ) -> str:
        """Step 1: the token of a new activation (see ``start``); raises ``ActivationLocked``,
        ``ActivationRefused``."""
        return start(
            db,
            self._wiring,
            code=code,
            nir=nir,
            vitale_serial=vitale_serial,
            birth_date=birth_date,
            client_address=client_address,
        )

    def start_federated(self, db: Connection, *, beneficiary_id: str) -> str:
        """A FranceConnect activation for this person, at the terms step; its token. Raises
        ``ActivationRefused`` when their space cannot be activated."""
        return activation_federation.start_federated(
            db, self._wiring, beneficiary_id=beneficiary_id
        )

    def awaiting_activation(self, db: Connection, *, beneficiary_id: str) -> bool:
        """Whether this person may still activate their space (a holder or a dependant of 18 or
        over, not active on their own account, not opposed, not ended)."""
        return activation_federation.awaiting_activation(
            db, self._wiring, beneficiary_id=beneficiary_id
        )

    def federation_candidates(
        self, db: Connection, *, matricule: str
    ) -> list[tuple[str, PatientIdentity]]:
        """The registered holder whose NIR is this INS matricule, as an identity to match a
        FranceConnect sign-in against, while their space is not open yet (no Patient)."""
        return activation_federation.candidates(db, self._wiring, matricule=matricule)

    def ticket(self, db: Connection, *, token: str) -> ActivationTicket:
        """The activation in progress; ``ActivationExpired`` when there is none."""
        loaded = activation_tickets.load(db, self._wiring, token)
        return activation_tickets.view(loaded, terms_version=self._wiring.settings.terms_version)

    def send_contact_code(
        self, db: Connection, *, token: str, channel: CodeChannel, contact: str
    ) -> str:
        """Step 2: send a one-time code to the contact (``InvalidContact`` if malformed); the
        masked contact."""
        if channel is CodeChannel.SMS and not self.sms_available:
            raise InvalidContact("sms")
        normalised = activation_steps.normalise_contact(channel, contact)
        return activation_steps.send_contact_code(
            db, self._wiring, token=token, channel=channel, contact=normalised
        )

    def verify_contact(self, db: Connection, *, token: str, code: str) -> None:
        """Step 2: check the one-time code; raises ``WrongContactCode``."""
        activation_steps.verify_contact(db, self._wiring, token=token, code=code)

    def choose_credentials(
        self, transaction: Transaction, *, token: str, login: str, password: str
    ) -> None:
        """Step 3: login and password; raises ``InvalidLogin``, ``LoginTaken``,
        ``WeakPassword``."""
        activation_steps.choose_credentials(
            transaction, self._wiring, token=token, login=login, password=password
        )

    def accept_terms(self, db: Connection, *, token: str) -> None:
        """Step 4: the terms of use (``settings.terms_version``) accepted now."""
        activation_steps.accept_terms(db, self._wiring, token=token)

    def finish(
        self,
        db: Connection,
        *,
        token: str,
        choices: FirstChoices,
        client_address: str | None,
        user_agent: str | None,
        device_token: str | None = None,
    ) -> Activated:
        """Step 5: first choices, then the space is active and a session open (all or
        nothing); raises ``LoginTaken``, ``ActivationRefused``."""
        return activation_steps.finish(
            db,
            self._wiring,
            token=token,
            choices=choices,
            client_address=client_address,
            user_agent=user_agent,
            device_token=device_token,
        )
