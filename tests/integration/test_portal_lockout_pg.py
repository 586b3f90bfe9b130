"""The lockout counts every wrong password even when they arrive at once (PostgreSQL, where
a read-modify-write of the counter without a row lock would lose some)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import select

from filing_registry import AuditEntry
from podatelna import accounts
from podatelna.app import App
from podatelna.config import load_settings
from tests.users import make_user

pytestmark = pytest.mark.integration


def test_concurrent_wrong_passwords_lock_after_five(tmp_path, pg_url: str) -> None:
    app = App(
        load_settings(
            environ={}, overrides={"data_dir": str(tmp_path), "database": {"url": pg_url}}
        )
    )
    try:
        app.migrate()
        make_user(app, "souběh@example.cz")

        def attempt(_: int) -> str:
            with app.sessions() as s, s.begin():
                out = accounts.authenticate(
                    s,
                    "souběh@example.cz",
                    "Spatne-heslo-1",
                    now=app.clock.now(),
                    policy=app.account_policy,
                )
            return type(out.error).__name__

        with ThreadPoolExecutor(5) as pool:
            results = list(pool.map(attempt, range(5)))
        assert sorted(results) == ["AccountLocked"] + ["BadCredentials"] * 4
        with app.sessions() as s:
            actions = s.execute(select(AuditEntry.action)).scalars().all()
        assert actions.count("login.failed") == 5 and actions.count("account.locked") == 1
    finally:
        app.close()
