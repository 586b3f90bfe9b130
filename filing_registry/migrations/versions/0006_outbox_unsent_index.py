"""Index the outbox's unsent messages by submission (partial), instead of every message.

A stage acknowledges the unsent messages of its submission. With an index of every message by
submission and the index of unsent messages by time, PostgreSQL's generic plan of that
acknowledgement combined the two (a BitmapAnd) and read every unsent message of every
submission, each time: hundreds of index entries per stage with a backlog of receipts. An
index of the unsent messages alone, by submission, is what the acknowledgement asks for; every
query of the outbox by submission asks for unsent messages, so the full index goes.

Revision ID: 0006_outbox_unsent
Revises: 0005_merge
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_outbox_unsent"
down_revision = "0005_merge"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index(
            "ix_outbox_unsent_submission",
            ["submission_id"],
            unique=False,
            postgresql_where=sa.text("sent_at IS NULL"),
            sqlite_where=sa.text("sent_at IS NULL"),
        )
        batch_op.drop_index("ix_outbox_submission_id")


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index("ix_outbox_submission_id", ["submission_id"], unique=False)
        batch_op.drop_index("ix_outbox_unsent_submission")
