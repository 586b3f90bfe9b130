"""Tables of data-box intake: sending-system tokens, messages and their events.

A *message* is what a sending system delivered: its envelope (every field but the files'
contents), the canonical envelope hash, the original body's storage key, the container's
verdict, its state, and, once accepted, the submission it became in the pipeline. The state
moves ``received`` → ``timestamped`` → ``delivered`` (the registry accepted it and gave it a
reference number), or to ``rejected`` with reasons; each move is also an *event* row.

Migration: ``filing_registry/migrations/versions/0002_databox.py``.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from filing_registry.db import Base, UTCDateTime


class MessageState(enum.StrEnum):
    RECEIVED = "received"
    TIMESTAMPED = "timestamped"
    DELIVERED = "delivered"
    REJECTED = "rejected"


class DataboxToken(Base):
    """An API token of a sending system. Only the SHA-256 of the secret is stored."""

    __tablename__ = "databox_tokens"

    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    secret_sha256: Mapped[str] = mapped_column(String(64))
    #: the sender box ids this token may send for
    sender_boxes: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class DataboxMessage(Base):
    __tablename__ = "databox_messages"
    __table_args__ = (
        UniqueConstraint("sender_box", "message_id", name="uq_databox_messages_sender_msgid"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    #: the envelope's MessageId (unique per sender box)
    message_id: Mapped[str] = mapped_column(String(20))
    sender_box: Mapped[str] = mapped_column(String(7), index=True)
    recipient_box: Mapped[str] = mapped_column(String(7))
    token_id: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16), default=MessageState.RECEIVED.value)
    #: ``xml`` (plain envelope) or ``cms`` (envelope in a CMS SignedData container)
    wire_form: Mapped[str] = mapped_column(String(8))
    #: SHA-256 over the canonical envelope (C14N 1.0 without comments)
    envelope_sha256: Mapped[str] = mapped_column(String(64))
    #: the envelope's fields (files without their contents), see ``Envelope.to_dict``
    envelope: Mapped[dict[str, Any]] = mapped_column(JSON)
    #: the body as it came (envelope XML or CMS container), content-addressed
    original_key: Mapped[str] = mapped_column(String(300))
    #: the container's verification report, for the ``cms`` wire form
    container_report: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    #: RFC 3161 token over the canonical envelope hash
    timestamp_token: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    timestamped_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    rejected_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    reasons: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON, nullable=True)
    submission_id: Mapped[str | None] = mapped_column(String(32), nullable=True, index=True)
    #: the registry's reference number, written back as the recipient's reference number
    reference: Mapped[str | None] = mapped_column(String(64), nullable=True)
    receipt_key: Mapped[str | None] = mapped_column(String(300), nullable=True)
    info_key: Mapped[str | None] = mapped_column(String(300), nullable=True)

    events: Mapped[list[DataboxEvent]] = relationship(
        back_populates="message", order_by="DataboxEvent.id", lazy="selectin"
    )


class DataboxEvent(Base):
    __tablename__ = "databox_events"
    __table_args__ = (UniqueConstraint("message_pk", "state", name="uq_databox_events_state"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    message_pk: Mapped[str] = mapped_column(ForeignKey("databox_messages.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    state: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text, default="")

    message: Mapped[DataboxMessage] = relationship(back_populates="events")
