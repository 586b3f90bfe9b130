"""Sending-system tokens: shown once, hashed at rest, scoped to sender boxes, revocable."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text

from filing_registry import AuditEntry, make_engine, make_sessionmaker, migrate
from intake.databox import (
    SenderBoxNotAllowed,
    TokenInvalid,
    TokenMissing,
    TokenRevoked,
    authenticate,
    create_token,
    list_tokens,
    require_box,
    revoke_token,
)
from tests.dbs import sqlite_url

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def sessions(tmp_path: Path):  # type: ignore[no-untyped-def]
    engine = make_engine(sqlite_url(tmp_path))
    migrate(engine)
    yield make_sessionmaker(engine)
    engine.dispose()


def test_token_is_shown_once_and_only_its_hash_is_stored(sessions) -> None:  # type: ignore[no-untyped-def]
    token, info = create_token(sessions, sender_boxes=["abc1234", "def5678"], name="GW", now=NOW)
    assert token.startswith(f"pdbx_{info.id}_")
    secret = token.rsplit("_", 1)[1]
    with sessions() as s:
        rows = s.execute(text("SELECT * FROM databox_tokens")).mappings().all()
    assert len(rows) == 1
    assert all(secret not in str(v) for v in rows[0].values())
    assert rows[0]["secret_sha256"] != secret and len(rows[0]["secret_sha256"]) == 64
    got = authenticate(sessions, f"Bearer {token}", now=NOW)
    assert got.id == info.id and got.sender_boxes == ("abc1234", "def5678")
    assert got.last_used_at == NOW
    with sessions() as s:
        actions = s.execute(select(AuditEntry.action)).scalars().all()
    assert "databox.token_created" in actions


@pytest.mark.parametrize(
    ("header", "error"),
    [
        (None, TokenMissing),
        ("", TokenMissing),
        ("Basic dXNlcjpwYXNz", TokenInvalid),
        ("Bearer nonsense", TokenInvalid),
    ],
)
def test_missing_or_malformed_token(sessions, header, error) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(error) as exc:
        authenticate(sessions, header, now=NOW)
    assert exc.value.status == 401


def test_wrong_secret_for_a_known_id_is_refused(sessions) -> None:  # type: ignore[no-untyped-def]
    token, _ = create_token(sessions, sender_boxes=["abc1234"], now=NOW)
    other, _ = create_token(sessions, sender_boxes=["abc1234"], now=NOW)
    forged = token.rsplit("_", 1)[0] + "_" + other.rsplit("_", 1)[1]
    with pytest.raises(TokenInvalid):
        authenticate(sessions, f"Bearer {forged}", now=NOW)


def test_revoked_token_is_refused_and_listed_as_revoked(sessions) -> None:  # type: ignore[no-untyped-def]
    token, info = create_token(sessions, sender_boxes=["abc1234"], now=NOW)
    later = NOW + timedelta(hours=1)
    assert revoke_token(sessions, info.id, now=later).revoked_at == later
    assert revoke_token(sessions, info.id, now=later + timedelta(hours=1)).revoked_at == later
    with pytest.raises(TokenRevoked) as exc:
        authenticate(sessions, f"Bearer {token}", now=later)
    assert exc.value.code == "token_revoked" and exc.value.status == 401
    (listed,) = list_tokens(sessions)
    assert listed.to_dict()["revoked"] is True and "secret" not in str(listed.to_dict())


def test_scope_of_sender_boxes(sessions) -> None:  # type: ignore[no-untyped-def]
    token, _ = create_token(sessions, sender_boxes=["abc1234"], now=NOW)
    info = authenticate(sessions, f"Bearer {token}", now=NOW)
    require_box(info, "abc1234")
    with pytest.raises(SenderBoxNotAllowed) as exc:
        require_box(info, "zzz9999")
    assert exc.value.status == 403


def test_box_ids_are_checked_when_creating(sessions) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match="7 lower-case"):
        create_token(sessions, sender_boxes=["ABC"], now=NOW)
    with pytest.raises(ValueError):
        create_token(sessions, sender_boxes=[], now=NOW)
