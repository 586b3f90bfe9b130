"""The five-day confirmation tracker: confirming, correcting, lapsing and reminding.

A filing without a recognised signature waits in ``awaiting_confirmation`` with the last day of
its period (see :mod:`filing_registry.deadlines`). From there it is ``confirmed`` (a hand-signed
copy posted or received in time, or a signed or data-box re-filing linked to it) or ``lapsed``
(the sweeper found the last day passed). A confirmation recorded after the sweeper lapsed the
filing, but posted or received in time, still confirms it. A clerk can correct a wrong record.

Every transition is a conditional ``UPDATE ... WHERE id = ? AND tracker_state IN (...)`` in the
caller's transaction, so of two concurrent actors (two sweepers, a sweeper and a clerk) exactly
one makes it, and only that one writes the status event and the audit entry (and only that one
should send a notice). Every function takes the time explicitly; nothing here reads a clock.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from filing_registry.audit import append as audit
from filing_registry.deadlines import (
    PERIOD_DAYS,
    Deadline,
    confirmation_in_time,
    filing_day,
    is_reminder_day,
)
from filing_registry.errors import RegistryError
from filing_registry.journal import add_event
from filing_registry.models import Filing, StatusEvent, TrackerState

__all__ = [
    "CONFIRMATION_METHODS",
    "ConfirmationError",
    "ConfirmationLate",
    "InvalidConfirmation",
    "LinkRefused",
    "LinkResult",
    "NotAwaitingConfirmation",
    "confirm",
    "correct",
    "filing_deadline",
    "lapse_due",
    "link_refiling",
    "mark_reminded",
    "reminder_day_for",
    "reminders_due",
]

T = TrackerState
#: the ways a filing is confirmed; the first two need the day, the last two a linked filing
CONFIRMATION_METHODS = ("posted", "received", "resubmitted_signed", "data_box")
_OPEN = (T.AWAITING.value, T.LAPSED.value)


class ConfirmationError(RegistryError):
    """A confirmation cannot be recorded; ``code`` says which rule refused it."""

    code = "confirmation_error"


class ConfirmationLate(ConfirmationError):
    code = "confirmation_late"


class NotAwaitingConfirmation(ConfirmationError):
    code = "not_awaiting_confirmation"


class InvalidConfirmation(ConfirmationError):
    code = "invalid_confirmation"


class LinkRefused(ConfirmationError):
    """A re-filing did not confirm the filing it names; ``code`` is the :class:`LinkResult`'s."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


# -- reading a filing's period ------------------------------------------------------------------


def filing_deadline(filing: Filing) -> Deadline:
    """The filing's stored period as a :class:`Deadline` (the stored last day is authoritative)."""
    if filing.deadline is None:
        raise NotAwaitingConfirmation(
            f"Filing {filing.reference} has no confirmation deadline: it was "
            f"{_state_words(filing.tracker_state)}."
        )
    filed_on = filing_day(filing.received_at)
    return Deadline(
        filed_on=filed_on,
        rules=filing.deadline_rules or "sr",
        nominal_last_day=filed_on + timedelta(days=PERIOD_DAYS),
        last_day=filing.deadline,
    )


def _state_words(state: str) -> str:
    return {
        T.NOT_REQUIRED.value: "filed with a recognised signature or from a data box, so it "
        "needs no confirmation",
        T.AWAITING.value: "awaiting confirmation",
        T.CONFIRMED.value: "already confirmed",
        T.LAPSED.value: "lapsed",
    }.get(state, state)


def _transition(
    session: Session,
    filing: Filing,
    *,
    from_states: Sequence[str],
    values: dict[str, Any],
) -> bool:
    res = session.execute(
        update(Filing)
        .where(Filing.id == filing.id, Filing.tracker_state.in_(list(from_states)))
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if res.rowcount != 1:  # type: ignore[attr-defined]
        return False
    session.refresh(filing)
    return True


def _record(
    session: Session,
    filing: Filing,
    *,
    action: str,
    state: str,
    actor: str,
    note: str,
    now: datetime,
    details: dict[str, Any],
) -> None:
    add_event(session, filing.submission_id, state, now=now, filing=filing, actor=actor, note=note)
    audit(
        session,
        at=now,
        actor=actor,
        action=action,
        object_type="filing",
        object_id=filing.reference,
        subject=filing.sender,
        details=details,
    )


# -- confirming ---------------------------------------------------------------------------------


def confirm(
    session: Session,
    filing: Filing,
    *,
    how: str,
    on: date | None,
    by_reference: str | None = None,
    actor: str,
    note: str = "",
    now: datetime,
) -> Filing:
    """Record that ``filing`` was confirmed ``how`` on day ``on``.

    ``posted``: a hand-signed copy handed to the post on ``on``; ``received``: one delivered to
    the office on ``on``; ``resubmitted_signed`` / ``data_box``: the filing ``by_reference``,
    received on ``on``, repeated it. A day after the last day raises :class:`ConfirmationLate`;
    a filing neither awaiting confirmation nor lapsed raises :class:`NotAwaitingConfirmation`.
    """
    if how not in CONFIRMATION_METHODS:
        raise InvalidConfirmation(
            f"{how!r} is not a way to confirm a filing; use one of "
            f"{', '.join(CONFIRMATION_METHODS)}."
        )
    if how in ("posted", "received") and on is None:
        raise InvalidConfirmation(
            f"A confirmation of filing {filing.reference} by a hand-signed copy needs the day it "
            f"was {how}."
        )
    if how in ("resubmitted_signed", "data_box") and not by_reference:
        raise InvalidConfirmation(
            f"A confirmation of filing {filing.reference} by a re-filing needs the reference "
            "number of that re-filing."
        )
    if filing.tracker_state not in _OPEN:
        raise NotAwaitingConfirmation(
            f"Filing {filing.reference} cannot be confirmed: it is "
            f"{_state_words(filing.tracker_state)}."
        )
    deadline = filing_deadline(filing)
    day = on if on is not None else filing_day(now)
    in_time = (
        confirmation_in_time(deadline, posted_on=day)
        if how == "posted"
        else confirmation_in_time(deadline, received_on=day)
    )
    if not in_time:
        raise ConfirmationLate(
            f"The confirmation of filing {filing.reference} is late: it was {_verb(how)} on "
            f"{day.isoformat()}, after the last day of the period, {deadline.last_day.isoformat()}"
            f", so it cannot confirm the filing."
        )
    previous = filing.tracker_state
    confirmation = {
        "how": how,
        "on": day.isoformat(),
        "by_reference": by_reference,
        "recorded_at": now.isoformat(),
        "recorded_by": actor,
        "note": note,
    }
    if not _transition(
        session,
        filing,
        from_states=[previous],
        values={"tracker_state": T.CONFIRMED.value, "confirmation": confirmation},
    ):
        session.refresh(filing)
        raise NotAwaitingConfirmation(
            f"Filing {filing.reference} changed while the confirmation was being recorded; it is "
            f"now {_state_words(filing.tracker_state)}."
        )
    text = f"confirmed: {_verb(how)} on {day.isoformat()}"
    if by_reference:
        text += f" as {by_reference}"
    if previous == T.LAPSED.value:
        text += " (in time, recorded after the filing had been marked lapsed)"
    if note:
        text += f"; {note}"
    _record(
        session,
        filing,
        action="filing.confirmed",
        state=T.CONFIRMED.value,
        actor=actor,
        note=text,
        now=now,
        details={"from": previous, "confirmation": confirmation},
    )
    return filing


def _verb(how: str) -> str:
    return {
        "posted": "posted",
        "received": "received at the office",
        "resubmitted_signed": "re-filed with a recognised signature",
        "data_box": "re-filed from a data box",
    }.get(how, how)


# -- correcting ---------------------------------------------------------------------------------


def correct(
    session: Session,
    filing: Filing,
    *,
    tracker_state: str,
    note: str,
    actor: str,
    now: datetime,
) -> Filing:
    """A clerk's correction of a wrong tracker record (any state to any state), with a reason.

    Going back to ``awaiting_confirmation`` clears the recorded confirmation and the reminders
    sent; the previous record is kept in the audit entry.
    """
    try:
        target = T(tracker_state)
    except ValueError:
        raise InvalidConfirmation(
            f"{tracker_state!r} is not a tracker state; use one of {', '.join(s.value for s in T)}."
        ) from None
    if not note.strip():
        raise InvalidConfirmation(
            f"A correction of filing {filing.reference} needs a note saying why the record was "
            "wrong."
        )
    if target is not T.NOT_REQUIRED and filing.deadline is None:
        raise InvalidConfirmation(
            f"Filing {filing.reference} has no confirmation deadline, so it cannot be set to "
            f"{target.value}."
        )
    was = filing.tracker_state
    previous: dict[str, Any] = {
        "tracker_state": was,
        "confirmation": filing.confirmation,
        "reminders_sent": list(filing.reminders_sent or []),
    }
    values: dict[str, Any] = {"tracker_state": target.value}
    if target in (T.AWAITING, T.LAPSED, T.NOT_REQUIRED):
        values["confirmation"] = None
    if target is T.AWAITING:
        values["reminders_sent"] = []
    if target is T.CONFIRMED:
        values["confirmation"] = {
            "how": "clerk_correction",
            "on": filing_day(now).isoformat(),
            "by_reference": None,
            "recorded_at": now.isoformat(),
            "recorded_by": actor,
            "note": note,
        }
    if not _transition(session, filing, from_states=[was], values=values):
        session.refresh(filing)
        raise NotAwaitingConfirmation(
            f"Filing {filing.reference} changed while the correction was being recorded; it is "
            f"now {_state_words(filing.tracker_state)}."
        )
    _record(
        session,
        filing,
        action="filing.tracker_corrected",
        state=target.value,
        actor=actor,
        note=f"corrected from {was} to {target.value}: {note}",
        now=now,
        details={"from": previous, "to": target.value, "note": note},
    )
    return filing


# -- lapsing ------------------------------------------------------------------------------------


def lapse_due(session: Session, *, today: date, now: datetime) -> list[Filing]:
    """Mark lapsed the awaiting filings whose last day is before ``today``.

    Returns only the filings *this* call moved; a concurrent sweeper that moved one first gets
    nothing for it (the conditional update matches no row), so the notice goes out once.
    """
    candidates = (
        session.execute(
            select(Filing)
            .where(Filing.tracker_state == T.AWAITING.value, Filing.deadline < today)
            .order_by(Filing.deadline, Filing.id)
        )
        .scalars()
        .all()
    )
    lapsed = []
    for filing in candidates:
        if not _transition(
            session,
            filing,
            from_states=[T.AWAITING.value],
            values={"tracker_state": T.LAPSED.value},
        ):
            continue
        assert filing.deadline is not None
        _record(
            session,
            filing,
            action="filing.lapsed",
            state=T.LAPSED.value,
            actor="system",
            note=f"not confirmed by the last day of the period, {filing.deadline.isoformat()}",
            now=now,
            details={"deadline": filing.deadline.isoformat(), "rules": filing.deadline_rules},
        )
        lapsed.append(filing)
    return lapsed


# -- reminding ----------------------------------------------------------------------------------


def reminder_day_for(filing: Filing, today: date, reminder_days: Iterable[int]) -> int | None:
    """The configured reminder day (``3``, ``5``...) that ``today`` is for ``filing``, if any."""
    deadline = filing_deadline(filing)
    for n in sorted(set(reminder_days)):
        if is_reminder_day(deadline, today, [n]):
            return n
    return None


def reminders_due(session: Session, *, today: date, reminder_days: Iterable[int]) -> list[Filing]:
    """Awaiting filings for which ``today`` is a reminder day not yet reminded."""
    days = tuple(reminder_days)
    candidates = (
        session.execute(
            select(Filing)
            .where(Filing.tracker_state == T.AWAITING.value, Filing.deadline >= today)
            .order_by(Filing.deadline, Filing.id)
        )
        .scalars()
        .all()
    )
    due = []
    for filing in candidates:
        n = reminder_day_for(filing, today, days)
        if n is not None and n not in (filing.reminders_sent or []):
            due.append(filing)
    return due


def mark_reminded(session: Session, filing_id: int, day: int) -> bool:
    """Record that the reminder of period day ``day`` went to filing ``filing_id``'s sender.

    True for exactly one caller: the row is locked (``FOR UPDATE`` on PostgreSQL; SQLite
    transactions are serial) and the day is added only if absent and the filing still awaits.
    """
    sent = session.execute(
        select(Filing.reminders_sent)
        .where(Filing.id == filing_id, Filing.tracker_state == T.AWAITING.value)
        .with_for_update()
    ).scalar_one_or_none()
    if sent is None:
        return False
    days = [int(d) for d in sent]
    if day in days:
        return False
    res = session.execute(
        update(Filing)
        .where(Filing.id == filing_id, Filing.tracker_state == T.AWAITING.value)
        .values(reminders_sent=sorted([*days, day]))
        .execution_options(synchronize_session=False)
    )
    return res.rowcount == 1  # type: ignore[attr-defined]


# -- linking a re-filing ------------------------------------------------------------------------


@dataclass(frozen=True)
class LinkResult:
    """Whether a re-filing confirmed the filing it names, and if not, why (for the clerk)."""

    linked: bool
    target_reference: str
    refiling_reference: str
    code: str = "linked"
    reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "linked": self.linked,
            "target_reference": self.target_reference,
            "refiling_reference": self.refiling_reference,
            "code": self.code,
            "reason": self.reason,
        }


def _record_refusal(
    session: Session,
    refiling: Filing,
    target_reference: str,
    code: str,
    reason: str,
    *,
    actor: str,
    now: datetime,
) -> None:
    """Put the reason in the re-filing's history (where the clerk sees it) and the audit log,
    once: a repeated attempt with the same outcome adds nothing."""
    note = f"does not confirm {target_reference}: {reason}"
    seen = session.execute(
        select(StatusEvent.id).where(
            StatusEvent.filing_id == refiling.id,
            StatusEvent.state == "link_refused",
            StatusEvent.note == note,
        )
    ).first()
    if seen is not None:
        return
    add_event(
        session,
        refiling.submission_id,
        "link_refused",
        now=now,
        filing=refiling,
        actor=actor,
        note=note,
    )
    audit(
        session,
        at=now,
        actor=actor,
        action="filing.link_refused",
        object_type="filing",
        object_id=refiling.reference,
        subject=refiling.sender,
        details={"target": target_reference, "code": code, "reason": reason},
    )


def link_refiling(
    session: Session,
    refiling: Filing,
    target_reference: str,
    *,
    canonical_equal: bool,
    actor: str = "system",
    now: datetime,
) -> LinkResult:
    """Confirm the filing ``target_reference`` by ``refiling`` (signed, or from a data box).

    The re-filing confirms only if it carries a recognised signature or came through a data
    box, its form content is the same (``canonical_equal``, compared by the caller on canonical
    XML) and it was received by the last day. Otherwise the target does not change; the reason
    goes into the result, the re-filing's status history (``link_refused``) and the audit log.
    """

    def refused(code: str, reason: str) -> LinkResult:
        _record_refusal(session, refiling, target_reference, code, reason, actor=actor, now=now)
        return LinkResult(False, target_reference, refiling.reference, code, reason)

    target = session.execute(
        select(Filing).where(Filing.reference == target_reference)
    ).scalar_one_or_none()
    if target is None:
        return refused(
            "link_target_unknown",
            f"Filing {refiling.reference} names {target_reference!r} as the filing it confirms, "
            "but no filing has that reference number.",
        )
    if target.id == refiling.id:
        return refused(
            "link_target_self", f"Filing {refiling.reference} names itself as the one it confirms."
        )
    if refiling.channel == "databox":
        how = "data_box"
    elif refiling.recognised_signature:
        how = "resubmitted_signed"
    else:
        return refused(
            "link_not_signed",
            f"Filing {refiling.reference} cannot confirm {target_reference}: it has no recognised "
            "signature and did not come from a data box, so it needs confirming itself.",
        )
    if target.sender.lower() != refiling.sender.lower():
        return refused(
            "link_other_sender",
            f"Filing {refiling.reference} cannot confirm {target_reference}: they were sent by "
            "different senders.",
        )
    if not canonical_equal:
        return refused(
            "link_content_differs",
            f"Filing {refiling.reference} cannot confirm {target_reference}: the form data differ "
            "(compared as canonical XML), so it is a new filing, not a repetition.",
        )
    try:
        confirm(
            session,
            target,
            how=how,
            on=filing_day(refiling.received_at),
            by_reference=refiling.reference,
            actor=actor,
            note=f"linked re-filing {refiling.reference}",
            now=now,
        )
    except ConfirmationError as exc:
        return refused(exc.code, exc.message)
    return LinkResult(True, target_reference, refiling.reference)
