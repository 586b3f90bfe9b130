"""What can happen to an account: register, verify the e-mail, log in (with lockout), reset
or change the password, change the e-mail, change the role, end the account.

Every function works inside the caller's database transaction and takes the time as ``now``;
the caller commits. Logins, failed logins, locks, resets and role changes are written to the
audit log (the person the act concerns is its ``subject``, so they can read it in "My data").
A login that fails is *returned* as an outcome, not raised, because the failure counter and its
audit entry must be committed although the login is refused.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from filing_registry import audit
from podatelna.accounts.errors import (
    AccountError,
    AccountLocked,
    BadCredentials,
    EmailTaken,
    InvalidAccountData,
    LinkInvalid,
    UnknownAccount,
    UnknownRole,
)
from podatelna.accounts.models import AccountToken, Role, TokenPurpose, User
from podatelna.accounts.passwords import (
    check_password,
    hash_password,
    needs_rehash,
    verify_password,
)

_EMAIL = re.compile(
    r"^[^@\s<>,;\"'()]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)+$"
)


@dataclass(frozen=True)
class AccountPolicy:
    """The account rules that are settings (built from ``WebSettings`` by the application)."""

    max_failed_logins: int = 5
    lockout: timedelta = timedelta(minutes=15)
    verify_link_ttl: timedelta = timedelta(hours=48)
    reset_link_ttl: timedelta = timedelta(hours=1)
    session_ttl: timedelta = timedelta(hours=12)
    api_token_ttl: timedelta = timedelta(days=90)
    #: personal data of an ended account is erased at most this long after it ends
    erase_after: timedelta = timedelta(days=30)
    #: an account not used this long ends (five years)
    unused_lapse: timedelta = timedelta(days=5 * 365 + 1)


def normalise_email(email: str) -> str:
    email = (email or "").strip()
    if len(email) > 254 or not _EMAIL.match(email):
        raise InvalidAccountData(f"{email!r} is not an e-mail address (name@domain).")
    local, _, domain = email.rpartition("@")
    return f"{local}@{domain.lower()}"


def token_digest(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def _audit(
    session: Session,
    user: User | None,
    action: str,
    *,
    now: datetime,
    actor: str | None = None,
    details: dict[str, object] | None = None,
) -> None:
    audit(
        session,
        at=now,
        actor=actor or (user.email if user else "anonymous"),
        action=action,
        object_type="account",
        object_id=str(user.id) if user else "unknown",
        subject=user.email if user else None,
        details=details or {},
    )


def find_user(session: Session, email: str) -> User | None:
    try:
        email = normalise_email(email)
    except InvalidAccountData:
        return None
    return session.execute(
        select(User).where(func.lower(User.email) == email.lower())
    ).scalar_one_or_none()


def get_user(session: Session, email: str) -> User:
    user = find_user(session, email)
    if user is None:
        raise UnknownAccount(f"There is no account with the e-mail {email!r}.")
    return user


def register(
    session: Session,
    *,
    email: str,
    first_name: str,
    surname: str,
    password: str,
    now: datetime,
    role: Role = Role.REGISTERED,
    verified: bool = False,
    actor: str | None = None,
) -> User:
    """A new account (e-mail not verified unless ``verified``: staff created by an admin)."""
    email = normalise_email(email)
    first_name, surname = first_name.strip(), surname.strip()
    if not first_name or not surname or len(first_name) > 100 or len(surname) > 100:
        raise InvalidAccountData("Give your first name and surname (at most 100 characters each).")
    check_password(password)
    if find_user(session, email) is not None:
        raise EmailTaken(f"An account with the e-mail {email} exists already; log in instead.")
    user = User(
        email=email,
        first_name=first_name,
        surname=surname,
        password_hash=hash_password(password),
        role=Role(role).value,
        former_emails=[],
        created_at=now,
        email_verified_at=now if verified else None,
        failed_logins=0,
    )
    session.add(user)
    session.flush()
    _audit(session, user, "account.registered", now=now, actor=actor, details={"role": user.role})
    return user


# -- tokens -------------------------------------------------------------------------------------


def issue_token(
    session: Session,
    user: User,
    purpose: TokenPurpose,
    *,
    now: datetime,
    ttl: timedelta,
    data: dict[str, str] | None = None,
) -> str:
    """A new random secret for ``user``; only its digest is stored."""
    raw = secrets.token_urlsafe(32)
    session.add(
        AccountToken(
            token_hash=token_digest(raw),
            user_id=user.id,
            purpose=purpose.value,
            created_at=now,
            expires_at=now + ttl,
            data=data or {},
        )
    )
    session.flush()
    return raw


def _live_token(session: Session, raw: str, purpose: TokenPurpose, now: datetime) -> AccountToken:
    token = session.get(AccountToken, token_digest(raw or ""))
    if (
        token is None
        or token.purpose != purpose.value
        or token.used_at is not None
        or token.expires_at <= now
        or not token.user.active
    ):
        raise LinkInvalid(
            "This link is not valid: it is unknown, was used already or has expired. "
            "Ask for a new one."
        )
    return token


def user_for_token(
    session: Session, raw: str, purposes: tuple[TokenPurpose, ...], *, now: datetime
) -> tuple[User, AccountToken] | None:
    """The user a session or API token belongs to, or ``None`` when it is not valid now."""
    for purpose in purposes:
        try:
            token = _live_token(session, raw, purpose, now)
        except LinkInvalid:
            continue
        return token.user, token
    return None


def revoke_token(session: Session, raw: str, *, now: datetime) -> None:
    token = session.get(AccountToken, token_digest(raw or ""))
    if token is not None and token.used_at is None:
        token.used_at = now


def revoke_all(
    session: Session,
    user: User,
    purposes: tuple[TokenPurpose, ...],
    *,
    now: datetime,
    keep: str | None = None,
) -> None:
    stmt = (
        update(AccountToken)
        .where(
            AccountToken.user_id == user.id,
            AccountToken.purpose.in_([p.value for p in purposes]),
            AccountToken.used_at.is_(None),
        )
        .values(used_at=now)
    )
    if keep is not None:
        stmt = stmt.where(AccountToken.token_hash != token_digest(keep))
    session.execute(stmt)


# -- e-mail verification ------------------------------------------------------------------------


def verification_token(
    session: Session, user: User, *, now: datetime, policy: AccountPolicy
) -> str:
    return issue_token(
        session,
        user,
        TokenPurpose.VERIFY_EMAIL,
        now=now,
        ttl=policy.verify_link_ttl,
        data={"email": user.email},
    )


def verify_email(session: Session, raw: str, *, now: datetime) -> User:
    """Spend a verification link; for an e-mail change, the new address becomes the account's."""
    token = _live_token(session, raw, TokenPurpose.VERIFY_EMAIL, now)
    token.used_at = now
    user = token.user
    new = token.data.get("email", user.email)
    if new != user.email:
        if find_user(session, new) is not None:
            raise EmailTaken(f"An account with the e-mail {new} exists already.")
        old = user.email
        user.former_emails = [*(user.former_emails or []), old]
        user.email = new
        _audit(session, user, "account.email_changed", now=now, details={"from": old, "to": new})
    user.email_verified_at = now
    _audit(session, user, "account.email_verified", now=now)
    return user


def email_change_token(
    session: Session,
    user: User,
    new_email: str,
    password: str,
    *,
    now: datetime,
    policy: AccountPolicy,
) -> tuple[str, str]:
    """A link, to be sent to the new address, that makes it the account's; returns it and the
    normalised address. The password is asked again: a stolen session cannot take the account."""
    if not verify_password(user.password_hash, password):
        raise BadCredentials("The password is not right.")
    new_email = normalise_email(new_email)
    if find_user(session, new_email) is not None:
        raise EmailTaken(f"An account with the e-mail {new_email} exists already.")
    raw = issue_token(
        session,
        user,
        TokenPurpose.VERIFY_EMAIL,
        now=now,
        ttl=policy.verify_link_ttl,
        data={"email": new_email},
    )
    _audit(session, user, "account.email_change_requested", now=now, details={"to": new_email})
    return raw, new_email


# -- logging in -------------------------------------------------------------------------------


@dataclass(frozen=True)
class LoginOutcome:
    user: User | None
    error: AccountError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def authenticate(
    session: Session, email: str, password: str, *, now: datetime, policy: AccountPolicy
) -> LoginOutcome:
    """Check a login. The caller commits whatever the outcome (counters, locks, audit)."""
    user = find_user(session, email)
    if user is None or not user.active:
        verify_password(None, password)  # same cost as for a known address
        audit(
            session,
            at=now,
            actor="anonymous",
            action="login.failed",
            object_type="account",
            object_id="unknown",
            details={"email_sha256": hashlib.sha256(email.strip().lower().encode()).hexdigest()},
        )
        return LoginOutcome(None, BadCredentials("The e-mail or the password is not right."))
    # lock the row: concurrent wrong passwords must each count (PostgreSQL; SQLite serialises
    # writers with BEGIN IMMEDIATE anyway)
    session.refresh(user, with_for_update=True)
    if user.locked_until is not None and user.locked_until > now:
        _audit(session, user, "login.refused_locked", now=now)
        return LoginOutcome(user, _locked(user))
    if not verify_password(user.password_hash, password):
        user.failed_logins = (user.failed_logins or 0) + 1
        _audit(session, user, "login.failed", now=now, details={"failures": user.failed_logins})
        if user.failed_logins >= policy.max_failed_logins:
            user.locked_until = now + policy.lockout
            user.failed_logins = 0
            _audit(
                session,
                user,
                "account.locked",
                now=now,
                actor="system",
                details={"until": user.locked_until.isoformat()},
            )
            return LoginOutcome(user, _locked(user))
        return LoginOutcome(user, BadCredentials("The e-mail or the password is not right."))
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    _audit(session, user, "login", now=now)
    return LoginOutcome(user)


def _locked(user: User) -> AccountLocked:
    assert user.locked_until is not None
    return AccountLocked(
        "Too many wrong passwords: the account is locked until "
        f"{user.locked_until.strftime('%H:%M')} UTC. Wait, or reset the password by the link "
        "'Forgot password'."
    )


# -- passwords --------------------------------------------------------------------------------


def request_reset(
    session: Session, email: str, *, now: datetime, policy: AccountPolicy
) -> tuple[User, str] | None:
    """A single-use, expiring reset link for the account of ``email`` (``None`` when there is no
    such account: the caller answers the same either way)."""
    user = find_user(session, email)
    if user is None or not user.active:
        return None
    revoke_all(session, user, (TokenPurpose.RESET_PASSWORD,), now=now)
    raw = issue_token(
        session, user, TokenPurpose.RESET_PASSWORD, now=now, ttl=policy.reset_link_ttl
    )
    _audit(session, user, "password.reset_requested", now=now)
    return user, raw


def check_reset_link(session: Session, raw: str, *, now: datetime) -> User:
    return _live_token(session, raw, TokenPurpose.RESET_PASSWORD, now).user


def reset_password(session: Session, raw: str, new_password: str, *, now: datetime) -> User:
    """Spend a reset link: set the new password, lift a lock, end every session."""
    token = _live_token(session, raw, TokenPurpose.RESET_PASSWORD, now)
    check_password(new_password)
    token.used_at = now
    user = token.user
    user.password_hash = hash_password(new_password)
    user.failed_logins = 0
    user.locked_until = None
    # the link reached the mailbox: that verifies the address too
    user.email_verified_at = user.email_verified_at or now
    revoke_all(session, user, (TokenPurpose.SESSION, TokenPurpose.RESET_PASSWORD), now=now)
    _audit(session, user, "password.reset", now=now)
    return user


def change_password(
    session: Session, user: User, old: str, new: str, *, now: datetime, keep_session: str | None
) -> None:
    if not verify_password(user.password_hash, old):
        raise BadCredentials("The current password is not right.")
    user.password_hash = hash_password(new)
    revoke_all(session, user, (TokenPurpose.SESSION,), now=now, keep=keep_session)
    _audit(session, user, "password.changed", now=now)


# -- roles and the end of an account ----------------------------------------------------------


def set_role(session: Session, email: str, role: str, *, actor: str, now: datetime) -> User:
    try:
        new = Role(role)
    except ValueError:
        raise UnknownRole(
            f"There is no role {role!r}; the roles are {', '.join(r.value for r in Role)}."
        ) from None
    user = get_user(session, email)
    old = user.role
    if old != new.value:
        user.role = new.value
        _audit(
            session,
            user,
            "account.role_changed",
            now=now,
            actor=actor,
            details={"from": old, "to": new.value},
        )
    return user


def delete_account(
    session: Session, user: User, password: str, *, now: datetime, policy: AccountPolicy
) -> None:
    """End the account now; its personal data is erased by :func:`erase_due` within
    ``policy.erase_after``. Filings stay in the journal, as records law requires."""
    if not verify_password(user.password_hash, password):
        raise BadCredentials("The password is not right.")
    user.deleted_at = now
    user.erase_after = now + policy.erase_after
    revoke_all(session, user, tuple(TokenPurpose), now=now)
    _audit(
        session,
        user,
        "account.deleted",
        now=now,
        details={"erase_after": user.erase_after.isoformat()},
    )


def lapse_unused(session: Session, *, now: datetime, policy: AccountPolicy) -> int:
    """End the accounts not used (no login, or created without one) for ``policy.unused_lapse``;
    their personal data is then erased like that of any ended account."""
    cutoff = now - policy.unused_lapse
    last_use = func.coalesce(User.last_login_at, User.created_at)
    rows = (
        session.execute(select(User).where(User.deleted_at.is_(None), last_use < cutoff))
        .scalars()
        .all()
    )
    for user in rows:
        user.deleted_at = now
        user.erase_after = now + policy.erase_after
        revoke_all(session, user, tuple(TokenPurpose), now=now)
        _audit(session, user, "account.lapsed", now=now, actor="system")
    return len(rows)


def erase_due(session: Session, *, now: datetime) -> int:
    """Erase the personal data of accounts ended more than the erase period ago."""
    rows = (
        session.execute(
            select(User)
            .where(User.deleted_at.is_not(None), User.erase_after <= now)
            .where(~User.email.like("erased-%@invalid"))
        )
        .scalars()
        .all()
    )
    for user in rows:
        _audit(session, user, "account.erased", now=now, actor="system")
        user.email = f"erased-{user.id}@invalid"
        user.first_name = ""
        user.surname = ""
        user.former_emails = []
        user.password_hash = ""
    return len(rows)
