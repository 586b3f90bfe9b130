"""Data-box message intake wired to the application: object store, pipeline, timestamps, seals.

The flow of one ``POST /api/v1/databox/messages``:

1. the sending system's token is checked (hashed at rest, revocable);
2. a CMS container's signature is verified against the configured trusted lists, and only then
   is its content read as the envelope (:func:`intake.databox.unwrap`);
3. the envelope is parsed hardened and validated against its XSD, and the token must be allowed
   to send for its sender box;
4. the same sender box and message id return the message recorded before (the same answer, the
   same filing, the same delivery receipt); different content under a known id is a conflict;
5. the checks run (one main file, limits, formats by content, archives); the original body is
   stored as it came; the message is recorded as *received*, or as *rejected* with the reasons;
6. an accepted message becomes a submission of channel ``databox`` (same id as the message),
   main file as the form, enclosures and unpacked archive entries as attachments, and goes
   through the pipeline. Its validate stage (:func:`validate_stage`) timestamps the canonical
   envelope hash and XSD-validates the main file when it is a known form; the verify stage
   treats a message from the sender's own box as recognised-signed; when it is registered,
   :func:`deliver` (from the notify stage) marks it *delivered*, writes the reference number
   back as the recipient's reference number, and issues the sealed delivery receipt (PDF/A)
   with its delivery information XML.
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from asn1crypto import cms
from sqlalchemy import select
from sqlalchemy.orm import Session

import receipts
import schemas
from filing_registry import Filing, Submission, SubmissionState, audit
from intake import Incoming, IncomingFile, IntakeLimits, Sender, Unavailable, accept, new_id
from intake.databox import (
    DECREE_MEDIA_TYPES,
    ArchiveLimits,
    BodyTooLarge,
    CheckResult,
    DataboxMessage,
    Envelope,
    MessageIdConflict,
    MessageLimits,
    MessageNotFound,
    MessageState,
    Reason,
    TokenInfo,
    authenticate,
    check_message,
    parse_envelope,
    require_box,
    unwrap,
)
from intake.databox import messages as records
from podatelna.issuing import authority, issue_once, store_once
from validators import XmlLimits, validate_form

if TYPE_CHECKING:
    from podatelna.app import App
    from podatelna.pipeline.stages import Loaded

log = logging.getLogger(__name__)

#: the form type of a filing whose main file is not a known form
GENERIC_FORM_TYPE = schemas.DATABOX_MESSAGE
GENERIC_FORM_VERSION = "1.0"
#: room for the envelope's own XML (or the container's DER) around the base64 of the files
ENVELOPE_OVERHEAD = 2 * 1024 * 1024
XML_TYPES = ("application/xml", "text/xml")


class DeliveryNotReady(MessageNotFound):
    code = "delivery_not_ready"
    status = 409


@dataclass(frozen=True)
class Received:
    message: DataboxMessage
    created: bool

    @property
    def rejected(self) -> bool:
        return self.message.state == MessageState.REJECTED.value


def message_limits(app: App) -> MessageLimits:
    s = app.settings.databox
    return MessageLimits(
        max_total_bytes=s.max_total_bytes,
        max_files=s.max_files,
        archives=ArchiveLimits(
            max_entries=s.max_archive_entries,
            max_uncompressed_bytes=s.max_archive_uncompressed_bytes,
            max_ratio=s.max_archive_ratio,
        ),
        allowed_media_types=frozenset(s.allowed_media_types) or DECREE_MEDIA_TYPES,
    )


def max_body_bytes(app: App) -> int:
    """The largest body accepted: the files' limit in base64, plus the envelope around them."""
    return app.settings.databox.max_total_bytes * 4 // 3 + ENVELOPE_OVERHEAD


# -- intake ------------------------------------------------------------------------------------


def receive(app: App, body: bytes, authorization: str | None) -> Received:
    """Authenticate, unwrap, parse, check and record one message (see the module docstring)."""
    now = app.clock.now()
    token = authenticate(app.sessions, authorization, now=now)
    limit = max_body_bytes(app)
    if len(body) > limit:
        raise BodyTooLarge(f"The message has more than {limit:,} bytes; nothing was accepted.")
    unwrapped = unwrap(body, trust=app.trust, at=now)
    env = parse_envelope(unwrapped.envelope, max_bytes=limit)
    require_box(token, env.sender_box)
    existing = records.find(app.sessions, env.sender_box, env.message_id)
    if existing is not None:
        return _again(app, existing, env)
    result = check_message(env, message_limits(app))
    reasons = list(result.reasons)
    boxes = app.settings.databox.box_ids
    if boxes and env.recipient_box not in boxes:
        reasons.append(
            Reason(
                "recipient_unknown",
                f"The message is addressed to the box {env.recipient_box!r}, which is not a box "
                f"of this office ({', '.join(boxes)}).",
            )
        )
    if not reasons:
        _check_broker(app)
    original = _store(app, body, unwrapped.wire_form)
    msg, created = records.record(
        app.sessions,
        pk=new_id(),
        envelope=env,
        token_id=token.id,
        wire_form=unwrapped.wire_form,
        original_key=original,
        container_report=unwrapped.report,
        envelope_dict=_envelope_dict(env, result),
        now=now,
        reasons=reasons,
    )
    if created and not reasons:
        _submit(app, msg, env, result)
    return Received(msg, created)


def _again(app: App, msg: DataboxMessage, env: Envelope) -> Received:
    """The same message sent again: the recorded one (resumed if its submission is missing)."""
    if msg.envelope_sha256 != env.sha256:
        raise MessageIdConflict(
            f"The box {env.sender_box} already sent a different message with the id "
            f"{env.message_id!r} (message hash {msg.envelope_sha256}); a message id is used "
            "once."
        )
    if msg.state != MessageState.REJECTED.value and msg.submission_id:
        with app.sessions() as session:
            missing = session.get(Submission, msg.submission_id) is None
        if missing:  # an earlier request died between recording the message and the submission
            _check_broker(app)
            _submit(app, msg, env, check_message(env, message_limits(app)))
    return Received(msg, False)


def _check_broker(app: App) -> None:
    try:
        app.check_broker()
    except ConnectionError as exc:
        raise Unavailable(
            "The message broker is not reachable, so nothing was accepted; try again later. "
            f"({exc})"
        ) from exc


def _store(app: App, body: bytes, wire_form: str) -> str:
    ctype = "application/pkcs7-mime" if wire_form == "cms" else "application/xml"
    try:
        stored = app.store_raw([body], max_bytes=len(body), content_type=ctype)
    except app.storage_errors.StoreUnavailable as exc:
        raise Unavailable(
            "The object store is not reachable, so nothing was accepted; try again later."
        ) from exc
    return str(stored.key)


def _envelope_dict(env: Envelope, result: CheckResult) -> dict[str, Any]:
    d = env.to_dict()
    detected = {f.name: f.media_type for f in result.files if f.from_archive is None}
    for f in d["files"]:
        f["media_type"] = detected.get(f["name"])
    return d


def _submit(app: App, msg: DataboxMessage, env: Envelope, result: CheckResult) -> None:
    main = next(f for f in result.files if f.role == "form")
    others = [f for f in result.files if f is not main]

    def incoming_file(f: Any) -> IncomingFile:
        return IncomingFile(
            f.name, io.BytesIO(f.content), role=f.role, declared_media_type=f.media_type
        )

    incoming = Incoming(
        channel="databox",
        sender=Sender(env.sender_box, env.sender_name),
        form=incoming_file(main),
        attachments=[incoming_file(f) for f in others],
        idempotency_key=f"databox:{env.message_id}",
        channel_data={
            "message_pk": msg.id,
            "message_id": env.message_id,
            "sender_box": env.sender_box,
            "sender_type": env.sender_type,
            "recipient_box": env.recipient_box,
            "envelope_sha256": env.sha256,
            "subject": env.subject,
            # sent from the sender's own box: counts as signed (Act 300/2008 § 18(2))
            "from_own_box": True,
        },
    )
    sizes = [len(f.content) for f in result.files]
    limits = IntakeLimits(
        max_total_bytes=sum(sizes) + 1,
        max_files=len(result.files),
        max_file_bytes=max(sizes) + 1,
        max_form_bytes=len(main.content) + 1,
    )
    try:
        acceptance = accept(
            incoming,
            sink=app.store_raw,
            sessions=app.sessions,
            limits=limits,
            now=msg.received_at,
            id_factory=lambda: msg.id,
        )
    except app.storage_errors.StoreUnavailable as exc:
        raise Unavailable(
            "The object store is not reachable; the message is recorded and will be taken when "
            "it is sent again with the same message id."
        ) from exc
    try:
        app.pipeline.dispatch(acceptance.outbox_ids)
    except Exception:  # noqa: BLE001 - committed: the sweeper sends it later
        log.warning("could not send the first stage now; the sweeper will", exc_info=True)


# -- pipeline hooks ----------------------------------------------------------------------------


def validate_stage(app: App, sub: Loaded) -> list[tuple[int, str, str]]:
    """The validate stage for a data-box message (called by ``pipeline.stages.validate``).

    The message's files were checked at intake; here the canonical envelope hash is timestamped
    and the main file is XSD-validated when it is a known form (its form type then becomes the
    filing's). Another main file makes a filing of the generic type ``datova-zprava``. The
    claim, the message's own record, the status line, the next message and the audit entry are
    one transaction, written with the stages' own statements.
    """
    from podatelna.pipeline.stages import _append_audits, _audit_state, _claim, _event, _outbox

    S = SubmissionState
    sid = sub.id
    msg = records.get(app.sessions, sid)
    digest = msg.envelope_sha256 if msg is not None else sub.payload_sha256
    token = (
        (msg.timestamp_token if msg is not None else None)
        or sub.timestamp_token
        or app.timestamper.timestamp_token(bytes.fromhex(digest))
    )
    main = next(f for f in sub.files if f.role == "form")
    form_type, version = GENERIC_FORM_TYPE, GENERIC_FORM_VERSION
    validation: dict[str, Any] = {
        "ok": True,
        "form_type": None,
        "note": "The main file is not a known form: XSD validation does not apply.",
    }
    reasons: list[dict[str, Any]] = []
    if main.media_type in XML_TYPES:
        data = app.store.get("submissions", main.storage_key)
        depth = min(app.settings.limits.max_xml_depth, 256)
        result = validate_form(data, limits=XmlLimits(max_bytes=max(len(data), 1), max_depth=depth))
        if result.form_type is not None:
            form_type, version = result.form_type, result.version or GENERIC_FORM_VERSION
            validation = result.to_dict()
            reasons = [dict(i.to_dict(), file=main.name) for i in result.errors]
    subject = str((sub.channel_data or {}).get("subject") or "")
    ok = not reasons
    new_state = S.VALIDATED.value if ok else S.REJECTED.value
    values: dict[str, Any] = {
        "timestamp_token": token,
        "validation": validation,
        "form_type": form_type,
        "form_version": version,
        "subject": subject[:255] or None,
    }
    if not ok:
        values["rejection_reasons"] = reasons
    with app.engine.begin() as conn:
        if not _claim(conn, sid, S.RECEIVED.value, new_state, app, **values):
            return []
        now = app.clock.now()
        with Session(bind=conn) as session:  # the message's record, in the same transaction
            m = session.get(DataboxMessage, sid)
            if m is not None:
                records.mark_timestamped(session, m, token, now)
                if not ok:
                    records.mark_rejected(session, m, reasons, now)
            session.flush()
        note = "data-box message valid" if ok else f"{len(reasons)} problem(s) found"
        _event(conn, sid, new_state, now, note)
        nxt = _outbox(conn, sid, "verify" if ok else "reject_notice", app)
        entry = _audit_state(sub, new_state, now, problems=len(reasons), form_type=form_type)
        _append_audits(conn, [entry])
        return [nxt]


def deliver(app: App, sid: str) -> None:
    """Mark the message delivered and issue its delivery receipt (called by the notify stage;
    idempotent)."""
    msg = records.get(app.sessions, sid)
    if msg is None:
        return
    with app.sessions() as session:
        filing = session.execute(
            select(Filing).where(Filing.submission_id == sid)
        ).scalar_one_or_none()
    if filing is None:
        return
    if msg.state != MessageState.DELIVERED.value:
        with app.sessions() as session, session.begin():
            m = session.get(DataboxMessage, sid)
            assert m is not None
            if m.state != MessageState.DELIVERED.value:
                records.mark_delivered(session, m, filing.reference, filing.registered_at)
                audit(
                    session,
                    at=app.clock.now(),
                    actor="system",
                    action="databox.delivered",
                    object_type="databox_message",
                    object_id=sid,
                    subject=m.sender_box,
                    details={"reference": filing.reference, "message_id": m.message_id},
                )
    delivery_documents(app, sid)


def _sync(app: App, msg: DataboxMessage) -> DataboxMessage:
    """Catch up with a submission the pipeline rejected after validation."""
    if (
        msg.state in (MessageState.DELIVERED.value, MessageState.REJECTED.value)
        or not msg.submission_id
    ):
        return msg
    with app.sessions() as session:
        sub = session.get(Submission, msg.submission_id)
        rejected = sub is not None and sub.state == SubmissionState.REJECTED.value
        reasons = list(sub.rejection_reasons or []) if sub is not None else []
    if not rejected:
        return msg
    with app.sessions() as session, session.begin():
        m = session.get(DataboxMessage, msg.id)
        assert m is not None
        records.mark_rejected(session, m, reasons, app.clock.now())
    fresh = records.get(app.sessions, msg.id)
    assert fresh is not None
    return fresh


# -- delivery receipt --------------------------------------------------------------------------


def timestamp_time(token: bytes) -> datetime:
    """The genTime of an RFC 3161 token (DER ContentInfo)."""
    ci = cms.ContentInfo.load(token)
    tst_info = ci["content"]["encap_content_info"]["content"].parsed
    gen_time: datetime = tst_info["gen_time"].native
    return gen_time


def delivery_data(app: App, msg: DataboxMessage) -> receipts.DeliveryData:
    assert msg.reference and msg.delivered_at and msg.timestamp_token
    return receipts.DeliveryData(
        id=msg.id,
        authority=authority(app),
        wire_form=msg.wire_form,
        envelope=msg.envelope,
        message_sha256=msg.envelope_sha256,
        timestamp_token=msg.timestamp_token,
        timestamp_time=timestamp_time(msg.timestamp_token),
        received_at=msg.received_at,
        delivered_at=msg.delivered_at,
        reference=msg.reference,
        events=tuple(receipts.DeliveryEvent(e.at, e.state, e.note) for e in msg.events),
    )


def delivery_documents(app: App, pk: str) -> tuple[bytes, bytes]:
    """The sealed delivery receipt (PDF) and the delivery info XML, issued once and stored."""
    msg = records.get(app.sessions, pk)
    if msg is None:
        raise MessageNotFound(f"No data-box message has the id {pk!r}.")
    if msg.state != MessageState.DELIVERED.value:
        raise DeliveryNotReady(
            f"The message {msg.message_id} is {msg.state}; a delivery receipt exists only for a "
            "delivered message."
        )
    retention = app.settings.storage.receipt_retention_days
    retain = app.clock.now() + timedelta(days=retention) if retention else None
    info_key = receipts.delivery_info_key(msg.id, msg.received_at)
    pdf_key = receipts.delivery_receipt_key(msg.id, msg.received_at)
    xml = store_once(
        app,
        info_key,
        lambda: delivery_data(app, msg).to_xml(),
        content_type="application/xml",
        retain_until=retain,
    )
    pdf = issue_once(
        app,
        pdf_key,
        lambda: receipts.render_delivery_receipt(delivery_data(app, msg), xml=xml),
        retain_until=retain,
    )
    if msg.receipt_key is None:
        with app.sessions() as session, session.begin():
            m = session.get(DataboxMessage, pk)
            assert m is not None
            m.receipt_key, m.info_key = pdf_key, info_key
    return pdf, xml


def delivery_document(app: App, pk: str, kind: str) -> bytes:
    """One of the delivery documents (``"pdf"`` or ``"xml"``): read from the store alone once
    both are issued, issued first (both, the PDF embeds the XML) otherwise."""
    msg = records.get(app.sessions, pk)
    if msg is not None and msg.receipt_key and msg.info_key:
        return app.store.get("receipts", msg.receipt_key if kind == "pdf" else msg.info_key)
    pdf, xml = delivery_documents(app, pk)
    return pdf if kind == "pdf" else xml


# -- reading -----------------------------------------------------------------------------------


def resolve(app: App, id_or_message_id: str, token: TokenInfo) -> DataboxMessage:
    """A message by our id or by the envelope's message id, among the token's sender boxes."""
    msg = records.get(app.sessions, id_or_message_id)
    if msg is None or msg.sender_box not in token.sender_boxes:
        msg = None
        for box in token.sender_boxes:
            msg = records.find(app.sessions, box, id_or_message_id)
            if msg is not None:
                break
    if msg is None:
        raise MessageNotFound(
            f"No message {id_or_message_id!r} from the boxes of this token is known."
        )
    return _sync(app, msg)


def describe(msg: DataboxMessage) -> dict[str, Any]:
    def iso(dt: datetime | None) -> str | None:
        return dt.isoformat() if dt else None

    env = msg.envelope
    base = f"/api/v1/databox/messages/{msg.id}"
    delivered = msg.state == MessageState.DELIVERED.value
    return {
        "id": msg.id,
        "message_id": msg.message_id,
        "state": msg.state,
        "sender_box": msg.sender_box,
        "recipient_box": msg.recipient_box,
        "subject": env.get("subject"),
        "wire_form": msg.wire_form,
        "message_sha256": msg.envelope_sha256,
        "received_at": iso(msg.received_at),
        "timestamped_at": iso(msg.timestamped_at),
        "delivered_at": iso(msg.delivered_at),
        "rejected_at": iso(msg.rejected_at),
        "reference": msg.reference,
        "recipient_reference": (env.get("recipient_reference") or {}).get("reference_number"),
        "reasons": msg.reasons or [],
        "files": env.get("files", []),
        "container": _container_summary(msg.container_report),
        "events": [{"at": iso(e.at), "state": e.state, "note": e.note} for e in msg.events],
        "submission_id": msg.submission_id,
        "delivery_info_url": f"{base}/delivery-info.xml" if delivered else None,
        "delivery_receipt_url": f"{base}/delivery-receipt.pdf" if delivered else None,
    }


def _container_summary(report: dict[str, Any] | None) -> dict[str, Any] | None:
    if not report:
        return None
    return {
        "signatures": [
            {
                "indication": s.get("indication"),
                "qualification": s.get("qualification"),
                "signer": (s.get("signer") or {}).get("subject"),
            }
            for s in report.get("signatures", [])
        ]
    }
