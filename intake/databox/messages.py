"""Recording data-box messages and their events; each state change writes its event in the same
transaction, and at most one event per state (a repeated change is a no-op)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from filing_registry import audit
from intake.databox.checks import Reason
from intake.databox.envelope import Envelope
from intake.databox.models import DataboxEvent, DataboxMessage, MessageState

S = MessageState


def find(
    sessions: sessionmaker[Session], sender_box: str, message_id: str
) -> DataboxMessage | None:
    with sessions() as session:
        return session.execute(
            select(DataboxMessage).where(
                DataboxMessage.sender_box == sender_box, DataboxMessage.message_id == message_id
            )
        ).scalar_one_or_none()


def get(sessions: sessionmaker[Session], pk: str) -> DataboxMessage | None:
    with sessions() as session:
        return session.get(DataboxMessage, pk)


def add_event(
    session: Session, msg: DataboxMessage, state: str, at: datetime, note: str = ""
) -> bool:
    """Record ``state`` for ``msg`` unless it already has that event; True when added."""
    exists = session.execute(
        select(DataboxEvent.id).where(
            DataboxEvent.message_pk == msg.id, DataboxEvent.state == state
        )
    ).first()
    if exists is not None:
        return False
    session.add(DataboxEvent(message_pk=msg.id, at=at, state=state, note=note))
    return True


def record(
    sessions: sessionmaker[Session],
    *,
    pk: str,
    envelope: Envelope,
    token_id: str,
    wire_form: str,
    original_key: str,
    container_report: dict[str, Any] | None,
    envelope_dict: dict[str, Any],
    now: datetime,
    reasons: Sequence[Reason] = (),
) -> tuple[DataboxMessage, bool]:
    """Write the message row (received, or rejected with ``reasons``): ``(row, created)``.

    A concurrent request with the same sender box and message id that won the race is returned
    instead (``created`` False)."""
    rejected = bool(reasons)
    row = DataboxMessage(
        id=pk,
        message_id=envelope.message_id,
        sender_box=envelope.sender_box,
        recipient_box=envelope.recipient_box,
        token_id=token_id,
        state=(S.REJECTED if rejected else S.RECEIVED).value,
        wire_form=wire_form,
        envelope_sha256=envelope.sha256,
        envelope=envelope_dict,
        original_key=original_key,
        container_report=container_report,
        received_at=now,
        rejected_at=now if rejected else None,
        reasons=[r.to_dict() for r in reasons] if rejected else None,
        submission_id=None if rejected else pk,
    )
    try:
        with sessions() as session, session.begin():
            session.add(row)
            session.flush()
            note = f"{wire_form} from box {envelope.sender_box}, message {envelope.message_id}"
            add_event(session, row, S.RECEIVED.value, now, note)
            if rejected:
                add_event(
                    session, row, S.REJECTED.value, now, "; ".join(r.message for r in reasons)
                )
            audit(
                session,
                at=now,
                actor=f"databox:{envelope.sender_box}",
                action="databox.rejected" if rejected else "databox.received",
                object_type="databox_message",
                object_id=pk,
                subject=envelope.sender_box,
                details={
                    "message_id": envelope.message_id,
                    "envelope_sha256": envelope.sha256,
                    "token": token_id,
                    "reasons": [r.code for r in reasons],
                },
            )
    except IntegrityError:
        raced = find(sessions, envelope.sender_box, envelope.message_id)
        if raced is None:
            raise
        return raced, False
    fresh = get(sessions, pk)
    assert fresh is not None
    return fresh, True


def mark_timestamped(session: Session, msg: DataboxMessage, token: bytes, at: datetime) -> None:
    if msg.timestamp_token is None:
        msg.timestamp_token = token
        msg.timestamped_at = at
    if msg.state == S.RECEIVED.value:
        msg.state = S.TIMESTAMPED.value
    add_event(
        session,
        msg,
        S.TIMESTAMPED.value,
        msg.timestamped_at or at,
        "RFC 3161 token over the message hash",
    )


def mark_rejected(
    session: Session, msg: DataboxMessage, reasons: list[dict[str, Any]], at: datetime
) -> None:
    if msg.state in (S.REJECTED.value, S.DELIVERED.value):
        return
    msg.state = S.REJECTED.value
    msg.rejected_at = at
    msg.reasons = reasons
    add_event(
        session, msg, S.REJECTED.value, at, "; ".join(str(r.get("message", "")) for r in reasons)
    )


def mark_delivered(session: Session, msg: DataboxMessage, reference: str, at: datetime) -> None:
    """Delivered: the registry accepted it under ``reference``, which is written back as the
    recipient's reference number."""
    if msg.state == S.DELIVERED.value:
        return
    msg.state = S.DELIVERED.value
    msg.delivered_at = at
    msg.reference = reference
    envelope = dict(msg.envelope)
    envelope["recipient_reference"] = dict(
        envelope.get("recipient_reference") or {}, reference_number=reference
    )
    msg.envelope = envelope
    add_event(session, msg, S.DELIVERED.value, at, f"registered as {reference}")
