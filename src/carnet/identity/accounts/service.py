"""Public face of accounts and sign-in.

    from carnet.identity.accounts import service as accounts_service

Two module-level functions serve external sign-ins (FranceConnect, Pro Santé Connect): find or
create the account of a person (``account_for_person``) and open a session for it
(``open_session``). ``Accounts`` (one per process, built by the runtime) holds the keys and runs
everything else: passwords, second factors, sessions, devices, TOTP, recovery, operators.
Functions that hash a password take a ``transaction`` factory instead of a connection: argon2
runs between two transactions, never inside one (SQLite's writer lock would be held 0.2 s).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from sqlalchemy import Connection, insert, select

from carnet.audit.service import AuditTrail
from carnet.audit.tags import EventTag, Outcome
from carnet.core.actor import CARNET, Actor, ActorKind
from carnet.core.clock import Clock
from carnet.core.errors import ConfigurationError
from carnet.core.ids import new_id
from carnet.identity.accounts import (
    alerts,
    devices,
    enrolment,
    models,
    password_change,
    phone,
    recovery,
    sessions,
    signin,
    totp,
)
from carnet.identity.accounts.config import AccountsSettings
from carnet.identity.accounts.context import AccountsContext, Transaction
from carnet.identity.accounts.errors import NotAllowed, SignInRefused
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
    "account_for_person",
    "actor_for",
    "open_session",
]

_a = models.account
_p = models.profile

# The agreed signatures of ``open_session`` and ``account_for_person`` carry no services, yet
# every session opened must be audited (and announced): the process's ``Accounts`` binds its
# context here when it is built.
_bound: list[AccountsContext] = []


def _context() -> AccountsContext:
    if not _bound:
        raise ConfigurationError("accounts are not set up: build the runtime first")
    return _bound[-1]


def open_session(
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
    """Open an active session for an account after an external sign-in (``method``:
    ``franceconnect``, ``pro-sante-connect``…; ``acr``: the level the provider asserted).

    Set its token as the cookie with ``web.accounts.cookies.set_session_cookie``. The client
    address is not stored (it is personal data and nothing here needs it later). Unless
    ``device_token`` (the browser's trusted-device cookie) is a live device of the account, the
    person is told of the new sign-in by e-mail.
    """
    del client_address
    ctx = _context()
    account = db.execute(select(_a).where(_a.c.id == account_id)).first()
    if account is None or account.disabled_at is not None:
        raise SignInRefused
    issued = sessions.create(
        db,
        account_id=account_id,
        stage="active",
        method=method[:32],
        acr=acr[:100] if acr else None,
        user_agent=user_agent,
        now=now,
        patient_id=account.person_id if account.kind == "patient" else None,
    )
    ctx.record(
        db,
        EventTag.IDENTITY_SESSION_OPEN,
        account=account,
        detail={"method": method[:32], "acr": (acr or "")[:100]},
    )
    if devices.recognise(db, account_id=account.id, token=device_token, now=now) is None:
        alerts.announce_new_sign_in(ctx, db, account, user_agent=user_agent)
    return issued


def account_for_person(
    db: Connection,
    *,
    person_kind: Literal["patient", "professional"],
    person_id: str,
    create: bool,
) -> str | None:
    """The account of a Patient or Practitioner (by FHIR id); with ``create``, a passwordless
    one (signing in only through an external provider) is made if there is none."""
    found = db.execute(
        select(_a.c.id).where(_a.c.kind == person_kind, _a.c.person_id == person_id)
    ).scalar()
    if found is not None or not create:
        return found
    ctx = _context()
    account_id = new_id()
    db.execute(
        insert(_a).values(
            id=account_id,
            kind=person_kind,
            person_id=person_id,
            second_factor="email",
            totp_last_step=0,
            roles="",
            dev_only=False,
            language="fr",
            created_at=ctx.clock.now(),
        )
    )
    account = db.execute(select(_a).where(_a.c.id == account_id)).one()
    ctx.record(
        db,
        EventTag.IDENTITY_ACCOUNT_CREATE,
        account=account,
        actor=CARNET,
        detail={"kind": person_kind, "passwordless": True},
    )
    return account_id


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
        _bound.append(self.ctx)

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
        ``InvalidLogin``, ``NotAllowed`` (a development account in production)."""
        if kind == "operator" and not roles:
            raise NotAllowed("an operator needs at least one role")
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
        account_id = self.create_account(
            db,
            actor=actor,
            kind="operator",
            person_id=None,
            login=login,
            password=password,
            email=email,
            second_factor="totp",
            roles=roles,
        )
        secret = totp.new_secret()
        enrolment.set_totp(self.ctx, db, account=self._account(db, account_id), secret=secret)
        return account_id, secret

    def add_child_profile(
        self, db: Connection, *, account_id: str, patient_id: str, label: str
    ) -> None:
        """Let the account's holder act for a child they represent."""
        enrolment.add_profile(
            self.ctx, db, account_id=account_id, patient_id=patient_id, label=label
        )

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
        now = self.clock.now()
        row = sessions.find(db, token, timeouts=self.ctx.timeouts, now=now)
        if row is None:
            return None
        account = self._account(db, row.account_id)
        if account.disabled_at is not None or (account.dev_only and not self.ctx.dev_accounts):
            return None
        return CurrentSession(
            session_id=row.id,
            account_id=account.id,
            kind=account.kind,
            person_id=account.person_id,
            stage=row.stage,
            roles=frozenset(OperatorRole(r) for r in account.roles.split(",") if r),
            patient_id=row.patient_id,
            profiles=self._profiles(db, account),
            second_factor=account.second_factor,
            method=row.method,
            needs_touch=now - row.last_seen_at >= sessions.TOUCH_EVERY,
        )

    def touch(self, db: Connection, *, session_id: str) -> None:
        """Note that a session is in use (its idle timeout starts again)."""
        sessions.touch_by_id(db, session_id=session_id, now=self.clock.now())

    def _profiles(self, db: Connection, account: Any) -> tuple[Profile, ...]:
        if account.kind != "patient" or account.person_id is None:
            return ()
        rows = db.execute(
            select(_p).where(_p.c.account_id == account.id).order_by(_p.c.position)
        ).all()
        children = tuple(
            Profile(
                patient_id=r.patient_id,
                relation="child",
                label=self.ctx.sealer.open(r.label_sealed, context=f"{account.id}:{r.patient_id}"),
            )
            for r in rows
        )
        return (Profile(patient_id=account.person_id, relation="self", label=""), *children)

    def switch_profile(
        self, db: Connection, *, session: CurrentSession, index: int
    ) -> IssuedSession:
        """Act as another profile of the account; the session rotates (a privilege change)."""
        if not 0 <= index < len(session.profiles):
            raise NotAllowed("profile")
        now = self.clock.now()
        sessions.set_profile(
            db, session_id=session.session_id, patient_id=session.profiles[index].patient_id
        )
        stored = db.execute(
            select(models.session).where(models.session.c.id == session.session_id)
        ).one()
        issued = sessions.rotate(db, stored, now=now)
        self.ctx.record(
            db,
            EventTag.IDENTITY_PROFILE_SWITCH,
            account=self._account(db, session.account_id),
            detail={"relation": session.profiles[index].relation},
        )
        return issued

    def sign_out(self, db: Connection, *, session: CurrentSession) -> None:
        sessions.revoke(db, session_id=session.session_id, now=self.clock.now())
        self.ctx.record(
            db,
            EventTag.IDENTITY_SESSION_REVOKE,
            account=self._account(db, session.account_id),
            detail={"reason": "sign-out"},
        )

    def sign_out_everywhere(self, db: Connection, *, session: CurrentSession) -> int:
        """End every session of the account, this one included."""
        ended = sessions.revoke_all(db, account_id=session.account_id, now=self.clock.now())
        self.ctx.record(
            db,
            EventTag.IDENTITY_SESSION_REVOKE_ALL,
            account=self._account(db, session.account_id),
            detail={"sessions": ended},
        )
        return ended

    def revoke_session(self, db: Connection, *, session: CurrentSession, session_id: str) -> bool:
        """End one of the account's own sessions."""
        done = sessions.revoke(
            db, session_id=session_id, now=self.clock.now(), account_id=session.account_id
        )
        if done:
            self.ctx.record(
                db,
                EventTag.IDENTITY_SESSION_REVOKE,
                account=self._account(db, session.account_id),
                detail={"reason": "revoked"},
            )
        return done

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
        row = sessions.find(db, token, timeouts=self.ctx.timeouts, now=self.clock.now())
        if row is not None and row.stage == "second-factor":
            sessions.revoke(db, session_id=row.id, now=self.clock.now())

    # --- devices, factors -----------------------------------------------------------------------

    def list_devices(self, db: Connection, *, session: CurrentSession) -> list[DeviceInfo]:
        return devices.listing(db, account_id=session.account_id, now=self.clock.now())

    def revoke_device(
        self, db: Connection, *, session: CurrentSession, device_id: str | None
    ) -> int:
        """Revoke one trusted device of the account, or all (``None``)."""
        done = devices.revoke(
            db, account_id=session.account_id, device_id=device_id, now=self.clock.now()
        )
        if done:
            self.ctx.record(
                db,
                EventTag.IDENTITY_DEVICE_REVOKE,
                account=self._account(db, session.account_id),
                detail={"devices": done},
            )
        return done

    def summary(self, db: Connection, *, account_id: str) -> AccountSummary:
        account = self._account(db, account_id)
        return AccountSummary(
            account_id=account.id,
            kind=account.kind,
            second_factor=account.second_factor,
            email_masked=account.email_masked,
            phone_masked=account.phone_masked,
            totp_enabled=account.totp_sealed is not None,
            recovery_codes_left=totp.recovery_codes_left(db, account_id=account.id),
            roles=frozenset(OperatorRole(r) for r in account.roles.split(",") if r),
            has_password=account.password_hash is not None,
            sms_available=self.ctx.sms_available,
        )

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
            self.ctx, db, account=self._account(db, session.account_id), number=number
        )

    def confirm_phone(
        self, db: Connection, *, session: CurrentSession, token: str, code: str
    ) -> str:
        """Make the number the account's once its code is given; the masked number."""
        account = self._account(db, session.account_id)
        return phone.confirm(self.ctx, db, account=account, token=token, code=code)

    def pending_phone(self, db: Connection, *, session: CurrentSession, token: str) -> str | None:
        """The masked number a confirmation token names (for the form), or None."""
        number = phone.pending_number(self.ctx, self._account(db, session.account_id), token)
        return None if number is None else enrolment.mask_phone(number)

    def choose_factor(
        self, db: Connection, *, session: CurrentSession, factor: CodeChannel
    ) -> None:
        """Send the codes by e-mail or by SMS from now on."""
        account = self._account(db, session.account_id)
        phone.choose_factor(self.ctx, db, account=account, factor=factor)

    def start_totp(self, db: Connection, *, session: CurrentSession, label: str) -> TotpEnrolment:
        return enrolment.start_totp(
            self.ctx, db, account=self._account(db, session.account_id), label=label
        )

    def confirm_totp(self, db: Connection, *, session: CurrentSession, code: str) -> list[str]:
        """Make the pending TOTP secret the account's factor; the new recovery codes."""
        return enrolment.confirm_totp(
            self.ctx, db, account=self._account(db, session.account_id), code=code
        )

    def new_recovery_codes(self, db: Connection, *, session: CurrentSession) -> list[str]:
        account = self._account(db, session.account_id)
        if account.totp_sealed is None:
            raise NotAllowed("recovery codes come with an authenticator app")
        codes = totp.new_recovery_codes(
            db, self.ctx.sealer, account_id=account.id, now=self.clock.now()
        )
        self.ctx.record(
            db,
            EventTag.IDENTITY_FACTOR_CHANGE,
            account=account,
            detail={"factor": "recovery-codes"},
        )
        return codes

    def totp_code_for_demo(self, db: Connection, *, login: str) -> str | None:
        """The current TOTP code of a development account (``carnet accounts demo-code``);
        None outside development or for any other account."""
        account = self.ctx.account_by_login(db, login)
        if account is None or self.ctx.production or account.totp_sealed is None:
            return None
        secret = self.ctx.sealer.open(account.totp_sealed, context=f"{account.id}:totp")
        return totp.current_code(secret, now=self.clock.now())

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
        account = self._account(db, session.account_id)
        self.ctx.audit_operator(db, account=account, action=action, entity=entity, outcome=outcome)

    def _account(self, db: Connection, account_id: str) -> Any:
        return db.execute(select(_a).where(_a.c.id == account_id)).one()


def actor_for(session: CurrentSession) -> Actor:
    """The actor a signed-in session acts as (a patient, a professional, an operator)."""
    kind = {"patient": ActorKind.PATIENT, "professional": ActorKind.PROFESSIONAL}
    return Actor(
        kind=kind.get(session.kind, ActorKind.OPERATOR),
        id=session.person_id or session.account_id,
    )
