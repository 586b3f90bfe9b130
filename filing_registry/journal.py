"""The filing journal (podací deník): registering a submission gives it a reference number.

:func:`register` writes the journal entry, takes the reference number and records the status
event in the caller's transaction, so they commit or roll back together.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from filing_registry.errors import AlreadyRegistered, NotFound
from filing_registry.models import Filing, StatusEvent, Submission, TrackerState
from filing_registry.numbering import PRAGUE, filing_year, format_reference, next_number


@dataclass(frozen=True)
class Registration:
    """What the registry needs beyond the submission to enter it in the journal."""

    office: str
    pattern: str
    signatures: Sequence[dict[str, Any]] = ()
    recognised_signature: bool = False
    needs_confirmation: bool = False
    deadline_rules: str | None = None
    deadline: date | None = None
    tz: ZoneInfo = PRAGUE


def register(
    session: Session, submission: Submission, reg: Registration, *, now: datetime
) -> Filing:
    """Enter ``submission`` in the journal with the next reference number of its year."""
    existing = session.execute(
        select(Filing).where(Filing.submission_id == submission.id)
    ).scalar_one_or_none()
    if existing is not None:
        raise AlreadyRegistered(
            f"Submission {submission.id} is already registered as {existing.reference}."
        )
    year = filing_year(submission.received_at, reg.tz)
    seq = next_number(session, reg.office, year)
    reference = format_reference(reg.pattern, reg.office, seq, year)
    tracker = TrackerState.AWAITING if reg.needs_confirmation else TrackerState.NOT_REQUIRED
    filing = Filing(
        submission_id=submission.id,
        reference=reference,
        office=reg.office,
        year=year,
        seq=seq,
        received_at=submission.received_at,
        registered_at=now,
        channel=submission.channel,
        sender=submission.sender,
        sender_name=submission.sender_name,
        form_type=submission.form_type or "",
        form_version=submission.form_version or "",
        subject=submission.subject or "",
        signatures=list(reg.signatures),
        recognised_signature=reg.recognised_signature,
        tracker_state=tracker.value,
        deadline_rules=reg.deadline_rules if reg.needs_confirmation else None,
        deadline=reg.deadline if reg.needs_confirmation else None,
        reminders_sent=[],
    )
    session.add(filing)
    session.flush()
    note = f"reference number {reference}"
    if reg.needs_confirmation and reg.deadline:
        note += f"; confirmation needed by {reg.deadline.isoformat()}"
    add_event(session, submission.id, "registered", now=now, filing=filing, note=note)
    if reg.needs_confirmation:
        add_event(session, submission.id, tracker.value, now=now, filing=filing, note=note)
    return filing


def add_event(
    session: Session,
    submission_id: str,
    state: str,
    *,
    now: datetime,
    filing: Filing | None = None,
    actor: str = "system",
    note: str = "",
) -> StatusEvent:
    event = StatusEvent(
        submission_id=submission_id,
        filing_id=filing.id if filing is not None else None,
        at=now,
        state=state,
        actor=actor,
        note=note,
    )
    session.add(event)
    return event


def get_filing(session: Session, reference: str) -> Filing:
    filing = session.execute(
        select(Filing).where(Filing.reference == reference)
    ).scalar_one_or_none()
    if filing is None:
        raise NotFound(f"No filing has the reference number {reference!r}.")
    return filing


def journal_entries(
    session: Session, *, start: datetime | None = None, end: datetime | None = None
) -> list[Filing]:
    """Filings received in ``[start, end)``, in the order of their reference numbers."""
    stmt = select(Filing)
    if start is not None:
        stmt = stmt.where(Filing.received_at >= start)
    if end is not None:
        stmt = stmt.where(Filing.received_at < end)
    stmt = stmt.order_by(Filing.year, Filing.office, Filing.seq)
    return list(session.execute(stmt).scalars())
