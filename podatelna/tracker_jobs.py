"""The tracker's jobs: the periodic sweep (lapse + reminders + notices; account retention rides
on the same tick) and linking re-filings.

:func:`sweep_tracker` is safe to run from several schedulers at once: each transition is a
conditional update (see :mod:`filing_registry.tracker`), and a notice is sent only by the sweeper
whose update won, after its transaction committed, with an idempotency key per filing, kind and
day (the outbox and SMTP notifiers keep one copy per key). A sweeper killed between committing a
lapse and sending its notice leaves the lapse without a ``notice.lapsed`` audit record; a later
sweep (after :data:`LAPSE_NOTICE_GRACE`) sends it then. Limit: a reminder is marked sent before it
is sent, so a sweeper killed in between loses that one reminder (never the lapse notice).
"""

from __future__ import annotations

import logging
import threading
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from filing_registry import AuditEntry, Filing, Submission, audit
from filing_registry.deadlines import PRAGUE, days_left
from filing_registry.journal import get_filing
from filing_registry.tracker import (
    InvalidConfirmation,
    LinkRefused,
    LinkResult,
    confirm,
    filing_deadline,
    lapse_due,
    link_refiling,
    mark_reminded,
    reminder_day_for,
    reminders_due,
)
from podatelna import failpoints
from validators import canonical_form_bytes
from validators.errors import ValidatorError

if TYPE_CHECKING:
    from podatelna.app import App

log = logging.getLogger(__name__)

__all__ = [
    "awaiting",
    "link_confirmation",
    "notify_confirmed",
    "record_confirmation",
    "run_periodically",
    "sweep_tracker",
]


def _today(now: datetime) -> date:
    return now.astimezone(PRAGUE).date()


def _notify(app: App, kind: str, filing: Filing, extra: dict[str, Any], *, day: date) -> bool:
    if "@" not in filing.sender:
        return False
    ctx = app.notice_context(filing.reference, filing.submission_id)
    ctx.update(extra)
    key = f"tracker:{kind}:{filing.id}:{day.isoformat()}"
    try:
        app.notify(kind, filing.sender, ctx, key=key)
    except Exception:
        log.exception("could not send the %s notice for filing %s", kind, filing.reference)
        return False
    return True


#: a lapse whose notice is not recorded this long after it is re-notified by the next sweep
#: (the sweeper that lapsed it was killed between its commit and the send)
LAPSE_NOTICE_GRACE = timedelta(minutes=10)


def _send_lapse_notice(app: App, filing_id: int) -> bool:
    """Send the lapse notice of ``filing_id`` unless already recorded; True if this call sent it.

    Under a lock on the filing row (SQLite transactions are serial), so of two senders one
    sends and records ``notice.lapsed`` in the audit log, and the other then finds the record.
    The key is per filing and last day: a repeat after a crash between the send and the commit
    is the same message (the outbox keeps one copy; SMTP receivers see the same Message-ID).
    """
    with app.sessions() as session, session.begin():
        session.execute(select(Filing.id).where(Filing.id == filing_id).with_for_update())
        filing = session.get(Filing, filing_id, populate_existing=True)
        assert filing is not None
        if filing.tracker_state != "lapsed" or filing.deadline is None:
            return False
        done = session.execute(
            select(AuditEntry.seq).where(
                AuditEntry.object_id == filing.reference, AuditEntry.action == "notice.lapsed"
            )
        ).first()
        if done is not None:
            return False
        if "@" not in filing.sender:
            sent = False
        else:
            ctx = app.notice_context(filing.reference, filing.submission_id)
            ctx.update(deadline=filing.deadline, rules=filing.deadline_rules or "sr")
            key = f"tracker:lapsed:{filing.id}:{filing.deadline.isoformat()}"
            try:
                app.notify("lapsed", filing.sender, ctx, key=key)
            except Exception:
                log.exception("could not send the lapse notice for filing %s", filing.reference)
                return False  # rolled back: the next sweep tries again
            sent = True
        audit(
            session,
            at=app.clock.now(),
            actor="system",
            action="notice.lapsed",
            object_type="filing",
            object_id=filing.reference,
            subject=filing.sender,
            details={"sent": sent, "deadline": filing.deadline.isoformat()},
        )
        return sent


def _unnotified_lapses(app: App, now: datetime) -> list[int]:
    """Lapsed filings whose lapse (older than the grace period) has no recorded notice."""
    with app.sessions() as session:
        lapsed = dict(
            session.execute(
                select(Filing.reference, Filing.id).where(Filing.tracker_state == "lapsed")
            ).all()
        )
        if not lapsed:
            return []
        acts = session.execute(
            select(AuditEntry.object_id, AuditEntry.action, AuditEntry.at).where(
                AuditEntry.action.in_(["filing.lapsed", "notice.lapsed"]),
                AuditEntry.object_type == "filing",
            )
        ).all()
    notified = {ref for ref, action, _ in acts if action == "notice.lapsed"}
    old = {
        ref
        for ref, action, at in acts
        if action == "filing.lapsed" and at < now - LAPSE_NOTICE_GRACE
    }
    return [lapsed[ref] for ref in sorted(old - notified) if ref in lapsed]


def sweep_tracker(app: App, now: datetime) -> dict[str, int]:
    """Lapse overdue filings and send today's reminders; returns counts of what *this* call did."""
    today = _today(now)
    with app.sessions() as session, session.begin():
        lapsed = [f.id for f in lapse_due(session, today=today, now=now)]
    failpoints.hit("tracker:after_lapse")
    counts = {"lapsed": len(lapsed), "reminded": 0, "notified": 0, "recovered": 0}
    for fid in lapsed:
        counts["notified"] += _send_lapse_notice(app, fid)
    for fid in _unnotified_lapses(app, now):
        if _send_lapse_notice(app, fid):
            counts["notified"] += 1
            counts["recovered"] += 1

    reminder_days = app.settings.tracker.reminder_days
    with app.sessions() as session:
        due = [f.id for f in reminders_due(session, today=today, reminder_days=reminder_days)]
    for fid in due:
        with app.sessions() as session:
            with session.begin():
                filing = session.get(Filing, fid)
                if filing is None or filing.deadline is None:
                    continue
                n = reminder_day_for(filing, today, reminder_days)
                if n is None or not mark_reminded(session, fid, n):
                    continue
            session.expire_all()
            filing = session.get(Filing, fid)
            assert filing is not None
            counts["reminded"] += 1
            left = days_left(filing_deadline(filing), today)
            counts["notified"] += _notify(
                app,
                "reminder",
                filing,
                {"deadline": filing.deadline, "days_left": left},
                day=today,
            )
    if any(counts.values()):
        log.info("tracker sweep at %s: %s", now.isoformat(), counts)
    return counts


def run_periodically(app: App, stop: threading.Event, *, interval: float | None = None) -> int:
    """Sweep every ``interval`` seconds (``tracker.sweep_interval_seconds``) until ``stop`` is
    set; returns the number of sweeps. A failed sweep is logged and retried at the next tick:
    every step is idempotent, so any number of these loops may run side by side."""
    period = interval if interval is not None else app.settings.tracker.sweep_interval_seconds
    sweeps = 0
    from podatelna.retention import sweep_accounts

    while not stop.is_set():
        try:
            sweep_tracker(app, app.clock.now())
            sweeps += 1
        except Exception:
            log.exception("tracker sweep failed; trying again in %s s", period)
        try:  # the accounts' retention rides on the same tick: both are cheap when idle
            sweep_accounts(app, app.clock.now())
        except Exception:
            log.exception("account retention sweep failed; trying again in %s s", period)
        stop.wait(period)
    return sweeps


def notify_confirmed(app: App, filing: Filing, *, day: date) -> bool:
    """Tell the sender their filing is confirmed (by the key, once per filing and day)."""
    conf = filing.confirmation or {}
    ctx: dict[str, Any] = {"how": conf.get("how")}
    if conf.get("on"):
        ctx["date"] = conf["on"]
    if conf.get("by_reference"):
        ctx["linked_reference"] = conf["by_reference"]
    return _notify(app, "confirmed", filing, ctx, day=day)


def _form_bytes(app: App, sub: Submission) -> bytes:
    form = next(f for f in sub.files if f.role == "form")
    return bytes(app.store.get("submissions", form.storage_key))


def _same_content(app: App, a: Submission, b: Submission) -> bool:
    try:
        return canonical_form_bytes(_form_bytes(app, a)) == canonical_form_bytes(
            _form_bytes(app, b)
        )
    except ValidatorError:
        return False


def filing_row(filing: Filing, today: date) -> dict[str, Any]:
    """A filing's tracker record for clerks (JSON-serialisable)."""
    left = days_left(filing_deadline(filing), today) if filing.deadline else None
    return {
        "reference": filing.reference,
        "sender": filing.sender,
        "sender_name": filing.sender_name,
        "received_at": filing.received_at.isoformat(),
        "form_type": filing.form_type,
        "subject": filing.subject,
        "tracker_state": filing.tracker_state,
        "deadline": filing.deadline.isoformat() if filing.deadline else None,
        "deadline_rules": filing.deadline_rules,
        "days_left": left,
        "reminders_sent": list(filing.reminders_sent or []),
        "confirmation": filing.confirmation,
    }


def awaiting(app: App, *, due_within: int | None = None) -> list[dict[str, Any]]:
    """Filings awaiting confirmation, by last day (then reference), with the days left."""
    today = _today(app.clock.now())
    with app.sessions() as session:
        rows = session.execute(
            select(Filing)
            .where(Filing.tracker_state == "awaiting_confirmation")
            .order_by(Filing.deadline, Filing.year, Filing.office, Filing.seq)
        ).scalars()
        out = [filing_row(f, today) for f in rows]
    if due_within is not None:
        out = [r for r in out if r["days_left"] is not None and r["days_left"] <= due_within]
    return out


def record_confirmation(
    app: App,
    reference: str,
    *,
    how: str | None = None,
    on: date | None = None,
    by_reference: str | None = None,
    note: str = "",
    actor: str,
) -> dict[str, Any]:
    """A clerk records a confirmation of ``reference`` (CLI and HTTP); notifies the sender.

    With ``by_reference`` the named re-filing must be signed or from a data box and have the
    same content; ``how`` is then taken from it. Raises the tracker's errors (with codes).
    """
    now = app.clock.now()
    with app.sessions() as session, session.begin():
        filing = get_filing(session, reference)
        if by_reference:
            refiling = get_filing(session, by_reference)
            equal = _same_content(app, refiling.submission, filing.submission)
            result = link_refiling(
                session, refiling, reference, canonical_equal=equal, actor=actor, now=now
            )
            if not result.linked:
                raise LinkRefused(result.code, result.reason)
            session.refresh(filing)
        else:
            if how not in ("posted", "received"):
                raise InvalidConfirmation(
                    f"A confirmation of filing {reference} is either a hand-signed copy "
                    "(posted or received, with its day) or a re-filing named by its reference "
                    "number."
                )
            confirm(session, filing, how=how, on=on, actor=actor, note=note, now=now)
        fid = filing.id
    with app.sessions() as session:
        done = session.get(Filing, fid)
        assert done is not None
        notify_confirmed(app, done, day=_today(now))
        return filing_row(done, _today(now))


def link_confirmation(app: App, submission_id: str) -> LinkResult | None:
    """Hook for the register stage: a registered re-filing naming ``confirms_reference``.

    Compares the canonical XML of both forms and, if they match (and the re-filing is signed or
    from a data box, in time), confirms the named filing and notifies its sender. ``None`` when
    the submission names no filing; otherwise the result, whose ``reason`` is for the clerk.
    """
    now = app.clock.now()
    with app.sessions() as session:
        sub = session.get(Submission, submission_id)
        if sub is None or not sub.confirms_reference:
            return None
        refiling = session.execute(
            select(Filing).where(Filing.submission_id == submission_id)
        ).scalar_one_or_none()
        if refiling is None:
            return None
        target = session.execute(
            select(Filing).where(Filing.reference == sub.confirms_reference)
        ).scalar_one_or_none()
        equal = target is not None and _same_content(app, sub, target.submission)
    with app.sessions() as session, session.begin():
        refiling = session.execute(
            select(Filing).where(Filing.submission_id == submission_id)
        ).scalar_one()
        result = link_refiling(
            session, refiling, sub.confirms_reference, canonical_equal=equal, now=now
        )
        target_id = None
        if result.linked:
            target_id = session.execute(
                select(Filing.id).where(Filing.reference == sub.confirms_reference)
            ).scalar_one()
    if result.linked and target_id is not None:
        with app.sessions() as session:
            target = session.get(Filing, target_id)
            assert target is not None
            notify_confirmed(app, target, day=_today(now))
    else:
        log.warning("re-filing %s not linked: %s", result.refiling_reference, result.reason)
    return result
