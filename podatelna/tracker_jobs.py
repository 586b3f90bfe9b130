"""The tracker's jobs: the periodic sweep (lapse + reminders + notices) and linking re-filings.

:func:`sweep_tracker` is safe to run from several schedulers at once: each transition is a
conditional update (see :mod:`filing_registry.tracker`), and a notice is sent only by the sweeper
whose update won, after its transaction committed, with an idempotency key per filing, kind and
day (the outbox and SMTP notifiers keep one copy per key). Limit: a sweeper killed between its
commit and the send loses that one notice (the state change is kept); the next sweep does not
resend it.
"""

from __future__ import annotations

import logging
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from filing_registry import Filing, Submission
from filing_registry.deadlines import PRAGUE, days_left
from filing_registry.tracker import (
    LinkResult,
    filing_deadline,
    lapse_due,
    link_refiling,
    mark_reminded,
    reminder_day_for,
    reminders_due,
)
from validators import canonical_form_bytes
from validators.errors import ValidatorError

if TYPE_CHECKING:
    from podatelna.app import App

log = logging.getLogger(__name__)

__all__ = ["link_confirmation", "notify_confirmed", "sweep_tracker"]


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


def sweep_tracker(app: App, now: datetime) -> dict[str, int]:
    """Lapse overdue filings and send today's reminders; returns counts of what *this* call did."""
    today = _today(now)
    with app.sessions() as session, session.begin():
        lapsed = [
            (f.id, f.reference, f.submission_id, f.sender, f.deadline, f.deadline_rules)
            for f in lapse_due(session, today=today, now=now)
        ]
    counts = {"lapsed": len(lapsed), "reminded": 0, "notified": 0}
    with app.sessions() as session:
        for fid, *_ in lapsed:
            filing = session.get(Filing, fid)
            assert filing is not None
            sent = _notify(
                app,
                "lapsed",
                filing,
                {"deadline": filing.deadline, "rules": filing.deadline_rules or "sr"},
                day=today,
            )
            counts["notified"] += sent

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
        equal = False
        if target is not None:
            try:
                equal = canonical_form_bytes(_form_bytes(app, sub)) == canonical_form_bytes(
                    _form_bytes(app, target.submission)
                )
            except ValidatorError:
                equal = False
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
