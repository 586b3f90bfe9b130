"""Accounts for tests: a verified user with a bearer token, made directly in the database.

``sign_in(client, email)`` creates the account (once per application) and puts its token on
the test client, so every request the test makes is that person's; ``bearer(app, email)`` gives
the header for one request in another person's name.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from podatelna import accounts
from podatelna.accounts import Role, TokenPurpose

PASSWORD = "Heslo-pro-test-1"


def make_user(
    app: Any,
    email: str,
    *,
    role: Role = Role.REGISTERED,
    first_name: str = "Jana",
    surname: str = "Nováková",
    verified: bool = True,
) -> str:
    """Create (or find) the account of ``email``; return a new API token for it."""
    now = app.clock.now()
    with app.sessions() as session, session.begin():
        user = accounts.find_user(session, email)
        if user is None:
            user = accounts.register(
                session,
                email=email,
                first_name=first_name,
                surname=surname,
                password=PASSWORD,
                now=now,
                role=role,
                verified=verified,
            )
        return accounts.issue_token(
            session, user, TokenPurpose.API, now=now, ttl=timedelta(days=30)
        )


def bearer(app: Any, email: str, **kw: Any) -> dict[str, str]:
    """The ``Authorization`` header of ``email``'s account (created when missing)."""
    return {"Authorization": f"Bearer {make_user(app, email, **kw)}"}


def sign_in(client: Any, email: str = "jana@example.cz", **kw: Any) -> str:
    """Make ``client`` (a TestClient of ``create_api``) act as ``email``'s account."""
    token = make_user(client.app.state.app, email, **kw)
    client.headers["Authorization"] = f"Bearer {token}"
    return token
