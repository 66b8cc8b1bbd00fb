"""Public face of accounts and sign-in.

    from carnet.identity.accounts import service as accounts_service

``Accounts`` (one per process, built by the runtime) holds the keys and runs everything:
passwords, second factors, sessions, devices, TOTP, recovery, operators, and the external
sign-ins (FranceConnect, Pro Santé Connect): ``account_for_person`` finds or creates the account
of a person, ``open_session`` opens a session for it.
Functions that hash a password take a ``transaction`` factory instead of a connection: argon2
runs between two transactions, never inside one (SQLite's writer lock would be held 0.2 s).

This module only delegates; the work is done by one module per responsibility, which other
areas never import: ``external`` (external sign-ins), ``enrolment`` (creating accounts, TOTP),
``signin`` (password and second factor), ``signed_in`` (the live session, profiles, signing
out), ``security`` (the security page: summary, devices, recovery codes), ``password_change``,
``phone``, ``recovery``; below them ``sessions``, ``devices``, ``totp`` keep the rows.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Literal

from sqlalchemy import Connection

from carnet.audit.service import AuditTrail
from carnet.audit.tags import Outcome
from carnet.core.actor import Actor, ActorKind
from carnet.core.clock import Clock
from carnet.identity.accounts import (
    closing,
    devices,
    enrolment,
    external,
    password_change,
    phone,
    recovery,
    security,
    sessions,
    signed_in,
    signin,
)
from carnet.identity.accounts.config import AccountsSettings
from carnet.identity.accounts.context import AccountsContext, Transaction
from carnet.identity.accounts.passwords import PasswordHasher
from carnet.identity.accounts.schemas import (
    AccountKind,
    AccountSummary,
    CodeChannel,
    CurrentSession,
    DeviceInfo,
    IssuedSession,
    OperatorRole,
    PasswordAccepted,
    Profile,
    SecondFactor,
    SessionInfo,
    TotpEnrolment,
)
from carnet.identity.accounts.sealing import Sealer
from carnet.identity.accounts.signin import Area, SecondFactorPassed
from carnet.jobs.service import JobQueue
from carnet.storage.service import Storage

__all__ = [
    "AccountSummary",
    "Accounts",
    "AccountsSettings",
    "CurrentSession",
    "DeviceInfo",
    "IssuedSession",
    "OperatorRole",
    "PasswordAccepted",
    "Profile",
    "SecondFactorPassed",
    "SessionInfo",
    "TotpEnrolment",
    "Transaction",
    "actor_for",
]


class Accounts:
    """Accounts and sign-in for one process (built by the runtime)."""

    def __init__(
        self,
        *,
        settings: AccountsSettings,
        environment: str,
        storage: Storage,
        audit: AuditTrail,
        jobs: JobQueue,
        clock: Clock,
        sms_available: bool,
        public_base_url: str,
        service_name: str = "Carnet",
    ) -> None:
        self.ctx = AccountsContext(
            settings=settings,
            sealer=Sealer(
                seal_key=storage.derive_key("identity-accounts-seal"),
                mac_key=storage.derive_key("identity-accounts-mac"),
            ),
            hasher=PasswordHasher(settings.resolved_argon2(environment)),
            login_index=lambda login: storage.blind_index("identity-login", login),
            address_index=lambda address: storage.blind_index("identity-address", address),
            audit=audit,
            jobs=jobs,
            clock=clock,
            production=environment == "prod",
            dev_accounts=settings.resolved_dev_accounts(environment),
            sms_available=sms_available,
            service_name=service_name,
            public_base_url=public_base_url,
        )

    @property
    def settings(self) -> AccountsSettings:
        return self.ctx.settings

    @property
    def clock(self) -> Clock:
        return self.ctx.clock

    # --- creating accounts ----------------------------------------------------------------------

    def hash_password(
        self, password: str, *, names: tuple[str, ...] = (), birth_date: date | None = None
    ) -> tuple[str, list[str]]:
        """Check a new password against the rules (``WeakPassword``) and hash it (blocking)."""
        return enrolment.hash_password(self.ctx, password, names=names, birth_date=birth_date)

    def create_account(
        self,
        db: Connection,
        *,
        actor: Actor,
        kind: AccountKind,
        person_id: str | None,
        login: str | None,
        password: tuple[str, list[str]] | None,
        email: str | None = None,
        phone: str | None = None,
        second_factor: SecondFactor = "email",
        roles: tuple[OperatorRole, ...] = (),
        dev_only: bool = False,
        language: str = "fr",
    ) -> str:
        """A new account (``password`` from ``hash_password``); raises ``LoginTaken``,
        ``InvalidLogin``, ``NotAllowed`` (a development account in production, an operator
        without a role)."""
        return enrolment.create_account(
            self.ctx,
            db,
            actor=actor,
            kind=kind,
            person_id=person_id,
            login=login,
            password_hash=password[0] if password else None,
            personal=password[1] if password else None,
            email=email,
            phone=phone,
            second_factor=second_factor,
            roles=roles,
            dev_only=dev_only,
            language=language,
        )

    def create_operator(
        self,
        db: Connection,
        *,
        actor: Actor,
        login: str,
        password: tuple[str, list[str]],
        email: str | None,
        roles: tuple[OperatorRole, ...],
    ) -> tuple[str, str]:
        """An operator account with its TOTP secret set at once (mandatory for operators);
        returns (account id, the secret to load in the operator's authenticator)."""
        return enrolment.create_operator(
            self.ctx, db, actor=actor, login=login, password=password, email=email, roles=roles
        )

    def add_child_profile(
        self, db: Connection, *, account_id: str, patient_id: str, label: str
    ) -> None:
        """Let the account's holder act for a child they represent."""
        enrolment.add_profile(
            self.ctx, db, account_id=account_id, patient_id=patient_id, label=label
        )

    def remove_child_profile(self, db: Connection, *, account_id: str, patient_id: str) -> bool:
        """Stop the account's holder acting for a child (at 18); False when it was not there."""
        return enrolment.remove_profile(db, account_id=account_id, patient_id=patient_id)

    def find_account(self, db: Connection, *, login: str) -> str | None:
        row = self.ctx.account_by_login(db, login)
        return None if row is None else str(row.id)

    # --- signing in -----------------------------------------------------------------------------

    def sign_in_password(
        self,
        transaction: Transaction,
        *,
        login: str,
        password: str,
        area: Area,
        client_address: str | None,
        user_agent: str | None,
        device_token: str | None,
    ) -> PasswordAccepted:
        """Check a login and password (blocking); ``SignInRefused`` or ``LockedOut``."""
        return signin.sign_in_password(
            self.ctx,
            transaction,
            login=login[:200],
            password=password[:200],
            area=area,
            client_address=client_address,
            user_agent=user_agent,
            device_token=device_token,
        )

    def verify_second_factor(
        self, db: Connection, *, token: str, code: str, trust_device: bool, device_label: str
    ) -> SecondFactorPassed:
        return signin.verify_second_factor(
            self.ctx,
            db,
            token=token,
            code=code,
            trust_device=trust_device,
            device_label=device_label,
        )

    def resend_code(self, db: Connection, *, token: str) -> str | None:
        return signin.resend_code(self.ctx, db, token=token)

    def pending_factor(self, db: Connection, *, token: str) -> SecondFactor:
        """The second factor a pending sign-in waits for (``SignInRefused`` if none)."""
        _row, account = signin.pending(self.ctx, db, token)
        return account.second_factor  # type: ignore[no-any-return]

    # --- sessions -------------------------------------------------------------------------------

    def current(self, db: Connection, *, token: str) -> CurrentSession | None:
        """The live session of a cookie's token, or None (a read: ``touch`` notes the use)."""
        return signed_in.current(self.ctx, db, token=token)

    def touch(self, db: Connection, *, session_id: str) -> None:
        """Note that a session is in use (its idle timeout starts again)."""
        sessions.touch_by_id(db, session_id=session_id, now=self.clock.now())

    def switch_profile(
        self, db: Connection, *, session: CurrentSession, index: int
    ) -> IssuedSession:
        """Act as another profile of the account; the session rotates (a privilege change)."""
        return signed_in.switch_profile(self.ctx, db, session=session, index=index)

    def open_session(
        self,
        db: Connection,
        *,
        account_id: str,
        method: str,
        acr: str | None,
        client_address: str | None,
        user_agent: str | None,
        now: datetime,
        device_token: str | None = None,
    ) -> IssuedSession:
        """An active session after an external sign-in (see ``external.open_session``)."""
        return external.open_session(
            self.ctx,
            db,
            account_id=account_id,
            method=method,
            acr=acr,
            client_address=client_address,
            user_agent=user_agent,
            now=now,
            device_token=device_token,
        )

    def account_for_person(
        self,
        db: Connection,
        *,
        person_kind: Literal["patient", "professional"],
        person_id: str,
        create: bool,
    ) -> str | None:
        """The account of a Patient or Practitioner; with ``create``, a passwordless one."""
        return external.account_for_person(
            self.ctx, db, person_kind=person_kind, person_id=person_id, create=create
        )

    def sign_out(self, db: Connection, *, session: CurrentSession) -> None:
        signed_in.sign_out(self.ctx, db, session=session)

    def sign_out_everywhere(self, db: Connection, *, session: CurrentSession) -> int:
        """End every session of the account, this one included."""
        return signed_in.sign_out_everywhere(self.ctx, db, session=session)

    def revoke_session(self, db: Connection, *, session: CurrentSession, session_id: str) -> bool:
        """End one of the account's own sessions."""
        return signed_in.revoke_session(self.ctx, db, session=session, session_id=session_id)

    def list_sessions(self, db: Connection, *, session: CurrentSession) -> list[SessionInfo]:
        return sessions.listing(
            db,
            account_id=session.account_id,
            current=session.session_id,
            timeouts=self.ctx.timeouts,
            now=self.clock.now(),
        )

    def expire_pending(self, db: Connection, *, token: str) -> None:
        """Drop a pending sign-in (the person gave up or starts again)."""
        signed_in.expire_pending(self.ctx, db, token=token)

    # --- devices, factors -----------------------------------------------------------------------

    def list_devices(self, db: Connection, *, session: CurrentSession) -> list[DeviceInfo]:
        return devices.listing(db, account_id=session.account_id, now=self.clock.now())

    def revoke_device(
        self, db: Connection, *, session: CurrentSession, device_id: str | None
    ) -> int:
        """Revoke one trusted device of the account, or all (``None``)."""
        return security.revoke_device(self.ctx, db, session=session, device_id=device_id)

    def summary(self, db: Connection, *, account_id: str) -> AccountSummary:
        return security.summary(self.ctx, db, account_id=account_id)

    def change_password(
        self,
        transaction: Transaction,
        *,
        session: CurrentSession,
        current_password: str,
        new_password: str,
        client_address: str | None,
    ) -> int:
        """Replace the signed-in person's password (blocking); see ``password_change``."""
        return password_change.change_password(
            self.ctx,
            transaction,
            session=session,
            current_password=current_password[:200],
            new_password=new_password[:200],
            client_address=client_address,
        )

    def start_phone(self, db: Connection, *, session: CurrentSession, number: str) -> str:
        """Send a code to a new mobile number; the token its confirmation carries."""
        return phone.start(
            self.ctx, db, account=self.ctx.account(db, session.account_id), number=number
        )

    def confirm_phone(
        self, db: Connection, *, session: CurrentSession, token: str, code: str
    ) -> str:
        """Make the number the account's once its code is given; the masked number."""
        account = self.ctx.account(db, session.account_id)
        return phone.confirm(self.ctx, db, account=account, token=token, code=code)

    def pending_phone(self, db: Connection, *, session: CurrentSession, token: str) -> str | None:
        """The masked number a confirmation token names (for the form), or None."""
        number = phone.pending_number(self.ctx, self.ctx.account(db, session.account_id), token)
        return None if number is None else enrolment.mask_phone(number)

    def choose_factor(
        self, db: Connection, *, session: CurrentSession, factor: CodeChannel
    ) -> None:
        """Send the codes by e-mail or by SMS from now on."""
        account = self.ctx.account(db, session.account_id)
        phone.choose_factor(self.ctx, db, account=account, factor=factor)

    def start_totp(self, db: Connection, *, session: CurrentSession, label: str) -> TotpEnrolment:
        return enrolment.start_totp(
            self.ctx, db, account=self.ctx.account(db, session.account_id), label=label
        )

    def confirm_totp(self, db: Connection, *, session: CurrentSession, code: str) -> list[str]:
        """Make the pending TOTP secret the account's factor; the new recovery codes."""
        return enrolment.confirm_totp(
            self.ctx, db, account=self.ctx.account(db, session.account_id), code=code
        )

    def new_recovery_codes(self, db: Connection, *, session: CurrentSession) -> list[str]:
        return security.new_recovery_codes(self.ctx, db, session=session)

    def totp_code_for_demo(self, db: Connection, *, login: str) -> str | None:
        """The current TOTP code of a development account (``carnet accounts demo-code``);
        None outside development or for any other account."""
        return security.totp_code_for_demo(self.ctx, db, login=login)

    # --- a closed, suspended or erased space (enrollment.closure) ---------------------------------

    def confirm_holder(
        self,
        transaction: Transaction,
        *,
        session: CurrentSession,
        password: str,
        client_address: str | None,
        fresh_within: timedelta,
    ) -> None:
        """The holder proves it is them before closing (blocking); see ``closing``. Raises
        ``SignInRefused``, ``LockedOut`` or ``FreshSignInRequired``."""
        closing.confirm_holder(
            self.ctx,
            transaction,
            session=session,
            password=password[:200],
            client_address=client_address,
            fresh_within=fresh_within,
        )

    def disable_account(self, db: Connection, *, account_id: str) -> int:
        """Refuse every sign-in of the account and end its sessions; the number ended."""
        return closing.disable(self.ctx, db, account_id=account_id)

    def enable_account(self, db: Connection, *, account_id: str) -> None:
        closing.enable(db, account_id=account_id)

    def erase_person(self, db: Connection, *, patient_id: str, account_id: str | None) -> None:
        """Anonymise for good the account of an erased space, and drop the profiles through
        which others acted for it."""
        closing.erase_person(self.ctx, db, patient_id=patient_id, account_id=account_id)

    def account_contact(self, db: Connection, *, account_id: str) -> tuple[str, str] | None:
        """(e-mail address, language) of the account, or None."""
        return closing.contact(self.ctx, db, account_id=account_id)

    # --- recovery, operators ----------------------------------------------------------------------

    def start_recovery(
        self, db: Connection, *, login: str, client_address: str | None
    ) -> recovery.RecoveryStarted:
        return recovery.start(self.ctx, db, login=login[:200], client_address=client_address)

    def finish_recovery(
        self,
        transaction: Transaction,
        *,
        token: str,
        code: str,
        second_code: str,
        new_password: str,
    ) -> None:
        recovery.finish(
            self.ctx,
            transaction,
            token=token,
            code=code,
            second_code=second_code,
            new_password=new_password[:200],
        )

    def record_operator_action(
        self,
        db: Connection,
        *,
        session: CurrentSession,
        action: str,
        entity: str = "",
        outcome: Outcome = Outcome.SUCCESS,
    ) -> None:
        """Audit one action of an operator in the administration area."""
        account = self.ctx.account(db, session.account_id)
        self.ctx.audit_operator(db, account=account, action=action, entity=entity, outcome=outcome)


def actor_for(session: CurrentSession) -> Actor:
    """The actor a signed-in session acts as (a patient, a professional, an operator)."""
    kind = {"patient": ActorKind.PATIENT, "professional": ActorKind.PROFESSIONAL}
    return Actor(
        kind=kind.get(session.kind, ActorKind.OPERATOR),
        id=session.person_id or session.account_id,
    )
