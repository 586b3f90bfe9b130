"""Reference numbers: the pattern, the year in Europe/Prague, gapless numbering (SQLite)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from filing_registry import (
    BadReferencePattern,
    Filing,
    Registration,
    check_pattern,
    filing_year,
    format_reference,
    make_engine,
    make_sessionmaker,
    migrate,
    next_number,
    register,
    take_numbers,
    transaction,
)
from tests.dbs import new_submission, sqlite_url

PATTERN = "{office}/{seq:05d}/{year}"
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _engine(tmp: Path) -> Engine:
    engine = make_engine(sqlite_url(tmp))
    migrate(engine)
    return engine


@pytest.fixture
def sessions(tmp_path: Path) -> Iterator[sessionmaker[Session]]:
    engine = _engine(tmp_path)
    yield make_sessionmaker(engine)
    engine.dispose()


@pytest.fixture(scope="module")
def shared_sessions(tmp_path_factory: pytest.TempPathFactory) -> Iterator[sessionmaker[Session]]:
    engine = _engine(tmp_path_factory.mktemp("numbering"))
    yield make_sessionmaker(engine)
    engine.dispose()


def _register(
    sessions: sessionmaker[Session], received_at: datetime, office: str = "MMO"
) -> tuple[int, int, str]:
    with transaction(sessions) as session:
        sub = new_submission(received_at)
        session.add(sub)
        filing = register(session, sub, Registration(office=office, pattern=PATTERN), now=NOW)
        return filing.year, filing.seq, filing.reference


# -- the pattern ------------------------------------------------------------------------------


def test_format_reference_fills_office_padded_seq_and_year() -> None:
    assert format_reference(PATTERN, "MMO", 42, 2026) == "MMO/00042/2026"
    assert format_reference("{year}-{seq}", "MMO", 7, 2027) == "2027-7"


@pytest.mark.parametrize(
    "pattern",
    ["{office}/{seq:05d}/{year}", "{seq}/{year}", "{year}/{office}-{seq:06d}"],
)
def test_check_pattern_accepts_patterns_with_seq_and_year(pattern: str) -> None:
    check_pattern(pattern)


@pytest.mark.parametrize(
    "pattern",
    [
        "{office}/{year}",  # no sequence number: every filing of a year the same number
        "{office}/{seq:05d}",  # no year: numbers repeat every year
        "{office}/{seq}/{year}/{clerk}",  # unknown placeholder
        "{office}/{seq:q}/{year}",  # bad format spec
        "{office}/{seq}/{year}/{0}",  # positional placeholder
        "{office}/{seq/{year}",  # unbalanced brace
    ],
)
def test_check_pattern_refuses_bad_patterns(pattern: str) -> None:
    with pytest.raises(BadReferencePattern) as info:
        check_pattern(pattern)
    assert info.value.code == "bad_reference_pattern"
    assert pattern in info.value.message


def test_format_reference_refuses_unknown_placeholder() -> None:
    with pytest.raises(BadReferencePattern, match="clerk"):
        format_reference("{office}/{clerk}/{seq}/{year}", "MMO", 1, 2026)


# -- the year -----------------------------------------------------------------------------------

LAST_SECOND_2026 = datetime(2026, 12, 31, 22, 59, 59, tzinfo=UTC)  # 23:59:59 CET
FIRST_SECOND_2027 = datetime(2026, 12, 31, 23, 0, 1, tzinfo=UTC)  # 00:00:01 CET, 1 Jan 2027


def test_filing_year_is_the_calendar_year_in_prague() -> None:
    assert filing_year(LAST_SECOND_2026) == 2026
    assert filing_year(FIRST_SECOND_2027) == 2027  # still 2026 in UTC
    # summer time: 22:30 UTC on 30 June is 00:30 CEST on 1 July, same year either way
    assert filing_year(datetime(2026, 6, 30, 22, 30, tzinfo=UTC)) == 2026


def test_filing_year_refuses_naive_time() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        filing_year(datetime(2026, 12, 31, 23, 59, 59))


def test_new_year_in_prague_starts_a_new_sequence(sessions: sessionmaker[Session]) -> None:
    assert _register(sessions, LAST_SECOND_2026) == (2026, 1, "MMO/00001/2026")
    assert _register(sessions, FIRST_SECOND_2027) == (2027, 1, "MMO/00001/2027")
    assert _register(sessions, LAST_SECOND_2026) == (2026, 2, "MMO/00002/2026")
    assert _register(sessions, FIRST_SECOND_2027) == (2027, 2, "MMO/00002/2027")


def test_each_office_has_its_own_sequence(sessions: sessionmaker[Session]) -> None:
    assert _register(sessions, NOW, "MMO")[1] == 1
    assert _register(sessions, NOW, "KUL")[1] == 1
    assert _register(sessions, NOW, "MMO")[1] == 2


# -- gapless ------------------------------------------------------------------------------------


class _Abort(Exception):
    pass


def test_rolled_back_registration_gives_its_number_back(sessions: sessionmaker[Session]) -> None:
    assert _register(sessions, NOW)[1] == 1
    taken: list[int] = []
    with pytest.raises(_Abort), transaction(sessions) as session:
        sub = new_submission(NOW)
        session.add(sub)
        taken.append(register(session, sub, Registration("MMO", PATTERN), now=NOW).seq)
        raise _Abort
    assert taken == [2]  # the number was taken inside the transaction ...
    assert _register(sessions, NOW) == (2026, 2, "MMO/00002/2026")  # ... and given back
    with sessions() as session:
        seqs = session.execute(select(Filing.seq).order_by(Filing.seq)).scalars().all()
    assert seqs == [1, 2]


@settings(max_examples=25, deadline=None)
@given(outcomes=st.lists(st.booleans(), min_size=1, max_size=30))
def test_numbers_taken_in_sequence_are_one_to_n(
    shared_sessions: sessionmaker[Session], outcomes: list[bool]
) -> None:
    """Commit (True) or roll back (False) registrations in any order: the committed ones are
    numbered 1..n in the order they were made, with no gap."""
    office = uuid.uuid4().hex[:12]  # a fresh sequence for each example
    committed: list[int] = []
    for commit in outcomes:
        if commit:
            committed.append(_register(shared_sessions, NOW, office)[1])
            continue
        with pytest.raises(_Abort), transaction(shared_sessions) as session:
            sub = new_submission(NOW)
            session.add(sub)
            register(session, sub, Registration(office, PATTERN), now=NOW)
            raise _Abort
    assert committed == list(range(1, len(committed) + 1))
    with shared_sessions() as session:
        stored = session.execute(
            select(Filing.seq).where(Filing.office == office).order_by(Filing.seq)
        ).scalars()
        assert list(stored) == committed


def test_several_numbers_are_taken_in_one_statement_and_rolled_back_together(
    sessions: sessionmaker[Session],
) -> None:
    with transaction(sessions) as session:
        assert take_numbers(session, "MMO", 2026, 3) == 3  # a new counter: 1, 2, 3
        assert next_number(session, "MMO", 2026) == 4
        assert take_numbers(session, "MMO", 2027, 2) == 2  # each year its own counter
    with pytest.raises(RuntimeError), transaction(sessions) as session:
        assert take_numbers(session, "MMO", 2026, 5) == 9
        raise RuntimeError("the registrations failed")
    with transaction(sessions) as session:
        assert take_numbers(session, "MMO", 2026, 1) == 5  # the five were never used
        with pytest.raises(ValueError, match="cannot take 0"):
            take_numbers(session, "MMO", 2026, 0)
