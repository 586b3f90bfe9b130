"""The filing journal (podací deník): registering a submission gives it a reference number.

:func:`enter` (plain statements, for the pipeline) and :func:`register` (ORM callers) write the
journal entry, take the reference number and record the status events in the caller's
transaction, so they commit or roll back together.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import Table, insert, select, text
from sqlalchemy.orm import Session

from filing_registry.db import Executor, Pending, dialect_of
from filing_registry.errors import AlreadyRegistered, NotFound
from filing_registry.models import Filing, StatusEvent, TrackerState
from filing_registry.numbering import PRAGUE, filing_year, format_reference, next_number

_FILINGS: Table = Filing.__table__  # type: ignore[assignment]
_EVENTS: Table = StatusEvent.__table__  # type: ignore[assignment]
_INSERT_EVENTS = insert(_EVENTS)


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


class Registrable(Protocol):
    """What the journal copies from a submission (an ORM ``Submission`` or a plain snapshot)."""

    @property
    def id(self) -> str: ...
    @property
    def received_at(self) -> datetime: ...
    @property
    def channel(self) -> str: ...
    @property
    def sender(self) -> str: ...
    @property
    def sender_name(self) -> str: ...
    @property
    def form_type(self) -> str | None: ...
    @property
    def form_version(self) -> str | None: ...
    @property
    def subject(self) -> str | None: ...


@dataclass(frozen=True)
class Entry:
    """A journal entry just written: its row id, reference number, year and sequence number."""

    id: int
    reference: str
    year: int
    seq: int


#: PostgreSQL: the journal entry and its status lines in one statement
_PG_ENTRY = text(
    """
WITH f AS (
    INSERT INTO filings (submission_id, reference, office, year, seq, received_at,
        registered_at, channel, sender, sender_name, form_type, form_version, subject,
        signatures, recognised_signature, status, tracker_state, deadline_rules, deadline,
        reminders_sent, receipt_id)
    VALUES (:submission_id, :reference, :office, :year, :seq, :received_at,
        :registered_at, :channel, :sender, :sender_name, :form_type, :form_version, :subject,
        CAST(:signatures AS JSON), :recognised_signature, 'registered', :tracker_state,
        :deadline_rules, :deadline, CAST('[]' AS JSON), :receipt_id)
    RETURNING id
)
INSERT INTO status_events (submission_id, filing_id, at, state, actor, note)
SELECT :submission_id, f.id, :registered_at, st.state, 'system', :note
FROM f, unnest(CAST(:states AS TEXT[])) WITH ORDINALITY AS st (state, n)
ORDER BY st.n
RETURNING filing_id
"""
)


def enter(
    executor: Executor,
    submission: Registrable,
    reg: Registration,
    *,
    now: datetime,
    receipt_id: str | None = None,
    defer: list[Pending] | None = None,
    seq: int | None = None,
) -> Entry:
    """Write the journal entry of ``submission`` with the next reference number of its year,
    and its status events, in the caller's transaction (plain statements, no ORM objects).

    The counter row is locked from the moment the number is taken until the transaction ends;
    the caller keeps the rest of the transaction short. With ``defer`` (PostgreSQL), only the
    number is taken now and the entry's statement is added to ``defer``, for the caller to send
    together with its commit (the entry's ``id`` is then 0). A submission has at most one entry
    (unique ``filings.submission_id``): a second one fails and rolls its transaction back.
    ``seq``: the number, taken already in this transaction for this entry by the caller (see
    :func:`filing_registry.numbering.take_numbers`: several entries numbered in one statement).
    """
    year = filing_year(submission.received_at, reg.tz)
    if seq is None:
        seq = next_number(executor, reg.office, year)
    reference = format_reference(reg.pattern, reg.office, seq, year)
    tracker = TrackerState.AWAITING if reg.needs_confirmation else TrackerState.NOT_REQUIRED
    note = f"reference number {reference}"
    if reg.needs_confirmation and reg.deadline:
        note += f"; confirmation needed by {reg.deadline.isoformat()}"
    states = ["registered"] + ([tracker.value] if reg.needs_confirmation else [])
    row = {
        "submission_id": submission.id,
        "reference": reference,
        "office": reg.office,
        "year": year,
        "seq": seq,
        "received_at": submission.received_at,
        "registered_at": now,
        "channel": submission.channel,
        "sender": submission.sender,
        "sender_name": submission.sender_name,
        "form_type": submission.form_type or "",
        "form_version": submission.form_version or "",
        "subject": submission.subject or "",
        "signatures": list(reg.signatures),
        "recognised_signature": reg.recognised_signature,
        "tracker_state": tracker.value,
        "deadline_rules": reg.deadline_rules if reg.needs_confirmation else None,
        "deadline": reg.deadline if reg.needs_confirmation else None,
        "receipt_id": receipt_id,
    }
    if dialect_of(executor) == "postgresql":
        params = dict(row, signatures=json.dumps(row["signatures"]), note=note, states=states)
        if defer is not None:
            defer.append(Pending(_PG_ENTRY, params))
            return Entry(0, reference, year, seq)
        filing_id = executor.execute(_PG_ENTRY, params).scalars().first()
        return Entry(int(filing_id or 0), reference, year, seq)
    filing_id = executor.execute(
        insert(_FILINGS)
        .values(dict(row, status="registered", reminders_sent=[]))
        .returning(_FILINGS.c.id)
    ).scalar_one()
    insert_events(
        executor,
        [
            {"submission_id": submission.id, "filing_id": filing_id, "state": st, "note": note}
            for st in states
        ],
        now=now,
    )
    return Entry(filing_id, reference, year, seq)


def register(
    session: Session, submission: Registrable, reg: Registration, *, now: datetime
) -> Filing:
    """Enter ``submission`` in the journal with the next reference number of its year (ORM
    callers: returns the loaded :class:`Filing`)."""
    existing = session.execute(
        select(Filing.reference).where(Filing.submission_id == submission.id)
    ).scalar_one_or_none()
    if existing is not None:
        raise AlreadyRegistered(f"Submission {submission.id} is already registered as {existing}.")
    session.flush()
    entry = enter(session, submission, reg, now=now)
    return session.get_one(Filing, entry.id)


def insert_events(executor: Executor, rows: Sequence[Mapping[str, Any]], *, now: datetime) -> None:
    """Status history lines in one statement: ``submission_id``, ``state``, optional
    ``filing_id``, ``actor`` (default ``system``) and ``note``, all at ``now``."""
    executor.execute(
        _INSERT_EVENTS,
        [
            {
                "submission_id": r["submission_id"],
                "filing_id": r.get("filing_id"),
                "at": now,
                "state": r["state"],
                "actor": r.get("actor", "system"),
                "note": r.get("note", ""),
            }
            for r in rows
        ],
    )


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
