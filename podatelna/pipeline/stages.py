"""The pipeline's stages: validate → verify → register → receipt → notify (and reject_notice).

Each stage is keyed by the submission id and idempotent: it claims the submission by a
conditional state change (``UPDATE … WHERE state = <expected>``) in the transaction that writes
its result and the next stage's outbox message, so a duplicate delivery, a retry or a worker
killed at any instant does no work twice and loses none. Slow work (reading blobs, verifying,
sealing) happens before that transaction; its results are deterministic or adopted from storage.

A valid submission that its signature check does not reject is validated, verified and
registered by the validate stage in **one** transaction: each of the three acts still writes its
own status line, audit entry and outbox row (acknowledged in the same transaction), but they
share one commit and one turn at the audit chain's lock; on PostgreSQL the three claims are one
(``received`` → ``registered``, in one statement with the status lines and outbox rows, see
:func:`_record_valid`), elsewhere one claim per act. Anything else goes stage by stage. The
form's bytes may come with the validate message (from intake; checked against the recorded
SHA-256), so that a small form is not read back from the object store.
With ``broker.register_at_intake`` (the default) a submission of one plainly unsigned XML form
does not even come here to be registered: :func:`settle_at_intake` prepares the same three acts
(the same checks, status lines, audit entries and journal entry) before intake writes, and
intake records them in the transaction that records the submission (:mod:`intake.accept`), so
the first message it sends is the receipt's. Whatever it declines or fails at comes here.
The hot paths use plain statements on connections (on PostgreSQL: a few cached SQL texts), not
ORM loads and flushes, and end with :func:`filing_registry.append_and_commit`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, fields, replace
from datetime import datetime, timedelta
from functools import cache
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    JSON,
    BindParameter,
    Connection,
    DateTime,
    LargeBinary,
    Table,
    TextClause,
    bindparam,
    insert,
    select,
    text,
    update,
)

import receipts
import schemas
from filing_registry import (
    Act,
    Executor,
    Filing,
    OutboxMessage,
    Pending,
    Registration,
    Submission,
    SubmissionFile,
    SubmissionState,
    add_event,
    append_and_commit,
    audit,
    enter,
    filing_year,
    insert_events,
    reading,
    take_numbers,
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
    from intake.accept import Draft
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
    return Loaded(**dict(zip(_SUB_COLUMNS, rows[0][:k], strict=True)), files=files)


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


def _advance(
    conn: Connection,
    sid: str,
    expected: str,
    new: str,
    app: App,
    *,
    values: dict[str, Any],
    note: str | None,
    next_stage: str,
) -> Next | None:
    """Claim ``sid`` (``expected`` → ``new``, writing ``values``), acknowledge the message that
    started this stage, add the status line ``note`` (unless None) and write the next stage's
    message; None (and nothing written) when another run claimed it first.

    On PostgreSQL this is one statement (the claim's ``RETURNING`` feeds the others), so a stage
    costs a round trip instead of four; elsewhere, the same as separate statements.
    """
    now = app.clock.now()
    stage = STAGE_FOR_STATE.get(expected, "reject_notice")
    if conn.dialect.name != "postgresql":
        if not _claim(conn, sid, expected, new, app, **values):
            return None
        if note is not None:
            _event(conn, sid, new, now, note)
        return _outbox(conn, sid, next_stage, app)
    params: dict[str, Any] = {
        "sid": sid,
        "expected": expected,
        "new": new,
        "now": now,
        "stage": stage,
        "next_stage": next_stage,
        "note": note,
        **_value_params(values),
    }
    stmt = _pg_advance(tuple(sorted(values)), note is not None)
    msg_id = conn.execute(stmt, params).scalar_one_or_none()
    return None if msg_id is None else (int(msg_id), next_stage, sid)


def _value_params(values: dict[str, Any]) -> dict[str, Any]:
    """The bound parameters ``v_<column>`` of :func:`_sets` (JSON columns as JSON text)."""
    params = {}
    for key, value in values.items():
        json_column = isinstance(_SUBS.c[key].type, JSON)
        params[f"v_{key}"] = json.dumps(value) if json_column and value is not None else value
    return params


def _sets(columns: tuple[str, ...]) -> str:
    """``, column = :v_column`` for each of the submission ``columns`` (checked to be columns)."""
    sets = []
    for name in columns:
        column = _SUBS.c[name]  # a KeyError for anything that is not a column
        value = f"CAST(:v_{name} AS JSON)" if isinstance(column.type, JSON) else f":v_{name}"
        sets.append(f", {column.name} = {value}")
    return "".join(sets)


def _value_binds(columns: tuple[str, ...]) -> list[BindParameter[Any]]:
    binds: list[BindParameter[Any]] = [bindparam("now", type_=DateTime(timezone=True))]
    binds += [bindparam(f"v_{n}", type_=LargeBinary()) for n in columns if n == "timestamp_token"]
    return binds


def _claimed_and_acked(columns: tuple[str, ...], stages: str) -> str:
    """The start of the PostgreSQL claim statements: ``claimed`` moves the submission from
    ``:expected`` to ``:new`` (writing ``columns``), ``acked`` marks its unsent messages of the
    ``stages`` condition delivered."""
    return f"""
WITH claimed AS (
    UPDATE submissions SET state = :new, updated_at = :now{_sets(columns)}
    WHERE id = :sid AND state = :expected
    RETURNING id
), acked AS (
    UPDATE outbox SET sent_at = :now
    WHERE submission_id IN (SELECT id FROM claimed) AND {stages} AND sent_at IS NULL
)"""  # noqa: S608 - column names of the table and fixed conditions only


@cache
def _pg_advance(columns: tuple[str, ...], with_note: bool) -> TextClause:
    """The statement of :func:`_advance` on PostgreSQL for the submission ``columns`` it
    writes: built once (a plain SQL text is cheap to execute; the same statement built with
    SQLAlchemy constructs costs milliseconds of CPU on every call)."""
    event = (
        """, event AS (
    INSERT INTO status_events (submission_id, at, state, actor, note)
    SELECT id, :now, :new, 'system', :note FROM claimed
)"""
        if with_note
        else ""
    )
    sql = f"""{_claimed_and_acked(columns, "stage = :stage")}{event}
INSERT INTO outbox (submission_id, stage, created_at)
SELECT id, :next_stage, :now FROM claimed
RETURNING id
"""  # noqa: S608 - column names of the table only; every value is a bound parameter
    return text(sql).bindparams(*_value_binds(columns))


@cache
def _pg_valid_claim(columns: tuple[str, ...]) -> TextClause:
    """The statement of :func:`_record_valid` for the submission ``columns`` it writes."""
    sql = f"""{_claimed_and_acked(columns, "stage = ANY(CAST(:stages AS TEXT[]))")}, media AS (
    UPDATE submission_files SET media_type = x.mt
    FROM claimed, jsonb_to_recordset(CAST(:media AS JSONB)) AS x (fid bigint, mt text)
    WHERE submission_files.id = x.fid AND submission_files.submission_id = claimed.id
), event AS (
    INSERT INTO status_events (submission_id, at, state, actor, note)
    SELECT claimed.id, :now, ev.state, 'system', ev.note
    FROM claimed, unnest(CAST(:ev_states AS TEXT[]), CAST(:ev_notes AS TEXT[]))
        WITH ORDINALITY AS ev (state, note, n)
    ORDER BY ev.n
)
INSERT INTO outbox (submission_id, stage, created_at, sent_at)
SELECT claimed.id, ob.stage, :now, CASE WHEN ob.acked THEN :now END
FROM claimed, unnest(CAST(:ob_stages AS TEXT[]), CAST(:ob_acked AS BOOLEAN[]))
    WITH ORDINALITY AS ob (stage, acked, n)
ORDER BY ob.n
RETURNING id, stage
"""  # noqa: S608 - column names of the table only; every value is a bound parameter
    return text(sql).bindparams(*_value_binds(columns))


def _audit_state(sub: Loaded, state: str, now: Any, **details: Any) -> dict[str, Any]:
    """The audit entry of a stage's act on a submission (appended by :func:`_append_audits`)."""
    return {
        "at": now,
        "actor": "system",
        "action": f"submission.{state}",
        "object_type": "submission",
        "object_id": sub.id,
        "subject": sub.sender,
        "details": details,
    }


#: the status line of a form (and its attachments) found valid
VALID_NOTE = "form and attachments valid"


def _verified_note(verified: Verified) -> str:
    """The status line of a verification that does not reject the submission."""
    return "recognised signature" if verified.recognised else "no recognised signature"


def _valid_values(checked: Checked, verified: Verified) -> dict[str, Any]:
    """The submission's columns once it is validated and verified."""
    return dict(checked.values, verification=verified.verification)


def _valid_audits(
    sub: Loaded, checked: Checked, verified: Verified, now: Any
) -> list[dict[str, Any]]:
    """The audit entries of the acts *validated* and *verified* of a valid submission."""
    return [
        _audit_state(
            sub, S.VALIDATED.value, now, problems=len(checked.reasons), form_type=checked.form_type
        ),
        _audit_state(sub, S.VERIFIED.value, now, recognised=verified.recognised),
    ]


def _append_audits(
    conn: Connection, audits: list[dict[str, Any]], pending: list[Pending] | None = None
) -> None:
    """The statements left ``pending``, the audit entries of the transaction's acts, in order,
    and the commit (on PostgreSQL one round trip for all): the chain head is locked from the
    entries to the commit, a reference counter from the number to the commit."""
    append_and_commit(conn, [Act(**entry) for entry in audits], first=pending or (), entries=False)


# -- validate ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Checked:
    """What validation found, before anything is written."""

    ok: bool
    values: dict[str, Any]  # for the submission row
    reasons: list[dict[str, Any]]
    detected: dict[int, str]  # file id → media type detected from content
    form_type: str | None
    form_version: str | None
    subject: str | None
    #: the bytes read on the way (storage key → bytes), so later work need not read them again
    blobs: dict[str, bytes]


def _check(app: App, sub: Loaded, form: bytes | None = None) -> Checked:
    lim = app.settings.limits
    token = sub.timestamp_token or app.timestamper.timestamp_token(
        bytes.fromhex(sub.payload_sha256)
    )
    form_file = next(f for f in sub.files if f.role == "form")
    if form is not None and hashlib.sha256(form).hexdigest() == form_file.sha256:
        form_bytes = form  # the very bytes recorded (and stored) for the form
    else:
        form_bytes = app.store.get("submissions", form_file.storage_key)
    result = validate_form(
        form_bytes,
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
    subject = (result.subject or "")[:255] or None
    values = dict(
        timestamp_token=token,
        validation=result.to_dict(),
        form_type=result.form_type,
        form_version=result.version,
        subject=subject,
    )
    if not ok:
        values["rejection_reasons"] = reasons
    return Checked(
        ok,
        values,
        reasons,
        detected,
        result.form_type,
        result.version,
        subject,
        {form_file.storage_key: form_bytes},
    )


def _record_validation(
    conn: Connection, app: App, sub: Loaded, checked: Checked, audits: list[dict[str, Any]]
) -> Next | None:
    new_state = S.VALIDATED.value if checked.ok else S.REJECTED.value
    nxt = _advance(
        conn,
        sub.id,
        S.RECEIVED.value,
        new_state,
        app,
        values=checked.values,
        note=VALID_NOTE if checked.ok else f"{len(checked.reasons)} problem(s) found",
        next_stage="verify" if checked.ok else "reject_notice",
    )
    if nxt is None:
        return None
    changed = _changed_media_types(sub, checked)
    if changed:
        conn.execute(_SET_MEDIA_TYPE, changed)
    audits.append(
        _audit_state(
            sub,
            new_state,
            app.clock.now(),
            problems=len(checked.reasons),
            form_type=checked.form_type,
        )
    )
    return nxt


def _changed_media_types(sub: Loaded, checked: Checked) -> list[dict[str, Any]]:
    return [
        {"fid": f.id, "mt": checked.detected[f.id]}
        for f in sub.files
        if f.id in checked.detected and checked.detected[f.id] != f.media_type
    ]


def _record_valid(
    conn: Connection,
    app: App,
    sub: Loaded,
    checked: Checked,
    verified: Verified,
    audits: list[dict[str, Any]],
) -> Next | None:
    """PostgreSQL: what :func:`_record_validation` and :func:`_record_verification` write for a
    valid submission, and the register stage's claim, in **one** statement (one round trip
    instead of four): the claim ``received`` → ``registered`` with the values of both acts,
    the validate message acknowledged, the media types detected, the status lines *validated*
    and *verified*, and the outbox rows *verify* and *register* (acknowledged: consumed here)
    and *receipt*, in that order. Returns the *receipt* message, or None (nothing written)
    when another run claimed the submission first. The row stays locked to the commit, as
    with the claims one by one.
    """
    now = app.clock.now()
    values = _valid_values(checked, verified)
    params: dict[str, Any] = {
        "sid": sub.id,
        "expected": S.RECEIVED.value,
        "new": S.REGISTERED.value,
        "now": now,
        "stages": ["validate", "verify", "register"],
        "media": json.dumps(_changed_media_types(sub, checked)),
        "ev_states": [S.VALIDATED.value, S.VERIFIED.value],
        "ev_notes": [VALID_NOTE, _verified_note(verified)],
        "ob_stages": ["verify", "register", "receipt"],
        "ob_acked": [True, True, False],
        **_value_params(values),
    }
    rows = conn.execute(_pg_valid_claim(tuple(sorted(values))), params).all()
    if not rows:
        return None
    receipt_id = next(int(i) for i, stage in rows if stage == "receipt")
    audits.extend(_valid_audits(sub, checked, verified, now))
    return (receipt_id, "receipt", sub.id)


def validate(app: App, sid: str, *, form: bytes | None = None) -> list[Next]:
    """The validate stage (and verify and register with it, see the module documentation).

    ``form``: the form's bytes if the message carried them; used only when their SHA-256 is the
    one recorded for the submission's form, else the form is read from the store.
    """
    sub = _load(app, sid)
    if sub is None or sub.state != S.RECEIVED.value:
        return []
    if (sub.channel_data or {}).get("message_pk"):  # a data-box message: its own checks
        from podatelna.databox import validate_stage

        return validate_stage(app, sub)
    checked = _check(app, sub, form)
    failpoints.hit("validate:before_commit")
    onward = _onward(app, sub, checked)
    with app.engine.begin() as conn:
        audits: list[dict[str, Any]] = []
        pending: list[Pending] = []
        if onward is not None and conn.dialect.name == "postgresql":
            validated, verified, registration = onward
            nxt = _record_valid(conn, app, sub, checked, verified, audits)
            if nxt is None:
                return []
            registered = _record_registration(
                conn,
                app,
                verified_view(validated, verified),
                registration,
                audits,
                pending,
                claimed=nxt,
            )
            _append_audits(conn, audits, pending)
            return [nxt] if registered is None else [registered]
        nxt = _record_validation(conn, app, sub, checked, audits)
        if nxt is None:
            return []
        if onward is not None:
            validated, verified, registration = onward
            nxt = _record_verification(conn, app, validated, verified, audits)
            if nxt is None:  # pragma: no cover - validated in this very transaction
                raise RuntimeError(f"submission {sid} left 'validated' inside its transaction")
            nxt = _record_registration(
                conn, app, verified_view(validated, verified), registration, audits, pending
            )
            if nxt is None:  # pragma: no cover - verified in this very transaction
                raise RuntimeError(f"submission {sid} left 'verified' inside its transaction")
        _append_audits(conn, audits, pending)
        return [nxt]


def _onward(app: App, sub: Loaded, checked: Checked) -> tuple[Loaded, Verified, Planned] | None:
    """Verification and registration of a valid submission, prepared now so that one
    transaction records all three stages (one commit, one turn at the audit chain's lock,
    instead of three); None when they must go stage by stage: the submission is not valid, the
    signature check rejects it, or preparing them failed (their own stages then retry).

    Every act keeps its own status line, audit entry and outbox row (written and acknowledged
    in the same transaction); the failpoints of each stage are passed in the same order.
    """
    if not checked.ok:
        return None
    validated = replace(
        sub,
        state=S.VALIDATED.value,
        form_type=checked.form_type,
        form_version=checked.form_version,
        subject=checked.subject,
    )
    try:
        verified = _verification(app, validated, checked.blobs)
    except Exception:  # noqa: BLE001 - the verify stage reports it in its own run
        log.warning("submission %s: verification deferred to its stage", sub.id, exc_info=True)
        return None
    failpoints.hit("verify:before_commit")
    if verified.must_reject:
        return None
    return validated, verified, _plan_registration(app, verified_view(validated, verified))


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


@dataclass(frozen=True)
class Verified:
    """What the signature check found, before anything is written."""

    recognised: bool
    must_reject: bool
    verification: dict[str, Any]
    rejection: dict[str, Any]  # rejection_reasons for the row, when rejected


def verified_view(sub: Loaded, verified: Verified) -> Loaded:
    """``sub`` as it reads once its verification is recorded."""
    return replace(sub, state=S.VERIFIED.value, verification=verified.verification)


def _verification(app: App, sub: Loaded, blobs: dict[str, bytes] | None = None) -> Verified:
    read = blobs or {}
    files = [
        (f.name, read.get(f.storage_key) or app.store.get("submissions", f.storage_key))
        for f in sub.files
    ]
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
    return Verified(recognised, must_reject, verification, rejection)


def _record_verification(
    conn: Connection, app: App, sub: Loaded, verified: Verified, audits: list[dict[str, Any]]
) -> Next | None:
    new_state = S.REJECTED.value if verified.must_reject else S.VERIFIED.value
    if verified.must_reject:
        note = "recognised signature required"
    else:
        note = _verified_note(verified)
    nxt = _advance(
        conn,
        sub.id,
        S.VALIDATED.value,
        new_state,
        app,
        values=dict(verification=verified.verification, **verified.rejection),
        note=note,
        next_stage="reject_notice" if verified.must_reject else "register",
    )
    if nxt is None:
        return None
    audits.append(_audit_state(sub, new_state, app.clock.now(), recognised=verified.recognised))
    return nxt


def verify(app: App, sid: str) -> list[Next]:
    sub = _load(app, sid)
    if sub is None or sub.state != S.VALIDATED.value:
        return []
    verified = _verification(app, sub)
    failpoints.hit("verify:before_commit")
    with app.engine.begin() as conn:
        audits: list[dict[str, Any]] = []
        nxt = _record_verification(conn, app, sub, verified, audits)
        if nxt is None:
            return []
        _append_audits(conn, audits)
        return [nxt]


# -- register ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Planned:
    """A registration prepared before its transaction."""

    registration: Registration
    deadline: Any  # filing_registry.Deadline | None
    receipt_id: str


def _plan_registration(app: App, sub: Loaded) -> Planned:
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
    receipt_id = hashlib.sha256(f"receipt:{sub.id}".encode()).hexdigest()[:20].upper()
    return Planned(registration, deadline, receipt_id)


def _record_registration(
    conn: Connection,
    app: App,
    sub: Loaded,
    planned: Planned,
    audits: list[dict[str, Any]],
    pending: list[Pending],
    *,
    claimed: Next | None = None,
) -> Next | None:
    """The register act; ``claimed``: the claim was made already (by :func:`_record_valid`
    in this transaction), this is its *receipt* message."""
    # the status lines come with the journal entry (they name it)
    nxt = claimed or _advance(
        conn,
        sub.id,
        S.VERIFIED.value,
        S.REGISTERED.value,
        app,
        values={},
        note=None,
        next_stage="receipt",
    )
    if nxt is None:
        return None
    failpoints.hit("register:after_claim")
    now = app.clock.now()
    # the number late: its counter row stays locked until the commit (on PostgreSQL the entry
    # itself is written along with the commit, see _append_audits)
    entry = enter(
        conn, sub, planned.registration, now=now, receipt_id=planned.receipt_id, defer=pending
    )
    failpoints.hit("register:after_number")
    audits.append(_registered_audit(sub, planned, entry.reference, now))
    return nxt


def _registered_audit(
    sub: Loaded, planned: Planned, reference: str, now: datetime
) -> dict[str, Any]:
    deadline = planned.deadline
    return {
        "at": now,
        "actor": "system",
        "action": "filing.registered",
        "object_type": "filing",
        "object_id": reference,
        "subject": sub.sender,
        "details": {"submission": sub.id, "deadline": deadline.to_dict() if deadline else None},
    }


def register_stage(app: App, sid: str) -> list[Next]:
    sub = _load(app, sid)
    if sub is None or sub.state != S.VERIFIED.value:
        return []
    planned = _plan_registration(app, sub)
    with app.engine.begin() as conn:
        audits: list[dict[str, Any]] = []
        pending: list[Pending] = []
        nxt = _record_registration(conn, app, sub, planned, audits, pending)
        if nxt is None:
            return []
        _append_audits(conn, audits, pending)
        return [nxt]


# -- at intake ---------------------------------------------------------------------------------


@dataclass(eq=False)
class AtIntake:
    """A plainly unsigned form validated, verified and ready to register at intake: what
    :func:`intake.accept` records with the submission (an :class:`intake.accept.Settled`)."""

    sub: Loaded  # as registered
    checked: Checked
    verified: Verified
    planned: Planned
    state: str = S.REGISTERED.value
    stage: str = "receipt"
    #: its reference number, once :meth:`prepare` took it
    seq: int | None = None

    @property
    def values(self) -> dict[str, Any]:
        return _valid_values(self.checked, self.verified)

    @property
    def media_types(self) -> dict[int, str]:
        return {f.position: self.checked.detected[f.id] for f in self.sub.files}

    @property
    def lines(self) -> list[dict[str, Any]]:
        return [
            {"state": S.VALIDATED.value, "note": VALID_NOTE},
            {"state": S.VERIFIED.value, "note": _verified_note(self.verified)},
        ]

    def prepare(self, executor: Executor, together: Sequence[Any]) -> None:
        """Take the reference numbers of ``together`` (the registrations of one transaction,
        in order): one statement per office and year instead of one per registration; each
        counter row stays locked to the commit, as with one number."""
        by_counter: dict[tuple[str, int], list[AtIntake]] = {}
        for item in together:
            if isinstance(item, AtIntake):
                reg = item.planned.registration
                year = filing_year(item.sub.received_at, reg.tz)
                by_counter.setdefault((reg.office, year), []).append(item)
        for (office, year), items in sorted(by_counter.items()):
            last = take_numbers(executor, office, year, len(items))
            for seq, item in enumerate(items, last - len(items) + 1):
                item.seq = seq

    def record(self, executor: Executor, pending: list[Pending]) -> list[Act]:
        """The journal entry (its number taken by :meth:`prepare`, or now; its row sent with
        the commit on PostgreSQL) and the audit entries of the three acts."""
        sub, now = self.sub, self.sub.received_at
        entry = enter(
            executor,
            sub,
            self.planned.registration,
            now=now,
            receipt_id=self.planned.receipt_id,
            defer=pending,
            seq=self.seq,
        )
        failpoints.hit("register:at_intake")  # the number taken, nothing committed
        acts = _valid_audits(sub, self.checked, self.verified, now)
        acts.append(_registered_audit(sub, self.planned, entry.reference, now))
        return [Act(**a) for a in acts]


#: after registering a submission at intake failed (e.g. the timestamp authority did not
#: answer), intake leaves every submission to the pipeline for this long, rather than making
#: each request wait for the same failure (up to ``timestamp.timeout_seconds``) again
SETTLE_PAUSE_SECONDS = 30.0


def settle_at_intake(app: App, draft: Draft) -> AtIntake | None:
    """Intake's settle hook (``broker.register_at_intake``): a submission of one plainly unsigned
    form (see :func:`plainly_unsigned`) that is valid is validated, verified and registered in
    the transaction that records it, so it is acknowledged with its reference number and needs
    no trip through the broker to get one. None (the pipeline does it, stage by stage, as for
    every other submission) for anything else: attachments, a signature to verify, a data-box
    message, an invalid form, a form whose type requires a signature, or any failure here (and
    then, for :data:`SETTLE_PAUSE_SECONDS`, every submission).
    """
    row = draft.row
    form = draft.form
    if form is None or len(draft.files) != 1 or row["channel_data"] or not plainly_unsigned(form):
        return None
    if time.monotonic() < app.settle_paused_until:
        return None
    columns: dict[str, Any] = {name: row.get(name) for name in _SUB_COLUMNS}  # None: not yet
    sub = Loaded(**columns, files=(LoadedFile(id=0, **draft.files[0]),))
    try:
        checked = _check(app, sub, form)
        onward = _onward(app, sub, checked)
    except Exception:  # noqa: BLE001 - the validate stage does it again and reports it
        app.settle_paused_until = time.monotonic() + SETTLE_PAUSE_SECONDS
        log.warning(
            "submission %s: left to the pipeline, as every submission for the next %.0f s",
            sub.id,
            SETTLE_PAUSE_SECONDS,
            exc_info=True,
        )
        return None
    if onward is None:
        return None
    validated, verified, planned = onward
    return AtIntake(verified_view(validated, verified), checked, verified, planned)


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
            schemas.form_name(filing.form_type),
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
    if (sub.channel_data or {}).get("message_pk"):  # a data-box message: delivery receipt
        from podatelna.databox import deliver

        deliver(app, sid)
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
