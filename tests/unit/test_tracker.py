"""The confirmation tracker's transitions on the registry alone (SQLite, explicit times)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from filing_registry import (
    AuditEntry,
    Filing,
    Registration,
    StatusEvent,
    make_engine,
    make_sessionmaker,
    migrate,
    register,
    verify_chain,
)
from filing_registry.deadlines import compute_deadline
from filing_registry.tracker import (
    ConfirmationLate,
    InvalidConfirmation,
    NotAwaitingConfirmation,
    confirm,
    correct,
    lapse_due,
    link_refiling,
    mark_reminded,
    reminders_due,
)
from tests.dbs import new_submission, sqlite_url

#: Monday 2 March 2026, 10:00 Prague: day 5 is Saturday 7 March -> last day Monday 9 March
FILED = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
LAST_DAY = date(2026, 3, 9)
NOW = datetime(2026, 3, 5, 8, 0, tzinfo=UTC)


@pytest.fixture
def sessions(tmp_path: Path) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(sqlite_url(tmp_path))
    migrate(engine)
    yield make_sessionmaker(engine)
    engine.dispose()


def _file(
    sessions: sessionmaker[Session],
    *,
    at: datetime = FILED,
    signed: bool = False,
    channel: str = "portal",
    sender: str = "jana@example.cz",
) -> int:
    with sessions() as session, session.begin():
        sub = new_submission(at, sender=sender)
        sub.channel = channel
        session.add(sub)
        session.flush()
        filing = register(
            session,
            sub,
            Registration(
                office="MMO",
                pattern="{office}/{seq:05d}/{year}",
                recognised_signature=signed,
                needs_confirmation=not signed,
                deadline_rules="sr",
                deadline=None if signed else compute_deadline(at, "sr").last_day,
            ),
            now=at,
        )
        return filing.id


def _get(session: Session, fid: int) -> Filing:
    filing = session.get(Filing, fid)
    assert filing is not None
    return filing


def _events(session: Session, fid: int) -> list[str]:
    rows = session.execute(
        select(StatusEvent.state).where(StatusEvent.filing_id == fid).order_by(StatusEvent.id)
    )
    return list(rows.scalars())


def _actions(session: Session) -> list[str]:
    rows = session.execute(select(AuditEntry.action).order_by(AuditEntry.seq))
    return list(rows.scalars())


def test_registered_unsigned_filing_awaits_with_the_shifted_last_day(
    sessions: sessionmaker[Session],
) -> None:
    fid = _file(sessions)
    with sessions() as session:
        filing = _get(session, fid)
        assert filing.tracker_state == "awaiting_confirmation"
        assert filing.deadline == LAST_DAY


@pytest.mark.parametrize(
    ("how", "on"),
    [("posted", date(2026, 3, 9)), ("received", date(2026, 3, 4))],
)
def test_confirm_by_hand_signed_copy_in_time(
    sessions: sessionmaker[Session], how: str, on: date
) -> None:
    fid = _file(sessions)
    with sessions() as session, session.begin():
        confirm(session, _get(session, fid), how=how, on=on, actor="clerk:novak", now=NOW)
    with sessions() as session:
        filing = _get(session, fid)
        assert filing.tracker_state == "confirmed"
        assert filing.confirmation is not None
        assert filing.confirmation["how"] == how
        assert filing.confirmation["on"] == on.isoformat()
        assert _events(session, fid)[-1] == "confirmed"
        assert _actions(session)[-1] == "filing.confirmed"
        assert verify_chain(session).ok


def test_late_confirmation_is_refused_with_a_sentence(sessions: sessionmaker[Session]) -> None:
    fid = _file(sessions)
    with sessions() as session, session.begin():
        with pytest.raises(ConfirmationLate) as err:
            confirm(
                session,
                _get(session, fid),
                how="received",
                on=date(2026, 3, 10),
                actor="clerk:novak",
                now=NOW,
            )
    assert err.value.code == "confirmation_late"
    assert "2026-03-10" in err.value.message and "2026-03-09" in err.value.message
    with sessions() as session:
        assert _get(session, fid).tracker_state == "awaiting_confirmation"
        assert _events(session, fid)[-1] == "awaiting_confirmation"


def test_lapse_then_late_recorded_but_posted_in_time_confirms(
    sessions: sessionmaker[Session],
) -> None:
    fid = _file(sessions)
    later = datetime(2026, 3, 10, 6, 0, tzinfo=UTC)
    with sessions() as session, session.begin():
        # the last day itself is not overdue
        assert lapse_due(session, today=LAST_DAY, now=later) == []
        lapsed = lapse_due(session, today=date(2026, 3, 10), now=later)
        assert [f.id for f in lapsed] == [fid]
    with sessions() as session, session.begin():
        assert lapse_due(session, today=date(2026, 3, 11), now=later) == []
        # posted on the last day, arrived and recorded on 12 March: still in time
        confirm(
            session,
            _get(session, fid),
            how="posted",
            on=LAST_DAY,
            actor="clerk:novak",
            note="obálka s razítkem pošty 9. 3.",
            now=datetime(2026, 3, 12, 9, 0, tzinfo=UTC),
        )
    with sessions() as session:
        assert _get(session, fid).tracker_state == "confirmed"
        assert _events(session, fid)[-2:] == ["lapsed", "confirmed"]
        assert _actions(session)[-2:] == ["filing.lapsed", "filing.confirmed"]
    with sessions() as session, session.begin():
        with pytest.raises(NotAwaitingConfirmation) as err:
            confirm(session, _get(session, fid), how="received", on=LAST_DAY, actor="x", now=NOW)
        assert err.value.code == "not_awaiting_confirmation"


def test_lapsed_filing_refuses_a_late_posting(sessions: sessionmaker[Session]) -> None:
    fid = _file(sessions)
    with sessions() as session, session.begin():
        lapse_due(session, today=date(2026, 3, 10), now=NOW)
    with sessions() as session, session.begin():
        with pytest.raises(ConfirmationLate):
            confirm(
                session,
                _get(session, fid),
                how="posted",
                on=date(2026, 3, 10),
                actor="clerk:novak",
                now=NOW,
            )
    with sessions() as session:
        assert _get(session, fid).tracker_state == "lapsed"


def test_signed_filing_needs_no_confirmation(sessions: sessionmaker[Session]) -> None:
    fid = _file(sessions, signed=True)
    with sessions() as session, session.begin():
        with pytest.raises(NotAwaitingConfirmation, match="needs no confirmation"):
            confirm(session, _get(session, fid), how="received", on=LAST_DAY, actor="x", now=NOW)


def test_confirmation_arguments_are_checked(sessions: sessionmaker[Session]) -> None:
    fid = _file(sessions)
    with sessions() as session, session.begin():
        filing = _get(session, fid)
        with pytest.raises(InvalidConfirmation):
            confirm(session, filing, how="fax", on=LAST_DAY, actor="x", now=NOW)
        with pytest.raises(InvalidConfirmation):
            confirm(session, filing, how="posted", on=None, actor="x", now=NOW)
        with pytest.raises(InvalidConfirmation):
            confirm(session, filing, how="data_box", on=LAST_DAY, actor="x", now=NOW)


def test_clerk_correction_is_audited_and_in_history(sessions: sessionmaker[Session]) -> None:
    fid = _file(sessions)
    with sessions() as session, session.begin():
        confirm(session, _get(session, fid), how="received", on=NOW.date(), actor="c", now=NOW)
    with sessions() as session, session.begin():
        with pytest.raises(InvalidConfirmation):
            correct(
                session, _get(session, fid), tracker_state="lapsed", note=" ", actor="c", now=NOW
            )
        correct(
            session,
            _get(session, fid),
            tracker_state="awaiting_confirmation",
            note="the copy was for another filing",
            actor="clerk:svoboda",
            now=NOW,
        )
    with sessions() as session:
        filing = _get(session, fid)
        assert filing.tracker_state == "awaiting_confirmation"
        assert filing.confirmation is None
        entry = session.execute(
            select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(1)
        ).scalar_one()
        assert entry.action == "filing.tracker_corrected"
        assert entry.actor == "clerk:svoboda"
        assert entry.details["from"]["tracker_state"] == "confirmed"
        assert entry.details["from"]["confirmation"]["how"] == "received"
        assert entry.details["note"] == "the copy was for another filing"
        assert _events(session, fid)[-1] == "awaiting_confirmation"
        assert verify_chain(session).ok


def test_reminders_due_on_configured_days_once(sessions: sessionmaker[Session]) -> None:
    fid = _file(sessions)
    with sessions() as session:
        # day 3 of the period is Thursday 5 March; day 2 is not a reminder day
        assert reminders_due(session, today=date(2026, 3, 4), reminder_days=(3, 5)) == []
        assert [
            f.id for f in reminders_due(session, today=date(2026, 3, 5), reminder_days=(3, 5))
        ] == [fid]
        # nominal day 5 is a Saturday: the last-day reminder waits for Monday 9 March
        assert reminders_due(session, today=date(2026, 3, 7), reminder_days=(3, 5)) == []
    with sessions() as session, session.begin():
        assert mark_reminded(session, fid, 3) is True
    with sessions() as session, session.begin():
        assert mark_reminded(session, fid, 3) is False
        assert reminders_due(session, today=date(2026, 3, 5), reminder_days=(3, 5)) == []
        assert [f.id for f in reminders_due(session, today=LAST_DAY, reminder_days=(3, 5))] == [fid]
    with sessions() as session:
        assert _get(session, fid).reminders_sent == [3]


def test_link_refiling_confirms_when_signed_and_equal(sessions: sessionmaker[Session]) -> None:
    target = _file(sessions)
    refiled = _file(sessions, at=datetime(2026, 3, 9, 20, 0, tzinfo=UTC), signed=True)
    with sessions() as session, session.begin():
        t, r = _get(session, target), _get(session, refiled)
        differs = link_refiling(session, r, t.reference, canonical_equal=False, now=NOW)
        assert not differs.linked and differs.code == "link_content_differs"
        assert "form data differ" in differs.reason
        unknown = link_refiling(session, r, "MMO/99999/2026", canonical_equal=True, now=NOW)
        assert unknown.code == "link_target_unknown"
        assert t.tracker_state == "awaiting_confirmation"
        ok = link_refiling(session, r, t.reference, canonical_equal=True, now=NOW)
        assert ok.linked, ok.reason
    with sessions() as session:
        t = _get(session, target)
        assert t.tracker_state == "confirmed"
        assert t.confirmation is not None
        assert t.confirmation["how"] == "resubmitted_signed"
        assert t.confirmation["by_reference"] == _get(session, refiled).reference
        # 20:00 UTC on 9 March is 21:00 in Prague: still the last day
        assert t.confirmation["on"] == "2026-03-09"


def test_link_refiling_refuses_unsigned_late_and_other_sender(
    sessions: sessionmaker[Session],
) -> None:
    target = _file(sessions)
    unsigned = _file(sessions, at=datetime(2026, 3, 4, 9, 0, tzinfo=UTC))
    late = _file(sessions, at=datetime(2026, 3, 9, 23, 30, tzinfo=UTC), channel="databox")
    other = _file(sessions, signed=True, sender="petr@example.cz")
    with sessions() as session, session.begin():
        ref = _get(session, target).reference
        r1 = link_refiling(session, _get(session, unsigned), ref, canonical_equal=True, now=NOW)
        assert r1.code == "link_not_signed"
        r2 = link_refiling(session, _get(session, late), ref, canonical_equal=True, now=NOW)
        assert r2.code == "confirmation_late"
        r3 = link_refiling(session, _get(session, other), ref, canonical_equal=True, now=NOW)
        assert r3.code == "link_other_sender"
        assert _get(session, target).tracker_state == "awaiting_confirmation"


def test_refused_link_is_told_to_the_clerk_once(sessions: sessionmaker[Session]) -> None:
    target = _file(sessions)
    refiled = _file(sessions, signed=True)
    for _ in range(2):
        with sessions() as session, session.begin():
            ref = _get(session, target).reference
            res = link_refiling(
                session, _get(session, refiled), ref, canonical_equal=False, now=NOW
            )
            assert res.code == "link_content_differs"
    with sessions() as session:
        assert _events(session, refiled).count("link_refused") == 1
        assert _actions(session).count("filing.link_refused") == 1
        note = session.execute(
            select(StatusEvent.note).where(StatusEvent.state == "link_refused")
        ).scalar_one()
        assert "form data differ" in note
