"""Sealed documents on demand: the copy (opis) of a filing, personal-data and journal exports.

Each is rendered (PDF/A-3b with its machine-readable content attached), sealed, and stored in
the object store under a stable key; the copy of a filing is issued once and adopted afterwards.
Exports are stored in the exports bucket and handed out through short-lived links: an S3
presigned URL, or on the filesystem backend a token signed with the application's secret.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from datetime import time as dtime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

import receipts
import schemas
from filing_registry import Filing, Submission, add_event, audit, entries_about, get_filing
from filing_registry import journal_entries as journal_rows
from podatelna.issuing import authority, issue_once, sender_of

if TYPE_CHECKING:
    from podatelna.app import App


class LinkInvalid(Exception):
    code = "link_invalid"


def issue_copy(app: App, reference: str) -> tuple[str, bytes]:
    """The sealed copy of filing ``reference`` (issued on first request, then the stored one)."""
    with app.sessions() as session:
        filing = get_filing(session, reference)
        sub = filing.submission
        form_file = next(f for f in sub.files if f.role == "form")
    key = receipts.copy_key(filing.reference, filing.received_at)

    def render() -> bytes:
        form_type = schemas.catalogue().get(filing.form_type)
        return receipts.render_copy(
            receipts.CopyData(
                reference=filing.reference,
                authority=authority(app),
                received_at=filing.received_at,
                form_name=form_type.name_cs if form_type else filing.form_type,
                form_xml=app.store.get("submissions", form_file.storage_key),
            )
        )

    pdf = issue_once(app, key, render)
    if filing.copy_key is not None:
        return key, pdf
    with app.sessions() as session, session.begin():
        f = get_filing(session, reference)
        if f.copy_key is None:
            f.copy_key = key
            now = app.clock.now()
            add_event(session, f.submission_id, "copy_issued", now=now, filing=f, note=key)
            audit(
                session,
                at=now,
                actor="system",
                action="copy.issued",
                object_type="filing",
                object_id=reference,
                subject=f.sender,
                details={"key": key},
            )
    return key, pdf


def stored_receipt(app: App, reference: str) -> bytes:
    with app.sessions() as session:
        filing = get_filing(session, reference)
    if not filing.receipt_key:
        raise receipts.ReceiptError(f"The filing {reference} has no receipt yet.")
    return app.store.get("receipts", filing.receipt_key)


@dataclass(frozen=True)
class Export:
    pdf_key: str
    data_key: str
    pdf: bytes
    data: bytes
    data_name: str


def personal_export(
    app: App, sender: str, *, actor: str = "system", former: Sequence[str] = ()
) -> Export:
    """Everything held about ``sender``: submissions, filings, verdicts, audit entries.

    ``former`` are addresses the same person used before (an account's e-mail changes): what
    was filed or recorded under them is theirs too and belongs in the export.
    """
    now = app.clock.now()
    addresses = list(dict.fromkeys([sender, *former]))
    with app.sessions() as session:
        subs = (
            session.execute(
                select(Submission)
                .where(Submission.sender.in_(addresses))
                .order_by(Submission.received_at)
            )
            .scalars()
            .all()
        )
        filings = (
            session.execute(
                select(Filing).where(Filing.sender.in_(addresses)).order_by(Filing.received_at)
            )
            .scalars()
            .all()
        )
        entries = entries_about(session, *addresses)
        name = next((s.sender_name for s in subs if s.sender_name), "")
        data = receipts.PersonalExport(
            sender=receipts.Sender(name or sender, email=sender),
            generated_at=now,
            authority=authority(app),
            submissions=[
                {
                    "id": s.id,
                    "received_at": s.received_at,
                    "channel": s.channel,
                    "state": s.state,
                    "form_type": s.form_type or "",
                    "subject": s.subject or "",
                    "files": [
                        {"name": f.name, "size": f.size, "sha256": f.sha256} for f in s.files
                    ],
                }
                for s in subs
            ],
            filings=[
                {
                    "reference": f.reference,
                    "received_at": f.received_at,
                    "form_type": f.form_type,
                    "subject": f.subject,
                    "status": f.status,
                    "tracker_state": f.tracker_state,
                    "deadline": f.deadline.isoformat() if f.deadline else "",
                }
                for f in filings
            ],
            verdicts=[
                {
                    "submission": s.id,
                    "recognised": bool((s.verification or {}).get("recognised_form")),
                    "summary": (s.verification or {}).get("summary_cs", ""),
                }
                for s in subs
                if s.verification
            ],
            audit_entries=[
                {
                    "seq": e.seq,
                    "at": e.at,
                    "actor": e.actor,
                    "action": e.action,
                    "object": f"{e.object_type}:{e.object_id}",
                }
                for e in entries
            ],
        )
    pdf = app.sealer.seal(receipts.render_personal_export(data), at=now)
    body = data.to_json()
    export_id = secrets.token_hex(4)  # two exports in one second get two keys
    export = Export(
        receipts.personal_export_key(sender, now, "pdf", export_id),
        receipts.personal_export_key(sender, now, "json", export_id),
        pdf,
        body,
        "export.json",
    )
    _store_export(app, export)
    with app.sessions() as session, session.begin():
        audit(
            session,
            at=now,
            actor=actor,
            action="export.personal",
            object_type="export",
            object_id=export.pdf_key[-64:],
            subject=sender,
            details={"key": export.pdf_key},
        )
    return export


def journal_export(app: App, date_from: date, date_to: date, *, actor: str = "system") -> Export:
    tz = ZoneInfo(app.settings.office.timezone)
    now = app.clock.now()
    start = datetime.combine(date_from, dtime(), tz)
    end = datetime.combine(date_to + timedelta(days=1), dtime(), tz)
    with app.sessions() as session:
        rows = journal_rows(session, start=start, end=end)
        entries = tuple(
            receipts.JournalEntry(
                reference=f.reference,
                received_at=f.received_at,
                channel=f.channel,  # type: ignore[arg-type]
                sender=sender_of(f.sender, f.sender_name, f.channel),
                form=receipts.FormInfo(f.form_type, f.form_type, f.form_version),
                subject=f.subject or "(bez předmětu)",
                files=tuple(
                    receipts.FileEntry(x.name, x.size, x.media_type, x.sha256)
                    for x in f.submission.files
                ),
                verdicts=tuple(str(v.get("qualification") or "") for v in f.signatures),
                confirmation_state=f.tracker_state,
                confirmation_deadline=f.deadline,
                status=f.status,
            )
            for f in rows
        )
    data = receipts.JournalExport(
        authority=authority(app),
        date_from=date_from,
        date_to=date_to,
        generated_at=now,
        entries=entries,
    )
    pdf = app.sealer.seal(receipts.render_journal(data), at=now)
    export_id = secrets.token_hex(4)  # two exports in one second get two keys
    export = Export(
        receipts.journal_export_key(date_from, date_to, now, "pdf", export_id),
        receipts.journal_export_key(date_from, date_to, now, "xml", export_id),
        pdf,
        data.to_xml(),
        "journal.xml",
    )
    _store_export(app, export)
    with app.sessions() as session, session.begin():
        audit(
            session,
            at=now,
            actor=actor,
            action="export.journal",
            object_type="export",
            object_id=export.pdf_key[-64:],
            details={"from": date_from.isoformat(), "to": date_to.isoformat()},
        )
    return export


def _store_export(app: App, export: Export) -> None:
    app.store.put("exports", export.pdf_key, export.pdf, content_type="application/pdf")
    ctype = "application/json" if export.data_name.endswith(".json") else "application/xml"
    app.store.put("exports", export.data_key, export.data, content_type=ctype)


# -- short-lived download links ---------------------------------------------------------------


def download_link(app: App, bucket: str, key: str) -> str:
    """A link valid for ``storage.link_ttl_seconds``: presigned on S3, a signed token otherwise."""
    ttl = timedelta(seconds=app.settings.storage.link_ttl_seconds)
    url = app.store.presigned_get_url(bucket, key, ttl, filename=key.rsplit("/", 1)[-1])
    if url:
        return url
    payload = json.dumps(
        {"b": bucket, "k": key, "e": int(time.time() + ttl.total_seconds())}, separators=(",", ":")
    ).encode()
    body = base64.urlsafe_b64encode(payload).decode().rstrip("=")
    sig = hmac.new(app.secret_key, body.encode(), hashlib.sha256).hexdigest()[:32]
    return f"/api/v1/downloads/{body}.{sig}"


def resolve_token(app: App, token: str) -> tuple[str, str]:
    body, _, sig = token.rpartition(".")
    expected = hmac.new(app.secret_key, body.encode(), hashlib.sha256).hexdigest()[:32]
    if not body or not hmac.compare_digest(sig, expected):
        raise LinkInvalid("This download link is not valid.")
    data: dict[str, Any] = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    if data["e"] < time.time():
        raise LinkInvalid("This download link has expired; ask for a new one.")
    return data["b"], data["k"]
