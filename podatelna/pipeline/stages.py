"""The pipeline's stages: validate → verify → register → receipt → notify (and reject_notice).

Each stage is keyed by the submission id and idempotent: it claims the submission by a
conditional state change (``UPDATE … WHERE state = <expected>``) in the transaction that writes
its result and the next stage's outbox message, so a duplicate delivery, a retry or a worker
killed at any instant does no work twice and loses none. Slow work (reading blobs, verifying,
sealing) happens before that transaction; its results are deterministic or adopted from storage.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Table, bindparam, insert, select, update

import receipts
import schemas
from filing_registry import (
    Executor,
    Filing,
    OutboxMessage,
    Registration,
    Submission,
    SubmissionFile,
    SubmissionState,
    add_event,
    audit,
    enter,
    insert_events,
    reading,
)
from filing_registry.deadlines import compute_deadline
from podatelna import failpoints
from podatelna.issuing import authority, issue_once, sender_of
from validators import (
    HEAD_BYTES,
    AttachmentPolicy,
    XmlLimits,
    check_attachment,
    safe_filename,
    validate_form,
)
from validators.errors import UnsafeFilename

if TYPE_CHECKING:
    from podatelna.app import App

log = logging.getLogger(__name__)

S = SubmissionState
STAGES = ("validate", "verify", "register", "receipt", "notify", "reject_notice")
#: the stage that moves a submission on from each non-final state
STAGE_FOR_STATE = {
    S.RECEIVED.value: "validate",
    S.VALIDATED.value: "verify",
    S.VERIFIED.value: "register",
    S.REGISTERED.value: "receipt",
    S.RECEIPTED.value: "notify",
}


_SUBS: Table = Submission.__table__  # type: ignore[assignment]
_FILES: Table = SubmissionFile.__table__  # type: ignore[assignment]
_OUTBOX: Table = OutboxMessage.__table__  # type: ignore[assignment]

Next = tuple[int, str, str]  # outbox id, stage, submission id


@dataclass(frozen=True)
class LoadedFile:
    """One file of a submission as read at the start of a stage."""

    id: int
    position: int
    role: str
    name: str
    size: int
    media_type: str
    declared_media_type: str | None
    sha256: str
    storage_key: str


@dataclass(frozen=True)
class Loaded:
    """A submission as read at the start of a stage: plain values, no session behind them.

    Stages read with two plain queries (the row, its files) instead of ORM loads; what a stage
    writes goes through its claim, in its own transaction.
    """

    id: str
    channel: str
    sender: str
    sender_name: str
    idempotency_key: str | None
    payload_sha256: str
    received_at: datetime
    updated_at: datetime
    state: str
    confirms_reference: str | None
    timestamp_token: bytes | None
    form_type: str | None
    form_version: str | None
    subject: str | None
    validation: dict[str, Any] | None
    verification: dict[str, Any] | None
    rejection_key: str | None
    rejection_reasons: list[dict[str, Any]] | None
    channel_data: dict[str, Any] | None
    files: tuple[LoadedFile, ...]


_SUB_COLUMNS = tuple(f.name for f in fields(Loaded) if f.name != "files")
_FILE_COLUMNS = tuple(f.name for f in fields(LoadedFile))
#: one statement (one consistent read): the submission's columns, then its files' columns,
#: one row per file in order
_LOAD = (
    select(*(_SUBS.c[n] for n in _SUB_COLUMNS), *(_FILES.c[n] for n in _FILE_COLUMNS))
    .select_from(_SUBS.outerjoin(_FILES, _FILES.c.submission_id == _SUBS.c.id))
    .where(_SUBS.c.id == bindparam("sid"))
    .order_by(_FILES.c.position)
)


def _load(app: App, sid: str) -> Loaded | None:
    with reading(app.engine) as conn:
        rows = conn.execute(_LOAD, {"sid": sid}).all()
    if not rows:
        return None
    k = len(_SUB_COLUMNS)
    files = tuple(LoadedFile(*r[k:]) for r in rows if r[k] is not None)
    return Loaded(*rows[0][:k], files=files)


def _claim(executor: Executor, sid: str, expected: str, new: str, app: App, **values: Any) -> bool:
    """Move ``sid`` from ``expected`` to ``new`` (writing ``values`` to the submission row in the
    same statement); False when another run got there first.

    The message that started this stage is marked delivered in the same transaction (the
    consumer acknowledges its outbox row), so the sweeper never re-sends finished work.
    """
    now = app.clock.now()
    res = executor.execute(
        update(_SUBS)
        .where(_SUBS.c.id == sid, _SUBS.c.state == expected)
        .values(state=new, updated_at=now, **values)
    )
    if res.rowcount != 1:  # type: ignore[attr-defined]
        return False
    stage = STAGE_FOR_STATE.get(expected, "reject_notice")
    executor.execute(
        update(_OUTBOX)
        .where(
            _OUTBOX.c.submission_id == sid,
            _OUTBOX.c.stage == stage,
            _OUTBOX.c.sent_at.is_(None),
        )
        .values(sent_at=now)
    )
    return True


def _outbox(executor: Executor, sid: str, stage: str, app: App) -> Next:
    """Write the next stage's message in the caller's transaction; returns what to dispatch."""
    msg_id = executor.execute(
        insert(_OUTBOX)
        .values(submission_id=sid, stage=stage, created_at=app.clock.now())
        .returning(_OUTBOX.c.id)
    ).scalar_one()
    return (int(msg_id), stage, sid)


def _event(executor: Executor, sid: str, state: str, now: datetime, note: str) -> None:
    insert_events(executor, [{"submission_id": sid, "state": state, "note": note}], now=now)


def _audit_state(executor: Executor, sub: Loaded, state: str, now: Any, **details: Any) -> None:
    """The audit entry of a stage's act: call it last in the transaction (it locks the chain)."""
    audit(
        executor,
        at=now,
        actor="system",
        action=f"submission.{state}",
        object_type="submission",
        object_id=sub.id,
        subject=sub.sender,
        details=details,
    )


# -- validate ----------------------------------------------------------------------------------


def validate(app: App, sid: str) -> list[Next]:
    sub = _load(app, sid)
    if sub is None or sub.state != S.RECEIVED.value:
        return []
    lim = app.settings.limits
    token = sub.timestamp_token or app.timestamper.timestamp_token(
        bytes.fromhex(sub.payload_sha256)
    )
    form_file = next(f for f in sub.files if f.role == "form")
    result = validate_form(
        app.store.get("submissions", form_file.storage_key),
        limits=XmlLimits(max_bytes=lim.max_form_bytes, max_depth=min(lim.max_xml_depth, 256)),
    )
    reasons = [dict(i.to_dict(), file=form_file.name) for i in result.errors]
    policy = AttachmentPolicy(frozenset(lim.allowed_media_types), lim.max_file_bytes)
    detected: dict[int, str] = {}
    for f in sub.files:
        if f.role == "form":
            detected[f.id] = "application/xml"
            continue
        try:
            safe_filename(f.name)
        except UnsafeFilename as exc:
            reasons.append({"code": exc.code, "message": str(exc), "file": f.name})
            continue
        with app.store.open("submissions", f.storage_key) as reader:
            head = reader.read(HEAD_BYTES)
        check = check_attachment(f.name, head, f.size, policy)
        detected[f.id] = check.media_type
        reasons.extend(dict(i.to_dict(), file=f.name) for i in check.issues)
    ok = result.ok and not reasons
    failpoints.hit("validate:before_commit")
    with app.engine.begin() as conn:
        new_state = S.VALIDATED.value if ok else S.REJECTED.value
        claimed = _claim(
            conn,
            sid,
            S.RECEIVED.value,
            new_state,
            app,
            timestamp_token=token,
            validation=result.to_dict(),
            form_type=result.form_type,
            form_version=result.version,
            subject=(result.subject or "")[:255] or None,
            **({} if ok else {"rejection_reasons": reasons}),
        )
        if not claimed:
            return []
        changed = [
            {"fid": f.id, "mt": detected[f.id]}
            for f in sub.files
            if f.id in detected and detected[f.id] != f.media_type
        ]
        if changed:
            conn.execute(_SET_MEDIA_TYPE, changed)
        now = app.clock.now()
        if ok:
            _event(conn, sid, new_state, now, "form and attachments valid")
            msgs = [_outbox(conn, sid, "verify", app)]
        else:
            _event(conn, sid, new_state, now, f"{len(reasons)} problem(s) found")
            msgs = [_outbox(conn, sid, "reject_notice", app)]
        _audit_state(conn, sub, new_state, now, problems=len(reasons), form_type=result.form_type)
        return msgs


_SET_MEDIA_TYPE = (
    update(_FILES).where(_FILES.c.id == bindparam("fid")).values(media_type=bindparam("mt"))
)


# -- verify ------------------------------------------------------------------------------------


#: the XML-DSig namespace: an XML file without it carries no XML signature
_XMLDSIG = b"http://www.w3.org/2000/09/xmldsig#"


def plainly_unsigned(data: bytes) -> bool:
    """True when ``data`` is XML that can carry no signature the verifier looks for: it starts
    with ``<`` (after a BOM or white space), names no XML-DSig namespace, and has no PDF header
    in its first kilobyte (the verifier sniffs PDF first). Anything else goes to the verifier.
    """
    head = data.removeprefix(b"\xef\xbb\xbf").lstrip()[:1]
    return head == b"<" and b"%PDF-" not in data[:1024] and _XMLDSIG not in data


def verify_files(app: App, files: list[tuple[str, bytes]], *, at: datetime) -> Any:
    """The signature report of a submission's files.

    When every file is plainly unsigned XML, the report is the verifier's own answer for such
    files (each file: no signatures) without starting the asynchronous verifier, its event
    loop and its imports; everything else is verified in full.
    """
    if all(plainly_unsigned(data) for _, data in files):
        from signing import DocumentReport, SubmissionReport

        return SubmissionReport(
            files=tuple(DocumentReport(name=name, signatures=()) for name, _ in files),
            validation_time=at.isoformat(),
        )
    return app.verify_files(files, at=at)


def verify(app: App, sid: str) -> list[Next]:
    sub = _load(app, sid)
    if sub is None or sub.state != S.VALIDATED.value:
        return []
    files = [(f.name, app.store.get("submissions", f.storage_key)) for f in sub.files]
    report = verify_files(app, files, at=sub.received_at)
    form_name = next(f.name for f in sub.files if f.role == "form")
    recognised = report.recognised_for(form_name) or (
        # a data-box message sent from the sender's own box counts as signed (Act 300/2008 § 18(2))
        sub.channel == "databox" and bool((sub.channel_data or {}).get("from_own_box", True))
    )
    form_type = schemas.catalogue().get(sub.form_type or "")
    must_reject = form_type is not None and not form_type.unsigned_allowed and not recognised
    verification = dict(
        report.to_dict(),
        recognised_form=recognised,
        summary_cs=report.summary("cs"),
        summary_en=report.summary("en"),
    )
    rejection: dict[str, Any] = {}
    if must_reject:
        rejection["rejection_reasons"] = [
            {
                "code": "signature_required",
                "message": (
                    f"The form type {form_type.name_en if form_type else sub.form_type!r} "
                    "may only be filed with a recognised electronic signature "
                    "(qualified, or advanced based on a qualified certificate); "
                    "the form carries none."
                ),
            }
        ]
    failpoints.hit("verify:before_commit")
    with app.engine.begin() as conn:
        new_state = S.REJECTED.value if must_reject else S.VERIFIED.value
        if not _claim(
            conn, sid, S.VALIDATED.value, new_state, app, verification=verification, **rejection
        ):
            return []
        now = app.clock.now()
        if must_reject:
            _event(conn, sid, new_state, now, "recognised signature required")
            msgs = [_outbox(conn, sid, "reject_notice", app)]
        else:
            note = "recognised signature" if recognised else "no recognised signature"
            _event(conn, sid, new_state, now, note)
            msgs = [_outbox(conn, sid, "register", app)]
        _audit_state(conn, sub, new_state, now, recognised=recognised)
        return msgs


# -- register ----------------------------------------------------------------------------------


def register_stage(app: App, sid: str) -> list[Next]:
    sub = _load(app, sid)
    if sub is None or sub.state != S.VERIFIED.value:
        return []
    verification = sub.verification or {}
    recognised = bool(verification.get("recognised_form"))
    form_type = schemas.catalogue().get(sub.form_type or "")
    rules = form_type.deadline_rules if form_type else "sr"
    deadline = None if recognised else compute_deadline(sub.received_at, rules)
    office = app.settings.office
    registration = Registration(
        office=office.code,
        pattern=office.reference_pattern,
        signatures=_verdict_lines(verification),
        recognised_signature=recognised,
        needs_confirmation=not recognised,
        deadline_rules=rules,
        deadline=deadline.last_day if deadline else None,
    )
    receipt_id = hashlib.sha256(f"receipt:{sid}".encode()).hexdigest()[:20].upper()
    with app.engine.begin() as conn:
        if not _claim(conn, sid, S.VERIFIED.value, S.REGISTERED.value, app):
            return []
        failpoints.hit("register:after_claim")
        now = app.clock.now()
        msgs = [_outbox(conn, sid, "receipt", app)]
        # the number and the audit entry last: each locks a row every registration waits for
        entry = enter(conn, sub, registration, now=now, receipt_id=receipt_id)
        failpoints.hit("register:after_number")
        audit(
            conn,
            at=now,
            actor="system",
            action="filing.registered",
            object_type="filing",
            object_id=entry.reference,
            subject=sub.sender,
            details={"submission": sid, "deadline": deadline.to_dict() if deadline else None},
        )
        return msgs


def _verdict_lines(verification: dict[str, Any]) -> list[dict[str, Any]]:
    lines = []
    for f in verification.get("files", []):
        for s in f.get("signatures", []):
            lines.append(
                {
                    "file": f.get("name"),
                    "qualification": s.get("qualification"),
                    "indication": s.get("indication"),
                    "signer": (s.get("signer") or {}).get("subject"),
                }
            )
    return lines


# -- receipt -----------------------------------------------------------------------------------


def receipt(app: App, sid: str) -> list[Next]:
    sub = _load(app, sid)
    if sub is None or sub.state != S.REGISTERED.value:
        return []
    with app.sessions() as session:
        filing = session.execute(select(Filing).where(Filing.submission_id == sid)).scalar_one()
    key = receipts.receipt_key(filing.reference, filing.received_at)
    retention = app.settings.storage.receipt_retention_days
    issue_once(
        app,
        key,
        lambda: receipts.render_receipt(receipt_data(app, sub, filing)),
        retain_until=app.clock.now() + timedelta(days=retention) if retention else None,
        failpoint="receipt:before_store",
    )
    failpoints.hit("receipt:before_commit")
    with app.sessions() as session, session.begin():
        if not _claim(session, sid, S.REGISTERED.value, S.RECEIPTED.value, app):
            return []
        f = session.execute(select(Filing).where(Filing.submission_id == sid)).scalar_one()
        f.receipt_key = key
        now = app.clock.now()
        add_event(session, sid, "receipt_issued", now=now, filing=f, note=key)
        msgs = [_outbox(session, sid, "notify", app)]
        audit(
            session,
            at=now,
            actor="system",
            action="receipt.issued",
            object_type="filing",
            object_id=f.reference,
            subject=f.sender,
            details={"key": key, "receipt_id": f.receipt_id},
        )
        return msgs


def receipt_data(app: App, sub: Loaded, filing: Filing) -> receipts.ReceiptData:
    office = app.settings.office
    form_type = schemas.catalogue().get(filing.form_type)
    verification = sub.verification or {}
    verdicts = tuple(
        line for line in (verification.get("summary_cs") or "").splitlines() if line.strip()
    ) or ("Podání neobsahuje elektronický podpis.",)
    code = filing.receipt_id or ""
    return receipts.ReceiptData(
        receipt_id=code,
        authority=authority(app),
        reference=filing.reference,
        received_at=filing.received_at,
        channel=filing.channel,  # type: ignore[arg-type]
        sender=sender_of(filing.sender, filing.sender_name, filing.channel),
        form=receipts.FormInfo(
            filing.form_type,
            form_type.name_cs if form_type else filing.form_type,
            filing.form_version,
        ),
        subject=filing.subject or "(bez předmětu)",
        files=tuple(receipts.FileEntry(f.name, f.size, f.media_type, f.sha256) for f in sub.files),
        verdicts=verdicts,
        confirmation_needed=filing.deadline is not None,
        confirmation_deadline=filing.deadline,
        verification_code=code,
        verification_url=f"{office.portal_url.rstrip('/')}/verify/{code}",
    )


# -- notify ------------------------------------------------------------------------------------


def notify(app: App, sid: str) -> list[Next]:
    sub = _load(app, sid)
    if sub is None or sub.state != S.RECEIPTED.value:
        return []
    if sub.confirms_reference:
        # a re-filing that names an unconfirmed filing confirms it when signed and identical
        from podatelna.tracker_jobs import link_confirmation

        link_confirmation(app, sid)
    with app.sessions() as session:
        filing = session.execute(select(Filing).where(Filing.submission_id == sid)).scalar_one()
    if "@" in sub.sender:
        ctx = app.notice_context(filing.reference, sid)
        ctx.update(
            received_at=filing.received_at,
            confirmation_needed=filing.deadline is not None,
            deadline=filing.deadline,
        )
        app.notify("accepted", sub.sender, ctx, key=f"accepted:{sid}")
    with app.sessions() as session, session.begin():
        if not _claim(session, sid, S.RECEIPTED.value, S.COMPLETED.value, app):
            return []
        now = app.clock.now()
        add_event(session, sid, S.COMPLETED.value, now=now, note="sender notified")
        return []


# -- reject_notice -----------------------------------------------------------------------------


def reject_notice(app: App, sid: str) -> list[Next]:
    sub = _load(app, sid)
    if sub is None or sub.state != S.REJECTED.value or sub.rejection_key:
        return []
    key = receipts.rejection_key(sid, sub.received_at)
    reasons = tuple(
        receipts.RejectionReason(
            r.get("message", ""), r.get("line"), r.get("column"), r.get("path")
        )
        for r in (sub.rejection_reasons or [])
    ) or (receipts.RejectionReason("The submission was rejected."),)
    form_type = schemas.catalogue().get(sub.form_type or "")
    data = receipts.RejectionData(
        submission_id=sid,
        authority=authority(app),
        received_at=sub.received_at,
        sender=sender_of(sub.sender, sub.sender_name, sub.channel),
        form=receipts.FormInfo(form_type.code, form_type.name_cs, form_type.version)
        if form_type
        else None,
        reasons=reasons,
    )
    issue_once(app, key, lambda: receipts.render_rejection(data))
    if "@" in sub.sender:
        ctx = app.notice_context("", sid)
        ctx.update(reasons=[r.message for r in reasons], received_at=sub.received_at)
        app.notify("rejected", sub.sender, ctx, key=f"rejected:{sid}")
    with app.sessions() as session, session.begin():
        res = session.execute(
            update(Submission)
            .where(Submission.id == sid, Submission.rejection_key.is_(None))
            .values(rejection_key=key, updated_at=app.clock.now())
        )
        session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.submission_id == sid,
                OutboxMessage.stage == "reject_notice",
                OutboxMessage.sent_at.is_(None),
            )
            .values(sent_at=app.clock.now())
        )
        if res.rowcount == 1:  # type: ignore[attr-defined]
            add_event(session, sid, "rejection_notice_issued", now=app.clock.now(), note=key)
    return []


RUNNERS = {
    "validate": validate,
    "verify": verify,
    "register": register_stage,
    "receipt": receipt,
    "notify": notify,
    "reject_notice": reject_notice,
}
