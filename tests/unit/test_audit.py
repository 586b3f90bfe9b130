"""The audit log: hash chain, tamper detection, a subject's own entries, ``podatelna audit``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from filing_registry import (
    AuditEntry,
    ChainReport,
    audit,
    entries_about,
    make_engine,
    make_sessionmaker,
    migrate,
    transaction,
    verify_chain,
)
from filing_registry.audit import entry_hash
from filing_registry.models import AuditHead
from podatelna.cli import main
from tests.dbs import sqlite_url

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

ACTS: list[tuple[str, str, str, str, str, dict[str, Any]]] = [
    ("jana@example.cz", "submit", "submission", "s1", "jana@example.cz", {"size": 1200}),
    ("system", "register", "filing", "1", "jana@example.cz", {"reference": "MMO/00001/2026"}),
    ("clerk:novak", "confirm", "filing", "1", "jana@example.cz", {"how": "posted"}),
    ("petr@example.cz", "submit", "submission", "s2", "petr@example.cz", {"size": 99}),
]


def _append_all(sessions: sessionmaker[Session]) -> None:
    for i, (actor, action, object_type, object_id, subject, details) in enumerate(ACTS):
        with transaction(sessions) as session:
            audit(
                session,
                at=T0 + timedelta(minutes=i),
                actor=actor,
                action=action,
                object_type=object_type,
                object_id=object_id,
                subject=subject,
                details=details,
            )


@contextmanager
def _sessions_at(url: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(url)
    migrate(engine)
    yield make_sessionmaker(engine)
    engine.dispose()


@pytest.fixture
def sessions(tmp_path: Path) -> Iterator[sessionmaker[Session]]:
    with _sessions_at(sqlite_url(tmp_path)) as factory:
        yield factory


def _verify(sessions: sessionmaker[Session]) -> ChainReport:
    with sessions() as session:
        return verify_chain(session)


def _sql(sessions: sessionmaker[Session], statement: str) -> None:
    with transaction(sessions) as session:
        session.execute(text(statement))


def test_empty_chain_is_intact(sessions: sessionmaker[Session]) -> None:
    report = _verify(sessions)
    assert report.ok and report.checked == 0


def test_appended_entries_form_one_chain_that_verifies(sessions: sessionmaker[Session]) -> None:
    _append_all(sessions)
    with sessions() as session:
        entries = session.execute(select(AuditEntry).order_by(AuditEntry.seq)).scalars().all()
    assert [e.seq for e in entries] == [1, 2, 3, 4]
    assert entries[0].prev_hash == "0" * 64
    for before, after in zip(entries, entries[1:], strict=False):
        assert after.prev_hash == before.hash
    assert len({e.hash for e in entries}) == 4
    assert entries[1].details == {"reference": "MMO/00001/2026"}
    assert entries[1].at == T0 + timedelta(minutes=1)
    report = _verify(sessions)
    assert report.ok and report.checked == 4 and report.broken_at is None
    assert report.to_dict() == {"ok": True, "checked": 4, "broken_at": None, "reason": None}
    assert json.loads(json.dumps(report.to_dict())) == report.to_dict()
    assert report.summary() == "audit chain intact: 4 entries checked"


def test_rolled_back_append_leaves_no_trace(sessions: sessionmaker[Session]) -> None:
    _append_all(sessions)
    with pytest.raises(RuntimeError), transaction(sessions) as session:
        audit(session, at=T0, actor="x", action="submit", object_type="submission", object_id="z")
        raise RuntimeError("abort")
    report = _verify(sessions)
    assert report.ok and report.checked == 4


def test_changed_details_break_the_chain_at_that_entry(sessions: sessionmaker[Session]) -> None:
    _append_all(sessions)
    _sql(
        sessions,
        'UPDATE audit_log SET details = \'{"reference": "MMO/00099/2026"}\' WHERE seq = 2',
    )
    report = _verify(sessions)
    assert not report.ok
    assert report.broken_at == 2
    assert report.checked == 1
    assert report.reason == "its content does not match its hash"
    assert "BROKEN at entry 2" in report.summary()


def test_rewritten_entry_with_recomputed_hash_breaks_the_next_link(
    sessions: sessionmaker[Session],
) -> None:
    """Changing an entry and recomputing its own hash is caught by the next entry's link."""
    _append_all(sessions)
    with transaction(sessions) as session:
        e = session.get(AuditEntry, 3)
        assert e is not None
        forged = entry_hash(
            e.prev_hash,
            e.seq,
            e.at,
            "clerk:svoboda",
            e.action,
            e.object_type,
            e.object_id,
            e.subject,
            e.details,
        )
        session.execute(
            text("UPDATE audit_log SET actor = 'clerk:svoboda', hash = :h WHERE seq = 3"),
            {"h": forged},
        )
    report = _verify(sessions)
    assert not report.ok
    assert report.checked == 3 and report.broken_at == 4
    assert report.reason == "it does not carry the previous entry's hash"


def test_deleted_entry_is_reported_missing(sessions: sessionmaker[Session]) -> None:
    _append_all(sessions)
    _sql(sessions, "DELETE FROM audit_log WHERE seq = 2")
    report = _verify(sessions)
    assert not report.ok
    assert report.broken_at == 2
    assert report.reason == "entry 2 is missing"


def test_deleted_last_entry_is_caught_by_the_head(sessions: sessionmaker[Session]) -> None:
    _append_all(sessions)
    _sql(sessions, "DELETE FROM audit_log WHERE seq = 4")
    report = _verify(sessions)
    assert not report.ok
    assert report.checked == 3 and report.broken_at == 4
    assert report.reason == "the chain head does not match the last entry"


def test_entries_about_a_subject_are_their_own_acts(sessions: sessionmaker[Session]) -> None:
    _append_all(sessions)
    with sessions() as session:
        jana = entries_about(session, "jana@example.cz")
        petr = entries_about(session, "petr@example.cz")
        clerk = entries_about(session, "clerk:novak")
        nobody = entries_about(session, "eva@example.cz")
    assert [(e.seq, e.action) for e in jana] == [(1, "submit"), (2, "register"), (3, "confirm")]
    assert [e.seq for e in petr] == [4]
    assert [e.seq for e in clerk] == [3]  # what the clerk did
    assert nobody == []


# -- podatelna audit verify ---------------------------------------------------------------------


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    data = tmp_path / "data"
    data.mkdir()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PODATELNA_DATA_DIR", str(data))
    return data


def test_cli_audit_verify_intact(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with _sessions_at(sqlite_url(data_dir, "podatelna.sqlite3")) as sessions:
        _append_all(sessions)
    assert main(["audit", "verify"]) == 0
    assert "audit chain intact: 4 entries checked" in capsys.readouterr().out
    assert main(["audit", "verify", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {
        "ok": True,
        "checked": 4,
        "broken_at": None,
        "reason": None,
    }


def test_cli_audit_verify_names_the_broken_entry(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with _sessions_at(sqlite_url(data_dir, "podatelna.sqlite3")) as sessions:
        _append_all(sessions)
        _sql(sessions, 'UPDATE audit_log SET details = \'{"how": "received"}\' WHERE seq = 3')
    assert main(["audit", "verify"]) == 1
    out = capsys.readouterr().out
    assert "audit chain BROKEN at entry 3: its content does not match its hash" in out
    assert main(["audit", "verify", "--json"]) == 1
    assert json.loads(capsys.readouterr().out) == {
        "ok": False,
        "checked": 2,
        "broken_at": 3,
        "reason": "its content does not match its hash",
    }


def test_session_reused_across_transactions_sees_other_writers(
    sessions: sessionmaker[Session],
) -> None:
    """The head is re-read under the lock, not taken from a session's stale identity map
    (sessions do not expire objects on commit)."""
    kw = {"actor": "system", "action": "note", "object_type": "filing", "object_id": "1"}
    with sessions() as long_lived:
        with long_lived.begin():
            audit(long_lived, at=T0, **kw)
            head = long_lived.get(AuditHead, 1)  # e.g. shown on a status page: stays mapped
            assert head is not None and head.seq == 1
        with transaction(sessions) as other:
            audit(other, at=T0, **kw)
        with long_lived.begin():
            assert audit(long_lived, at=T0, **kw).seq == 3
    report = _verify(sessions)
    assert report.ok and report.checked == 3


# -- the body split around the sequence number (PostgreSQL hashes entries server-side) -----------


@pytest.mark.parametrize(
    ("subject", "details"),
    [
        (None, {}),
        ("jana@example.cz", {"size": 1200}),
        ('a,"seq":0,"subject":b', {"seq": 0, "subject": "x"}),
        ("Žluťoučký kůň", {"nested": {"a": 1, "seq": 0, "subject": None}, "seq": 7}),
        ("x", {"list": [{"b": 2, "seq": 0, "subject": "s"}], "ü": "ß"}),
    ],
)
def test_body_around_seq_rebuilds_the_hashed_body(subject: str | None, details: Any) -> None:
    """``prefix + str(seq) + suffix`` is byte for byte the body ``entry_hash`` covers, even when
    ``details`` or ``subject`` contain text that looks like the ``seq`` field."""
    import hashlib

    from filing_registry.audit import body_around_seq

    args = (T0, "system", "submit", "submission", "s1", subject, details)
    prefix, suffix = body_around_seq(*args)
    prev = "ab" * 32
    for seq in (1, 9, 10, 12345):
        body = prefix + str(seq).encode() + suffix
        assert hashlib.sha256(prev.encode() + body).hexdigest() == entry_hash(prev, seq, *args)
