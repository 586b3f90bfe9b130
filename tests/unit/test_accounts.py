"""The account rules: password rules and Argon2, verification and reset links (single use,
expiry), the lockout after five failures, roles, the end of an account, and the audit trail.
SQLite in a temporary directory; time is passed in, never read."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from filing_registry import AuditEntry, make_engine, make_sessionmaker, migrate, verify_chain
from podatelna import accounts
from podatelna.accounts import AccountPolicy, AccountToken, Role, TokenPurpose, User
from tests.dbs import sqlite_url

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
POLICY = AccountPolicy(lockout=timedelta(minutes=15))
PW = "Tajne-heslo-7"


@pytest.fixture
def db(tmp_path: Path) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(sqlite_url(tmp_path))
    migrate(engine)
    yield make_sessionmaker(engine)
    engine.dispose()


def _register(db: sessionmaker[Session], email: str = "Jana.Nova@Example.CZ", **kw) -> int:
    with db() as s, s.begin():
        u = accounts.register(
            s, email=email, first_name="Jana", surname="Nová", password=PW, now=T0, **kw
        )
        return u.id


def _actions(db: sessionmaker[Session]) -> list[str]:
    with db() as s:
        return list(s.execute(select(AuditEntry.action).order_by(AuditEntry.seq)).scalars())


@pytest.mark.parametrize(
    ("password", "ok"),
    [
        ("Abcdefg1", True),
        ("Příliš-Dlouhé-1", True),
        ("Abcdef1", False),  # 7 characters
        ("abcdefg1", False),  # no upper-case
        ("ABCDEFG1", False),  # no lower-case
        ("Abcdefgh", False),  # no digit
        ("", False),
        ("A1" + "a" * 2000, False),  # absurdly long
    ],
)
def test_password_rules(password: str, ok: bool) -> None:
    assert (accounts.password_problems(password) == []) is ok
    if not ok:
        with pytest.raises(accounts.WeakPassword):
            accounts.check_password(password)


def test_register_hashes_with_argon2_and_normalises_the_domain(db) -> None:
    uid = _register(db)
    with db() as s:
        u = s.get(User, uid)
        assert u is not None
        assert u.email == "Jana.Nova@example.cz"
        assert u.password_hash.startswith("$argon2id$") and PW not in u.password_hash
        assert u.role == "registered" and u.email_verified_at is None
    with pytest.raises(accounts.EmailTaken), db() as s, s.begin():
        accounts.register(
            s, email="jana.nova@EXAMPLE.cz", first_name="X", surname="Y", password=PW, now=T0
        )
    with pytest.raises(accounts.InvalidAccountData), db() as s, s.begin():
        accounts.register(
            s, email="not-an-address", first_name="X", surname="Y", password=PW, now=T0
        )


def test_verification_link_is_single_use_and_expires(db) -> None:
    uid = _register(db)
    with db() as s, s.begin():
        u = s.get(User, uid)
        raw = accounts.verification_token(s, u, now=T0, policy=POLICY)
        late = accounts.verification_token(s, u, now=T0, policy=POLICY)
    with db() as s:
        # only the digest is stored
        assert s.execute(select(AccountToken).where(AccountToken.token_hash == raw)).first() is None
    with db() as s, s.begin():
        accounts.verify_email(s, raw, now=T0 + timedelta(hours=1))
    with pytest.raises(accounts.LinkInvalid), db() as s, s.begin():
        accounts.verify_email(s, raw, now=T0 + timedelta(hours=2))
    with pytest.raises(accounts.LinkInvalid), db() as s, s.begin():
        accounts.verify_email(s, late, now=T0 + POLICY.verify_link_ttl + timedelta(seconds=1))
    with db() as s:
        assert s.get(User, uid).email_verified_at is not None


def _login(db, password: str, at: datetime) -> accounts.LoginOutcome:
    with db() as s, s.begin():
        return accounts.authenticate(s, "jana.nova@example.cz", password, now=at, policy=POLICY)


def test_five_failures_lock_the_account_for_the_configured_time(db) -> None:
    _register(db)
    for i in range(4):
        out = _login(db, "Spatne-heslo-1", T0 + timedelta(seconds=i))
        assert isinstance(out.error, accounts.BadCredentials)
    fifth = _login(db, "Spatne-heslo-1", T0 + timedelta(seconds=5))
    assert isinstance(fifth.error, accounts.AccountLocked)
    # the right password does not open a locked account
    assert isinstance(_login(db, PW, T0 + timedelta(minutes=14)).error, accounts.AccountLocked)
    assert _login(db, PW, T0 + timedelta(minutes=15, seconds=6)).ok
    assert _actions(db)[-8:] == [
        "login.failed",
        "login.failed",
        "login.failed",
        "login.failed",
        "login.failed",
        "account.locked",
        "login.refused_locked",
        "login",
    ]
    # a success resets the counter: four more failures do not lock
    for i in range(4):
        assert isinstance(
            _login(db, "x", T0 + timedelta(hours=1, seconds=i)).error, accounts.BadCredentials
        )
    assert _login(db, PW, T0 + timedelta(hours=1, minutes=1)).ok


def test_unknown_address_fails_like_a_wrong_password(db) -> None:
    with db() as s, s.begin():
        out = accounts.authenticate(s, "nikdo@example.cz", PW, now=T0, policy=POLICY)
    assert isinstance(out.error, accounts.BadCredentials) and out.user is None
    assert _actions(db) == ["login.failed"]


def test_reset_link_single_use_expiring_lifts_the_lock_and_ends_sessions(db) -> None:
    uid = _register(db)
    for i in range(5):
        _login(db, "x", T0 + timedelta(seconds=i))
    with db() as s, s.begin():
        session_token = accounts.issue_token(
            s, s.get(User, uid), TokenPurpose.SESSION, now=T0, ttl=timedelta(hours=1)
        )
    with db() as s, s.begin():
        _user, old = accounts.request_reset(s, "jana.nova@example.cz", now=T0, policy=POLICY)
    with db() as s, s.begin():
        _user, raw = accounts.request_reset(s, "jana.nova@example.cz", now=T0, policy=POLICY)
        assert accounts.request_reset(s, "nikdo@example.cz", now=T0, policy=POLICY) is None
    with pytest.raises(accounts.LinkInvalid), db() as s, s.begin():  # superseded by the new one
        accounts.reset_password(s, old, "Nove-heslo-8", now=T0)
    with pytest.raises(accounts.WeakPassword), db() as s, s.begin():
        accounts.reset_password(s, raw, "slabe", now=T0)
    with pytest.raises(accounts.LinkInvalid), db() as s, s.begin():
        accounts.reset_password(s, raw, "Nove-heslo-8", now=T0 + POLICY.reset_link_ttl)
    with db() as s, s.begin():
        accounts.reset_password(s, raw, "Nove-heslo-8", now=T0 + timedelta(minutes=5))
    with pytest.raises(accounts.LinkInvalid), db() as s, s.begin():
        accounts.reset_password(s, raw, "Jine-heslo-9", now=T0 + timedelta(minutes=6))
    with db() as s:
        assert (
            accounts.user_for_token(
                s, session_token, (TokenPurpose.SESSION,), now=T0 + timedelta(minutes=7)
            )
            is None
        )
    assert _login(db, "Nove-heslo-8", T0 + timedelta(minutes=7)).ok  # lock lifted
    assert "password.reset" in _actions(db)


def test_sessions_and_api_tokens_expire_and_can_be_revoked(db) -> None:
    uid = _register(db)
    with db() as s, s.begin():
        u = s.get(User, uid)
        api = accounts.issue_token(s, u, TokenPurpose.API, now=T0, ttl=timedelta(days=1))
        sess = accounts.issue_token(s, u, TokenPurpose.SESSION, now=T0, ttl=timedelta(hours=1))
    with db() as s:
        assert accounts.user_for_token(s, api, (TokenPurpose.API,), now=T0)[0].id == uid
        # a session token is not an API token and the other way round
        assert accounts.user_for_token(s, sess, (TokenPurpose.API,), now=T0) is None
        assert accounts.user_for_token(s, api, (TokenPurpose.SESSION,), now=T0) is None
        assert (
            accounts.user_for_token(s, sess, (TokenPurpose.SESSION,), now=T0 + timedelta(hours=1))
            is None
        )
    with db() as s, s.begin():
        accounts.revoke_token(s, api, now=T0)
    with db() as s:
        assert accounts.user_for_token(s, api, (TokenPurpose.API,), now=T0) is None


def test_role_change_is_audited_with_from_and_to(db) -> None:
    _register(db)
    with db() as s, s.begin():
        accounts.set_role(s, "jana.nova@example.cz", "contractual", actor="cli:root", now=T0)
    with pytest.raises(accounts.UnknownRole), db() as s, s.begin():
        accounts.set_role(s, "jana.nova@example.cz", "king", actor="cli:root", now=T0)
    with db() as s:
        e = s.execute(
            select(AuditEntry).where(AuditEntry.action == "account.role_changed")
        ).scalar_one()
        assert (e.actor, e.details) == ("cli:root", {"from": "registered", "to": "contractual"})
        assert e.subject == "Jana.Nova@example.cz"
        assert verify_chain(s).ok


def test_email_change_takes_effect_by_the_link_and_keeps_old_filings_visible(db) -> None:
    uid = _register(db)
    with db() as s, s.begin():
        u = s.get(User, uid)
        with pytest.raises(accounts.BadCredentials):
            accounts.email_change_token(s, u, "nova@example.cz", "wrong", now=T0, policy=POLICY)
        raw, new = accounts.email_change_token(s, u, "nova@example.cz", PW, now=T0, policy=POLICY)
    with db() as s, s.begin():
        accounts.verify_email(s, raw, now=T0)
    with db() as s:
        u = s.get(User, uid)
        assert u.email == new == "nova@example.cz"
        assert u.addresses == ["nova@example.cz", "Jana.Nova@example.cz"]


def test_deleted_account_is_erased_after_the_period(db) -> None:
    uid = _register(db, role=Role.REGISTERED)
    with db() as s, s.begin():
        accounts.delete_account(s, s.get(User, uid), PW, now=T0, policy=POLICY)
    assert not _login(db, PW, T0 + timedelta(minutes=1)).ok
    with db() as s, s.begin():
        assert accounts.erase_due(s, now=T0 + timedelta(days=29)) == 0
    with db() as s, s.begin():
        assert accounts.erase_due(s, now=T0 + timedelta(days=30)) == 1
    with db() as s:
        u = s.get(User, uid)
        assert (u.email, u.first_name, u.surname, u.password_hash) == (
            f"erased-{uid}@invalid",
            "",
            "",
            "",
        )
        assert verify_chain(s).ok


def test_account_unused_for_five_years_lapses_then_is_erased(db) -> None:
    uid = _register(db)
    used = _register(db, email="pouziva@example.cz")
    later = T0 + timedelta(days=4 * 365)
    with db() as s, s.begin():
        u = s.get(User, used)
        u.last_login_at = later
    five_years = T0 + timedelta(days=5 * 365 + 2)
    with db() as s, s.begin():
        assert accounts.lapse_unused(s, now=T0 + timedelta(days=5 * 365), policy=POLICY) == 0
        assert accounts.lapse_unused(s, now=five_years, policy=POLICY) == 1
    with db() as s:
        assert s.get(User, uid).deleted_at == five_years
        assert s.get(User, used).deleted_at is None
    with db() as s, s.begin():
        assert accounts.erase_due(s, now=five_years + POLICY.erase_after) == 1
    assert "account.lapsed" in _actions(db)
