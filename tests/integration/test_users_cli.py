"""``podatelna users``: staff accounts from the command line, on the embedded defaults."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from sqlalchemy import select

from filing_registry import AuditEntry, verify_chain
from podatelna import accounts
from podatelna.app import App
from podatelna.cli import main
from podatelna.config import load_settings


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PODATELNA_DATA_DIR", str(tmp_path / "var"))
    return tmp_path


def _create(monkeypatch: pytest.MonkeyPatch, password: str, *extra: str) -> int:
    monkeypatch.setattr("sys.stdin", io.StringIO(password + "\n"))
    return main(
        ["users", "create", "referent@mmo.example", "--first-name", "Eva", "--surname", "Malá",
         "--password-stdin", *extra]
    )  # fmt: skip


def test_create_role_list_and_erase(env: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    assert _create(monkeypatch, "kratke") == 1
    assert "password" in capsys.readouterr().err.lower()  # says what is wrong with it

    assert _create(monkeypatch, "Spravne-Heslo-7") == 0
    assert "created referent@mmo.example (clerk)" in capsys.readouterr().out
    assert _create(monkeypatch, "Spravne-Heslo-7") == 1  # the address is taken
    capsys.readouterr()

    assert main(["users", "role", "referent@mmo.example", "admin"]) == 0
    assert main(["users", "list", "--json"]) == 0
    (row,) = json.loads(capsys.readouterr().out.split("\n", 1)[1])
    assert (row["email"], row["role"], row["verified"]) == ("referent@mmo.example", "admin", True)

    app = App(load_settings())
    try:
        with app.sessions() as session, session.begin():
            outcome = accounts.authenticate(
                session,
                "referent@mmo.example",
                "Spravne-Heslo-7",
                now=app.clock.now(),
                policy=app.account_policy,
            )
            assert outcome.user is not None  # the password from stdin is the one stored
        with app.sessions() as session:
            acts = [
                (e.actor.split(":")[0], e.action)
                for e in session.execute(select(AuditEntry).order_by(AuditEntry.seq)).scalars()
            ]
            assert ("cli", "account.registered") in acts
            assert ("cli", "account.role_changed") in acts
            assert verify_chain(session).ok
    finally:
        app.close()

    assert main(["users", "erase-due"]) == 0
    assert "erased the personal data of 0" in capsys.readouterr().out
