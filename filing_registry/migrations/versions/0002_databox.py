"""data-box intake: sending-system tokens, messages and their events

Revision ID: 0002_databox
Revises: 0001
Create Date: 2026-11-23 17:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_databox"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "databox_tokens",
        sa.Column("id", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("secret_sha256", sa.String(length=64), nullable=False),
        sa.Column("sender_boxes", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "databox_messages",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("message_id", sa.String(length=20), nullable=False),
        sa.Column("sender_box", sa.String(length=7), nullable=False),
        sa.Column("recipient_box", sa.String(length=7), nullable=False),
        sa.Column("token_id", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("wire_form", sa.String(length=8), nullable=False),
        sa.Column("envelope_sha256", sa.String(length=64), nullable=False),
        sa.Column("envelope", sa.JSON(), nullable=False),
        sa.Column("original_key", sa.String(length=300), nullable=False),
        sa.Column("container_report", sa.JSON(), nullable=True),
        sa.Column("timestamp_token", sa.LargeBinary(), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("timestamped_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("rejected_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reasons", sa.JSON(), nullable=True),
        sa.Column("submission_id", sa.String(length=32), nullable=True),
        sa.Column("reference", sa.String(length=64), nullable=True),
        sa.Column("receipt_key", sa.String(length=300), nullable=True),
        sa.Column("info_key", sa.String(length=300), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("sender_box", "message_id", name="uq_databox_messages_sender_msgid"),
    )
    op.create_index(
        "ix_databox_messages_sender_box", "databox_messages", ["sender_box"], unique=False
    )
    op.create_index(
        "ix_databox_messages_submission_id", "databox_messages", ["submission_id"], unique=False
    )
    op.create_table(
        "databox_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("message_pk", sa.String(length=32), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["message_pk"], ["databox_messages.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("message_pk", "state", name="uq_databox_events_state"),
    )
    op.create_index("ix_databox_events_message_pk", "databox_events", ["message_pk"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_databox_events_message_pk", table_name="databox_events")
    op.drop_table("databox_events")
    op.drop_index("ix_databox_messages_submission_id", table_name="databox_messages")
    op.drop_index("ix_databox_messages_sender_box", table_name="databox_messages")
    op.drop_table("databox_messages")
    op.drop_table("databox_tokens")
