"""Join the data-box and accounts branches of the schema into one head.

Both branched from 0001 while they were built side by side; neither touches the other's tables.

Revision ID: 0005_merge
Revises: 0002_databox, 0003_accounts
"""

from __future__ import annotations

revision = "0005_merge"
down_revision = ("0002_databox", "0003_accounts")
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Nothing to change: this revision only records that both branches are applied."""


def downgrade() -> None:
    """Nothing to undo."""
