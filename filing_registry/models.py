"""The registry's tables.

A *submission* is what arrived: its files, its state in the pipeline and each stage's result.
A *filing* is the journal entry (podací deník) made when a submission is registered: it carries
the reference number, and its confirmation state is followed by the tracker. The *outbox* holds
the pipeline messages written in the same transaction as the stage result that caused them.
The *audit log* is append-only and hash-chained.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from filing_registry.db import Base, UTCDateTime


class SubmissionState(enum.StrEnum):
    """Where a submission is in the pipeline. ``rejected`` and ``completed`` are final."""

    RECEIVED = "received"  # raw bytes stored, row written, acknowledged
    VALIDATED = "validated"  # XSD and attachments checked
    VERIFIED = "verified"  # signatures verified
    REGISTERED = "registered"  # journal entry with a reference number
    RECEIPTED = "receipted"  # sealed receipt stored
    COMPLETED = "completed"  # receipt issued and the sender notified
    REJECTED = "rejected"  # final: invalid, unknown form, or a required signature missing

    @property
    def final(self) -> bool:
        return self in (SubmissionState.COMPLETED, SubmissionState.REJECTED)


class Channel(enum.StrEnum):
    PORTAL = "portal"
    DATABOX = "databox"
    CLI = "cli"


class TrackerState(enum.StrEnum):
    """The confirmation tracker's state of a filing."""

    NOT_REQUIRED = "not_required"  # recognised signature or data box: nothing to confirm
    AWAITING = "awaiting_confirmation"
    CONFIRMED = "confirmed"
    LAPSED = "lapsed"


class Submission(Base):
    __tablename__ = "submissions"
    __table_args__ = (
        UniqueConstraint("sender", "dedup_key", name="uq_submissions_sender_dedup"),
        Index("ix_submissions_state_updated", "state", "updated_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    sender: Mapped[str] = mapped_column(String(320), index=True)
    sender_name: Mapped[str] = mapped_column(String(200), default="")
    #: ``key:<idempotency key>`` or ``sha256:<payload hash>``: one submission per sender and key
    dedup_key: Mapped[str] = mapped_column(String(300))
    idempotency_key: Mapped[str | None] = mapped_column(String(200), nullable=True)
    #: SHA-256 over the manifest of the form and attachments (names and hashes, in order)
    payload_sha256: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    state: Mapped[str] = mapped_column(String(24), default=SubmissionState.RECEIVED.value)
    #: reference number of an earlier filing this one claims to confirm (re-sent signed)
    confirms_reference: Mapped[str | None] = mapped_column(String(64), nullable=True)
    #: RFC 3161 token over the payload hash, attesting the moment of filing
    timestamp_token: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    form_type: Mapped[str | None] = mapped_column(String(64), nullable=True)
    form_version: Mapped[str | None] = mapped_column(String(16), nullable=True)
    subject: Mapped[str | None] = mapped_column(String(255), nullable=True)
    validation: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    verification: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    #: where the sealed rejection notice is stored, for a rejected submission
    rejection_key: Mapped[str | None] = mapped_column(String(300), nullable=True)
    rejection_reasons: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON, nullable=True)
    #: extra data of the channel (e.g. the data-box envelope's fields)
    channel_data: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)

    files: Mapped[list[SubmissionFile]] = relationship(
        back_populates="submission", order_by="SubmissionFile.position", lazy="selectin"
    )
    filing: Mapped[Filing | None] = relationship(back_populates="submission", uselist=False)


class SubmissionFile(Base):
    __tablename__ = "submission_files"
    __table_args__ = (UniqueConstraint("submission_id", "position"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    submission_id: Mapped[str] = mapped_column(ForeignKey("submissions.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    #: ``form``, ``attachment`` or ``signature`` (a detached signature file)
    role: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(BigInteger)
    media_type: Mapped[str] = mapped_column(String(127))
    declared_media_type: Mapped[str | None] = mapped_column(String(127), nullable=True)
    sha256: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str] = mapped_column(String(300))

    submission: Mapped[Submission] = relationship(back_populates="files")


class Filing(Base):
    """A journal entry (podací deník)."""

    __tablename__ = "filings"
    __table_args__ = (
        UniqueConstraint("office", "year", "seq", name="uq_filings_office_year_seq"),
        Index("ix_filings_tracker_deadline", "tracker_state", "deadline"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    submission_id: Mapped[str] = mapped_column(ForeignKey("submissions.id"), unique=True)
    reference: Mapped[str] = mapped_column(String(64), unique=True)
    office: Mapped[str] = mapped_column(String(32))
    year: Mapped[int] = mapped_column(Integer)
    seq: Mapped[int] = mapped_column(Integer)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime())
    channel: Mapped[str] = mapped_column(String(16))
    sender: Mapped[str] = mapped_column(String(320), index=True)
    sender_name: Mapped[str] = mapped_column(String(200), default="")
    form_type: Mapped[str] = mapped_column(String(64))
    form_version: Mapped[str] = mapped_column(String(16))
    subject: Mapped[str] = mapped_column(String(255), default="")
    #: the signature verdicts (one line per signature, plain words) and the bottom line
    signatures: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    recognised_signature: Mapped[bool] = mapped_column(Boolean, default=False)
    #: the clerk-facing status of the filing (registered, in progress, settled, ...)
    status: Mapped[str] = mapped_column(String(32), default="registered")
    tracker_state: Mapped[str] = mapped_column(String(32), default=TrackerState.NOT_REQUIRED.value)
    deadline_rules: Mapped[str | None] = mapped_column(String(8), nullable=True)
    deadline: Mapped[date | None] = mapped_column(Date, nullable=True)
    #: how it was confirmed: {"how": "posted"|"received"|"resubmitted_signed"|"data_box", ...}
    confirmation: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    #: reminders already sent, by day of the period (``[3, 5]``), so none is sent twice
    reminders_sent: Mapped[list[int]] = mapped_column(JSON, default=list)
    receipt_key: Mapped[str | None] = mapped_column(String(300), nullable=True)
    receipt_id: Mapped[str | None] = mapped_column(String(64), nullable=True, unique=True)
    copy_key: Mapped[str | None] = mapped_column(String(300), nullable=True)

    submission: Mapped[Submission] = relationship(back_populates="filing", lazy="joined")
    history: Mapped[list[StatusEvent]] = relationship(
        back_populates="filing", order_by="StatusEvent.id", lazy="selectin"
    )


class StatusEvent(Base):
    """One line of a submission's or filing's status history."""

    __tablename__ = "status_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    submission_id: Mapped[str] = mapped_column(ForeignKey("submissions.id"), index=True)
    filing_id: Mapped[int | None] = mapped_column(ForeignKey("filings.id"), nullable=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    state: Mapped[str] = mapped_column(String(48))
    actor: Mapped[str] = mapped_column(String(320), default="system")
    note: Mapped[str] = mapped_column(Text, default="")

    filing: Mapped[Filing | None] = relationship(back_populates="history")


class ReferenceCounter(Base):
    """The last number issued per office and year. Incremented in the registering transaction,
    so a rolled-back registration returns its number: gapless, never reused."""

    __tablename__ = "reference_counters"

    office: Mapped[str] = mapped_column(String(32), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_seq: Mapped[int] = mapped_column(Integer, default=0)


class OutboxMessage(Base):
    """A pipeline message committed with the stage result that caused it."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_unsent", "sent_at", "created_at"),
        # a stage acknowledges its submission's unsent messages: a small index of those alone
        # (with an index of every message and the one above, PostgreSQL's generic plan of the
        # acknowledgement combined both and read every unsent row of every submission)
        Index(
            "ix_outbox_unsent_submission",
            "submission_id",
            postgresql_where=text("sent_at IS NULL"),
            sqlite_where=text("sent_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    submission_id: Mapped[str] = mapped_column(String(32))
    stage: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class AuditEntry(Base):
    """One electronic act: what, when, who initiated it, on which object. Append-only; each entry
    carries the SHA-256 of the one before, and its own hash covers all its fields."""

    __tablename__ = "audit_log"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str] = mapped_column(String(320), index=True)
    action: Mapped[str] = mapped_column(String(64))
    object_type: Mapped[str] = mapped_column(String(32))
    object_id: Mapped[str] = mapped_column(String(64), index=True)
    #: the person the act concerns (a sender), so they can read the entries about themselves
    subject: Mapped[str | None] = mapped_column(String(320), nullable=True, index=True)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditHead(Base):
    """The head of the audit chain (one row): appenders lock it, so the chain stays linear."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, default=0)
    hash: Mapped[str] = mapped_column(String(64))
