"""The queries and acts behind the portal and the API: a person's own filings, the journal
with filters, rejected submissions, and a clerk's status update.

Access rule, applied here and nowhere else: a registered or contractual user sees a submission
only when it was sent under one of their account's addresses; clerks and administrators see
all. Anything else is answered as *not found*, so a guessed id or reference reveals nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

import schemas
from filing_registry import Filing, NotFound, Submission, add_event, audit, get_filing
from podatelna.service import describe

if TYPE_CHECKING:
    from podatelna.app import App
    from podatelna.web.auth import Principal

#: the statuses a clerk may give a filing (the journal's "stav vyřízení")
STATUSES = ("registered", "in_progress", "settled", "forwarded", "set_aside")


class StatusInvalid(Exception):
    code = "status_invalid"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def owned(app: App, who: Principal, id_or_reference: str) -> dict[str, Any]:
    """``describe()`` of a submission or filing that ``who`` may see, else :class:`NotFound`."""
    try:
        info = describe(app, id_or_reference)
    except NotFound:
        info = None
    if info is None or not who.may_see(info.get("sender")):
        raise NotFound(f"No submission or filing of yours is known as {id_or_reference!r}.")
    return info


def form_name(code: str | None, lang: str = "cs") -> str:
    return schemas.form_name(code, lang)


def _row(sub: Submission) -> dict[str, Any]:
    filing = sub.filing
    return {
        "id": sub.id,
        "received_at": sub.received_at,
        "state": sub.state,
        "channel": sub.channel,
        "sender": sub.sender,
        "sender_name": sub.sender_name,
        "form_type": sub.form_type,
        "subject": sub.subject,
        "reference": filing.reference if filing else None,
        "office": filing.office if filing else None,
        "status": filing.status if filing else None,
        "tracker_state": filing.tracker_state if filing else None,
        "deadline": filing.deadline if filing else None,
        "has_receipt": bool(filing and filing.receipt_key),
        "reasons": sub.rejection_reasons or [],
    }


def my_submissions(app: App, who: Principal) -> list[dict[str, Any]]:
    """Everything ``who`` sent, newest first (rejected ones included, with their reasons)."""
    with app.sessions() as session:
        subs = session.execute(
            select(Submission)
            .where(Submission.sender.in_(who.addresses))
            .order_by(Submission.received_at.desc())
        ).scalars()
        return [_row(s) for s in subs]


@dataclass(frozen=True)
class JournalFilter:
    date_from: date | None = None
    date_to: date | None = None
    form_type: str = ""
    state: str = ""  # a tracker state or a status
    channel: str = ""


def journal(app: App, flt: JournalFilter, *, limit: int = 500) -> list[dict[str, Any]]:
    tz = ZoneInfo(app.settings.office.timezone)
    stmt = select(Filing)
    if flt.date_from:
        stmt = stmt.where(Filing.received_at >= datetime.combine(flt.date_from, time(), tz))
    if flt.date_to:
        end = datetime.combine(flt.date_to + timedelta(days=1), time(), tz)
        stmt = stmt.where(Filing.received_at < end)
    if flt.form_type:
        stmt = stmt.where(Filing.form_type == flt.form_type)
    if flt.channel:
        stmt = stmt.where(Filing.channel == flt.channel)
    if flt.state:
        stmt = stmt.where((Filing.tracker_state == flt.state) | (Filing.status == flt.state))
    stmt = stmt.order_by(Filing.year.desc(), Filing.seq.desc()).limit(limit)
    with app.sessions() as session:
        return [_row(f.submission) for f in session.execute(stmt).scalars()]


def rejected(app: App, *, limit: int = 200) -> list[dict[str, Any]]:
    with app.sessions() as session:
        subs = session.execute(
            select(Submission)
            .where(Submission.state == "rejected")
            .order_by(Submission.received_at.desc())
            .limit(limit)
        ).scalars()
        return [_row(s) for s in subs]


def update_status(app: App, reference: str, status: str, note: str, *, actor: str) -> None:
    """A clerk gives filing ``reference`` a new status, with a note: history and audit log."""
    if status not in STATUSES:
        raise StatusInvalid(f"There is no status {status!r}; choose one of {', '.join(STATUSES)}.")
    note = note.strip()[:2000]
    now = app.clock.now()
    with app.sessions() as session, session.begin():
        filing = get_filing(session, reference)
        old = filing.status
        filing.status = status
        add_event(
            session,
            filing.submission_id,
            f"status:{status}",
            now=now,
            filing=filing,
            actor=actor,
            note=note,
        )
        audit(
            session,
            at=now,
            actor=actor,
            action="filing.status_changed",
            object_type="filing",
            object_id=reference,
            subject=filing.sender,
            details={"from": old, "to": status, "note": note},
        )


def signature_summary(app: App, submission_id: str, lang: str) -> str:
    """The signature verdicts in plain words, in the page's language."""
    with app.sessions() as session:
        sub = session.get(Submission, submission_id)
        verification = (sub.verification if sub else None) or {}
    key = "summary_en" if lang == "en" else "summary_cs"
    return str(verification.get(key) or verification.get("summary_en") or "")


def content_file(
    app: App, who: Principal, submission_id: str, position: int
) -> tuple[str, str, bytes]:
    """A file of a submission (name, media type, bytes), for those who may open content."""
    owned(app, who, submission_id)
    with app.sessions() as session:
        sub = session.get(Submission, submission_id)
        if sub is None:
            raise NotFound(f"No submission has the id {submission_id!r}.")
        f = next((x for x in sub.files if x.position == position), None)
        if f is None:
            raise NotFound(f"The submission {submission_id} has no file number {position}.")
        name, media, key = f.name, f.media_type, f.storage_key
    return name, media, app.store.get("submissions", key)
